"""The SPARQL 1.1 Protocol endpoint at /sparql: query by GET, POST form and POST direct; never update.

A request is checked in this order, all before evaluation: method and content type, protocol parameters, the
query's text (guard), the media type of the answer (406), then the answer is taken from the cache or from a worker.
GET /sparql without a query answers the SPARQL Service Description.

Liberal in what it accepts, as Fuseki and Virtuoso are: a parameter it does not know is ignored and named in the
``X-Ignored-Parameters`` header; ``timeout`` and Virtuoso's ``maxrows`` (which its ``SERVICE`` always sends) may
tighten the deadline and the row cap, never loosen them; a CONSTRUCT or DESCRIBE asked for in a results format is
answered in an RDF format, named in ``X-Format-Fallback``; ASK in CSV or TSV is Jena's one-column table.

Bounds, and how an answer states that it hit one: a result longer than the row cap is cut there and the response
carries ``X-Row-Cap: N reached; result truncated`` (the SPARQL JSON, XML, CSV and TSV results formats have no
place for a comment, so the header, documented on the query page, is the statement); a query that overruns the
deadline is answered 503 with the reason in the body and an ``X-Query-Deadline`` header.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from urllib.parse import parse_qsl

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from idais_kg.namespaces import DATASET_IRI, DCTERMS, RDF, SD, SERVICE_BASE, W3C_FORMATS
from idais_kg.serve.cache import Cached
from idais_kg.serve.guard import Checked, QueryRefused, check, check_graph_params
from idais_kg.serve.inproc import InProcess
from idais_kg.serve.linked_data import serialise
from idais_kg.serve.negotiation import CSV, HTML, RDF_OFFER, RESULTS_OFFER, TSV, choose, rdf_fallback
from idais_kg.serve.pool import Answer, DeadlineExceeded, Job, Overloaded, PoolError, WorkerPool
from idais_kg.serve.responses import cached, error, service_of

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
DATASET_PARAMS = ("default-graph-uri", "named-graph-uri")
# Parameters we act on beside the query and its dataset: each may only tighten our bounds, never loosen them.
BOUNDS = ("timeout", "maxrows")
# Any other parameter (SPARQLWrapper's ``format``/``output``, Virtuoso's ``maxrows`` companions, jQuery's ``_`` and
# ``callback``, ...) is ignored, as Fuseki and Virtuoso do, and named in this header of the answer.
IGNORED_HEADER = "X-Ignored-Parameters"
FALLBACK_HEADER = "X-Format-Fallback"
# ASK in CSV and TSV, which the results formats' note leaves open, as Jena (Fuseki, ARQ) writes it: a one-column
# table. rdflib reads it as a row whose ``_askResult`` is the answer (our engine's bare ``true`` it read as a
# header over no rows: False).
ASK_TABLES = {CSV: (b"_askResult\r\n", b"\r\n"), TSV: (b"?_askResult\n", b"\n")}
NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")


class ProtocolError(ValueError):
    """A request the SPARQL protocol does not allow, with the HTTP status it answers (400, 413, 415...)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def parse_params(text: str) -> dict[str, list[str]]:
    """The parameters of a query string or form body; percent-escapes must decode to UTF-8 (never to U+FFFD).

    >>> parse_params("query=ASK%20%7B%7D&x=")
    {'query': ['ASK {}'], 'x': ['']}
    """
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise ProtocolError(400, "a parameter is not UTF-8 once its %-escapes are decoded") from None
    return split_params(pairs)


def split_params(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Parameter pairs gathered by name, each with its values in order (a name may repeat, as
    ``default-graph-uri`` does).
    """
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def decode_utf8(body: bytes, content_type: str) -> str:
    """A request body as text; the protocol allows UTF-8 only."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value.strip('"').lower() not in ("utf-8", "utf8"):
            raise ProtocolError(415, f"charset {value} is not supported: send UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, "the request body is not UTF-8") from None


async def read_request(request: Request) -> tuple[str | None, dict[str, list[str]]]:
    """The query text (None when there is none) and the other protocol parameters of a request."""
    url_params = parse_params(request.url.query)
    if request.method in ("GET", "HEAD"):
        params = url_params
        query_values = params.pop("query", None)
    else:
        content_type = request.headers.get("content-type", "")
        media = content_type.split(";")[0].strip().lower()
        settings = service_of(request).settings
        body = await request.body()
        if len(body) > settings.max_query_bytes * 4:
            raise ProtocolError(413, "request body too large")
        if media == UPDATE:
            raise ProtocolError(400, "this endpoint is read-only: SPARQL Update is not accepted")
        if media == FORM:
            text = decode_utf8(body, content_type)
            params = parse_params(text)
            if "query" in url_params:
                raise ProtocolError(400, "the query goes in the request body of a form POST, not in the URL")
            for name, values in url_params.items():
                params.setdefault(name, []).extend(values)
            query_values = params.pop("query", None)
        elif media == DIRECT:
            if "query" in url_params:
                raise ProtocolError(400, "a direct POST carries the query in its body, not in the URL")
            params = url_params
            query_values = [decode_utf8(body, content_type)]
        else:
            shown = media or "none"
            raise ProtocolError(415, f"content type {shown}: send {FORM} or {DIRECT}")
    if "update" in params or "using-graph-uri" in params or "using-named-graph-uri" in params:
        raise ProtocolError(400, "this endpoint is read-only: SPARQL Update is not accepted")
    if query_values is not None and len(query_values) != 1:
        raise ProtocolError(400, "give exactly one query parameter")
    return (query_values[0] if query_values else None), params


def timeout_seconds(value: str) -> float | None:
    """A client's ``timeout`` in seconds, or None when it sets none we can read.

    Fuseki takes seconds (``timeout=10``, ``timeout=1.5``, or ``timeout=1,10``: first row, then whole query, of
    which the whole counts); Virtuoso takes milliseconds (``timeout=10000``; 0 means none). A bare number of 1000
    or more is therefore read as milliseconds (no client asks for a deadline of 17 minutes), as is one ending in
    ``ms``.

    >>> timeout_seconds("10"), timeout_seconds("1.5"), timeout_seconds("30000"), timeout_seconds("1,10")
    (10.0, 1.5, 30.0, 10.0)
    >>> timeout_seconds("250ms"), timeout_seconds("0"), timeout_seconds("soon")
    (0.25, None, None)
    """
    text = value.strip().rpartition(",")[2].strip().lower()
    millis = text.endswith("ms")
    text = text.removesuffix("ms").strip()
    if not NUMBER.fullmatch(text) or float(text) <= 0:
        return None
    number = float(text)
    return number / 1000 if millis or number >= 1000 else number


def max_rows(value: str) -> int | None:
    """Virtuoso's ``maxrows``: a positive whole number of rows, or None.

    >>> max_rows("100"), max_rows("0"), max_rows("-3"), max_rows("lots")
    (100, None, None, None)
    """
    text = value.strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def bounds_of(params: dict[str, list[str]], deadline: float, row_cap: int) -> tuple[float, int, list[str]]:
    """The deadline and row cap of one request: ours, tightened by the client's ``timeout`` and ``maxrows``
    (never loosened), and the names of the parameters we did not act on (to name in the answer).

    >>> bounds_of({"timeout": ["5000"], "maxrows": ["20"], "_": ["1"]}, 10.0, 1000)
    (5.0, 20, ['_'])
    >>> bounds_of({"timeout": ["60"], "maxrows": ["99999"], "format": ["json"]}, 10.0, 1000)
    (10.0, 1000, ['format'])
    """
    for value in params.get("timeout", []):
        seconds = timeout_seconds(value)
        if seconds is not None:
            deadline = min(deadline, seconds)
    for value in params.get("maxrows", []):
        rows = max_rows(value)
        if rows is not None:
            row_cap = min(row_cap, rows)
    ignored = sorted(set(params) - set(DATASET_PARAMS) - set(BOUNDS))
    return deadline, row_cap, ignored


def ask_table(body: bytes, media: str) -> bytes:
    """An ASK answer in CSV or TSV as Jena writes it (any other format is left as the engine wrote it).

    >>> ask_table(b"true", "text/csv"), ask_table(b"false", "text/tab-separated-values")
    (b'_askResult\\r\\ntrue\\r\\n', b'?_askResult\\nfalse\\n')
    """
    if media not in ASK_TABLES:
        return body
    head, end = ASK_TABLES[media]
    return head + body.strip() + end


async def sparql(request: Request) -> Response:
    """GET or POST /sparql."""
    service = service_of(request)
    settings = service.settings
    try:
        text, params = await read_request(request)
    except ProtocolError as exc:
        return error(request, exc.status, str(exc))
    if text is None:  # a bare GET asks for the service description; a POST must carry a query
        if request.method == "POST":
            return error(request, 400, "no query given")
        return await service_description(request)
    default_graph, named_graphs = params.get("default-graph-uri"), params.get("named-graph-uri")
    try:
        checked = check(
            text, service.hosted_graphs, settings.max_query_bytes, settings.max_depth, SERVICE_BASE
        )
        check_graph_params((default_graph or []) + (named_graphs or []), service.hosted_graphs)
    except QueryRefused as exc:
        return error(request, 400, str(exc))
    deadline, row_cap, ignored = bounds_of(params, settings.deadline, settings.row_cap)
    extra = {IGNORED_HEADER: ", ".join(ignored)} if ignored else {}
    media = answer_media(checked.form, request.headers.get("accept"), extra)
    if media is None:
        offered = RESULTS_OFFER if checked.form in ("SELECT", "ASK") else RDF_OFFER
        message = f"a {checked.form} query is answered in: {', '.join(offered)}"
        return error(None, 406, message, {"Vary": "Accept", **extra})
    job = job_for(checked, media, row_cap, default_graph, named_graphs)
    key = "sparql|" + hashlib.sha256(repr(job).encode("utf-8")).hexdigest()
    failure: list[Response] = []

    async def produce() -> Cached:
        client = request.client.host if request.client else None
        try:
            answer = await run_job(service.pool, job, client, deadline, settings.deadline, request)
        except PoolError as exc:  # 503, or 429 for a client that had too many workers killed (never cached)
            failure.append(pool_failure(request, exc, deadline, settings.retry_after, extra))
            return Cached(b"", "text/plain", 503)
        if answer.error is not None:  # in the client's format (HTML, JSON or text), so not cached
            message = checked.engine_message(answer.error)
            failure.append(error(request, 400, message, {"Vary": "Accept", **extra}))
            return Cached(b"", "text/plain", 503)
        headers = {"X-Row-Cap": f"{row_cap} reached; result truncated"} if answer.truncated else {}
        body = ask_table(answer.body, media) if checked.form == "ASK" else answer.body
        return Cached(body, answer.media_type, 200, headers)

    response = await cached(request, key, produce)
    if failure:
        return failure[0]
    for name, value in extra.items():
        response.headers[name] = value
    return response


def job_for(
    checked: Checked,
    media: str,
    row_cap: int,
    default_graph: list[str] | None,
    named_graphs: list[str] | None,
) -> Job:
    """The job of a checked query: its canonical text (exactly what the guard checked, never the client's), the
    answer's media type, the row cap and the protocol's dataset, if the request gave one."""
    protocol_dataset = default_graph is not None or named_graphs is not None
    return Job(
        query=checked.text,
        media_type=media,
        row_cap=row_cap,
        default_graph=tuple(default_graph or ()) if protocol_dataset else None,
        named_graphs=tuple(named_graphs or ()) if protocol_dataset else None,
        query_dataset=checked.has_dataset,
        base_iri=SERVICE_BASE,
    )


def answer_media(form: str, accept: str | None, extra: dict[str, str]) -> str | None:
    """The media type of the answer; a CONSTRUCT or DESCRIBE asked in a results format (rdflib's SPARQLStore,
    SPARQLWrapper with returnFormat=JSON) falls back to an RDF format, as Fuseki and Virtuoso do, said in ``extra``."""
    offered = RESULTS_OFFER if form in ("SELECT", "ASK") else RDF_OFFER
    media = choose(accept, offered)
    if media is None and form in ("CONSTRUCT", "DESCRIBE"):
        wanted = choose(accept, RESULTS_OFFER)
        if wanted is not None:
            media = rdf_fallback(wanted)
            extra[FALLBACK_HEADER] = f"{media}: a {form} answer is a graph, not a {wanted} table"
    return media


async def run_job(
    pool: WorkerPool | InProcess,
    job: Job,
    client: str | None,
    deadline: float,
    ours: float,
    request: Request | None = None,
) -> Answer:
    """The pool's answer to ``job``, within the client's ``deadline`` where it is tighter than ours (a cancelled
    worker is replaced, and the client is charged for it like for any other overrun)."""
    if isinstance(pool, InProcess):  # it keeps the deadline itself, and answers ``request`` if it must stop
        return await pool.run(job, client, deadline, request)
    if deadline >= ours:
        return await pool.run(job, client)
    try:
        return await asyncio.wait_for(pool.run(job, client), deadline)
    except TimeoutError:
        raise DeadlineExceeded(f"the query ran longer than the timeout of {deadline:g} s") from None


def pool_failure(
    request: Request, exc: PoolError, deadline: float, retry_after: int, extra: dict[str, str]
) -> Response:
    """The 503 (or 429) for a query the pool did not answer, with ``Retry-After`` and the reason."""
    headers = {"Retry-After": str(exc.retry_after or retry_after)}
    if isinstance(exc, DeadlineExceeded):
        headers["X-Query-Deadline"] = f"{deadline:g}s exceeded"
    elif isinstance(exc, Overloaded):
        headers["X-Query-Overloaded"] = "all query workers are busy"
    return error(request, exc.status, str(exc), {**headers, **extra})


async def service_description(request: Request) -> Response:
    """The SPARQL Service Description of this endpoint (in RDF), or a pointer to the query page for browsers."""
    media = choose(request.headers.get("accept"), [*RDF_OFFER, HTML])
    if media == HTML:
        return RedirectResponse("/query", status_code=303)
    if media is None:
        return error(None, 406, "offered: " + ", ".join(RDF_OFFER), {"Vary": "Accept"})
    endpoint = str(request.url.replace(query="", fragment=""))

    async def produce() -> Cached:
        return Cached(serialise(description_triples(endpoint), media), media)

    return await cached(request, f"sd|{endpoint}|{media}", produce)


def description_triples(endpoint: str) -> list[ox.Triple]:
    """The SPARQL Service Description of the endpoint at ``endpoint``: the language, the union default
    graph, the dataset it serves and every result format.
    """
    service = ox.BlankNode("service")
    dataset = ox.BlankNode("dataset")

    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(SD + name)

    out = [
        ox.Triple(service, ox.NamedNode(RDF + "type"), sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, ox.NamedNode(RDF + "type"), sd("Dataset")),
        ox.Triple(dataset, ox.NamedNode(DCTERMS + "source"), ox.NamedNode(DATASET_IRI)),
    ]
    for fmt in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV"):
        out.append(ox.Triple(service, sd("resultFormat"), ox.NamedNode(W3C_FORMATS + fmt)))
    for fmt in ("Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        out.append(ox.Triple(service, sd("resultFormat"), ox.NamedNode(W3C_FORMATS + fmt)))
    return out
