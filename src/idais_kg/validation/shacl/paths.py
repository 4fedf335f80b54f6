"""SHACL property paths (SHACL 1.0, section 2.3.1): read from a graph, evaluated over a data graph, written back
as RDF (for a validation report) and as SPARQL (for ``$PATH``).

A path is an IRI, or a tuple: ``("/", p, q, ...)`` a sequence, ``("|", p, q, ...)`` alternatives, ``("^", p)`` an
inverse, ``("*", p)``, ``("+", p)`` and ``("?", p)`` zero-or-more, one-or-more and zero-or-one.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from idais_kg.errors import IdaisError
from idais_kg.namespaces import RDF, SH
from idais_kg.validation.shacl.data import Data, Index, Term

Path = ox.NamedNode | tuple[Any, ...]
UNARY = {
    SH + "inversePath": "^",
    SH + "zeroOrMorePath": "*",
    SH + "oneOrMorePath": "+",
    SH + "zeroOrOnePath": "?",
}
PREDICATE = {v: ox.NamedNode(k) for k, v in UNARY.items()}
FIRST, REST, NIL = (ox.NamedNode(RDF + n) for n in ("first", "rest", "nil"))
ALTERNATIVE = ox.NamedNode(SH + "alternativePath")


class UnsupportedPath(IdaisError):
    """A node that is not a well-formed SHACL path."""

    exit_code = 2


def read(graph: Index, node: Term) -> Path:
    """The path that ``node`` describes in ``graph``."""
    if isinstance(node, ox.NamedNode):
        return node
    if graph.objects(node, FIRST):
        return ("/", *(read(graph, n) for n in graph.items(node)))
    for predicate, op in UNARY.items():
        inner = graph.value(node, ox.NamedNode(predicate))
        if inner is not None:
            return (op, read(graph, inner))
    alternatives = graph.value(node, ALTERNATIVE)
    if alternatives is not None:
        return ("|", *(read(graph, a) for a in graph.items(alternatives)))
    raise UnsupportedPath(f"path {node}: not a SHACL path")


def values(data: Data, focus: Term, path: Path) -> list[Term]:
    """The value nodes of ``focus`` for ``path``, each once, in the order found."""
    return _walk(data, [focus], path, forward=True)


def _walk(data: Data, nodes: list[Term], path: Path, forward: bool) -> list[Term]:
    if isinstance(path, ox.NamedNode):
        step = data.objects if forward else (lambda n, p: data.subjects(p, n))
        return list(dict.fromkeys(v for n in nodes for v in step(n, path)))
    op, parts = path[0], path[1:]
    if op == "^":
        return _walk(data, nodes, parts[0], not forward)
    if op == "/":
        for part in parts if forward else reversed(parts):
            nodes = _walk(data, nodes, part, forward)
        return nodes
    if op == "|":
        return list(dict.fromkeys(v for part in parts for v in _walk(data, nodes, part, forward)))
    if op == "?":
        return list(dict.fromkeys([*nodes, *_walk(data, nodes, parts[0], forward)]))
    seen: dict[Term, None] = dict.fromkeys(nodes) if op == "*" else {}
    todo = nodes
    while todo:
        todo = [v for v in _walk(data, todo, parts[0], forward) if v not in seen]
        seen.update(dict.fromkeys(todo))
    return list(seen)


def sparql(path: Path) -> str:
    """The path in SPARQL's property path syntax.

    >>> sparql(("/", ox.NamedNode("http://e/p"), ("^", ox.NamedNode("http://e/q"))))
    '(<http://e/p>/^(<http://e/q>))'
    """
    if isinstance(path, ox.NamedNode):
        return str(path)
    op: str = path[0]
    parts = path[1:]
    if op in ("/", "|"):
        return "(" + op.join(sparql(p) for p in parts) + ")"
    if op == "^":
        return "^(" + sparql(parts[0]) + ")"
    return "(" + sparql(parts[0]) + ")" + op


def to_rdf(path: Path, triples: list[ox.Triple]) -> ox.NamedNode | ox.BlankNode:
    """The node of ``path`` written as RDF, its triples appended to ``triples``."""
    if isinstance(path, ox.NamedNode):
        return path
    op, parts = path[0], path[1:]
    nodes = [to_rdf(p, triples) for p in parts]
    if op == "/":
        return _list(nodes, triples)
    node = ox.BlankNode()
    if op == "|":
        triples.append(ox.Triple(node, ALTERNATIVE, _list(nodes, triples)))
    else:
        triples.append(ox.Triple(node, PREDICATE[op], nodes[0]))
    return node


def _list(
    members: list[ox.NamedNode | ox.BlankNode], triples: list[ox.Triple]
) -> ox.NamedNode | ox.BlankNode:
    head: ox.NamedNode | ox.BlankNode = NIL
    for member in reversed(members):
        cell = ox.BlankNode()
        triples += [ox.Triple(cell, FIRST, member), ox.Triple(cell, REST, head)]
        head = cell
    return head
