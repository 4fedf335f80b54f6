"""Shapes made only of SHACL-SPARQL constraints, evaluated set-wise: each constraint is ONE query over the data.

The partner shapes (shapes/partner/) are written so that this is exact: every ``sh:select`` starts with a triple
pattern on ``$this``, so running it with ``?this`` free and keeping the solutions whose ``?this`` is a focus node
gives the solutions of pre-binding ``$this`` (SHACL 1.0, 5.3.1) one focus node at a time. That makes a partner
check of a million triples a few queries, not a query per node. A shape that uses anything else (a Core
component, $PATH, a target this does not know) is refused, so nothing is silently skipped; tests/test_partners.py
checks that pySHACL gives the same results on the fixtures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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
    if not re.match(r"\s*[?$]this\s", select.value.partition("{")[2]):
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


TARGET_QUERIES = {
    "targetClass": "SELECT DISTINCT ?this ?t WHERE { ?this a/<" + RDFS + "subClassOf>* ?t }",
    "targetSubjectsOf": "SELECT DISTINCT ?this ?t WHERE { ?this ?t ?o }",
    "targetObjectsOf": "SELECT DISTINCT ?this ?t WHERE { ?s ?t ?this }",
}


def focus_nodes(store: ox.Store, shape: Shape) -> set[ox.NamedNode | ox.BlankNode | ox.Literal]:
    out: set[ox.NamedNode | ox.BlankNode | ox.Literal] = set()
    for kind, iri in shape.targets:
        if kind == "targetNode":
            out.add(ox.NamedNode(iri))
            continue
        answer = select(store, TARGET_QUERIES[kind], t=ox.NamedNode(iri))
        out |= {row["this"] for row in answer}
    return out


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


def validate(store: ox.Store, shapes: list[Shape]) -> list[Finding]:
    """Every solution of every constraint whose ?this is a focus node of its shape, once."""
    findings: list[Finding] = []
    for shape in shapes:
        focus = focus_nodes(store, shape)
        if not focus:
            continue
        answer = select(store, shape.query)
        names = [v.value for v in answer.variables]
        seen = set()
        for row in answer:
            values = {n: row[n] for n in names if row[n] is not None}
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
                    values["value"].value if "value" in values else None,
                    values["path"].value if "path" in values else None,
                )
            )
    return findings
