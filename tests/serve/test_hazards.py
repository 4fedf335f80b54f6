"""Hazards: queries that would crash, hang, reach out or write are refused or contained; the server survives."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode

import pytest

from idais_kg.serve.guard import QueryRefused, check
from idais_kg.serve.lexer import tokens
from idais_kg.serve.pool import DeadlineExceeded, Job, WorkerDied, WorkerPool

NORMAL = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?c }"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
NESTED = "SELECT * WHERE " + "{" * 2500 + " ?s ?p ?o " + "}" * 2500
HOSTED = {"https://w3id.org/idais-kg/id/graph/guide"}


def ask(server, query: str, accept: str = "application/sparql-results+json"):
    return server.post("/sparql", query.encode(), "application/sparql-query", accept)


def health(server) -> dict:
    return json.loads(server.get("/healthz")[2])


def test_nested_and_cartesian_fail_while_a_normal_query_succeeds(server) -> None:
    pid = server.process.pid
    restarts = health(server)["restarts"]
    with ThreadPoolExecutor(4) as pool:
        cartesian = pool.submit(ask, server, CARTESIAN)
        time.sleep(0.2)
        nested = pool.submit(ask, server, NESTED)
        normal = pool.submit(ask, server, NORMAL)
        assert normal.result()[0] == 200
        assert nested.result()[0] == 400
        status, headers, body = cartesian.result()
    assert status == 503
    assert headers["retry-after"]
    assert "deadline" in headers["x-query-deadline"] or "exceeded" in headers["x-query-deadline"]
    assert b"deadline" in body  # stated in the body too, not only in a header
    assert b"Traceback" not in body
    assert server.process.poll() is None and server.process.pid == pid
    assert ask(server, NORMAL)[0] == 200
    for _ in range(50):  # the killed worker is replaced in the background
        if health(server)["restarts"] > restarts:
            break
        time.sleep(0.1)
    assert health(server)["restarts"] > restarts


def test_nested_query_is_refused_with_its_position(server) -> None:
    status, _, body = ask(server, NESTED)
    assert status == 400 and b"nested too deeply" in body and b"error at 1:" in body


def test_oversized_query_is_refused(server) -> None:
    status, _, _body = ask(server, "ASK {} #" + "x" * 100_000)
    assert status in (400, 413)


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",
        "PREFIX x: <{url}>\nSELECT * WHERE {{ SeRvIcE x:sparql {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ ?s ?p ?o # a comment\n SERVICE <{url}> {{ }} }}",
    ],
)
def test_service_makes_no_connection(server, template: str) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
    try:
        status, _, body = ask(server, template.format(url=url))
        assert status == 400 and b"SERVICE" in body
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"INSERT DATA { <http://e/s> <http://e/p> 1 }", "application/sparql-update"),
        (b"CLEAR ALL", "application/sparql-update"),
        (urlencode({"update": "DROP ALL"}).encode(), "application/x-www-form-urlencoded"),
        (b"INSERT DATA { <http://e/s> <http://e/p> 1 }", "application/sparql-query"),
        (b"LOAD <http://127.0.0.1:9/data.ttl>", "application/sparql-query"),
        (b"DELETE WHERE { ?s ?p ?o }", "application/sparql-query"),
    ],
)
def test_updates_are_refused(server, body: bytes, content_type: str) -> None:
    status, _, _answer = server.post("/sparql", body, content_type, "application/json")
    assert 400 <= status < 500
    assert ask(server, "ASK { ?s ?p ?o }")[0] == 200  # still all there


def test_update_by_get_is_refused(server) -> None:
    assert server.get("/sparql?update=" + quote("CLEAR ALL"))[0] == 400


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }",
        "SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
        "PREFIX e: <http://example.org/>\nSELECT * FROM e:g WHERE { ?s ?p ?o }",
    ],
)
def test_outside_graphs_are_refused(server, query: str) -> None:
    status, _, body = ask(server, query)
    assert status == 400 and b"only serves its own graphs" in body


def test_outside_protocol_graphs_are_refused(server) -> None:
    path = "/sparql?" + urlencode({"query": "ASK {}", "default-graph-uri": "http://example.org/g"})
    assert server.get(path, "application/json")[0] == 400


def test_method_not_allowed(server) -> None:
    status, _, _ = server.post("/id/goal/ai-safety-rd-resources", b"x", "text/plain")
    assert status == 405


def test_guard_ignores_keywords_inside_strings_iris_variables_and_names() -> None:
    query = 'PREFIX ex: <http://e/> SELECT ?service ?load WHERE { ?s ex:insert "SERVICE DROP" ; <http://e/delete> ?load } # CLEAR'
    assert check(query, HOSTED, 10_000, 10).form == "SELECT"
    assert [t.kind for t in tokens("'''a ' b''' <x> ?v _:b p:l")] == [
        "string",
        "iri",
        "var",
        "bnode",
        "pname",
    ]
    with pytest.raises(QueryRefused, match="nested too deeply"):
        check("ASK " + "{" * 11 + "}" * 11, HOSTED, 10_000, 10)
    with pytest.raises(QueryRefused, match="not a query"):
        check("PREFIX e: <http://e/>", HOSTED, 10_000, 10)


@pytest.fixture(scope="module")
def pool_nquads(kg) -> bytes:
    return kg.store.serialize("nquads")


def test_pool_replaces_a_crashed_worker(pool_nquads) -> None:
    """A worker that dies mid-query (here: killed from outside) costs one worker, not the server."""
    import asyncio
    import os
    import signal

    async def scenario() -> tuple[str, bytes]:
        pool = WorkerPool(pool_nquads, size=1, deadline=5, queue_wait=10)
        await pool.start()
        try:
            worker = pool.workers[0]
            asyncio.get_running_loop().call_later(0.3, os.kill, worker.pid, signal.SIGSEGV)
            try:
                await pool.run(Job(CARTESIAN, "application/sparql-results+json", 10))
                outcome = "answered"
            except WorkerDied:
                outcome = "died"
            except DeadlineExceeded:
                outcome = "deadline"
            answer = await pool.run(Job("ASK {}", "application/sparql-results+json", 10))
            return outcome, answer.body
        finally:
            await pool.close()

    outcome, body = asyncio.run(scenario())
    assert outcome == "died"
    assert json.loads(body)["boolean"] is True


@pytest.mark.parametrize(
    "query",
    [
        NESTED,  # past the guard's depth limit, but no longer a crash when it gets through
        "SELECT (" + "+".join(["1"] * 8_000) + " AS ?x) {}",  # segfaulted on the 8 MiB main thread
    ],
)
def test_deep_queries_do_not_crash_a_worker(pool_nquads, query: str) -> None:
    """The engine recurses per nesting level and per operator; the worker's job thread has the stack for it."""
    import asyncio

    async def scenario() -> bytes:
        pool = WorkerPool(pool_nquads, size=1, deadline=60, queue_wait=10)
        await pool.start()
        try:
            return (await pool.run(Job(query, "application/sparql-results+json", 10))).body
        finally:
            await pool.close()

    assert json.loads(asyncio.run(scenario()))["results"]["bindings"] is not None
