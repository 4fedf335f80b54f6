"""A bounded load test with a fault phase, against a server of its own on loopback (about 30 s in all).

Clients ask for saved queries, pages, resources and ad-hoc queries for the whole run; in the middle third, fault
clients add queries that a worker cannot finish (cartesian products, killed at the deadline), answers cut at the
row cap, guard bypasses aimed at a loopback listener and a memory bomb, and a worker is killed by SIGKILL in the
middle of a query (the one serving that client's connection: /healthz names it). Outside the fault requests nothing
may fail with a 5xx or a lost connection; the fault requests get 503, 429 (the kill limit) or 400 (the bypasses),
never 500, and only the SIGKILLed query loses its connection; the listener sees no connection; and at the end the
server is the same process, its workers were replaced, and the dataset answers with the same hash.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

LOAD_SECONDS = 18.0
CLIENTS = 5
DEADLINE = 1.5
GOAL = "goal:post-deployment-monitoring"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } # %d"
WIDE = "SELECT * WHERE { ?s ?p ?o } # %d"  # more rows than the cap: cut, and said so
BOMB = (
    "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a # %d"  # ~1 GiB/s: stopped by the worker memory bound
)
# Every quad as one line (blank nodes as _:), sorted, hashed: equal before and after means the store did not
# change.
DATASET_HASH = """SELECT (SHA256(GROUP_CONCAT(?line; separator="\\n")) AS ?hash) (COUNT(*) AS ?quads) WHERE {
  SELECT ?line WHERE {
    GRAPH ?g { ?s ?p ?o }
    BIND (CONCAT(STR(?g), " ", COALESCE(STR(?s), "_:"), " ", STR(?p), " ", COALESCE(STR(?o), "_:"), " ",
                 COALESCE(LANG(?o), ""), " ", COALESCE(STR(DATATYPE(?o)), "")) AS ?line)
  } ORDER BY ?line
}"""

Request = tuple[str, str, bytes | None, dict[str, str]]
FAULT_KINDS = ("cartesian", "wide", "bypass", "bomb", "sigkill")
SIGKILLS = 2
JSON_RESULTS = {"Accept": "application/sparql-results+json", "Content-Type": "application/sparql-query"}


@pytest.fixture(scope="module")
def listener() -> Iterator[Any]:
    from test_guard_corpus import Listener

    listening = Listener()
    yield listening
    listening.sock.close()


@pytest.fixture(scope="module")
def load_server(tmp_path_factory: pytest.TempPathFactory, start_server) -> Iterator[Any]:
    options = ["--workers", "3", "--deadline", str(DEADLINE), "--row-cap", "500", "--worker-memory", "256M"]
    with start_server(tmp_path_factory.mktemp("load-server"), *options) as running:
        yield running


def dataset_hash(server: Any) -> tuple[str, str]:
    status, _, body = server.post(
        "/sparql", DATASET_HASH.encode(), JSON_RESULTS["Content-Type"], "application/json"
    )
    assert status == 200, body
    row = json.loads(body)["results"]["bindings"][0]
    return row["hash"]["value"], row["quads"]["value"]


def normal_requests() -> Callable[[int], Request]:
    html, json_ = {"Accept": "text/html"}, {"Accept": "application/json"}
    goal_path = "/id/goal/" + GOAL.split(":", 1)[1]
    mix: list[Callable[[int], Request]] = [
        lambda n: ("GET", "/api/queries/goals-by-progress", None, json_),
        lambda n: ("GET", "/api/queries/policies-of-goal?goal=" + quote(GOAL), None, json_),
        lambda n: ("GET", "/", None, html),
        lambda n: ("GET", goal_path, None, html),
        lambda n: ("GET", goal_path, None, {"Accept": "text/turtle"}),
        lambda n: ("GET", "/ontology", None, html),
        lambda n: (
            "POST",
            "/sparql",
            f"SELECT ?goal WHERE {{ ?goal a <https://w3id.org/idais-kg/ontology#Goal> }} LIMIT {n % 15 + 1}".encode(),
            JSON_RESULTS,
        ),
        lambda n: ("GET", "/sparql?query=" + quote(f"ASK {{ ?s ?p {n} }}"), None, JSON_RESULTS),
    ]
    return lambda n: mix[n % len(mix)](n)


def fault_requests(port: int, kinds: tuple[str, ...]) -> Callable[[int], Request]:
    """Queries a worker cannot finish, answers cut at the row cap, guard bypasses aimed at a loopback listener,
    and a memory bomb (those of ``kinds``); each labelled with its kind in a header the server ignores."""
    every = [
        ("cartesian", CARTESIAN),
        ("wide", WIDE),
        ("bypass", f"SELECT ?s WHERE {{ #\rSERVICE <http://127.0.0.1:{port}/x> {{ ?s ?p ?o }} }} # {{n}}"),
        (
            "bypass",
            f"PREFIX ex: <http://127.0.0.1:{port}/> SELECT * {{ SERVICEex:x {{ ?s ?p ?o }} }} # {{n}}",
        ),
        ("bypass", "SELECT ?s FROM <file:///etc/passwd> WHERE { BIND(<x:\\u0041#> AS ?x) ?s ?p ?o } # {n}"),
        ("bomb", BOMB),
    ]
    faults = [(kind, query) for kind, query in every if kind in kinds]

    def make(n: int) -> Request:
        kind, query = faults[n % len(faults)]
        return (
            "POST",
            "/sparql",
            query.replace("{n}", str(n)).replace("%d", str(n)).encode(),
            {
                **JSON_RESULTS,
                "X-Fault": kind,
            },
        )

    return make


def client(
    url: str,
    make: Callable[[int], Request],
    start: float,
    stop: float,
    counter: Iterator[int],
    source: str = "127.0.0.1",
) -> Counter[tuple[str, int]]:
    """Send requests from ``start`` to ``stop`` (monotonic seconds) on one keep-alive connection."""
    parts = urlsplit(url)
    seen: Counter[tuple[str, int]] = Counter()
    time.sleep(max(0.0, start - time.monotonic()))
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(source, 0))
    try:
        while time.monotonic() < stop:
            method, path, body, headers = make(next(counter))
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except OSError:
                seen[(path.split("?")[0], -1)] += 1
                conn.close()
                conn = http.client.HTTPConnection(
                    parts.hostname, parts.port, timeout=30, source_address=(source, 0)
                )
                continue
            kind = headers.get("X-Fault", path)
            seen[(kind.split("?")[0], resp.status)] += 1
            if kind == "wide" and resp.status == 200:
                assert resp.getheader("X-Row-Cap"), "a cut answer says so"
                assert len(json.loads(data)["results"]["bindings"]) == 500
    finally:
        conn.close()
    return seen


def sigkill_client(url: str, start: float, stop: float) -> Counter[tuple[str, int]]:
    """Twice: learn which worker serves this connection, start a long query on it, SIGKILL that worker."""
    parts = urlsplit(url)
    seen: Counter[tuple[str, int]] = Counter()
    time.sleep(max(0.0, start + 1 - time.monotonic()))
    for n in range(SIGKILLS):
        conn = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=30, source_address=("127.0.0.4", 0)
        )
        try:
            conn.request("GET", "/healthz")
            worker = json.loads(conn.getresponse().read())["worker"]
            killer = threading.Timer(0.3, os.kill, (worker, signal.SIGKILL))
            killer.start()
            try:
                conn.request("POST", "/sparql", (CARTESIAN % n).encode(), JSON_RESULTS)
                response = conn.getresponse()
                response.read()
                seen[("sigkill", response.status)] += 1
            except OSError:
                seen[("sigkill", -1)] += 1  # the killed worker's own connection: the one request lost
            killer.join()
        finally:
            conn.close()
        time.sleep(max(0.0, min(1.0, stop - time.monotonic())))
    return seen


def test_load_with_faults(load_server: Any, listener: Any, tmp_path: Path) -> None:
    before = dataset_hash(load_server)
    health = json.loads(load_server.get("/healthz")[2])
    pid = load_server.process.pid
    began = time.monotonic()
    end = began + LOAD_SECONDS
    fault_from, fault_to = began + LOAD_SECONDS / 3, began + 2 * LOAD_SECONDS / 3
    counter = itertools.count()
    results: list[Counter[tuple[str, int]]] = []
    lock = threading.Lock()

    def run(make: Callable[[int], Request], start: float, stop: float, source: str = "127.0.0.1") -> None:
        seen = client(load_server.url, make, start, stop, counter, source)
        with lock:
            results.append(seen)

    threads = [threading.Thread(target=run, args=(normal_requests(), began, end)) for _ in range(CLIENTS)]
    # Killers from one address (which the kill limit then answers 429), the wide queries from another.
    killers = fault_requests(listener.port, ("cartesian", "bypass", "bomb"))
    wide = fault_requests(listener.port, ("wide", "bypass"))
    threads += [
        threading.Thread(target=run, args=(make, fault_from, fault_to, source))
        for make, source in ((killers, "127.0.0.2"), (wide, "127.0.0.3"))
    ]

    def kill_workers() -> None:
        seen = sigkill_client(load_server.url, fault_from, fault_to)
        with lock:
            results.append(seen)

    threads.append(threading.Thread(target=kill_workers))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "the load did not stop by itself"
    normal: Counter[int] = Counter()
    faults: Counter[int] = Counter()
    by_kind: Counter[tuple[str, int]] = Counter()
    for seen in results:
        for (kind, status), count in seen.items():
            (faults if kind in FAULT_KINDS else normal)[status] += count
            if kind in FAULT_KINDS:
                by_kind[(kind, status)] += count
    (tmp_path / "load.json").write_text(json.dumps({"normal": normal, "faults": faults}))
    assert {s for (k, s) in by_kind if k == "bypass"} == {400}, by_kind  # refused, never evaluated
    assert {s for (k, s) in by_kind if k == "bomb"} <= {503, 429} and by_kind[("bomb", 503)] >= 1, by_kind
    assert listener.hits == 0
    assert sum(normal.values()) > 200, normal
    assert {s for s in normal if s >= 500 or s < 0} == set(), f"normal requests failed: {normal}"
    assert set(normal) <= {200}, normal
    assert faults[503] >= 2, faults  # cartesian queries, stopped at the deadline
    assert faults[200] >= 1, faults  # wide queries, cut at the row cap
    # 400: the bypasses; 429: the kill limit, once a client has had too many workers killed
    others = {s for (k, s) in by_kind if k != "sigkill"}
    assert others - {200, 400, 429, 503} == set(), by_kind
    assert by_kind[("sigkill", -1)] == SIGKILLS, by_kind  # a SIGKILLed worker loses its own connection only
    assert load_server.process.poll() is None and load_server.process.pid == pid
    after_health = json.loads(load_server.get("/healthz")[2])
    assert after_health["build"] == health["build"]
    assert after_health["restarts"] > health["restarts"]
    assert dataset_hash(load_server) == before
