"""Every saved question, run against the graph and compared with an answer checked by hand against the source.

One YAML file per case in cases/queries/: the query, its parameters, and the expected rows (IRIs written with
the project prefixes). ``pytest --update-golden`` rewrites the rows from the graph (then review the diff).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.namespaces import PREFIXES
from idais_kg.sources.layout import Layout
from idais_kg.sources.queries import QueryRegistry

CASES = sorted((Path(__file__).parent / "cases" / "queries").glob("*.yaml"))
# Longest namespace first, so that goal: wins over kg:.
NAMESPACES = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


def compact(value: str) -> str:
    for prefix, ns in NAMESPACES:
        if value.startswith(ns) and "/" not in value[len(ns) :].rstrip("/"):
            return f"{prefix}:{value[len(ns) :]}"
    return value


def with_partners(kg: KnowledgeGraph, fixtures: dict[str, str]) -> KnowledgeGraph:
    """The graph plus partner fixtures (cases/partners/) as partner graphs, as ``partner add`` stores them."""
    from idais_kg.partners.registry import graph_of, read_partner
    from idais_kg.store import Store

    store = Store()
    store.add_all(kg.store.quads())
    for name, file in fixtures.items():
        store.add_all(read_partner(Path(__file__).parent / "cases" / "partners" / file, graph_of(name)))
    return KnowledgeGraph(store=store, layout=kg.layout, queries=kg.queries)


def answer(kg: KnowledgeGraph, case: dict) -> list[dict[str, str]]:
    if case.get("partners"):
        kg = with_partners(kg, case["partners"])
    result = kg.query(case["query"], **{k: str(v) for k, v in (case.get("params") or {}).items()})
    columns = case.get("columns") or result.variables
    return [{c: compact(row[c].value) for c in columns if c in row} for row in result.rows]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_saved_query_answer(kg: KnowledgeGraph, path: Path, request: pytest.FixtureRequest) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    got = answer(kg, case)
    if request.config.getoption("--update-golden"):
        case["rows"] = got
        path.write_text(
            yaml.safe_dump(case, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8"
        )
    assert got == case["rows"]


def test_every_saved_query_is_exercised() -> None:
    """Each question has a case, each construct feeds the build, each violation query is run by validate."""
    registry = QueryRegistry(Layout.default().queries_dir)
    tested = {yaml.safe_load(p.read_text(encoding="utf-8"))["query"] for p in CASES}
    assert set(registry.names("question")) <= tested
    assert {q.kind for q in registry} <= {"question", "construct", "violation"}
