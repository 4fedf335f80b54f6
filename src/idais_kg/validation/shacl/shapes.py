"""The shapes graph of the SHACL engine (idais_kg.validation.shacl.engine): read once, every shape's constraints
made into components of the registry (idais_kg.validation.shacl.registry), or of a SPARQL-based component that the
shapes graph declares (idais_kg.validation.shacl.custom), when it is read.

:class:`Shapes` refuses (:class:`UnsupportedShapes`) a shapes graph that uses anything the engine lacks: an ``sh:``
property of a shape that no component reads (the error names it), a path that is not a SHACL path, a SPARQL form
that pre-binding forbids, ``$shapesGraph``. So the engine is never silently wrong by ignoring a constraint. Shapes
that are also an ``rdfs:Class`` target their instances (implicit class targets).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from idais_kg.namespaces import RDFS, SH
from idais_kg.validation.shacl import custom, paths
from idais_kg.validation.shacl.components import TRUE, TYPE, Component, UnsupportedShapes, sh
from idais_kg.validation.shacl.data import Index, Term
from idais_kg.validation.shacl.paths import Path
from idais_kg.validation.shacl.registry import BY_PARAMETER, KNOWN, TARGETS
from idais_kg.validation.shacl.sparql import prefixes

__all__ = ["PROPERTY", "SPARQL", "TRUE", "TYPE", "Index", "Path", "Shapes", "Term", "UnsupportedShapes", "sh"]

PROPERTY, SPARQL = sh("property"), sh("sparql")
SELECT = {sh("select")}
PATH, SEVERITY, MESSAGE, DEACTIVATED = sh("path"), sh("severity"), sh("message"), sh("deactivated")
VIOLATION = sh("Violation").value
CLASS = ox.NamedNode(RDFS + "Class")
NESTING = [sh(n) for n in ("node", "not", "qualifiedValueShape", "property")]
LISTS = [sh(n) for n in ("or", "and", "xone")]


@dataclass(frozen=True)
class Shape:
    """A shape as the engine runs it."""

    node: Term
    path: Path | None
    severity: str  # the IRI of sh:Violation, sh:Warning or sh:Info
    message: str
    constraints: tuple[Component, ...]


class Shapes:
    """A shapes graph, every shape read and checked once."""

    def __init__(self, triples: Iterable[ox.Triple | ox.Quad]) -> None:
        self.graph = g = Index(triples)
        self.custom = custom.declared(g)  # SPARQL-based constraint components (SHACL 1.0, 6)
        todo = [s for p in (sh("path"), *TARGETS) for s in g.subjects_of(p)]
        todo += g.subjects(TYPE, sh("NodeShape")) + g.subjects(TYPE, sh("PropertyShape"))
        self.shapes: set[Term] = set()
        parameters = {
            p for c in self.custom for p in g.objects(c.node, sh("parameter"))
        }  # have an sh:path too
        while todo:  # every shape, nested ones included
            shape = todo.pop()
            if shape not in self.shapes and shape not in parameters:
                self.shapes.add(shape)
                todo += [n for p in NESTING for n in g.objects(shape, p)]
                todo += [m for p in LISTS for lst in g.objects(shape, p) for m in g.items(lst)]
        self.compiled_shapes = {shape: self._compile(shape) for shape in self.shapes}
        self.targeted = sorted(
            (s for s in self.shapes if self.targets(s) and not self.deactivated(s)), key=str
        )

    def targets(self, shape: Term) -> list[tuple[ox.NamedNode, Term]]:
        """The targets of a shape, (target predicate, value), an implicit class target included."""
        out = [(p, o) for p in TARGETS for o in self.graph.objects(shape, p)]
        if CLASS in self.graph.objects(shape, TYPE) and not isinstance(shape, ox.Literal):
            out.append((sh("targetClass"), shape))
        return out

    def _compile(self, shape: Term) -> Shape | None:
        g = self.graph
        known = KNOWN | SELECT if g.subjects(SPARQL, shape) else KNOWN  # a shape that is its own constraint
        for predicate in g.out.get(shape, {}):
            if predicate.value.startswith(SH) and predicate not in known:
                raise UnsupportedShapes(
                    f"shape {shape}: {predicate.value} is not a parameter of any constraint component of this engine"
                )
        path_node = g.value(shape, PATH)
        path = self.path(path_node) if path_node is not None else None
        constraints = tuple(
            BY_PARAMETER[p](g, shape, o)
            for p, os in g.out.get(shape, {}).items()
            if p in BY_PARAMETER
            for o in os
        )
        constraints += tuple(custom.CustomC(g, shape, c) for c in self.custom if c.applies(g, shape))
        if self.deactivated(shape):
            return None
        severity = g.value(shape, SEVERITY)
        messages = g.objects(shape, MESSAGE)
        en = [m.value for m in messages if isinstance(m, ox.Literal) and m.language == "en"]
        message = en[0] if en else (messages[0].value if messages else f"{shape} not satisfied")
        return Shape(shape, path, severity.value if severity is not None else VIOLATION, message, constraints)

    def compiled(self, shape: Term) -> Shape | None:
        """The shape as the engine runs it (None if deactivated); a shape only named (by sh:node) is read now."""
        if shape not in self.compiled_shapes:
            self.compiled_shapes[shape] = self._compile(shape)
        return self.compiled_shapes[shape]

    def deactivated(self, shape: Term) -> bool:
        """Whether the shape is sh:deactivated true."""
        return self.graph.value(shape, DEACTIVATED) == TRUE

    def path(self, node: Term) -> Path:
        """The SHACL path at the node; one the engine cannot read is refused."""
        try:
            return paths.read(self.graph, node)
        except paths.UnsupportedPath as exc:
            raise UnsupportedShapes(str(exc)) from None

    def sparql_prefixes(self, constraint: Term) -> str:
        """The PREFIX lines that the SPARQL constraint declares through sh:prefixes."""
        return prefixes(self.graph, constraint)
