"""The shapes graph of idais_kg.validation.shacl.engine: read once, and checked for what that engine implements.

The engine is not a general SHACL engine. It implements the parts of SHACL the shapes of ``shapes/`` use (listed
in ``COMPONENTS`` and ``PATHS``), and :class:`Shapes` refuses a shapes graph that uses anything else
(:class:`UnsupportedShapes`), so it is never silently wrong by ignoring a constraint. A shape's path, severity,
message and constraints are read once (``Shapes.compiled``). :class:`Index` is the triple index that both the
shapes graph and the data graph are read through.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, cast

import pyoxigraph as ox

from idais_kg.errors import IdaisError
from idais_kg.namespaces import RDF, SH, XSD

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Node = ox.NamedNode | ox.BlankNode
Path = ox.NamedNode | tuple[Any, ...]  # an IRI, ("^", iri) or ("|", path, ...)

TYPE = ox.NamedNode(RDF + "type")
FIRST, REST, NIL = (ox.NamedNode(RDF + n) for n in ("first", "rest", "nil"))
TRUE = ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))
VIOLATION = SH + "Violation"


def sh(name: str) -> ox.NamedNode:
    return ox.NamedNode(SH + name)


# Constraint parameters this engine evaluates, and the shape properties that are not constraints.
COMPONENTS = {
    sh(n)
    for n in [
        "class",
        "datatype",
        "nodeKind",
        "minCount",
        "maxCount",
        "pattern",
        "languageIn",
        "uniqueLang",
        "hasValue",
        "in",
        "minInclusive",
        "maxInclusive",
        "lessThanOrEquals",
        "node",
        "or",
        "not",
        "qualifiedValueShape",
        "sparql",
        "property",
    ]
}
NOT_CONSTRAINTS = {
    sh(n)
    for n in [
        "path",
        "message",
        "severity",
        "targetClass",
        "targetNode",
        "targetSubjectsOf",
        "targetObjectsOf",
        "deactivated",
        "name",
        "description",
        "order",
        "group",
        "qualifiedMinCount",
        "qualifiedMaxCount",
        "declare",
        "prefixes",
        "flags",
    ]
}
PROPERTY, SPARQL = sh("property"), sh("sparql")
TARGETS = [sh(n) for n in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")]
PATHS = {sh("inversePath"), sh("alternativePath")}


class UnsupportedShapes(IdaisError):
    """The shapes use a SHACL feature this engine does not implement (use pySHACL or Jena for them)."""

    exit_code = 2


class Index:
    """Subject -> predicate -> objects, and the inverse, of a set of triples (one pass, then dict look-ups)."""

    def __init__(self, triples: Iterable[ox.Triple | ox.Quad]) -> None:
        self.out: dict[Term, dict[ox.NamedNode, list[Term]]] = {}
        self.inv: dict[Term, dict[ox.NamedNode, list[Term]]] = {}
        self.triples: list[ox.Triple] = []
        for t in triples:
            s, p, o = cast(Term, t.subject), t.predicate, cast(Term, t.object)
            objects = self.out.setdefault(s, {}).setdefault(p, [])
            if o in objects:
                continue
            objects.append(o)
            self.inv.setdefault(o, {}).setdefault(p, []).append(s)
            self.triples.append(ox.Triple(cast(Node, s), p, o))

    def objects(self, s: Term, p: Term) -> list[Term]:
        return self.out.get(s, {}).get(cast(ox.NamedNode, p), [])

    def subjects(self, p: Term, o: Term) -> list[Term]:
        return self.inv.get(o, {}).get(cast(ox.NamedNode, p), [])

    def value(self, s: Term, p: Term) -> Term | None:
        values = self.objects(s, p)
        return values[0] if values else None

    def items(self, head: Term | None) -> list[Term]:
        out: list[Term] = []
        while head is not None and head != NIL:
            out += self.objects(head, FIRST)
            head = self.value(head, REST)
        return out


class Shapes:
    """A shapes graph, checked once for features the engine does not implement."""

    def __init__(self, triples: Iterable[ox.Triple | ox.Quad]) -> None:
        self.graph = Index(triples)
        g = self.graph
        self._compiled: dict[Term, tuple[Path | None, str, str, list[tuple[ox.NamedNode, Term]]] | None] = {}
        self.prefixes: dict[Term, str] = {}
        todo = [s for p in (sh("path"), *TARGETS) for s in self._subjects(p)]
        todo += g.subjects(TYPE, sh("NodeShape")) + g.subjects(TYPE, sh("PropertyShape"))
        shapes: set[Term] = set()
        while todo:  # every shape, nested ones included
            shape = todo.pop()
            if shape in shapes:
                continue
            shapes.add(shape)
            for p in (sh("node"), sh("not"), sh("qualifiedValueShape"), sh("property")):
                todo += g.objects(shape, p)
            for lst in g.objects(shape, sh("or")):
                todo += g.items(lst)
        self.shapes = shapes
        for shape in shapes:
            for predicate in g.out.get(shape, {}):
                if predicate.value.startswith(SH) and predicate not in COMPONENTS | NOT_CONSTRAINTS:
                    raise UnsupportedShapes(
                        f"shape {shape}: {predicate.value} is not supported by this engine"
                    )
            path = g.value(shape, sh("path"))
            if path is not None:
                self.path(path)  # refuses an unsupported path now, not during validation
        self.targeted = sorted(
            (s for s in shapes if any(g.objects(s, t) for t in TARGETS) and not self.deactivated(s)), key=str
        )

    def _subjects(self, p: ox.NamedNode) -> Iterator[Term]:
        return (s for s, preds in self.graph.out.items() if p in preds)

    def compiled(self, shape: Term) -> tuple[Path | None, str, str, list[tuple[ox.NamedNode, Term]]] | None:
        """The path, severity, message and constraints of a shape (None if deactivated), read once."""
        if shape not in self._compiled:
            g = self.graph
            path_node = g.value(shape, sh("path"))
            severity = g.value(shape, sh("severity"))
            messages = g.objects(shape, sh("message"))
            en = [m.value for m in messages if isinstance(m, ox.Literal) and m.language == "en"]
            constraints = [(p, o) for p, os in g.out.get(shape, {}).items() if p in COMPONENTS for o in os]
            self._compiled[shape] = (
                None
                if self.deactivated(shape)
                else (
                    self.path(path_node) if path_node is not None else None,
                    severity.value if severity is not None else VIOLATION,
                    en[0] if en else (messages[0].value if messages else f"{shape} not satisfied"),
                    constraints,
                )
            )
        return self._compiled[shape]

    def deactivated(self, shape: Term) -> bool:
        return self.graph.value(shape, sh("deactivated")) == TRUE

    def path(self, node: Term) -> Path:
        if isinstance(node, ox.NamedNode):
            return node
        inverse = self.graph.value(node, sh("inversePath"))
        if isinstance(inverse, ox.NamedNode):
            return ("^", inverse)
        alternatives = self.graph.value(node, sh("alternativePath"))
        if alternatives is not None:
            return ("|", *(self.path(a) for a in self.graph.items(alternatives)))
        raise UnsupportedShapes(
            f"path {node}: only IRIs, sh:inversePath and sh:alternativePath are supported"
        )

    def sparql_prefixes(self, constraint: Term) -> str:
        out = []
        for ontology in self.graph.objects(constraint, sh("prefixes")):
            for decl in self.graph.objects(ontology, sh("declare")):
                prefix, namespace = (
                    self.graph.value(decl, sh("prefix")),
                    self.graph.value(decl, sh("namespace")),
                )
                if prefix is not None and namespace is not None:
                    out.append(f"PREFIX {prefix.value}: <{namespace.value}>")
        return "\n".join(out) + "\n"
