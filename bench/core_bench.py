"""Benchmarks of the core (run on demand: ``.venv/bin/python bench/core_bench.py``); prints numbers, asserts nothing.

- build in a fresh process; ``idais-kg --help``; one ``idais-kg query`` process (wall time, median of runs)
- each saved question in-process (p50/p95 over repeated runs)
- the store choice: load and the saved questions on pyoxigraph against rdflib's own SPARQL engine
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rdflib

from idais_kg.dataset.assemble import load

ROOT = Path(__file__).resolve().parents[1]
CLI = [str(ROOT / ".venv" / "bin" / "idais-kg")]


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    with tempfile.TemporaryDirectory() as out:
        print(f"build (fresh process, median of 3):      {wall([*CLI, 'build', '--out', out], 3):.3f} s")
    print(f"idais-kg --help (median of 5):           {wall([*CLI, '--help'], 5):.3f} s")
    query_cmd = [*CLI, "query", "policies-of-goal", "-p", "goal=goal:post-deployment-monitoring"]
    print(f"one idais-kg query process (median of 5): {wall(query_cmd, 5):.3f} s")

    start = time.perf_counter()
    kg = load()
    print(
        f"load() in-process:                        {time.perf_counter() - start:.3f} s, {len(kg.store)} quads"
    )
    examples = {
        q.name: {n: p.example for n, p in q.params.items() if p.example}
        for q in kg.queries.of_kind("question")
    }
    print("\nsaved questions in-process (200 runs each): p50 / p95 ms")
    all_p50 = []
    for name, params in examples.items():
        times = []
        for _ in range(200):
            start = time.perf_counter()
            kg.query(name, **params)
            times.append((time.perf_counter() - start) * 1000)
        all_p50.append(statistics.median(times))
        print(f"  {name:34} {statistics.median(times):7.2f} / {percentile(times, 0.95):7.2f}")
    print(f"  median of the p50s: {statistics.median(all_p50):.2f} ms")

    print("\nstore choice: rdflib's own engine on the same data (20 runs each, p50 ms)")
    nq = kg.store.serialize("nquads")
    start = time.perf_counter()
    ds = rdflib.Dataset(default_union=True)
    ds.parse(data=nq, format="nquads")
    print(f"  rdflib load of the N-Quads: {time.perf_counter() - start:.3f} s")
    start = time.perf_counter()
    load()
    print(f"  pyoxigraph load (whole load()): {time.perf_counter() - start:.3f} s")
    from idais_kg.namespaces import expand

    for name, params in examples.items():
        saved = kg.queries.get(name)
        bindings = {k: rdflib.URIRef(expand(v)) for k, v in params.items()}
        times = []
        for _ in range(20):
            start = time.perf_counter()
            list(ds.query(saved.text, initBindings=bindings))
            times.append((time.perf_counter() - start) * 1000)
        ox_times = []
        for _ in range(20):
            start = time.perf_counter()
            kg.query(name, **params)
            ox_times.append((time.perf_counter() - start) * 1000)
        ratio = statistics.median(times) / statistics.median(ox_times)
        print(
            f"  {name:34} rdflib {statistics.median(times):8.2f}  pyoxigraph {statistics.median(ox_times):6.2f}  x{ratio:.0f}"
        )


if __name__ == "__main__":
    sys.exit(main())
