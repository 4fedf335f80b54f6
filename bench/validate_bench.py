"""Benchmarks of ``validate`` (run on demand: ``.venv/bin/python bench/validate_bench.py [--reference]``).

Prints numbers, asserts nothing:
- ``idais-kg validate`` end to end (a fresh process, wall time), and in-process with the share of each part
  (prepare, SHACL, violation queries, reasoner);
- SHACL alone on the guide with idais_kg.validation.shacl.engine (and with pySHACL, the reference, under
  ``--reference``: ~50 s);
- SHACL alone on a generated guide-like graph of ~100k triples: the guide's data copied as later editions, each
  with its own goals, quotes, assessments, policies, footnotes and citations (IRIs rewritten consistently).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox

from idais_kg.dataset.assemble import load
from idais_kg.namespaces import GRAPH_ONTOLOGY, KG
from idais_kg.validation.shacl import engine as shacl_validation
from idais_kg.validation.shacl import shapes as shacl_shapes
from idais_kg.validation.validate import shape_triples, validate

ROOT = Path(__file__).resolve().parents[1]
CLI = str(ROOT / ".venv" / "bin" / "idais-kg")


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def best(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def guide_like(quads: list[ox.Quad], target: int) -> list[ox.Triple]:
    """The guide's data graph copied as later editions until ``target`` triples: in copy k the edition
    ``guide/2025-02`` becomes ``guide/{2025+k}-02``, every goal, source and bibliography slug gets ``-v{k}`` and
    footnotes are numbered on (the shapes hold footnote numbers and bibliography entries unique dataset-wide)."""
    data = [q for q in quads if q.graph_name != ox.NamedNode(GRAPH_ONTOLOGY)]
    base = ox.serialize(
        [ox.Triple(q.subject, q.predicate, q.object) for q in data], format=ox.RdfFormat.N_TRIPLES
    )
    assert base is not None
    text = base.decode()
    goals = sorted(
        {q.subject.value[len(KG + "goal/") :] for q in data if q.subject.value.startswith(KG + "goal/")}
    )
    triples: set[ox.Triple] = set(ox.parse(base, format=ox.RdfFormat.N_TRIPLES))
    k = 0
    while len(triples) < target:
        k += 1
        copy = text.replace(KG + "guide/2025-02", f"{KG}guide/{2025 + k}-02")
        for slug in sorted(goals, key=len, reverse=True):
            copy = copy.replace(f"/{slug}>", f"/{slug}-v{k}>").replace(f"/{slug}/", f"/{slug}-v{k}/")
        # works and bibliography entries of the copy are new ones; footnotes continue the numbering
        copy = re.sub(r"(id/(?:source|guide/\d+-02/bibliography)/[a-z0-9-]+)>", rf"\1-v{k}>", copy)
        copy = re.sub(r"/footnote/(\d+)", lambda m, k=k: f"/footnote/{int(m[1]) + 78 * k}", copy)
        copy = re.sub(r'(footnoteNumber> )"(\d+)"', lambda m, k=k: f'{m[1]}"{int(m[2]) + 78 * k}"', copy)
        triples |= set(ox.parse(copy.encode(), format=ox.RdfFormat.N_TRIPLES))
    return sorted(triples, key=str)


def main() -> None:
    reference = "--reference" in sys.argv
    kg = load()
    quads = list(kg.store.quads())
    print(f"guide: {len(quads)} quads")

    print(f"idais-kg validate, fresh process (median of 3): {wall([CLI, 'validate'], 3):.2f} s")
    print(
        f"idais-kg validate --no-reasoner, fresh process (median of 3): {wall([CLI, 'validate', '--no-reasoner'], 3):.2f} s"
    )
    start = time.perf_counter()
    report = validate(kg)
    total = time.perf_counter() - start
    print(f"validate() in-process: {total:.2f} s; reasoner: {report.reasoner.status}")
    for part, seconds in report.timings.items():
        print(f"  {part:<9} {seconds:6.3f} s  {100 * seconds / total:5.1f} %")

    shapes_quads = shape_triples(ROOT / "shapes")
    shapes = shacl_shapes.Shapes(shapes_quads)
    print(
        f"SHACL alone, guide, idais_kg.validation.shacl.engine (best of 5): {best(lambda: shacl_validation.validate(quads, shapes), 5):.3f} s"
    )
    print(
        f"  parsing the shapes (best of 5): {best(lambda: shacl_shapes.Shapes(shape_triples(ROOT / 'shapes')), 5):.3f} s"
    )
    if reference:
        start = time.perf_counter()
        validate(kg, reasoner=False, engine="pyshacl")
        print(f"SHACL alone, guide, pySHACL (reference): {time.perf_counter() - start:.1f} s")

    big = guide_like(quads, 100_000)
    start = time.perf_counter()
    results = shacl_validation.validate(big, shapes)
    print(
        f"SHACL alone, generated graph of {len(big)} triples: {time.perf_counter() - start:.2f} s ({len(results)} results)"
    )


if __name__ == "__main__":
    main()
