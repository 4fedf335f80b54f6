"""The fast lane in the worker's HTTP protocol writes, byte for byte, what uvicorn and the app write for the same
request: the same head (status line, Date, every header in its order, ``connection: close`` where it belongs) and
body, pipelined requests answered in order, and everything it does not answer handed to the app as if just read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn
from test_tracked_connection import Transport
from uvicorn.server import ServerState

from idais_kg.serve.app import create_app
from idais_kg.serve.cache import ResponseCache
from idais_kg.serve.fastlane import FastLane
from idais_kg.serve.forked import Draining, tracked
from idais_kg.serve.inproc import InProcess
from idais_kg.serve.settings import Settings
from idais_kg.serve.shared import SharedState

GOALS = "SELECT ?g WHERE { ?g a <https://w3id.org/idais-kg/ontology#Goal> } ORDER BY ?g"
CONSTRUCT = "CONSTRUCT WHERE { ?g a <https://w3id.org/idais-kg/ontology#Goal> }"


def post(
    query: str, accept: str = "application/sparql-results+json", extra: str = "", version: str = "1.1"
) -> bytes:
    body = query.encode()
    head = f"POST /sparql HTTP/{version}\r\nHost: x\r\nContent-Type: application/sparql-query\r\nAccept: {accept}\r\n"
    return (head + extra + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def get(query: str, accept: str = "text/csv", extra: str = "") -> bytes:
    return f"GET /sparql?query={quote(query)} HTTP/1.1\r\nHost: x\r\nAccept: {accept}\r\n{extra}\r\n".encode()


CASES = {
    "SELECT": post(GOALS),
    "SELECT in CSV, by GET": get(GOALS),
    "ASK as TSV": post("ASK { ?s ?p ?o }", "text/tab-separated-values"),
    "CONSTRUCT in Turtle": post(CONSTRUCT, "text/turtle"),
    "cut at the row cap": post("SELECT * WHERE { ?s ?p ?o }", "text/csv"),
    "HTTP/1.0": post(GOALS, version="1.0"),
    "Connection: close": post(GOALS, extra="Connection: close\r\n"),
    "two pipelined": post(GOALS) + get("ASK {}", "application/sparql-results+json"),
    "refused, then a plain one": post("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    + post(GOALS),
    "an engine error": post("SELECT ?x WHERE { ?x ?y }"),
    "CORS": post(GOALS, extra="Origin: https://example.org\r\n"),
    "chunked": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n9\r\nASK { } \r\n0\r\n\r\n"
    ),
    "a page": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
}


class Writes(Transport):
    """The test transport, counting its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def write(self, data: Any) -> None:
        self.count += 1
        super().write(data)


class Worker:
    def __init__(self, runner: InProcess, lane: FastLane | None) -> None:
        self.connections: dict[int, Any] = {}
        self.runner = runner
        self.lane = lane

    def maybe_done(self) -> None:
        pass


@pytest.fixture(scope="module")
def parts(kg: Any) -> Iterator[tuple[Any, InProcess, FastLane]]:
    settings = Settings(row_cap=9)
    runner = InProcess(kg.store, settings, SharedState())
    app = create_app(kg, settings, pool=runner)
    runner.begin(app, lambda: None)
    yield app, runner, FastLane(app)


def exchange(app: Any, runner: InProcess, lane: FastLane | None, data: bytes) -> bytes:
    """What the worker's protocol writes for ``data`` (with the fast lane, or with uvicorn and the app only)."""
    return exchanged(app, runner, lane, data)[0]


def exchanged(app: Any, runner: InProcess, lane: FastLane | None, data: bytes) -> tuple[bytes, int]:
    """What the worker's protocol writes for ``data``, and in how many writes."""

    async def run() -> tuple[bytes, int]:
        outer = Draining(lane if lane is not None else app, runner)
        config = uvicorn.Config(
            outer, http="httptools", lifespan="off", log_level="warning", access_log=False
        )
        config.load()
        state = ServerState()
        state.default_headers = [(b"date", b"Tue, 01 Dec 2026 00:00:00 GMT")]
        loop = asyncio.get_running_loop()
        worker = Worker(runner, lane)
        conn = tracked(config.http_protocol_class)(
            config=config, server_state=state, app_state={}, _loop=loop, worker=worker
        )
        transport = Writes()
        conn.connection_made(transport)
        conn.data_received(data)
        for _ in range(2000):
            await asyncio.sleep(0)
            if not conn.open and (transport.written or transport.closing):
                break
        for _ in range(20):
            await asyncio.sleep(0)
        return transport.written, transport.count

    return asyncio.run(run())


def fresh(app: Any) -> None:
    service = app.state.service
    service.cache = ResponseCache(service.cache.entries, service.cache.max_bytes)
    service.front.clear()


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_fast_lane_writes_what_uvicorn_and_the_app_write(parts: Any, name: str) -> None:
    app, runner, lane = parts
    fresh(app)
    slow = exchange(app, runner, None, CASES[name])
    fresh(app)
    fast = exchange(app, runner, lane, CASES[name])
    assert slow.startswith(b"HTTP/1.1 ")
    assert fast == slow, name


def test_it_answers_in_one_write_what_it_takes(parts: Any) -> None:
    app, runner, lane = parts
    fresh(app)
    written, writes = exchanged(app, runner, lane, post(GOALS) + post("ASK { ?s ?p ?o }"))
    assert written.count(b"HTTP/1.1 200 OK\r\n") == 2 and writes == 2
    fresh(app)
    assert exchanged(app, runner, None, post(GOALS) + post("ASK { ?s ?p ?o }"))[1] == 4  # uvicorn: head, body
    head = written.partition(b"\r\n\r\n")[0]
    assert head.split(b"\r\n")[1] == b"date: Tue, 01 Dec 2026 00:00:00 GMT"
    assert b"connection: close" not in written  # kept alive
