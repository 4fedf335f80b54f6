"""The fast lane answers a plain ad-hoc query exactly as the app does: the same status, headers and body, request by
request, whether the answer comes from the cache or from the engine; and every request it does not answer itself
reaches the app untouched.

Both paths run in this process, over the app of a pre-forked worker (its in-process query runner begun).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from idais_kg.serve.app import create_app
from idais_kg.serve.cache import ResponseCache
from idais_kg.serve.fastlane import FastLane
from idais_kg.serve.inproc import InProcess
from idais_kg.serve.settings import Settings
from idais_kg.serve.shared import SharedState

IDAIS = "https://w3id.org/idais-kg/ontology#"
GOALS = f"SELECT ?g WHERE {{ ?g a <{IDAIS}Goal> }} ORDER BY ?g"
ROW_CAP = 7
RESULTS = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv"]
RESULTS += ["text/tab-separated-values", "application/json", "*/*"]
GRAPHS = ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"]
Request = tuple[str, str, bytes, list[tuple[bytes, bytes]]]


@dataclasses.dataclass
class Counting:
    """The app, counting the requests that reach it."""

    app: Any
    calls: int = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)

    @property
    def state(self) -> Any:
        return self.app.state


@pytest.fixture(scope="module")
def apps(kg: Any) -> Iterator[tuple[Any, FastLane, Counting]]:
    settings = Settings(row_cap=ROW_CAP)
    runner = InProcess(kg.store, settings, SharedState())
    app = create_app(kg, settings, pool=runner)
    runner.begin(app, lambda: None)
    counting = Counting(app)
    yield app, FastLane(counting), counting  # type: ignore[arg-type]


def call(app: Any, request: Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    method, target, body, headers = request
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers, (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent: list[dict[str, Any]] = []
    given = False

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], list(start["headers"]), payload


def post(query: str, accept: str | None, *more: tuple[bytes, bytes]) -> Request:
    headers = [(b"content-type", b"application/sparql-query"), *more]
    if accept is not None:
        headers.append((b"accept", accept.encode()))
    return ("POST", "/sparql", query.encode(), headers)


def get(query: str, accept: str | None) -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return ("GET", "/sparql?query=" + quote(query), b"", headers)


ANSWERED_HERE: list[tuple[str, Request]] = [
    *[(f"SELECT as {a}", post(GOALS, a)) for a in RESULTS],
    ("SELECT, no Accept", post(GOALS, None)),
    ("SELECT cut at the row cap", post("SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+json")),
    ("ASK as JSON", post("ASK { ?s ?p ?o }", "application/sparql-results+json")),
    ("ASK as CSV (Jena's table)", post("ASK { ?s ?p ?o }", "text/csv")),
    ("ASK as TSV", post("ASK { ?s ?p ?o }", "text/tab-separated-values")),
    *[(f"CONSTRUCT as {a}", post(f"CONSTRUCT WHERE {{ ?g a <{IDAIS}Goal> }}", a)) for a in GRAPHS],
    ("DESCRIBE", post(f"DESCRIBE ?g WHERE {{ ?g a <{IDAIS}Area> }}", "text/turtle")),
    ("GET with a prefix", get(f"PREFIX i: <{IDAIS}> SELECT ?g WHERE {{ ?g a i:Goal }}", "text/csv")),
    (
        "POST with charset",
        ("POST", "/sparql", b"ASK {}", [(b"content-type", b"application/sparql-query; charset=utf-8")]),
    ),
]
TAKEN_BY_THE_APP: list[tuple[str, Request]] = [
    ("a refused SERVICE", post("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", None)),
    ("an update", post("INSERT DATA { <a:b> <a:c> <a:d> }", "application/json")),
    ("an engine error", post("SELECT ?x WHERE { ?x ?y }", "application/sparql-results+json")),
    ("no acceptable format", post(GOALS, "image/png")),
    ("a graph in a results format", post(f"CONSTRUCT WHERE {{ ?g a <{IDAIS}Goal> }}", "application/json")),
    ("CORS", post(GOALS, "text/csv", (b"origin", b"https://example.org"))),
    ("a conditional GET", ("GET", "/sparql?query=" + quote(GOALS), b"", [(b"if-none-match", b"*")])),
    ("a reader's language", post(GOALS, "text/csv", (b"accept-language", b"zh"))),
    ("an error page in HTML", post("SELECT ?x WHERE { ?x ?y }", "text/html")),
    ("another parameter", ("GET", "/sparql?query=" + quote(GOALS) + "&timeout=5", b"", [])),
    (
        "a form POST",
        (
            "POST",
            "/sparql",
            b"query=" + quote(GOALS).encode(),
            [(b"content-type", b"application/x-www-form-urlencoded")],
        ),
    ),
    ("HEAD", ("HEAD", "/sparql?query=" + quote(GOALS), b"", [])),
    ("the service description", ("GET", "/sparql", b"", [(b"accept", b"text/turtle")])),
    ("not UTF-8", ("POST", "/sparql", b"ASK { \xff }", [(b"content-type", b"application/sparql-query")])),
    ("an empty query", ("POST", "/sparql", b"", [(b"content-type", b"application/sparql-query")])),
    ("another path", ("GET", "/healthz", b"", [])),
]


def fresh_cache(app: Any) -> None:
    service = app.state.service
    service.cache = ResponseCache(service.cache.entries, service.cache.max_bytes)
    service.front.clear()


@pytest.mark.parametrize(
    ("name", "request_"), ANSWERED_HERE + TAKEN_BY_THE_APP, ids=lambda v: v if isinstance(v, str) else ""
)
def test_both_paths_send_the_same_answer(apps: Any, name: str, request_: Request) -> None:
    app, lane, _ = apps
    fresh_cache(app)
    slow = call(app, request_)
    fresh_cache(app)
    fast = call(lane, request_)  # from the engine
    again = call(lane, request_)  # from the cache
    assert fast == slow, name
    assert again == slow, name


@pytest.mark.parametrize(("name", "request_"), ANSWERED_HERE, ids=lambda v: v if isinstance(v, str) else "")
def test_a_plain_query_never_reaches_the_app(apps: Any, name: str, request_: Request) -> None:
    app, lane, counting = apps
    fresh_cache(app)
    before = counting.calls
    status, _, _ = call(lane, request_)
    assert status == 200
    assert counting.calls == before, f"{name}: the fast lane handed it to the app"


@pytest.mark.parametrize(
    ("name", "request_"), TAKEN_BY_THE_APP, ids=lambda v: v if isinstance(v, str) else ""
)
def test_anything_else_reaches_the_app_once(apps: Any, name: str, request_: Request) -> None:
    app, lane, counting = apps
    fresh_cache(app)
    before = counting.calls
    call(lane, request_)
    assert counting.calls == before + 1, name


def test_a_cut_answer_says_so_on_both_paths(apps: Any) -> None:
    app, lane, _ = apps
    fresh_cache(app)
    status, headers, body = call(lane, post("SELECT * WHERE { ?s ?p ?o }", "text/csv"))
    assert status == 200
    assert (b"x-row-cap", f"{ROW_CAP} reached; result truncated".encode()) in headers
    assert body.count(b"\r\n") == ROW_CAP + 1  # the header row and the cap's rows


def test_an_iri_that_cannot_be_resolved_is_refused_not_a_defect(apps: Any) -> None:
    app, lane, _ = apps
    request = post("BASE <http://[x/> PREFIX ex: <y> ASK {} # é: lexed", "text/plain")
    for path in (app, lane):
        status, _, body = call(path, request)
        assert (status, body) == (
            400,
            b"400 Bad Request: an IRI of the query cannot be resolved: Invalid IPv6 URL\n",
        )


def test_a_plain_text_the_engine_refuses_is_a_400_on_both_paths(apps: Any) -> None:
    app, lane, _ = apps
    request = post("BASE <http://[x/> ASK {}", "application/sparql-results+json")
    slow, fast = (call(path, request) for path in (app, lane))
    assert slow == fast
    status, _, body = fast
    assert (status, body) == (
        400,
        b"400 Bad Request: SPARQL syntax error: error at 1:18: expected IRI parsing failed\n",
    )
