"""The pre-forked server (the default query path): each worker answers HTTP itself, for many connections, is
sandboxed and bounded, and is replaced by a fork when it ends; its watchdog answers a stopped query with every
header the app gives; a long query's worker hands its other connections over, so they are answered elsewhere
meanwhile, and a worker stopped or killed in that query costs its own connection and no other.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from idais_kg.serve.shared import SharedKills, SharedState

JSON = "application/sparql-results+json"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
DEADLINE = 1.5


@pytest.fixture(scope="module")
def forked(tmp_path_factory: pytest.TempPathFactory, start_server) -> Iterator:
    options = ["--workers", "2", "--deadline", str(DEADLINE), "--worker-memory", "256M"]
    with start_server(tmp_path_factory.mktemp("prefork-server"), *options) as running:
        yield running


def connect(server, source: str = "127.0.0.1") -> http.client.HTTPConnection:
    parts = urlsplit(server.url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(source, 0))


def health(conn: http.client.HTTPConnection) -> dict:
    conn.request("GET", "/healthz")
    return json.loads(conn.getresponse().read())


def status_of(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: v.strip() for k, _, v in (line.partition(":") for line in lines)}


def gone(pid: int, seconds: float = 10) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if status_of(pid)["State"].startswith("Z"):
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def restarted(conn: http.client.HTTPConnection, before: int, seconds: float = 10) -> dict:
    """/healthz on ``conn`` once the supervisor has counted a restart more than ``before``."""
    end = time.monotonic() + seconds
    while (now := health(conn))["restarts"] == before and time.monotonic() < end:
        time.sleep(0.05)
    return now


def test_the_worker_that_answers_is_sandboxed_and_bounded(forked) -> None:
    conn = connect(forked)
    try:
        worker = health(conn)["worker"]
    finally:
        conn.close()
    assert worker != forked.process.pid
    assert status_of(worker)["PPid"] == str(forked.process.pid)
    assert (
        status_of(worker)["Seccomp"] == "2"
    )  # the filter of serve/sandbox.py, in the process that reads HTTP
    assert status_of(forked.process.pid)["Seccomp"] == "0"  # the supervisor evaluates nothing
    limits = {
        line[:26].strip(): line[26:].split()
        for line in Path(f"/proc/{worker}/limits").read_text().splitlines()[1:]
    }
    soft, hard = limits["Max address space"][:2]
    assert soft == hard and soft.isdigit()  # RLIMIT_AS set, and not to be raised from inside


def long_query(conn: http.client.HTTPConnection, origin: str | None = None) -> tuple[threading.Thread, list]:
    """Send the cartesian query on ``conn`` from a thread; the list gets the response (status, headers, body) or
    the OSError."""
    out: list = []
    headers = {"Content-Type": "application/sparql-query", "Accept": "application/json"}
    if origin is not None:
        headers["Origin"] = origin

    def run() -> None:
        try:
            conn.request("POST", "/sparql", CARTESIAN.encode(), headers)
            response = conn.getresponse()
            out.append((response.status, response.headers, response.read()))
        except OSError as exc:
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


@pytest.mark.parametrize(
    ("origin", "mine_at", "other_at"),
    [("https://example.org", "127.0.0.5", "127.0.0.6"), (None, "127.0.0.11", "127.0.0.12")],
    ids=["through the app (CORS)", "from the fast lane"],
)
def test_a_deadline_overrun_is_answered_with_the_apps_headers_and_ends_that_worker_only(
    forked, origin: str | None, mine_at: str, other_at: str
) -> None:
    pid = forked.process.pid
    mine, other = connect(forked, mine_at), connect(forked, other_at)
    try:
        worker, bystander = health(mine)["worker"], health(other)
        thread, out = long_query(mine, origin)
        time.sleep(0.3)
        during = health(other)  # answered while the query runs, by its own worker or the one it was handed to
        assert during["worker"] != worker
        thread.join(30)
        status, headers, body = out[0]
        assert status == 503
        assert json.loads(body)["message"] == f"the query ran longer than the deadline of {DEADLINE:g} s"
        assert headers["Retry-After"] == "5"
        assert headers["X-Query-Deadline"] == f"{DEADLINE:g}s exceeded"
        assert headers["Access-Control-Allow-Origin"] == ("*" if origin else None)  # CORS, as on any answer
        assert headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Connection"] == "close"
        assert gone(worker)
        after = restarted(other, bystander["restarts"])  # the other client's connection went on as before
        assert after["worker"] == during["worker"]
        assert after["restarts"] == bystander["restarts"] + 1
    finally:
        mine.close()
        other.close()
    assert forked.process.poll() is None and forked.process.pid == pid


def test_a_worker_sigkilled_in_a_long_query_costs_its_own_connection_and_is_replaced(forked) -> None:
    mine, other = connect(forked, "127.0.0.7"), connect(forked, "127.0.0.8")
    try:
        worker, before = health(mine)["worker"], health(other)
        thread, out = long_query(mine)
        time.sleep(0.3)  # past the handoff: its worker holds no other connection now
        os.kill(worker, signal.SIGKILL)
        thread.join(30)
        assert isinstance(out[0], OSError)  # the killed query's own connection
        assert gone(worker)
        after = restarted(other, before["restarts"])
        assert after["worker"] != worker and after["restarts"] == before["restarts"] + 1
    finally:
        mine.close()
        other.close()
    fresh = connect(forked, "127.0.0.7")
    try:
        fresh.request("POST", "/sparql", b"ASK { ?s ?p ?o }", {"Content-Type": "application/sparql-query"})
        response = fresh.getresponse()
        assert response.status == 200 and json.loads(response.read())["boolean"] is True
    finally:
        fresh.close()


def test_with_one_worker_a_long_query_does_not_hold_the_other_connections(
    tmp_path: Path, start_server
) -> None:
    """One worker holds both connections; while its query runs, the other client's requests are answered by
    the worker it was handed to (the supervisor's replacement does not exist yet: nothing was killed)."""
    with start_server(tmp_path, "--workers", "1", "--deadline", str(DEADLINE)) as server:
        mine, other = connect(server, "127.0.0.9"), connect(server, "127.0.0.10")
        try:
            worker = health(mine)["worker"]
            assert health(other)["worker"] == worker  # the only worker
            thread, out = long_query(mine)
            time.sleep(0.3)
            began = time.monotonic()
            other.request(
                "POST", "/sparql", b"ASK { ?s ?p ?o }", {"Content-Type": "application/sparql-query"}
            )
            response = other.getresponse()
            assert response.status == 200 and json.loads(response.read())["boolean"] is True
            answered_within = time.monotonic() - began
            assert not out, "the other client waited for the long query"
            assert answered_within < DEADLINE
            elsewhere = health(other)["worker"]
            assert elsewhere != worker
            thread.join(30)
            assert out[0][0] == 503
            assert health(other)["worker"] == elsewhere  # the same connection, on, after the stop
        finally:
            mine.close()
            other.close()


def test_the_pool_path_still_serves_when_asked_for(tmp_path: Path, start_server) -> None:
    with start_server(tmp_path, "--workers", "1", "--query-path", "pool") as pooled:
        status, _, body = pooled.post("/sparql", b"ASK { ?s ?p ?o }", "application/sparql-query", JSON)
        assert status == 200 and json.loads(body)["boolean"] is True
        assert "worker" not in json.loads(pooled.get("/healthz")[2])  # the pool's figures, not a worker's


def test_a_kill_noted_in_one_process_is_seen_in_another() -> None:
    state = SharedState()
    here = SharedKills(state, limit=2, window=60)
    assert here.wait("10.0.0.9") == 0
    child = os.fork()
    if child == 0:  # a worker: it notes two kills of the same client
        there = SharedKills(state, limit=2, window=60)
        there.note("10.0.0.9")
        there.note("10.0.0.9")
        os._exit(0)
    _, code = os.waitpid(child, 0)
    assert code == 0
    assert 1 <= here.wait("10.0.0.9") <= 60  # seen here, in the parent, without a message
    assert here.wait("10.0.0.8") == 0
    state.add_restart()
    assert state.restarts == 1


def test_workers_do_not_outlive_their_supervisor(tmp_path: Path, start_server) -> None:
    with start_server(tmp_path, "--workers", "2") as server:
        conn = connect(server)
        try:
            worker = health(conn)["worker"]
        finally:
            conn.close()
        os.kill(server.process.pid, signal.SIGKILL)  # no shutdown: the kernel tells the workers
        server.process.wait(10)
        assert gone(worker)
