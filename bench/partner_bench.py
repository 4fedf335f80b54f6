"""On demand: a generated partner dataset of N triples (default 1M) linked to the guide; time and peak memory of
``partner check`` then ``partner add`` (which recalls the check's verdict), and of ``partner add --recheck`` alone
into a fresh store, each a fresh process, beside a plain rdflib + pySHACL baseline on a smaller size (extrapolated
linearly: pySHACL would take too long on 1M).

    .venv/bin/python bench/partner_bench.py [--triples 1000000] [--baseline 20000] [--format nt|ttl]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EX = "https://example.org/fictional/bench-partner/"


def generate(path: Path, triples: int, goals: list[str]) -> None:
    rng = random.Random(7)
    ex = EX
    lines = [
        f"<{ex}dataset> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset> .",
        f"<{ex}dataset> <http://purl.org/dc/terms/publisher> <{ex}org> .",
        f"<{ex}dataset> <http://purl.org/dc/terms/license> <https://creativecommons.org/licenses/by/4.0/> .",
        f"<{ex}dataset> <http://www.w3.org/ns/dcat#contactPoint> <{ex}contact> .",
        f'<{ex}dataset> <http://purl.org/dc/terms/issued> "2025-01-01"^^<http://www.w3.org/2001/XMLSchema#date> .',
    ]
    i = 0
    while len(lines) < triples:
        s = f"<{ex}item/{i}>"
        lines.append(
            f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/CreativeWork> ."
        )
        lines.append(f'{s} <http://www.w3.org/2000/01/rdf-schema#label> "Fictional item {i}"@en .')
        lines.append(f"{s} <https://w3id.org/idais-kg/ontology#addressesGoal> <{rng.choice(goals)}> .")
        lines.append(f'{s} <https://schema.org/description> "A generated description of item {i}." .')
        i += 1
    path.write_text("\n".join(lines[:triples]) + "\n")


def run(code: str) -> tuple[float, float, str]:
    """Run ``code`` in a fresh interpreter; wall seconds and peak RSS (GiB) of that process."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    peak = float(out.stdout.strip().splitlines()[-1]) / (1024 * 1024)
    return seconds, peak, out.stdout


PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=20_000)
    parser.add_argument("--format", choices=["nt", "ttl"], default="nt", help="the partner file's syntax")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import pyoxigraph as ox

    from idais_kg.dataset.assemble import load

    goals = load(with_description=False).sparql("SELECT ?g WHERE { ?g a idais:Goal } ORDER BY ?g").values("g")
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / f"partner.{args.format}", Path(tmp) / "small.nt"
        generate(Path(tmp) / "partner.nt", args.triples, goals)
        if args.format == "ttl":
            triples = ox.parse(path=str(Path(tmp) / "partner.nt"), format=ox.RdfFormat.N_TRIPLES)
            ox.serialize(triples, output=str(big), format=ox.RdfFormat.TURTLE, prefixes={"ex": EX})
        generate(small, args.baseline, goals)
        print(f"generated {args.triples} triples ({big.stat().st_size / 1e6:.0f} MB of {args.format})")
        store, other = f"{tmp}/store", f"{tmp}/other-store"
        check = (
            "from pathlib import Path; from idais_kg.partners.registry import check_and_remember; "
            f"r = check_and_remember(Path('{big}'), Path('{store}')); print(r.exit_code, r.seconds); {PEAK}"
        )
        c, gib, out = run(check)
        print(f"partner check: {c:.1f} s, peak {gib:.2f} GiB  ({out.splitlines()[0]})")
        add = (
            "from pathlib import Path; from idais_kg.partners.registry import add; "
            f"r = add('bench', Path('{big}'), Path('{{store}}'){{extra}}); print(r.status, r.rechecked); {PEAK}"
        )
        a, gib, out = run(add.format(store=store, extra=""))
        print(
            f"partner add after the check (verdict remembered): {a:.1f} s, peak {gib:.2f} GiB  ({out.split()[1]})"
        )
        print(f"  check + add: {c + a:.1f} s (target <= 30 s)")
        f, gib, out = run(add.format(store=other, extra=", recheck=True"))
        print(f"partner add alone (parse, check and store, fresh store): {f:.1f} s, peak {gib:.2f} GiB")
        baseline = (
            "import rdflib, pyshacl; from pathlib import Path; "
            f"g = rdflib.Graph(); g.parse('{small}', format='nt'); "
            "[g.parse(p) for p in sorted(Path('data/guide').glob('*.ttl'))]; "
            "sh = rdflib.Graph().parse('shapes/partner/partner.ttl'); "
            "print(pyshacl.validate(g, shacl_graph=sh, inference='none', advanced=True)[0]); " + PEAK
        )
        s, gib, _ = run(baseline)
        factor = args.triples / args.baseline
        print(
            f"baseline rdflib + pySHACL on {args.baseline} triples: {s:.1f} s, peak {gib:.2f} GiB "
            f"-> x{factor:.0f} linear extrapolation to {args.triples}: ~{s * factor:.0f} s (at least: pySHACL's "
            "per-focus-node SPARQL is not linear)"
        )


if __name__ == "__main__":
    main()
