"""Benchmark ``idais-kg serve`` against Oxigraph's own server on the same N-Quads dump (run on demand, not in CI).

    .venv/bin/python bench/serve_bench.py [--seconds 2] [--query-path prefork|pool|both] [--workers 4] [--all]

Both servers run on loopback; ours with every guard on (the guard, the seccomp sandbox, the deadline, the memory
bound, the row cap). For 1, 4 and 16 concurrent clients (threads with keep-alive connections) it measures
throughput and p50/p99 latency of three ad-hoc workloads, each made unique per request in its text (not in a
comment: the guard drops comments) so that no cache answers it:

- ad-hoc SELECT: a grouped count (15 rows), ``LIMIT 1000+n``;
- ad-hoc CONSTRUCT: 56 triples in Turtle, ``LIMIT 1000+n``;
- 1,000-row SELECT: ``?s ?p ?o`` with ``LIMIT 1000 OFFSET n % 10000`` and a filter naming ``n``.

``n`` counts every request of the run, so no text repeats in any cell (our caches would answer it).

It prints each cell (with the server's CPU time per request, which other work on the machine disturbs less than
the rates), then for each workload the ratio of our req/s to Oxigraph's at 1, 4 and 16 clients, and the
servers' memory after the run (RSS of the server process and its workers, and their PSS, which counts a page shared
by the pre-forked workers once). With ``--all`` it also measures the saved query, a resource in Turtle and an HTML
page, as before. The machine should be quiet: two processes of clients and servers share its cores.
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
POLICY_OF = "<https://w3id.org/idais-kg/ontology#policyOf>"
# Unique per request in its text, not in a comment (the guard drops comments, so those would hit the cache).
ADHOC = (
    f"SELECT ?goal (COUNT(?p) AS ?n) WHERE {{{{ ?p {POLICY_OF} ?goal }}}} GROUP BY ?goal ORDER BY ?goal "
    "LIMIT {limit}"
)
CONSTRUCT = f"CONSTRUCT {{{{ ?p {POLICY_OF} ?goal }}}} WHERE {{{{ ?p {POLICY_OF} ?goal }}}} LIMIT {{limit}}"
ROWS = "SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER (?p != <urn:x:{n}>) }} LIMIT 1000 OFFSET {offset}"
COUNTER = itertools.count()
ADHOC_WORKLOADS = ("ad-hoc SELECT", "ad-hoc CONSTRUCT", "1,000-row SELECT")
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
    counter = (
        COUNTER  # one count for the whole run, so no request repeats an earlier one (no cache answers it)
    )
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


def adhoc_requests(path: str) -> dict[str, Callable[[int], Request]]:
    """The three ad-hoc workloads, POSTed directly to ``path`` (ours: /sparql; Oxigraph: /query)."""
    results = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}
    graph = {"Content-Type": "application/sparql-query", "Accept": "text/turtle"}
    return {
        "ad-hoc SELECT": lambda n: ("POST", path, ADHOC.format(limit=1000 + n).encode(), results),
        "ad-hoc CONSTRUCT": lambda n: ("POST", path, CONSTRUCT.format(limit=1000 + n).encode(), graph),
        "1,000-row SELECT": lambda n: ("POST", path, ROWS.format(n=n, offset=n % 10_000).encode(), results),
    }


def ours_workloads(saved_text: str, everything: bool) -> dict[str, Callable[[int], Request]]:
    goal_path = "/id/" + GOAL.split("/id/", 1)[1]
    others: dict[str, Callable[[int], Request]] = {
        "saved query": lambda n: ("GET", f"/api/queries/{SAVED}", None, {"Accept": "application/json"}),
        "resource (Turtle)": lambda n: ("GET", goal_path, None, {"Accept": "text/turtle"}),
        "page (HTML)": lambda n: ("GET", goal_path, None, {"Accept": "text/html"}),
    }
    return {**adhoc_requests("/sparql"), **(others if everything else {})}


def oxigraph_workloads(saved_text: str) -> dict[str, Callable[[int], Request]]:
    direct = {"Content-Type": "application/sparql-query"}
    return {
        **adhoc_requests("/query"),
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
    }


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the pre-forked workers, or the pool's query processes)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob(
            "*"
        ):  # (children are listed by the thread that made them)
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of ``pid``'s process tree so far, its reaped children included."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if member == pid:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: the workers that ended
    return total / ticks


def memory_of(pid: int) -> tuple[float, float, float]:
    """MiB: the RSS of ``pid`` alone, the RSS of its whole tree, and the tree's PSS (shared pages counted once)."""

    def field(path: str, name: str) -> int:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(name):
                    return int(line.split()[1]) * 1024
        except OSError:
            return 0
        return 0

    tree = process_tree(pid)
    own = field(f"/proc/{pid}/status", "VmRSS:")
    rss = sum(field(f"/proc/{p}/status", "VmRSS:") for p in tree)
    pss = sum(field(f"/proc/{p}/smaps_rollup", "Pss:") for p in tree)
    mib = float(1 << 20)
    return own / mib, rss / mib, pss / mib


def start_ours(port: int, query_path: str, workers: int) -> subprocess.Popen[bytes]:
    command = [str(BIN / "idais-kg"), "serve", "--port", str(port), "--workers", str(workers)]
    command += ["--query-path", query_path]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each cell")
    parser.add_argument("--query-path", choices=["prefork", "pool", "both"], default="prefork")
    parser.add_argument("--workers", type=int, default=4, help="our --workers")
    parser.add_argument("--all", action="store_true", help="also the saved query, a resource and a page")
    parser.add_argument("--only", action="append", help="run only this workload (repeatable)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="idais-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        from idais_kg.dataset.assemble import load

        kg = load()
        dump = work / "idais-kg.nq"
        dump.write_bytes(kg.store.serialize("nquads"))
        saved_text = kg.queries.get(SAVED).text
        paths = ["prefork", "pool"] if args.query_path == "both" else [args.query_path]
        ours = {path: free_port() for path in paths}
        for path, port in ours.items():
            procs.append(start_ours(port, path, args.workers))
        oxi = free_port()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        db = work / "oxigraph-db"
        subprocess.run([str(BIN / "oxigraph"), "load", "-l", str(db), "-f", str(dump)], check=True, **quiet)  # type: ignore[call-overload]
        oxi_cmd = [str(BIN / "oxigraph"), "serve-read-only", "-l", str(db), "-b", f"127.0.0.1:{oxi}"]
        oxigraph = subprocess.Popen([*oxi_cmd, "--union-default-graph"], **quiet)  # type: ignore[call-overload]
        procs.append(oxigraph)
        for port in ours.values():
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
        wait_until_up(f"http://127.0.0.1:{oxi}/query?query=ASK%7B%7D")
        print(
            f"dataset: {len(kg.store)} quads; {args.seconds:g} s per cell; cpus: {os.cpu_count()}; "
            f"ours: --workers {args.workers}, query path {', '.join(paths)}; load {os.getloadavg()[0]:.2f}"
        )
        print(
            f"{'workload':20} {'server':16} {'clients':>7} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7} "
            f"{'cpu ms/req':>10}"
        )
        rates: dict[tuple[str, str, int], float] = {}
        servers = [(f"idais-kg {path}", port) for path, port in ours.items()] + [("oxigraph", oxi)]
        pids = {label: proc.pid for (label, _), proc in zip(servers, procs, strict=True)}
        mine = ours_workloads(saved_text, args.all)
        theirs = oxigraph_workloads(saved_text)
        for name, make in mine.items():
            if args.only and name not in args.only:
                continue
            for clients in CLIENTS:
                for label, port in servers:
                    fn = theirs.get(name) if label == "oxigraph" else make
                    if fn is None:
                        continue
                    before = cpu_seconds(pids[label])
                    r = run_cell(port, clients, args.seconds, fn)
                    cpu = (cpu_seconds(pids[label]) - before) * 1000 / max(1, r["n"])
                    rates[(name, label, clients)] = r["rps"]
                    print(
                        f"{name:20} {label:16} {clients:>7} {r['rps']:>9.0f} {r['p50']:>9.2f} {r['p99']:>9.2f} "
                        f"{r['errors']:>7} {cpu:>10.3f}",
                        flush=True,
                    )
        print("\nratio of our req/s to Oxigraph server's, at " + " / ".join(map(str, CLIENTS)) + " clients")
        for name in mine:
            for label, _ in servers[:-1]:
                cells = [rates.get((name, label, c)) for c in CLIENTS]
                other = [rates.get((name, "oxigraph", c)) for c in CLIENTS]
                if all(cells) and all(other):
                    shown = " / ".join(f"{a / b:.2f}x" for a, b in zip(cells, other, strict=True))  # type: ignore[operator]
                    print(f"  {name:20} {label:16} {shown}")
        print("\nmemory after the run, MiB: own RSS, RSS of the process tree, PSS of the tree")
        for (label, _), proc in zip(servers, procs, strict=True):
            own, rss, pss = memory_of(proc.pid)
            print(f"  {label:16} {own:8.0f} {rss:8.0f} {pss:8.0f}")
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
