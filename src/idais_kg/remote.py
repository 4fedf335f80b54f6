"""A remote SPARQL store: publish the dataset's named graphs to it, and run saved queries there (SPARQLWrapper).

Publishing uses the SPARQL 1.1 Graph Store Protocol when a graph-store URL is given (one HTTP PUT of N-Triples per
named graph, which replaces that graph), else SPARQL 1.1 Update (``DROP SILENT GRAPH`` then ``INSERT DATA`` in
batches). Every term sent is serialised by pyoxigraph (N-Triples syntax, with its escaping), never spliced from
text. A saved query's parameters go to the endpoint as a trailing ``VALUES`` block of such terms, after the same
type checks as in-process (``SavedQuery.bind``). The remote store must treat its default graph as the union of the
named graphs (Oxigraph: ``--union-default-graph``; Fuseki/TDB2: ``tdb2:unionDefaultGraph true``; Virtuoso: it
already is), as the embedded store does. Virtuoso 7.2 refuses blank nodes in ``INSERT DATA``, so publish to it
through its Graph Store endpoint (README; tests/test_remote_virtuoso.py).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pyoxigraph as ox
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from idais_kg.errors import IdaisError
from idais_kg.graph import KnowledgeGraph
from idais_kg.results import Result

BATCH = 20_000  # triples per INSERT DATA request
CLIP = 600  # characters of an endpoint's error kept (Virtuoso echoes the whole request back)


class RemoteError(IdaisError):
    """The remote endpoint refused a request or could not be reached."""

    exit_code = 2


def ntriples(triples: list[ox.Triple]) -> str:
    return (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()


def _graph_triples(kg: KnowledgeGraph, graph: str) -> list[ox.Triple]:
    return [ox.Triple(q.subject, q.predicate, q.object) for q in kg.store.quads(graph)]


def publish(kg: KnowledgeGraph, endpoint: str, graph_store: str | None = None) -> dict[str, int]:
    """Replace each named graph of ``kg`` at the remote store; return triples sent per graph."""
    sent: dict[str, int] = {}
    for graph in kg.store.graphs():
        triples = _graph_triples(kg, graph)
        if graph_store:
            _put_graph(graph_store, graph, ntriples(triples))
        else:
            for update in updates(graph, triples):
                _update(endpoint, update)
        sent[graph] = len(triples)
    return sent


def updates(graph: str, triples: list[ox.Triple]) -> Iterator[str]:
    """SPARQL Update requests that replace ``graph`` with ``triples`` (terms serialised by pyoxigraph)."""
    name = str(ox.NamedNode(graph))
    yield f"DROP SILENT GRAPH {name}"
    for start in range(0, len(triples), BATCH):
        yield f"INSERT DATA {{ GRAPH {name} {{\n{ntriples(triples[start : start + BATCH])}}} }}"


def _update(endpoint: str, update: str) -> None:
    client = SPARQLWrapper(endpoint)
    client.setMethod(POST)
    client.setRequestMethod("postdirectly")
    client.setQuery(update)
    try:
        client.query()
    except (SPARQLWrapperException, urllib.error.URLError, OSError) as exc:
        raise RemoteError(f"update at {endpoint} failed: {_clip(exc)}") from None


def _clip(exc: BaseException) -> str:
    """The start of an endpoint's error: enough for its code and reason, not the whole request it echoes."""
    text = str(exc)
    return text if len(text) <= CLIP else text[:CLIP] + f"… [{len(text) - CLIP} more characters]"


def _put_graph(graph_store: str, graph: str, data: str) -> None:
    url = graph_store + ("&" if "?" in graph_store else "?") + urllib.parse.urlencode({"graph": graph})
    request = urllib.request.Request(
        url, data=data.encode(), method="PUT", headers={"Content-Type": "application/n-triples"}
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise RemoteError(f"graph store PUT of <{graph}> at {graph_store} failed: {exc}") from None


def values_block(bound: dict[str, ox.NamedNode | ox.Literal]) -> str:
    """A trailing VALUES block of type-checked terms, serialised by pyoxigraph.

    >>> values_block({"goal": ox.NamedNode("https://w3id.org/idais-kg/id/goal/x")})
    '\\nVALUES (?goal) { (<https://w3id.org/idais-kg/id/goal/x>) }'
    >>> values_block({"q": ox.Literal('a "quoted" } value')})
    '\\nVALUES (?q) { ("a \\\\"quoted\\\\" } value") }'
    """
    if not bound:
        return ""
    names = " ".join(f"?{ox.Variable(n).value}" for n in bound)
    terms = " ".join(str(t) for t in bound.values())
    return f"\nVALUES ({names}) {{ ({terms}) }}"


def query(kg: KnowledgeGraph, name: str, endpoint: str, params: dict[str, str] | None = None) -> Result:
    """Run the saved query ``name`` at ``endpoint``, its parameters bound by a VALUES block."""
    saved = kg.queries.get(name)
    # Without the #+ header: SPARQLWrapper guesses the query type from keywords, and a word of a description
    # ("removed") made it guess MOVE.
    body = "\n".join(line for line in saved.text.splitlines() if not line.lstrip().startswith("#"))
    text = body + values_block(saved.bind(params or {}))
    client = SPARQLWrapper(endpoint)
    client.setQuery(text)
    client.setReturnFormat(JSON)
    client.setMethod(POST)
    try:
        answer = client.queryAndConvert()
    except (SPARQLWrapperException, urllib.error.URLError, OSError) as exc:
        raise RemoteError(f"query {name!r} at {endpoint} failed: {_clip(exc)}") from None
    return from_json(answer)  # type: ignore[arg-type]


def from_json(answer: dict[str, object]) -> Result:
    """A SPARQL 1.1 Query Results JSON document as a Result of pyoxigraph terms."""
    if "boolean" in answer:
        return Result([], [], bool(answer["boolean"]))
    head, results = answer["head"], answer["results"]
    variables = list(head.get("vars", []))  # type: ignore[attr-defined]
    rows = [{k: _term(v) for k, v in b.items()} for b in results["bindings"]]  # type: ignore[index]
    return Result(variables, rows)


def _term(value: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    kind = value["type"]
    if kind == "uri":
        return ox.NamedNode(value["value"])
    if kind == "bnode":
        return ox.BlankNode(value["value"])
    if "xml:lang" in value:
        return ox.Literal(value["value"], language=value["xml:lang"])
    if "datatype" in value:
        return ox.Literal(value["value"], datatype=ox.NamedNode(value["datatype"]))
    return ox.Literal(value["value"])
