"""Benchmark of ``idais-kg diff`` (run on demand: ``.venv/bin/python bench/diff_bench.py``); prints, asserts nothing.

The target: a diff of two builds of the guide in under 2 s. Measured, each the median of several runs:

- in-process, two versions already read (``diff_sides``): the comparison alone;
- in-process, two project trees built from their sources (``diff`` of two folders): two builds plus the comparison;
- ``idais-kg diff`` processes: two N-Quads dumps; release 1.0.0 (through git) against the working tree, in table,
  JSON and Turtle.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from idais_kg.dataset.diff import diff, diff_sides, resolve
from idais_kg.dataset.diff.rdf import to_rdf
from idais_kg.dataset.diff.render import to_json, to_markdown, to_table
from idais_kg.sources.layout import Layout

ROOT = Path(__file__).resolve().parents[1]
CLI = str(ROOT / ".venv" / "bin" / "idais-kg")


def median(func: Callable[[], object], runs: int = 5) -> str:
    """Wall and CPU seconds (this process and its children), the median of ``runs``; on a loaded machine (the
    shared 2-core one this was written on) the CPU time is the steadier figure."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start, cpu = time.perf_counter(), time.process_time()
        func()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(time.perf_counter() - start)
        child = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        cpus.append(time.process_time() - cpu + child)
    return f"{statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU"


def main() -> None:
    layout = Layout(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "tree"
        for folder in ("ontology", "data", "queries", "shapes"):
            shutil.copytree(ROOT / folder, other / folder)
        old, new = resolve("working", layout), resolve(str(other), layout)
        print(f"one version: {len(old.quads)} quads in the content graphs")
        print(f"compare two versions already read: {median(lambda: diff_sides(old, new))}")
        print(f"build two trees and compare them: {median(lambda: diff('working', str(other), layout))}")
        d = diff_sides(resolve("1.0.0", layout), old)
        for name, render in (
            ("table", to_table),
            ("markdown", to_markdown),
            ("json", to_json),
            ("rdf", to_rdf),
        ):
            print(f"render {name}: {median(lambda r=render: r(d))}")  # type: ignore[misc]
        dumps = []
        for name, side in (("a.nq", old), ("b.nq", new)):
            path = Path(tmp) / name
            path.write_bytes(ox.serialize(list(side.quads), format=ox.RdfFormat.N_QUADS) or b"")
            dumps.append(str(path))
        commands = {
            "idais-kg diff a.nq b.nq": [CLI, "diff", *dumps],
            "idais-kg diff 1.0.0 working": [CLI, "diff", "1.0.0", "working"],
            "idais-kg diff 1.0.0 working --format json": [
                CLI,
                "diff",
                "1.0.0",
                "working",
                "--format",
                "json",
            ],
            "idais-kg diff 1.0.0 working --format turtle": [
                CLI,
                "diff",
                "1.0.0",
                "working",
                "--format",
                "turtle",
            ],
        }
        for label, cmd in commands.items():
            seconds = median(lambda c=cmd: subprocess.run(c, check=True, capture_output=True), runs=3)  # type: ignore[misc]
            print(f"{label}: {seconds} (fresh process)")


if __name__ == "__main__":
    main()
