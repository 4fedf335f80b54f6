"""The inferred graph (by default in ``load()`` and ``build``; ``--no-infer`` leaves it out) holds exactly what the
ontology's property axioms entail, and only that.

Checked by hand for one goal against data/guide (its four policies, one naming the FDA as example, its Venice quote, its assessment; the body
treats it under 国内治理, heading line 442) and the ontology (ofGoal, hasPolicy, hasQuote, hasAssessment,
areaViaGoal = ofGoal o inArea, inArea ⊑ skos:broader, sourceLocation ⊑ prov:hadPrimarySource).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from idais_kg.cli import main
from idais_kg.dataset.assemble import load
from idais_kg.dataset.entailment import chain_rules, materialise
from idais_kg.namespaces import GRAPH_INFERRED, IDAIS, KG, PROV, SCHEMA, SKOS

GOAL = KG + "goal/post-deployment-monitoring"
ED = KG + "guide/2025-02/"
AREA = KG + "area/domestic-governance"
POLICIES = [
    ED + "policy/" + slug
    for slug in (
        "critical-infrastructure-ai-usage-data",
        "interconnected-post-deployment-monitoring-data",
        "runtime-feature-monitoring-for-automatic-shutdown",
        "technical-governance-for-ai-agent-visibility",
    )
]
QUOTE = ED + "quote/post-deployment-monitoring/venice-2024"
ASSESSMENT = ED + "assessment/post-deployment-monitoring"
SOURCE_LINE = "https://w3id.org/idais-kg/source/idais-policy-guide-2025-02.zh.txt#line=441,442"

EXPECTED = {
    (GOAL, SKOS + "broader", AREA),
    (GOAL, PROV + "hadPrimarySource", SOURCE_LINE),
    (GOAL, IDAIS + "hasAssessment", ASSESSMENT),
    (GOAL, IDAIS + "hasQuote", QUOTE),
    *((GOAL, IDAIS + "hasPolicy", p) for p in POLICIES),
    *((member, IDAIS + "ofGoal", GOAL) for member in (*POLICIES, QUOTE, ASSESSMENT)),
    *((member, IDAIS + "areaViaGoal", AREA) for member in (*POLICIES, QUOTE, ASSESSMENT)),
    # namesExample ⊑ schema:mentions: the policy names the FDA's adverse-event reporting as its example
    (POLICIES[1], SCHEMA + "mentions", KG + "organisation/us-fda"),
}


@pytest.fixture(scope="module")
def inferred() -> list[ox.Quad]:
    return list(load().store.quads(GRAPH_INFERRED))


def test_load_infers_by_default_and_not_when_told() -> None:
    assert sum(1 for _ in load(infer=False).store.quads(GRAPH_INFERRED)) == 0
    kg = load(infer=False)
    report = materialise(kg.store)
    assert {(q.subject, q.predicate, q.object) for q in kg.store.quads(GRAPH_INFERRED)} == {
        (q.subject, q.predicate, q.object) for q in load().store.quads(GRAPH_INFERRED)
    }
    assert report.triples > 0
    assert materialise(kg.store).triples == report.triples  # a fixpoint: a second run adds nothing


def test_exact_inferences_for_one_goal(inferred: list[ox.Quad]) -> None:
    members = {p for p in (*POLICIES, QUOTE, ASSESSMENT)}
    got = {
        (q.subject.value, q.predicate.value, q.object.value)
        for q in inferred
        if GOAL in (q.subject.value, q.object.value) or q.subject.value in members
        if q.predicate.value != PROV + "hadPrimarySource" or q.subject.value == GOAL
    }
    assert got == EXPECTED


def test_nothing_inferred_is_already_asserted(inferred: list[ox.Quad]) -> None:
    asserted = {(q.subject, q.predicate, q.object) for q in load(infer=False).store.quads()}
    assert inferred and not {(q.subject, q.predicate, q.object) for q in inferred} & asserted


def test_chains_come_from_the_ontology() -> None:
    rules = chain_rules(load().store)
    assert rules == [
        f"CONSTRUCT {{ ?s <{IDAIS}areaViaGoal> ?o }} WHERE {{ ?s <{IDAIS}ofGoal>/<{IDAIS}inArea> ?o . "
        f"FILTER NOT EXISTS {{ ?s <{IDAIS}areaViaGoal> ?o }} }}"
    ]


def test_build_infers_unless_told_not_to(tmp_path: Path) -> None:
    for flag, present in (([], True), (["--no-infer"], False), (["--infer"], True)):
        out = tmp_path / ("-".join(flag) or "default")
        result = CliRunner().invoke(main, ["build", "--out", str(out), *flag])
        assert result.exit_code == 0, result.output
        graphs = {q.graph_name for q in ox.parse(path=str(out / "idais-kg.nq"), format=ox.RdfFormat.N_QUADS)}
        assert (ox.NamedNode(GRAPH_INFERRED) in graphs) is present
        assert (GRAPH_INFERRED in result.output) is present
