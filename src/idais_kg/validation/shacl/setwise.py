"""Shapes made only of SHACL-SPARQL constraints, evaluated set-wise: each constraint is ONE query over the data.

The partner shapes (shapes/partner/) are written so that this is exact: every ``sh:select`` starts with a triple
pattern on ``$this``, so running it with ``?this`` free and keeping the solutions whose ``?this`` is a focus node
gives the solutions of pre-binding ``$this`` (SHACL 1.0, 5.3.1) one focus node at a time. (The first pattern may
sit in a group of its own with a FILTER on ``$this``: rdflib's lazy join then skips the rest for nodes the filter
drops, which keeps pySHACL fast on the guide's own nodes.) That makes a partner
check of a million triples a few queries, not a query per node. A shape that uses anything else (a Core
component, $PATH, a target this does not know) is refused, so nothing is silently skipped; tests/test_partners.py
checks that pySHACL gives the same results on the fixtures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from idais_kg.errors import IdaisError
from idais_kg.namespaces import RDF, RDFS, SH
from idais_kg.store import parse_file


class UnsupportedShape(IdaisError):
    exit_code = 2


@dataclass
class Finding:
    severity: str  # Violation, Warning or Info
    focus: str
    message: str
    shape: str
    value: str | None = None
    path: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Shape:
    iri: str
    targets: tuple[
        tuple[str, str], ...
    ]  # (kind, IRI): targetClass / targetSubjectsOf / targetObjectsOf / targetNode
    severity: str
    message: str
    query: str


TARGETS = ("targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode")
ALLOWED = {SH + n for n in (*TARGETS, "sparql", "severity", "message", "deactivated", "name", "description")}
ALLOWED |= {RDF + "type", RDFS + "comment", RDFS + "label"}


def sh(name: str) -> ox.NamedNode:
    return ox.NamedNode(SH + name)


class Shapes(list[Shape]):
    @classmethod
    def load(cls, folder: Path) -> Shapes:
        graph = ox.Store()
        for path in sorted(folder.rglob("*.ttl")):
            graph.extend(ox.Quad(q.subject, q.predicate, q.object) for q in parse_file(path))
        shapes = cls()
        for quad in graph.quads_for_pattern(None, sh("sparql"), None, None):
            shapes.append(_shape(graph, quad.subject, quad.object))  # type: ignore[arg-type]
        shapes.sort(key=lambda s: s.iri)
        return shapes


def _one(
    graph: ox.Store, s: ox.NamedNode | ox.BlankNode, p: ox.NamedNode
) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
    for q in graph.quads_for_pattern(s, p, None, None):
        return q.object  # type: ignore[return-value]
    return None


def _shape(
    graph: ox.Store, shape: ox.NamedNode | ox.BlankNode, constraint: ox.NamedNode | ox.BlankNode
) -> Shape:
    extra = {q.predicate.value for q in graph.quads_for_pattern(shape, None, None, None)} - ALLOWED
    if extra or len(list(graph.quads_for_pattern(shape, sh("sparql"), None, None))) != 1:
        raise UnsupportedShape(
            f"shape {shape}: only one sh:sparql constraint and targets are supported ({extra})"
        )
    select = _one(graph, constraint, sh("select"))
    if select is None or "$PATH" in select.value:
        raise UnsupportedShape(f"shape {shape}: an sh:select without $PATH is needed")
    if not re.match(r"\s*\{?\s*[?$]this\s", select.value.partition("{")[2]):
        raise UnsupportedShape(f"shape {shape}: the query must start with a pattern on $this")
    severity = _one(graph, shape, sh("severity"))
    message = _one(graph, constraint, sh("message")) or _one(graph, shape, sh("message"))
    prefixes = ""
    source = _one(graph, constraint, sh("prefixes"))
    if source is not None:
        for decl in graph.quads_for_pattern(source, sh("declare"), None, None):  # type: ignore[arg-type]
            prefix, ns = _one(graph, decl.object, sh("prefix")), _one(graph, decl.object, sh("namespace"))  # type: ignore[arg-type]
            if prefix is not None and ns is not None:
                prefixes += f"PREFIX {prefix.value}: <{ns.value}>\n"
    targets = tuple(
        (kind, str(q.object.value))  # type: ignore[union-attr]
        for kind in TARGETS
        for q in graph.quads_for_pattern(shape, sh(kind), None, None)
    )
    return Shape(
        iri=shape.value,
        targets=targets,
        severity=severity.value.rsplit("#", 1)[-1] if severity else "Violation",
        message=message.value if message else "",
        query=prefixes + select.value,
    )


def fill(message: str, values: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]) -> str:
    """Put solution values into a message's ``{?name}`` placeholders.

    >>> fill("{?value} via {?path}", {"value": ox.Literal("x")})
    'x via {?path}'
    """
    return re.sub(r"\{[?$](\w+)\}", lambda m: values[m[1]].value if m[1] in values else m[0], message)


def focus_nodes(store: ox.Store, shape: Shape) -> set[ox.NamedNode | ox.BlankNode | ox.Literal]:
    """The focus nodes of a shape, read from the store's indexes (all graphs: SHACL's data graph is the union)."""
    out: set[ox.NamedNode | ox.BlankNode | ox.Literal] = set()
    for kind, iri in shape.targets:
        node = ox.NamedNode(iri)
        if kind == "targetNode":
            out.add(node)
        elif kind == "targetSubjectsOf":
            out |= {q.subject for q in store.quads_for_pattern(None, node, None, None)}  # type: ignore[misc]
        elif kind == "targetObjectsOf":
            out |= {q.object for q in store.quads_for_pattern(None, node, None, None)}  # type: ignore[misc]
        else:
            for cls in subclasses(store, node):
                out |= {q.subject for q in store.quads_for_pattern(None, TYPE, cls, None)}  # type: ignore[misc]
    return out


TYPE = ox.NamedNode(RDF + "type")
SUBCLASS = ox.NamedNode(RDFS + "subClassOf")


def subclasses(store: ox.Store, cls: ox.NamedNode) -> list[ox.NamedNode | ox.BlankNode]:
    seen: list[ox.NamedNode | ox.BlankNode] = [cls]
    todo = [cls]
    while todo:
        for q in store.quads_for_pattern(None, SUBCLASS, todo.pop(), None):
            if q.subject not in seen:
                seen.append(q.subject)  # type: ignore[arg-type]
                todo.append(q.subject)  # type: ignore[arg-type]
    return seen


def select(
    store: ox.Store, query: str, **bindings: ox.NamedNode | ox.BlankNode | ox.Literal
) -> ox.QuerySolutions:
    """Run a SELECT over the union of the graphs, with bound variables (pyoxigraph wants them projected)."""
    subs: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
        ox.Variable(k): v for k, v in bindings.items()
    }
    answer = store.query(query, substitutions=subs or None, use_default_graph_as_union=True)
    if not isinstance(answer, ox.QuerySolutions):
        raise UnsupportedShape(f"not a SELECT query: {query[:60]!r}")
    return answer


SMALL = 64  # focus nodes up to which a query runs once per node, $this substituted, rather than once for all


def solutions(
    store: ox.Store, shape: Shape, focus: set[ox.NamedNode | ox.BlankNode | ox.Literal]
) -> Iterator[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
    """The solutions of the shape's query for its focus nodes: pre-bound for a few, as a join for many."""
    answers = (
        [select(store, shape.query, this=node) for node in sorted(focus, key=str)]
        if len(focus) <= SMALL
        else [select(store, shape.query)]
    )
    for answer in answers:
        names = [v.value for v in answer.variables]
        for row in answer:
            yield {n: row[n] for n in names if row[n] is not None}


def validate(
    store: ox.Store, shapes: list[Shape], cache: dict[tuple[tuple[str, str], ...], set[Any]] | None = None
) -> list[Finding]:
    """Every solution of every constraint whose ?this is a focus node of its shape, once."""
    findings: list[Finding] = []
    for shape in shapes:
        if cache is None:
            focus = focus_nodes(store, shape)
        else:
            if shape.targets not in cache:
                cache[shape.targets] = focus_nodes(store, shape)
            focus = cache[shape.targets]
        if not focus:
            continue
        seen = set()
        for values in solutions(store, shape, focus):
            this = values.get("this")
            if this not in focus:
                continue
            key = tuple(sorted((k, str(v)) for k, v in values.items()))
            if key in seen:
                continue
            seen.add(key)
            text = fill(shape.message, values)
            findings.append(
                Finding(
                    shape.severity,
                    this.value,
                    text,
                    shape.iri,
                    values.get("value", this).value,  # a node shape: the focus node
                    values["path"].value if "path" in values else None,
                )
            )
    return findings
