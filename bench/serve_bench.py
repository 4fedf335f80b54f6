"""Benchmark ``idais-kg serve`` against Oxigraph's own server on the same N-Quads dump (run on demand, not in CI).

    .venv/bin/python bench/serve_bench.py [--seconds 2]

Both servers run on loopback. For 1, 4 and 16 concurrent clients (threads with keep-alive connections) it
measures throughput and p50/p99 latency of: a saved query (ours: /api/queries/NAME, cached after the first call;
Oxigraph: the same SPARQL text POSTed), a resource description in Turtle (ours: /id/...; Oxigraph: DESCRIBE),
an HTML page (ours only) and an ad-hoc query made unique per request so that no cache answers it (ours: through
the worker pool). The whole run is bounded to about 90 s.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GOAL = "https://w3id.org/idais-kg/id/goal/ai-safety-rd-resources"
SAVED = "goals-by-area"
# Unique per request in its text, not in a comment (the guard drops comments, so those would hit the cache).
ADHOC = "SELECT ?goal (COUNT(?p) AS ?n) WHERE {{ ?p <https://w3id.org/idais-kg/ontology#policyOf> ?goal }} GROUP BY ?goal ORDER BY ?goal LIMIT {limit}"
CLIENTS = (1, 4, 16)

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def run_cell(port: int, clients: int, seconds: float, make: Callable[[int], Request]) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = itertools.count()
    stop = time.monotonic() + seconds

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            method, path, body, headers = make(next(counter))
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    bad += 1
            except OSError:
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": p99 * 1000,
        "errors": errors,
        "n": len(latencies),
    }


def ours_workloads(saved_text: str) -> dict[str, Callable[[int], Request]]:
    return {
        "saved query": lambda n: ("GET", f"/api/queries/{SAVED}", None, {"Accept": "application/json"}),
        "resource (Turtle)": lambda n: (
            "GET",
            "/id/" + GOAL.split("/id/", 1)[1],
            None,
            {"Accept": "text/turtle"},
        ),
        "page (HTML)": lambda n: ("GET", "/id/" + GOAL.split("/id/", 1)[1], None, {"Accept": "text/html"}),
        "ad-hoc query": lambda n: (
            "POST",
            "/sparql",
            ADHOC.format(limit=1000 + n).encode(),
            {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
        ),
    }


def oxigraph_workloads(saved_text: str) -> dict[str, Callable[[int], Request]]:
    direct = {"Content-Type": "application/sparql-query"}
    return {
        "saved query": lambda n: (
            "POST",
            "/query",
            saved_text.encode(),
            {**direct, "Accept": "application/sparql-results+json"},
        ),
        "resource (Turtle)": lambda n: (
            "GET",
            "/query?query=" + quote(f"DESCRIBE <{GOAL}>"),
            None,
            {"Accept": "text/turtle"},
        ),
        "ad-hoc query": lambda n: (
            "POST",
            "/query",
            ADHOC.format(limit=1000 + n).encode(),
            {**direct, "Accept": "application/sparql-results+json"},
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each cell")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="idais-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        from idais_kg.dataset.assemble import load

        kg = load()
        dump = work / "idais-kg.nq"
        dump.write_bytes(kg.store.serialize("nquads"))
        saved_text = kg.queries.get(SAVED).text
        ours, oxi = free_port(), free_port()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        procs.append(
            subprocess.Popen([str(BIN / "idais-kg"), "serve", "--port", str(ours), "--workers", "4"], **quiet)  # type: ignore[call-overload]
        )
        db = work / "oxigraph-db"
        subprocess.run([str(BIN / "oxigraph"), "load", "-l", str(db), "-f", str(dump)], check=True, **quiet)  # type: ignore[call-overload]
        oxi_cmd = [str(BIN / "oxigraph"), "serve-read-only", "-l", str(db), "-b", f"127.0.0.1:{oxi}"]
        procs.append(subprocess.Popen([*oxi_cmd, "--union-default-graph"], **quiet))  # type: ignore[call-overload]
        wait_until_up(f"http://127.0.0.1:{ours}/healthz")
        wait_until_up(f"http://127.0.0.1:{oxi}/query?query=ASK%7B%7D")
        print(f"dataset: {len(kg.store)} quads; {args.seconds:g} s per cell; cpus: {os.cpu_count()}")
        print(
            f"{'workload':20} {'server':9} {'clients':>7} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}"
        )
        for name, make in ours_workloads(saved_text).items():
            other = oxigraph_workloads(saved_text).get(name)
            for clients in CLIENTS:
                for label, port, fn in (("idais-kg", ours, make), ("oxigraph", oxi, other)):
                    if fn is None:
                        continue
                    r = run_cell(port, clients, args.seconds, fn)
                    print(
                        f"{name:20} {label:9} {clients:>7} {r['rps']:>9.0f} {r['p50']:>9.2f} {r['p99']:>9.2f} "
                        f"{r['errors']:>7}"
                    )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
