"""The partner layer's own SPARQL (src/idais_kg/partners/sparql/*.rq): every file is used by the code, and each gives its exact
answer on a scratch store with the guide and the clean partner fixture (a fictional organisation)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.namespaces import KG
from idais_kg.partners.check import PartnerFile, graph_of, guide_scratch
from idais_kg.partners.questions import SPARQL, question
from idais_kg.validation.shacl import setwise as sparql_shapes

FILES = sorted(SPARQL.glob("*.rq"))
SOURCES = sorted(SPARQL.parent.glob("*.py"))
CLEAN = Path(__file__).parent / "cases" / "partners" / "clean.ttl"


def test_every_package_query_file_is_used() -> None:
    code = "".join(path.read_text(encoding="utf-8") for path in SOURCES)
    assert [f.stem for f in FILES if f'question("{f.stem}")' not in code] == []


@pytest.fixture(scope="module")
def store(kg: KnowledgeGraph) -> ox.Store:
    scratch = guide_scratch(kg)
    PartnerFile.read(CLEAN).load_into(scratch, graph_of("lumen"))
    return scratch


def answer(store: ox.Store, name: str) -> list[dict[str, str]]:
    solutions = sparql_shapes.select(store, question(name), g=ox.NamedNode(graph_of("lumen")))
    names = [v.value for v in solutions.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in solutions]


def test_partner_size(store: ox.Store) -> None:
    (row,) = answer(store, "partner-size")
    assert int(row["n"]) == len(
        list(store.quads_for_pattern(None, None, None, ox.NamedNode(graph_of("lumen"))))
    )


def test_partner_dataset(store: ox.Store) -> None:
    assert [r["d"] for r in answer(store, "partner-dataset")] == [
        "https://example.org/fictional/lumen-observatory/dataset"
    ]


def test_partner_describes_ours(store: ox.Store) -> None:
    assert answer(store, "partner-describes-ours") == []  # the clean fixture describes none of ours


def test_partner_links_per_goal(store: ox.Store) -> None:
    rows = answer(store, "partner-links-per-goal")
    assert len(rows) == 15  # every goal, linked or not
    linked = {r["goal"].removeprefix(KG + "goal/"): int(r["n"]) for r in rows if int(r["n"])}
    assert linked == {  # the links of clean.ttl, lines 22-33
        "ai-incident-tracking-and-reporting": 1,
        "domestic-model-registration": 1,
        "post-deployment-monitoring": 2,
        "third-party-audit-and-evaluation": 1,
    }
