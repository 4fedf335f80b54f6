"""Benchmark ``idais-kg serve`` against Oxigraph's own server on the same N-Quads dump (run on demand, not in CI).

    .venv/bin/python bench/serve_bench.py [--seconds 2] [--query-path prefork|pool|both] [--workers 4] [--all]
        [--only WORKLOAD]... [--client wrk|python] [--check-unique]

Both servers run on loopback; ours with every guard on (the guard, the seccomp sandbox, the deadline, the memory
bound, the row cap). For 1, 4 and 16 concurrent clients (keep-alive connections) it measures throughput and
p50/p99 latency of three ad-hoc workloads, each made unique per request in its text (not in a comment: the guard
drops comments) so that no cache answers it:

- ad-hoc SELECT: a grouped count (15 rows), ``LIMIT 1000+n``;
- ad-hoc CONSTRUCT: 56 triples in Turtle, ``LIMIT 1000+n``;
- 1,000-row SELECT: ``?s ?p ?o`` with ``LIMIT 1000 OFFSET n % 10000`` and a filter naming ``n``.

``n`` counts every request of the run, so no text repeats in any cell (our caches would answer it).

The load generator is wrk when it is installed (``--client wrk``, the default then): ``wrk -t min(clients, 2) -c
clients`` with bench/wrk_unique.lua, which fills in ``n`` per request (wrk thread k of T takes the numbers
first + k, first + k + T, ...), so that it sends the same texts as the Python client would; it needs whole
``--seconds``. The Python client (``--client python``: a thread per client, http.client) tops out near 4,000 req/s
on a 2-core machine even against a server that answers a constant body (wrk: some 25,000), about what Oxigraph
serves at 16 clients, so its rates there measure partly its own GIL. Latencies are as measured by both (wrk's
correction for coordinated omission is taken out again, see :func:`undo_wrk_correction`).
``--check-unique`` (wrk only, and not for measuring: it slows wrk) records every numbered text wrk makes and
prints how many repeat and how many differ from the Python client's text for the same ``n``.

It prints each cell (with the server's CPU time per request, which other work on the machine disturbs less than
the rates), then for each workload the ratio of our req/s to Oxigraph's at 1, 4 and 16 clients, and the
servers' memory after the run (RSS of the server process and its workers, and their PSS, which counts a page shared
by the pre-forked workers once). With ``--all`` it also measures the saved query, a resource in Turtle and an HTML
page, as before (the same request each time, with either client: those are meant to be answered from the caches).
The machine should be quiet: the client and the servers share its cores.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
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
ADHOC_WORKLOADS = ("ad-hoc SELECT", "ad-hoc CONSTRUCT", "1,000-row SELECT")
CLIENTS = (1, 4, 16)
WRK_SCRIPT = Path(__file__).with_name("wrk_unique.lua")
WRK = shutil.which("wrk") or shutil.which("/usr/bin/wrk")
WRK_THREADS = 2  # wrk's threads at most: one per core (the servers use the same cores)

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


def fields(n: int) -> dict[str, int]:
    """The numbers a request's text is made unique by (wrk_unique.lua computes the same ones)."""
    return {"n": n, "limit": 1000 + n, "offset": n % 10_000}


@dataclass(frozen=True)
class Workload:
    """One kind of request. With ``numbered``, ``body`` is a ``str.format`` template over :func:`fields` of the
    request's number, so that each request is unique; otherwise it is sent as it is (or none, for a GET)."""

    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None
    numbered: bool = False

    def make(self, n: int) -> Request:
        if self.body is None:
            return self.method, self.path, None, self.headers
        text = self.body.format(**fields(n)) if self.numbered else self.body
        return self.method, self.path, text.encode(), self.headers

    def wrk_body(self) -> str:
        """The body for wrk_unique.lua, each field written ``\\x01name\\x01`` for the script to fill in."""
        if self.body is None:
            return ""
        return (
            self.body.format(**{name: f"\x01{name}\x01" for name in fields(0)})
            if self.numbered
            else self.body
        )


class Numbers:
    """The request numbers of the whole run, each used once, so that no text repeats (our caches would answer it)."""

    def __init__(self) -> None:
        self._count = itertools.count()

    def take(self) -> int:
        return next(self._count)

    def skip_to(self, n: int) -> None:
        """Go on from ``n``: wrk used numbers below it."""
        self._count = itertools.count(n)


NUMBERS = Numbers()


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


def run_cell(port: int, clients: int, seconds: float, workload: Workload) -> dict[str, float]:
    """One cell with the Python client: ``clients`` threads, each with its own keep-alive connection."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            method, path, body, headers = workload.make(NUMBERS.take())
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if not 200 <= resp.status < 300:
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
    histogram: dict[int, int] = {}
    for seconds_taken in latencies:
        micros = round(seconds_taken * 1e6)
        histogram[micros] = histogram.get(micros, 0) + 1
    return {"rps": len(latencies) / elapsed, **percentiles(histogram), "errors": errors, "n": len(latencies)}


def percentiles(histogram: dict[int, int]) -> dict[str, float]:
    """p50 (the median) and p99 in ms of latencies given as {microseconds: count}.

    >>> percentiles({1000: 2, 3000: 1, 9000: 1})
    {'p50': 2.0, 'p99': 9.0}
    """
    total = sum(histogram.values())
    if not total:
        return {"p50": float("nan"), "p99": float("nan")}
    ranked = sorted(histogram.items())

    def at(index: int) -> int:  # the latency at this 0-based index of the sorted list
        seen = 0
        for value, count in ranked:
            seen += count
            if index < seen:
                return value
        return ranked[-1][0]

    middle = total // 2
    p50 = at(middle) if total % 2 else (at(middle - 1) + at(middle)) / 2
    return {"p50": p50 / 1000, "p99": at(min(total - 1, int(total * 0.99))) / 1000}


def undo_wrk_correction(histogram: dict[int, int], expected: int) -> dict[int, int]:
    """wrk's latency histogram ({microseconds: count}) as measured, before its correction for coordinated omission.

    Before done(), wrk 4.1.0 adds for each sample n >= 2 * expected (its mean time between requests on a
    connection) one sample at each of n - expected, n - 2 * expected, ... above expected: the requests an open-loop
    client would have sent while waiting. Both clients here are closed-loop, and the Python client keeps what it
    measured, so this takes them out again (from the top down, where the counts are still as measured).

    >>> undo_wrk_correction({10: 1, 15: 1, 25: 1, 35: 1}, 10)
    {35: 1, 10: 1}
    """
    added: dict[int, int] = {}
    measured: dict[int, int] = {}
    for value in sorted(histogram, reverse=True):
        count = histogram[value] - added.get(value, 0)
        if count > 0:
            measured[value] = count
            if value >= 2 * expected:
                target = value - expected
                while target > expected:
                    added[target] = added.get(target, 0) + count
                    target -= expected
    return measured


def run_cell_wrk(
    wrk: str, port: int, clients: int, seconds: int, workload: Workload, trace: Path | None
) -> dict[str, float]:
    """One cell with wrk: ``clients`` keep-alive connections on up to WRK_THREADS threads (wrk_unique.lua).

    With ``trace``, the script writes each numbered text it sends to files ``trace.<thread>``.
    """
    threads = min(clients, WRK_THREADS)
    first = NUMBERS.take()
    command = [wrk, "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--latency"]
    # A timeout as the Python client's (wrk's own is 2 s: slower answers would count as errors).
    command += ["--timeout", "30s", "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}/", "--"]
    command += [workload.method, workload.path]
    command += [workload.wrk_body(), str(first), str(threads), str(trace or "")]
    command += [part for header in workload.headers.items() for part in header]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    values: dict[str, int] = {}
    histogram: dict[int, int] = {}
    for line in done.stdout.splitlines():
        words = line.split()
        if words[:2] == ["serve_bench", "latency"]:
            histogram[int(words[2])] = int(words[3])
        elif len(words) == 3 and words[0] == "serve_bench":
            values[words[1]] = int(words[2])
    if done.returncode or "requests" not in values:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    NUMBERS.skip_to(max(values["next"], first + 1))
    requests, duration = values["requests"], values["duration_us"]
    if requests // clients:  # as wrk decides whether to correct, and by how much
        histogram = undo_wrk_correction(histogram, duration // (requests // clients))
    return {
        "rps": requests / (duration / 1e6),
        **percentiles(histogram),
        "errors": values["socket_errors"] + values["non_2xx"],
        "n": requests,
    }


def check_trace(trace: Path, workload: Workload, texts: Counter[str]) -> int:
    """Count into ``texts`` the numbered texts wrk sent in one cell (from its trace files, which it removes) and
    return how many differ from the Python client's text for the same number."""
    wrong = 0
    for part in sorted(trace.parent.glob(trace.name + ".*")):
        for line in part.read_text().splitlines():
            n, text = line.split("\t", 1)
            texts[text] += 1
            body = workload.make(int(n))[2]
            wrong += body is None or body.decode() != text
        part.unlink()
    return wrong


def adhoc_requests(path: str) -> dict[str, Workload]:
    """The three ad-hoc workloads, POSTed directly to ``path`` (ours: /sparql; Oxigraph: /query)."""
    results = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}
    graph = {"Content-Type": "application/sparql-query", "Accept": "text/turtle"}
    return {
        "ad-hoc SELECT": Workload("POST", path, results, ADHOC, numbered=True),
        "ad-hoc CONSTRUCT": Workload("POST", path, graph, CONSTRUCT, numbered=True),
        "1,000-row SELECT": Workload("POST", path, results, ROWS, numbered=True),
    }


def ours_workloads(everything: bool) -> dict[str, Workload]:
    goal_path = "/id/" + GOAL.split("/id/", 1)[1]
    # The same request every time: these are meant to be answered from the caches.
    others = {
        "saved query": Workload("GET", f"/api/queries/{SAVED}", {"Accept": "application/json"}),
        "resource (Turtle)": Workload("GET", goal_path, {"Accept": "text/turtle"}),
        "page (HTML)": Workload("GET", goal_path, {"Accept": "text/html"}),
    }
    return {**adhoc_requests("/sparql"), **(others if everything else {})}


def oxigraph_workloads(saved_text: str) -> dict[str, Workload]:
    results = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}
    describe = "/query?query=" + quote(f"DESCRIBE <{GOAL}>")
    return {
        **adhoc_requests("/query"),
        "saved query": Workload("POST", "/query", results, saved_text),
        "resource (Turtle)": Workload("GET", describe, {"Accept": "text/turtle"}),
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
    parser.add_argument(
        "--client",
        choices=["python", "wrk"],
        help="the load generator (default: wrk if installed, else python)",
    )
    parser.add_argument(
        "--check-unique",
        action="store_true",
        help="with wrk: record every numbered text sent and count repeats (slows wrk: not for measuring)",
    )
    args = parser.parse_args()
    client = args.client or ("wrk" if WRK else "python")
    wrk = WRK or ""
    if client == "wrk" and not wrk:
        parser.error("--client wrk: wrk is not installed")
    if client == "wrk" and (args.seconds < 1 or args.seconds != int(args.seconds)):
        parser.error("--client wrk runs whole seconds (--seconds 1, 2, ...)")
    if args.check_unique and client != "wrk":
        parser.error("--check-unique checks the wrk client")
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
        if client == "wrk":
            about_client = f"wrk ({wrk} -s {WRK_SCRIPT.name}, threads: min(clients, {WRK_THREADS}))"
        else:
            about_client = "python (a thread per client)"
        print(
            f"dataset: {len(kg.store)} quads; {args.seconds:g} s per cell; cpus: {os.cpu_count()}; "
            f"ours: --workers {args.workers}, query path {', '.join(paths)}; load {os.getloadavg()[0]:.2f}; "
            f"client: {about_client}"
        )
        print(
            f"{'workload':20} {'server':16} {'clients':>7} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7} "
            f"{'cpu ms/req':>10}"
        )
        rates: dict[tuple[str, str, int], float] = {}
        servers = [(f"idais-kg {path}", port) for path, port in ours.items()] + [("oxigraph", oxi)]
        pids = {label: proc.pid for (label, _), proc in zip(servers, procs, strict=True)}
        mine = ours_workloads(args.all)
        theirs = oxigraph_workloads(saved_text)
        trace = work / "trace" if args.check_unique else None
        texts: Counter[str] = Counter()
        wrong = 0
        for name in mine:
            if args.only and name not in args.only:
                continue
            for clients in CLIENTS:
                for label, port in servers:
                    workload = theirs.get(name) if label == "oxigraph" else mine[name]
                    if workload is None:
                        continue
                    before = cpu_seconds(pids[label])
                    if client == "wrk":
                        r = run_cell_wrk(wrk, port, clients, int(args.seconds), workload, trace)
                    else:
                        r = run_cell(port, clients, args.seconds, workload)
                    cpu = (cpu_seconds(pids[label]) - before) * 1000 / max(1, r["n"])
                    rates[(name, label, clients)] = r["rps"]
                    print(
                        f"{name:20} {label:16} {clients:>7} {r['rps']:>9.0f} {r['p50']:>9.2f} {r['p99']:>9.2f} "
                        f"{r['errors']:>7} {cpu:>10.3f}",
                        flush=True,
                    )
                    if trace:
                        wrong += check_trace(trace, workload, texts)
        if trace:
            repeated = sum(count - 1 for count in texts.values() if count > 1)
            print(
                f"\nunique texts: wrk made {sum(texts.values())} numbered requests, {len(texts)} distinct texts, "
                f"{repeated} repeats; {wrong} differ from the Python client's text for their number"
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
