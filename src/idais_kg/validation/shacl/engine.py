"""The SHACL engine that ``validate`` and ``partner check`` run: it validates a data graph against a shapes graph
that idais_kg.validation.shacl.shapes has read and checked (refusing what the registry of components lacks).

Why: pySHACL took ~48 s on the guide (7k triples), ~3.6 s of it on SHACL Core alone, the rest on SHACL-SPARQL
constraints that it evaluates once per focus node with rdflib's SPARQL engine; Jena's SHACL is fast but a JVM
start costs 1-3 s a run. This engine reads the data through an index (:class:`~.data.Index` for the guide,
:class:`~.data.StoreData` for a partner file of a million triples), evaluates the Core components in Python
(idais_kg.validation.shacl.components) and each SHACL-SPARQL constraint with pyoxigraph, ``$this`` pre-bound per
focus node or, where that gives the same solutions, once for all focus nodes (idais_kg.validation.shacl.sparql).

tests/test_shapes.py checks that it gives exactly pySHACL's results on every case and on the shipped dataset,
tests/test_engines.py that Jena's SHACL agrees too, and tests/test_w3c_shacl.py runs the W3C SHACL test suite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from idais_kg.namespaces import RDFS
from idais_kg.validation.shacl import paths
from idais_kg.validation.shacl.components import TYPE, Component, Fail
from idais_kg.validation.shacl.data import Data, Index, Term
from idais_kg.validation.shacl.paths import Path
from idais_kg.validation.shacl.shapes import Shape, Shapes
from idais_kg.validation.shacl.sparql import joins_like_prebinding

__all__ = ["Result", "Validator", "joins_like_prebinding", "validate"]

SUBCLASS = ox.NamedNode(RDFS + "subClassOf")
KEEP: Any = object()  # a result's path: the shape's own


@dataclass(frozen=True)
class Result:
    """One validation result (sh:ValidationResult) of the engine, with the terms as the data has them."""

    focus: Term
    path: Path | None
    shape: Term
    severity: str  # the IRI of sh:Violation, sh:Warning or sh:Info
    message: str
    value: Term | None = None
    component: ox.NamedNode | None = None  # sh:sourceConstraintComponent
    constraint: Term | None = None  # sh:sourceConstraint (of a SPARQL constraint)
    details: tuple[Result, ...] = field(
        default=(), compare=False
    )  # sh:detail: why the value fails its sh:node


class Validator:
    """One validation run: the data read through one index, nested-shape conformance memoised.

    ``small``: a shape with at most this many focus nodes runs its SPARQL constraints once per focus node even
    where they could run set-wise (a few pre-bound queries beat one query over a large graph).
    """

    def __init__(self, data: Data | Iterable[ox.Triple | ox.Quad], shapes: Shapes, small: int = 0) -> None:
        self.data: Data = data if isinstance(data, Data) else Index(data)
        self.shapes = shapes
        self.small = small
        self.cache: dict[object, Any] = {}  # what components keep for the run (set-wise solutions)
        self._focus_count: dict[Term, int] = {}
        self._nested: dict[tuple[Term, Term], list[Result]] = {}
        self._superclasses: dict[Term, set[Term]] = {}

    def superclasses(self, cls: Term) -> set[Term]:
        """The class and all its superclasses by rdfs:subClassOf in the data (memoised)."""
        if cls not in self._superclasses:
            seen, todo = {cls}, [cls]
            while todo:
                for sup in self.data.objects(todo.pop(), SUBCLASS):
                    if sup not in seen:
                        seen.add(sup)
                        todo.append(sup)
            self._superclasses[cls] = seen
        return self._superclasses[cls]

    def is_instance(self, node: Term, cls: Term) -> bool:
        """Whether the node has an rdf:type that is the class or one of its subclasses (sh:class)."""
        return any(cls in self.superclasses(t) for t in self.data.objects(node, TYPE))

    def subclasses(self, cls: Term) -> list[Term]:
        """The class and all its subclasses by rdfs:subClassOf in the data (for sh:targetClass)."""
        seen, todo = [cls], [cls]
        while todo:
            for sub in self.data.subjects(SUBCLASS, todo.pop()):
                if sub not in seen:
                    seen.append(sub)
                    todo.append(sub)
        return seen

    def focus_nodes(self, shape: Term) -> list[Term]:
        """The focus nodes of the shape's targets, each once, in the order found."""
        out: list[Term] = []
        for target, value in self.shapes.targets(shape):
            kind = target.value.rsplit("#", 1)[-1]
            if kind == "targetClass":
                out += [s for sub in self.subclasses(value) for s in self.data.subjects(TYPE, sub)]
            elif kind == "targetNode":
                out.append(value)
            elif kind == "targetSubjectsOf":
                out += self.data.subjects_of(value)  # type: ignore[arg-type]
            else:
                out += self.data.objects_of(value)  # type: ignore[arg-type]
        return list(dict.fromkeys(out))

    def set_wise(self, constraint: Any) -> bool:
        """Whether a SPARQL constraint runs once for all the focus nodes of its shape: when it joins like
        pre-binding and its shape has more than ``small`` focus nodes (a nested shape: any number), or, for a
        query whose first pattern on $this sits in a group of its own, only where ``small`` is set and exceeded."""
        many = self._focus_count.get(constraint.shape, self.small + 1) > self.small
        return many and (constraint.joined or (self.small > 0 and constraint.joinable))

    def path_of(self, shape: Term) -> Path | None:
        """The path of the shape (None for a node shape)."""
        compiled = self.shapes.compiled(shape)
        return compiled.path if compiled is not None else None

    def run(
        self, only: Iterable[Term] | None = None, focus: dict[Term, list[Term]] | None = None
    ) -> list[Result]:
        """The results of the targeted shapes (or of ``only``), as a multiset (a result reached twice is there
        twice, as the W3C test suite counts); ``focus``: focus nodes already known."""
        results: list[Result] = []
        for shape in self.shapes.targeted if only is None else only:
            nodes = focus[shape] if focus is not None and shape in focus else self.focus_nodes(shape)
            self._focus_count[shape] = len(nodes)
            compiled = self.shapes.compiled(shape)
            candidates = [c.candidates(self) for c in compiled.constraints] if compiled else []
            if all(c is not None for c in candidates):  # only the nodes that set-wise constraints name
                named = set().union(*(c for c in candidates if c is not None))
                nodes = [n for n in nodes if n in named]
            for node in nodes:
                results += self.validate(shape, node)
        return results

    def conforms(self, shape: Term, node: Term) -> bool:
        """Whether the node conforms to the shape (sh:not, sh:and, sh:or, sh:xone, sh:qualifiedValueShape)."""
        return not self.nested(shape, node)

    def nested(self, shape: Term, node: Term) -> list[Result]:
        """The results of ``node`` against a shape it is checked against from another (memoised)."""
        key = (shape, node)
        if key not in self._nested:
            self._nested[key] = self.validate(shape, node)
        return self._nested[key]

    def validate(self, shape: Term, focus: Term) -> list[Result]:
        """The results of one focus node against one shape: every constraint on its value nodes,
        the results of nested property shapes included."""
        compiled = self.shapes.compiled(shape)
        if compiled is None:
            return []
        path = compiled.path
        if path is None:
            values = [focus]
        elif isinstance(path, ox.NamedNode):
            values = self.data.objects(focus, path)
        elif path[0] == "^" and isinstance(path[1], ox.NamedNode):
            values = self.data.subjects(path[1], focus)
        else:
            values = paths.values(self.data, focus, path)
        out: list[Result] = []
        for constraint in compiled.constraints:
            if constraint.nests:
                for v in values:
                    out += self.validate(constraint.param, v)
            elif constraint.per_value:  # the common case, without making a reporter unless a value fails
                test, fail = constraint.test, None
                for v in values:
                    if not test(self, v):
                        fail = fail or reporter(out, compiled, constraint, focus)
                        fail(v)
            elif constraint.counts:
                if not constraint.accepts(len(values)):
                    reporter(out, compiled, constraint, focus)(None)
            else:
                constraint.check(self, focus, values, reporter(out, compiled, constraint, focus))
        return out


def reporter(out: list[Result], shape: Shape, constraint: Component, focus: Term) -> Fail:
    """The ``fail`` of one constraint on one focus node: it appends a result to ``out``."""
    source = constraint.param if constraint.names_constraint else None

    def fail(
        value: Term | None,
        text: str = shape.message,
        at: Term = focus,
        via: Any = KEEP,
        component: ox.NamedNode | None = None,
        details: tuple[Result, ...] = (),
    ) -> None:
        path = shape.path if via is KEEP else via
        component = component or constraint.iri
        out.append(Result(at, path, shape.node, shape.severity, text, value, component, source, details))

    return fail


SMALL = 64  # what ``partner check`` gives as ``small`` (see Validator.set_wise)


def validate(data: Iterable[ox.Triple | ox.Quad], shapes: Shapes) -> list[Result]:
    """The results of validating the triples (graph names ignored: SHACL's data graph is their union)."""
    return Validator(data, shapes).run()
