"""A remote SPARQL store: publish the dataset's named graphs to it, and run saved queries there (SPARQLWrapper).

Publishing uses the SPARQL 1.1 Graph Store Protocol when a graph-store URL is given (one HTTP PUT of N-Triples per
named graph, which replaces that graph), else SPARQL 1.1 Update: batches of ``INSERT DATA`` into a staging graph
new to this publish, never splitting a blank node's triples (``batches``), then one ``MOVE`` of it onto the graph,
so that a failed publish leaves the graph as it was (``updates``). Every term sent is serialised by pyoxigraph
(N-Triples syntax, with its escaping), never spliced from text. A saved query's parameters go to the endpoint as a
trailing ``VALUES`` block of such terms, after the same type checks as in-process (``SavedQuery.bind``). The
remote store must treat its default graph as the union of the named graphs (Oxigraph: ``--union-default-graph``;
Fuseki/TDB2: ``tdb2:unionDefaultGraph true``; Virtuoso: it already is), as the embedded store does. Virtuoso 7.2
refuses blank nodes in ``INSERT DATA``, so publish to it through its Graph Store endpoint (README;
tests/test_remote_virtuoso.py).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator

import pyoxigraph as ox
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from idais_kg.dataset.assemble import KnowledgeGraph, adhoc_text
from idais_kg.errors import IdaisError
from idais_kg.results import Result, Triples

BATCH = 20_000  # triples per INSERT DATA request (a blank-node component larger than this goes whole in one)
# + a UUID: the graph one publish fills with one graph's new triples before moving it onto that graph
STAGING = "https://w3id.org/idais-kg/id/graph/staging/"
# What an ad-hoc query may answer: a results table (SELECT, ASK) or a graph (CONSTRUCT, DESCRIBE).
ANSWER_TYPES = {
    "application/sparql-results+json": None,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
}
ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8"
CLIP = 600  # characters of an endpoint's error kept (Virtuoso echoes the whole request back)


class RemoteError(IdaisError):
    """The remote endpoint refused a request or could not be reached."""

    exit_code = 2


def http_url(url: str, what: str = "endpoint") -> str:
    """``url`` if it is an http(s) URL with a host; urllib would also open ``file:``, ``ftp:`` and ``data:``.

    >>> http_url("http://127.0.0.1:8890/sparql")
    'http://127.0.0.1:8890/sparql'
    >>> http_url("file:///etc/passwd")
    Traceback (most recent call last):
    ...
    idais_kg.remote.RemoteError: endpoint file:///etc/passwd: only http and https URLs are accepted
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise RemoteError(f"{what} {url}: only http and https URLs are accepted")
    return url


def ntriples(triples: list[ox.Triple]) -> str:
    """Triples as N-Triples text, each term serialised and escaped by pyoxigraph, for a request body."""
    return (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()


def _graph_triples(kg: KnowledgeGraph, graph: str) -> list[ox.Triple]:
    return [ox.Triple(q.subject, q.predicate, q.object) for q in kg.store.quads(graph)]


def publish(
    kg: KnowledgeGraph, endpoint: str, graph_store: str | None = None, *, batch: int = BATCH
) -> dict[str, int]:
    """Replace each named graph of ``kg`` at the remote store; return triples sent per graph.

    ``batch`` is the number of triples per ``INSERT DATA`` request on the Update route (the Graph Store route sends
    each graph in one request).
    """
    http_url(endpoint)
    if graph_store:
        http_url(graph_store, "graph store")
    sent: dict[str, int] = {}
    for graph in kg.store.graphs():
        triples = _graph_triples(kg, graph)
        if graph_store:
            _put_graph(graph_store, graph, ntriples(triples))
        else:
            _replace(endpoint, graph, triples, batch)
        sent[graph] = len(triples)
    return sent


def _replace(endpoint: str, graph: str, triples: list[ox.Triple], batch: int) -> None:
    """Send ``updates``; if one fails (or the publish is interrupted), drop the staging graph and re-raise.

    The graph itself is untouched until the last request, the ``MOVE``. A staging graph left behind would show
    its triples a second time in a union default graph, hence the drop even on an interrupt.
    """
    staging = staging_graph()
    try:
        for update in updates(graph, triples, batch=batch, staging=staging):
            _update(endpoint, update)
    except BaseException as failure:
        try:
            _update(endpoint, f"DROP SILENT GRAPH {ox.NamedNode(staging)}")
        except RemoteError as cleanup:
            note = f"dropping the staging graph <{staging}> failed too (drop it by hand if it is there): {cleanup}"
            if isinstance(failure, RemoteError):
                raise RemoteError(f"{failure}; then {note}") from None
            failure.add_note(note)
        raise


def staging_graph() -> str:
    """A graph IRI of our namespace, new to this publish, to fill before moving it onto the published graph."""
    return STAGING + str(uuid.uuid4())


def updates(
    graph: str, triples: list[ox.Triple], *, batch: int = BATCH, staging: str | None = None
) -> Iterator[str]:
    """SPARQL Update requests that replace ``graph`` with ``triples`` (terms serialised by pyoxigraph).

    The triples go into ``staging`` (a fresh ``staging_graph()`` by default) by ``INSERT DATA`` requests of
    ``batches``, then one ``MOVE`` replaces ``graph`` with it: the graph changes in that one last request, which a
    store that runs each update request as a transaction (Oxigraph does) applies whole or not at all. The ``MOVE``
    is not ``SILENT``: a staging graph gone missing is an error, not an emptied graph. No triples: one ``DROP``.
    Until the ``MOVE``, a union default graph holds the staging triples as well as the old graph's.

    >>> s, p = ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p")
    >>> for u in updates("https://example.org/g", [ox.Triple(s, p, ox.Literal("x"))], staging="urn:x:tmp"):
    ...     print(u)
    INSERT DATA { GRAPH <urn:x:tmp> {
    <https://example.org/s> <https://example.org/p> "x" .
    } }
    MOVE GRAPH <urn:x:tmp> TO GRAPH <https://example.org/g>
    >>> list(updates("https://example.org/g", []))
    ['DROP SILENT GRAPH <https://example.org/g>']
    """
    name = str(ox.NamedNode(graph))
    if not triples:
        yield f"DROP SILENT GRAPH {name}"
        return
    into = str(ox.NamedNode(staging or staging_graph()))
    for part in batches(triples, batch):
        yield f"INSERT DATA {{ GRAPH {into} {{\n{ntriples(part)}}} }}"
    yield f"MOVE GRAPH {into} TO GRAPH {name}"


def batches(triples: list[ox.Triple], size: int = BATCH) -> Iterator[list[ox.Triple]]:
    """``triples`` in order, in lists of at most ``size``, where the triples linked by blank nodes stay in one list.

    A store gives each ``INSERT DATA`` request's blank node labels fresh nodes (SPARQL 1.1 Update, 3.1.1), so a
    blank node whose triples went in two requests would arrive as two nodes. Hence every connected component of
    blank-node triples (triples sharing a blank node, directly or through other blank nodes) goes whole into one
    list, at the place of its first triple; a component of more than ``size`` triples goes alone, as one list
    LARGER than ``size``: the request that carries it is larger than the batch size.
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, not {size}")
    current: list[ox.Triple] = []
    for unit in _units(triples):
        if isinstance(unit, ox.Triple):
            if len(current) >= size:
                yield current
                current = []
            current.append(unit)
            continue
        if current and len(current) + len(unit) > size:
            yield current
            current = []
        current.extend(unit)
    if current:
        yield current


def _units(triples: list[ox.Triple]) -> list[ox.Triple | list[ox.Triple]]:
    """Each triple without blank nodes, and each connected component of the others (a union-find over their blank
    nodes) at the place of its first triple."""
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def root(node: ox.BlankNode) -> ox.BlankNode:
        top = node
        while parent[top] != top:
            top = parent[top]
        while parent[node] != top:  # path compression
            parent[node], node = top, parent[node]
        return top

    order: list[tuple[ox.Triple, ox.BlankNode | None]] = []  # each triple, and one of its blank nodes if any
    for triple in triples:
        subject, obj = triple.subject, triple.object  # each read builds a Python object: read once
        if isinstance(obj, ox.Triple) or isinstance(subject, ox.Triple):
            nodes = list(_blank_nodes(triple))
        elif isinstance(subject, ox.BlankNode):
            nodes = [subject, obj] if isinstance(obj, ox.BlankNode) else [subject]
        elif isinstance(obj, ox.BlankNode):
            nodes = [obj]
        else:
            order.append((triple, None))
            continue
        for node in nodes:
            parent.setdefault(node, node)
        first = root(nodes[0])
        for node in nodes[1:]:
            other = root(node)
            if other != first:
                parent[other] = first
        order.append((triple, nodes[0]))
    units: list[ox.Triple | list[ox.Triple]] = []
    components: dict[ox.BlankNode, list[ox.Triple]] = {}
    for triple, anchor in order:
        if anchor is None:
            units.append(triple)
            continue
        top = root(anchor)
        component = components.get(top)
        if component is None:
            component = components[top] = []
            units.append(component)  # placed at its first triple, filled by the later ones
        component.append(triple)
    return units


def _blank_nodes(term: ox.Triple | ox.NamedNode | ox.BlankNode | ox.Literal) -> Iterator[ox.BlankNode]:
    """The blank nodes of a triple, those of a triple term inside it included."""
    if isinstance(term, ox.BlankNode):
        yield term
    elif isinstance(term, ox.Triple):
        for part in (term.subject, term.object):
            yield from _blank_nodes(part)


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
    request = urllib.request.Request(  # noqa: S310 (publish checked with http_url that it is http or https)
        url, data=data.encode(), method="PUT", headers={"Content-Type": "application/n-triples"}
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310 (http_url checked the scheme)
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


OUTER_GROUP = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def with_values(body: str, bound: dict[str, ox.NamedNode | ox.Literal]) -> str:
    """The saved query with its parameters bound as our engine binds them: a VALUES block first in the outer
    group pattern, so that it joins before OPTIONAL, BIND and grouping (a trailing VALUES joins after them, and
    Virtuoso 7 then evaluated OPTIONAL parts of ``mapped-to`` without the bound target). Trailing where the query
    has no ``WHERE {``.

    >>> with_values("SELECT ?s WHERE { ?s ?p ?o }", {"o": ox.Literal("x")}).splitlines()
    ['SELECT ?s WHERE {', 'VALUES (?o) { ("x") }', ' ?s ?p ?o }']
    """
    block = values_block(bound)
    found = OUTER_GROUP.search(body)
    if not block or found is None:
        return body + block
    return body[: found.end()] + block + "\n" + body[found.end() :]


def query(kg: KnowledgeGraph, name: str, endpoint: str, params: dict[str, str] | None = None) -> Result:
    """Run the saved query ``name`` at ``endpoint``, its parameters bound by a VALUES block."""
    http_url(endpoint)
    saved = kg.queries.get(name)
    # Without the #+ header: SPARQLWrapper guesses the query type from keywords, and a word of a description
    # ("removed") made it guess MOVE.
    body = "\n".join(line for line in saved.text.splitlines() if not line.lstrip().startswith("#"))
    text = with_values(body, saved.bind(params or {}))
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


def sparql(text: str, endpoint: str) -> Result | Triples:
    """Run an ad-hoc query of any form at ``endpoint``, with our prefixes declared before it (as in-process).

    The form is told by the media type of the answer, not guessed from the query text (SPARQLWrapper's keyword
    guess took a word of a comment for an update): the request accepts a results table and a graph alike.
    """
    http_url(endpoint)
    request = urllib.request.Request(  # noqa: S310 (http_url checked the scheme)
        endpoint,
        data=adhoc_text(text).encode(),
        method="POST",
        headers={"Content-Type": "application/sparql-query", "Accept": ACCEPT},
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310 (http_url checked the scheme)
            media_type, body = response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as exc:
        detail = " ".join(exc.read().decode("utf-8", "replace").split()) or str(exc.reason)
        raise RemoteError(
            f"query at {endpoint} failed: HTTP {exc.code}: {_clip(Exception(detail))}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise RemoteError(f"query at {endpoint} failed: {_clip(exc)}") from None
    if media_type not in ANSWER_TYPES:
        raise RemoteError(f"query at {endpoint}: an answer of unexpected type {media_type!r}")
    rdf_format = ANSWER_TYPES[media_type]
    try:
        if rdf_format is None:
            return from_json(json.loads(body))
        return Triples(
            [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(body, format=rdf_format)]
        )
    except (ValueError, SyntaxError, KeyError) as exc:
        raise RemoteError(f"query at {endpoint}: an answer that does not parse: {_clip(exc)}") from None
