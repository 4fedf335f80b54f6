"""Bounded memory per query worker, and the kill limit: a memory bomb costs one worker and a 503 that says why;
a client that keeps killing workers is answered 429 for a while; everyone else is served as before.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from idais_kg.cli import main
from idais_kg.serve.kills import KillRecord
from idais_kg.serve.pool import (
    DeadlineExceeded,
    Job,
    MemoryExceeded,
    RateLimited,
    WorkerDied,
    WorkerPool,
)
from idais_kg.serve.settings import MiB, Settings
from idais_kg.serve.worker import MEMORY, READY, frame

JSON = "application/sparql-results+json"
BOMB = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a"  # 7,071² rows to sort: about 1 GiB a second
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
NORMAL = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?c }"
BOUND = 256 * MiB


def doubling(times: int) -> str:
    """A string that doubles ``times`` times (8 bytes << times), held and then serialised by Python."""
    binds = ['BIND("abcdefgh" AS ?v0)'] + [f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(times)]
    return f"SELECT ?v{times} WHERE {{ {' '.join(binds)} }}"


@pytest.fixture(scope="module")
def pool_nquads(kg) -> bytes:
    return kg.store.serialize("nquads")


def test_a_memory_bomb_costs_one_worker_and_says_why(pool_nquads) -> None:
    async def scenario() -> tuple[list[MemoryExceeded], float, bytes, int]:
        pool = WorkerPool(pool_nquads, size=1, deadline=10, queue_wait=10, memory=BOUND)
        await pool.start()
        try:
            caught = []
            began = time.monotonic()
            for query in (BOMB, doubling(24)):  # Rust's allocator gives up; then Python's (or Rust's)
                with pytest.raises(MemoryExceeded) as info:
                    await pool.run(Job(query, JSON, 10))
                caught.append(info.value)
            elapsed = time.monotonic() - began
            answer = await pool.run(Job("ASK {}", JSON, 10))
            return caught, elapsed, answer.body, pool.restarts
        finally:
            await pool.close()

    (aborted, _), elapsed, after, restarts = asyncio.run(scenario())
    assert "more memory than the 256 MiB a query may use" in str(aborted)
    assert isinstance(aborted.__cause__, WorkerDied)  # the process aborted: told by its last words on stderr
    assert elapsed < 5
    assert json.loads(after)["boolean"] is True
    assert restarts == 2


def test_a_deadline_overrun_and_a_crash_are_not_taken_for_memory(pool_nquads) -> None:
    async def scenario() -> list[type[BaseException]]:
        pool = WorkerPool(pool_nquads, size=1, deadline=1, queue_wait=10, memory=BOUND)
        await pool.start()
        outcomes: list[type[BaseException]] = []
        try:
            for query in (CARTESIAN, CARTESIAN):
                if outcomes:  # the second time, the worker is killed by a signal that is not about memory
                    while not pool.workers[0].healthy or pool.idle.empty():  # its replacement has started
                        await asyncio.sleep(0.05)
                    asyncio.get_running_loop().call_later(0.3, os.kill, pool.workers[0].pid, signal.SIGSEGV)
                try:
                    await pool.run(Job(query, JSON, 10))
                except (DeadlineExceeded, WorkerDied, MemoryExceeded) as exc:
                    outcomes.append(type(exc))
            return outcomes
        finally:
            await pool.close()

    assert asyncio.run(scenario()) == [DeadlineExceeded, WorkerDied]


def test_a_client_that_keeps_killing_workers_is_refused_and_no_one_else(pool_nquads) -> None:
    async def scenario() -> tuple[RateLimited, list[str]]:
        kills = KillRecord(limit=2, window=60)
        pool = WorkerPool(pool_nquads, size=1, deadline=10, queue_wait=10, memory=BOUND, kills=kills)
        await pool.start()
        seen = []
        try:
            for _ in range(2):
                with pytest.raises(MemoryExceeded):
                    await pool.run(Job(BOMB, JSON, 10), client="10.0.0.1")
            with pytest.raises(RateLimited) as refused:
                await pool.run(Job("ASK {}", JSON, 10), client="10.0.0.1")
            seen.append((await pool.run(Job("ASK {}", JSON, 10), client="10.0.0.2")).body.decode())
            with pytest.raises(MemoryExceeded):  # another client's bomb is a bomb, not a refusal
                await pool.run(Job(BOMB, JSON, 10), client="10.0.0.2")
            seen.append((await pool.run(Job("ASK {}", JSON, 10))).body.decode())  # the server's own queries
            return refused.value, seen
        finally:
            await pool.close()

    refused, seen = asyncio.run(scenario())
    assert refused.status == 429 and refused.retry_after is not None and 1 <= refused.retry_after <= 60
    assert "stopped 2 query workers in the last 60 s" in str(refused)
    assert all(json.loads(body)["boolean"] is True for body in seen)


def test_a_worker_that_meets_memory_error_says_so_and_exits(pool_nquads) -> None:
    """The frame a worker sends when Python's MemoryError reaches its loop (forced here: no query does it reliably)."""
    script = (
        "from idais_kg.serve import worker as evaluation\n"
        "def evaluate(store, job):\n"
        "    raise MemoryError\n"
        "evaluation.evaluate = evaluate\n"
        "evaluation.worker_main()\n"
    )
    job = Job("ASK {}", JSON, 10).encode()
    run = subprocess.run(
        [sys.executable, "-c", script, "--memory", str(BOUND)],
        input=frame(pool_nquads) + frame(job) + frame(job),
        capture_output=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == frame(READY) + frame(MEMORY)  # and nothing after: the worker is done


def test_worker_memory_option_takes_sizes() -> None:
    result = CliRunner().invoke(main, ["serve", "--worker-memory", "lots"])
    assert result.exit_code == 2 and "not a size" in result.output


# --- a real server, with a small bound; clients are told apart by their loopback source address (127.0.0.0/8) ---


@pytest.fixture(scope="module")
def bounded_server(tmp_path_factory: pytest.TempPathFactory, start_server) -> Iterator:
    options = ["--workers", "2", "--deadline", "10", "--worker-memory", "256M"]
    with start_server(tmp_path_factory.mktemp("bounded-server"), *options) as running:
        yield running


def ask_from(server, source: str, query: str) -> tuple[int, dict[str, str], bytes]:
    """POST one query from the loopback address ``source``."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(source, 0))
    try:
        headers = {"Content-Type": "application/sparql-query", "Accept": JSON}
        conn.request("POST", "/sparql", body=query.encode(), headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) * 1024


def test_a_memory_bomb_gets_503_and_the_server_stays_small(bounded_server) -> None:
    pid = bounded_server.process.pid
    before = rss(pid)
    began = time.monotonic()
    status, headers, body = ask_from(bounded_server, "127.0.0.3", BOMB)
    elapsed = time.monotonic() - began
    assert status == 503, body
    assert int(headers["retry-after"]) > 0
    assert b"needed more memory than the 256 MiB a query may use" in body
    assert b"deadline" not in body and "x-query-deadline" not in headers
    assert elapsed < 5  # well within the deadline of 10 s
    assert bounded_server.process.poll() is None and bounded_server.process.pid == pid
    assert rss(pid) - before < 64 * MiB  # the bomb went off in a worker, not here
    assert ask_from(bounded_server, "127.0.0.3", NORMAL)[0] == 200


def test_repeated_kills_from_one_client_get_429_while_others_are_served(bounded_server) -> None:
    limit = Settings.kill_limit
    statuses = [ask_from(bounded_server, "127.0.0.2", f"{BOMB} # {n}")[0] for n in range(limit)]
    assert statuses == [503] * limit
    status, headers, body = ask_from(bounded_server, "127.0.0.2", BOMB)
    assert status == 429, body
    assert 1 <= int(headers["retry-after"]) <= Settings.kill_window
    assert f"stopped {limit} query workers".encode() in body
    assert ask_from(bounded_server, "127.0.0.2", "ASK { ?s ?p 4242 }")[0] == 429  # until its kills age out
    assert ask_from(bounded_server, "127.0.0.1", NORMAL)[0] == 200  # another client is served
    assert ask_from(bounded_server, "127.0.0.4", BOMB)[0] == 503  # and its own bombs are not held against it
    assert bounded_server.process.poll() is None
