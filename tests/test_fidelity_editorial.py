"""Issue 14, part A: editorial judgements live in their own graph, the documented properties answer, order is data.

Checked by hand against data/source/idais-policy-guide-2025-02.zh.txt: the overview table is lines 40-65 (row 3,
the verification-methods row, is line 49); the body policy in that row's first slot, 推进现有研究议程中确定的高优先级
研究。, is line 164; the post-deployment-monitoring goal (heading line 442) prints its policies at lines 470-473 and
its one quote (Venice 2024) at line 446; the domestic-governance chapter prints its goals at lines 329, 353, 386,
413, 442 and 475.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from idais_kg.cli import main
from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.namespaces import (
    GRAPH_DERIVED,
    GRAPH_EDITORIAL,
    GRAPH_GUIDE,
    GRAPH_INFERRED,
    GRAPH_TRANSLATIONS,
    IDAIS,
    KG,
    RDFS,
    SKOS,
)

ROOT = Path(__file__).resolve().parents[1]
ED = KG + "guide/2025-02/"
KINDS = {
    "matchesPolicyVerbatim": "verbatim",
    "matchesPolicyUpToSpacing": "up-to-spacing",
    "matchesPolicyInOtherWording": "other-wording",
    "inSlotOfPolicy": "other-action",
}


def rows(kg: KnowledgeGraph, text: str) -> list[dict[str, str]]:
    return [{k: v.value for k, v in r.items()} for r in kg.sparql(text).rows]  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return (
        (ROOT / "data" / "source" / "idais-policy-guide-2025-02.zh.txt")
        .read_text(encoding="utf-8")
        .split("\n")
    )


@pytest.fixture(scope="module")
def entries(kg: KnowledgeGraph) -> list[dict[str, str]]:
    """Every overview entry with its editorial kind of match, its text and line, the body policy and its line."""
    return rows(
        kg,
        f"""SELECT ?entry ?kind ?text ?line ?position ?row_goal ?policy ?lead ?body_line ?body_position ?goal WHERE {{
          GRAPH <{GRAPH_EDITORIAL}> {{ ?entry ?kind ?policy }}
          FILTER (?kind IN ({", ".join(f"idais:{k}" for k in KINDS)}))
          ?entry idais:textAsWritten ?text ; idais:position ?position ;
            idais:sourceLocation/idais:startLine ?line .
          ?row idais:listsPolicy ?entry ; idais:listsGoal ?row_goal .
          ?policy idais:leadPhrase ?lead ; idais:policyOf ?goal ; idais:position ?body_position ;
            idais:sourceLocation/idais:startLine ?body_line .
          FILTER (LANG(?lead) = "zh")
        }} ORDER BY ?line ?position""",
    )


# ---------------------------------------------------------------------------------------------------------------
# The editorial graph
# ---------------------------------------------------------------------------------------------------------------


def test_every_editorial_note_is_in_the_editorial_graph(kg: KnowledgeGraph) -> None:
    found = rows(kg, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s skos:editorialNote ?o } } GROUP BY ?g")
    assert [r["g"] for r in found] == [GRAPH_EDITORIAL]
    assert int(found[0]["n"]) >= 137  # the 137 rdfs:comment notes of release 1.0.0, converted; others may add


def test_no_data_file_uses_rdfs_comment_for_notes(kg: KnowledgeGraph) -> None:
    for graph in (GRAPH_GUIDE, GRAPH_TRANSLATIONS, GRAPH_EDITORIAL):
        assert not list(kg.store.quads(graph)) or not rows(
            kg, f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s rdfs:comment ?o }} }}"
        ), graph
    for path in sorted((ROOT / "data").rglob("*.ttl")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s+rdfs:comment\s", text, re.M), path.name


def test_the_guide_graph_states_no_match(kg: KnowledgeGraph) -> None:
    """The overview's matches are the editors' judgement: none in kg:graph/guide, all in kg:graph/editorial."""
    for term in (*KINDS, "matchesPolicy", "matchesLeadPhrase"):
        assert not rows(kg, f"SELECT ?s WHERE {{ GRAPH <{GRAPH_GUIDE}> {{ ?s idais:{term} ?o }} }}"), term
    matches = ox.parse(
        path=str(ROOT / "data" / "editorial" / "overview-matches.ttl"), format=ox.RdfFormat.TURTLE
    )
    assert {t.predicate.value for t in matches} == {IDAIS + k for k in KINDS} - {
        IDAIS + "matchesPolicyUpToSpacing"
    } | {SKOS + "editorialNote"}


def test_each_entry_has_one_kind_and_the_counts(entries: list[dict[str, str]]) -> None:
    assert len(entries) == 55 == len({e["entry"] for e in entries})
    counts: dict[str, int] = {}
    for e in entries:
        kind = KINDS[e["kind"].removeprefix(IDAIS)]
        counts[kind] = counts.get(kind, 0) + 1
    assert counts == {"verbatim": 43, "other-wording": 11, "other-action": 1}


def test_each_kind_agrees_with_the_source_text(entries: list[dict[str, str]], lines: list[str]) -> None:
    """The entry's text is printed on its line (47-65) and the lead phrase on the policy's line; verbatim entries
    equal the lead phrase, the others do not even once the spaces are removed; every entry names a policy of the
    goal its row lists."""
    for e in entries:
        assert e["text"] in lines[int(e["line"]) - 1], e["entry"]
        assert e["lead"] in lines[int(e["body_line"]) - 1], e["entry"]
        assert e["goal"] == e["row_goal"], e["entry"]
        kind = KINDS[e["kind"].removeprefix(IDAIS)]
        same = e["text"] == e["lead"]
        same_unspaced = re.sub(r"\s", "", e["text"]) == re.sub(r"\s", "", e["lead"])
        assert same == (kind == "verbatim"), e["entry"]
        assert (same_unspaced and not same) == (kind == "up-to-spacing"), e["entry"]


def test_the_entry_that_names_another_action(entries: list[dict[str, str]]) -> None:
    other = [e for e in entries if e["kind"] == IDAIS + "inSlotOfPolicy"]
    assert [(e["entry"], e["text"], e["line"], e["policy"], e["lead"], e["body_line"]) for e in other] == [
        (
            ED + "overview/row/3/policy/1",
            "设置一个治理相关的验证研究议程。",
            "49",
            ED + "policy/advance-priority-verification-research",
            "推进现有研究议程中确定的高优先级研究。",
            "164",
        )
    ]
    # in its slot: the same goal and the same position (the first policy of the goal, the first entry of the row)
    assert (other[0]["position"], other[0]["body_position"]) == ("1", "1")


def test_matches_policy_means_any_wording_and_excludes_another_action(kg: KnowledgeGraph) -> None:
    matched = rows(kg, "SELECT DISTINCT ?e ?p WHERE { ?e idais:matchesPolicy ?p }")
    assert len(matched) == 54
    assert {
        "e": ED + "overview/row/3/policy/1",
        "p": ED + "policy/advance-priority-verification-research",
    } not in (matched)
    listed = kg.query("overview-policies-listed")
    assert len(listed.rows) == 54
    assert len({r["policy"].value for r in listed.rows}) == 51  # rows 7 and 9 list the same three policies
    assert ED + "policy/advance-priority-verification-research" not in {
        r["policy"].value for r in listed.rows
    }


def test_the_matches_are_derived_not_entailed(kg: KnowledgeGraph) -> None:
    """matchesPolicy sits in the derived graph, so validation (which sees no inferred graph) sees it too."""
    graphs = rows(kg, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s idais:matchesPolicy ?o } }")
    assert graphs == [{"g": GRAPH_DERIVED}]


def test_the_description_names_the_editorial_and_inferred_graphs(kg: KnowledgeGraph) -> None:
    found = rows(
        kg,
        "SELECT ?g ?title WHERE { GRAPH kg:graph\\/description { ?g a void:Dataset ; dcterms:title ?title } "
        "FILTER (?g IN (kg:graph\\/editorial, kg:graph\\/inferred)) } ORDER BY ?g",
    )
    assert found == [
        {"g": GRAPH_EDITORIAL, "title": "Editorial statements"},
        {"g": GRAPH_INFERRED, "title": "Entailed statements"},
    ]


# ---------------------------------------------------------------------------------------------------------------
# The documented properties answer, by default
# ---------------------------------------------------------------------------------------------------------------

GOAL = KG + "goal/post-deployment-monitoring"
INVERSES = f"""SELECT ?p ?o WHERE {{
  {{ <{GOAL}> idais:hasPolicy ?o BIND ("hasPolicy" AS ?p) }}
  UNION {{ <{GOAL}> idais:hasQuote ?o BIND ("hasQuote" AS ?p) }}
  UNION {{ <{ED}policy/runtime-feature-monitoring-for-automatic-shutdown> idais:areaViaGoal ?o BIND ("areaViaGoal" AS ?p) }}
  UNION {{ <{ED}footnote/59> idais:footnoteOf ?o BIND ("footnoteOf" AS ?p) }}
}} ORDER BY ?p ?o"""
EXPECTED = [
    ("areaViaGoal", KG + "area/domestic-governance"),
    ("footnoteOf", ED + "policy/interconnected-post-deployment-monitoring-data"),
    ("hasPolicy", ED + "policy/critical-infrastructure-ai-usage-data"),
    ("hasPolicy", ED + "policy/interconnected-post-deployment-monitoring-data"),
    ("hasPolicy", ED + "policy/runtime-feature-monitoring-for-automatic-shutdown"),
    ("hasPolicy", ED + "policy/technical-governance-for-ai-agent-visibility"),
    ("hasQuote", ED + "quote/post-deployment-monitoring/venice-2024"),
]


def test_load_answers_the_inverse_and_chained_properties(kg: KnowledgeGraph) -> None:
    assert [(r["p"], r["o"]) for r in rows(kg, INVERSES)] == EXPECTED
    assert rows(load(infer=False), INVERSES) == []


def test_the_cli_answers_them() -> None:
    result = CliRunner().invoke(main, ["sparql", "--format", "csv", INVERSES])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [f"{p},{o}" for p, o in EXPECTED]


def test_the_endpoint_answers_them(tmp_path: Path) -> None:
    """``idais-kg serve`` for real on a loopback port (its workers end with it)."""
    import json
    import urllib.parse

    from serve.conftest import request, running_server

    with running_server(tmp_path, "--workers", "1") as server:
        # (the endpoint speaks the SPARQL protocol: a query there declares its prefixes)
        query = urllib.parse.urlencode({"query": f"PREFIX idais: <{IDAIS}>\n" + INVERSES})
        status, _, body = request(server.url + "/sparql?" + query, accept="application/sparql-results+json")
    assert status == 200
    bindings = json.loads(body)["results"]["bindings"]
    assert [(b["p"]["value"], b["o"]["value"]) for b in bindings] == EXPECTED


# ---------------------------------------------------------------------------------------------------------------
# Order in the guide
# ---------------------------------------------------------------------------------------------------------------


def test_the_first_policy_of_a_goal_needs_no_line_arithmetic(kg: KnowledgeGraph) -> None:
    first = rows(kg, f"SELECT ?p WHERE {{ <{GOAL}> idais:hasPolicy ?p . ?p idais:position 1 }}")
    assert first == [{"p": ED + "policy/interconnected-post-deployment-monitoring-data"}]  # line 470


def test_positions_follow_the_source_lines(kg: KnowledgeGraph, lines: list[str]) -> None:
    policies = rows(
        kg,
        f"SELECT ?pos ?line ?lead WHERE {{ ?p idais:policyOf <{GOAL}> ; idais:position ?pos ; "
        "idais:sourceLocation/idais:startLine ?line ; idais:leadPhrase ?lead FILTER (LANG(?lead) = 'zh') } "
        "ORDER BY ?pos",
    )
    assert [(r["pos"], r["line"]) for r in policies] == [
        ("1", "470"),
        ("2", "471"),
        ("3", "472"),
        ("4", "473"),
    ]
    assert [r["lead"] for r in policies] == [
        "要求企业收集并共享互联的部署后监控数据。",
        "监控应触发自动关闭的令人担忧的模型特征的激活。",
        "收集人工智能系统接入关键基础设施的有关数据。",
        "投资技术治理手段，以增加智能体系统的可见性。",
    ]
    for r in policies:
        assert lines[int(r["line"]) - 1].startswith("- " + r["lead"])
    goals = rows(
        kg,
        "SELECT ?pos ?line WHERE { ?g idais:inArea area:domestic-governance ; idais:position ?pos ; "
        "idais:sourceLocation/idais:startLine ?line } ORDER BY ?pos",
    )
    assert [(r["pos"], r["line"]) for r in goals] == [
        ("1", "329"),
        ("2", "353"),
        ("3", "386"),
        ("4", "413"),
        ("5", "442"),
        ("6", "475"),
    ]
    quotes = rows(kg, f"SELECT ?q ?pos WHERE {{ ?q idais:quoteOf <{GOAL}> ; idais:position ?pos }}")
    assert quotes == [{"q": ED + "quote/post-deployment-monitoring/venice-2024", "pos": "1"}]


@pytest.mark.parametrize(
    "pattern",
    ["?i idais:policyOf ?parent", "?i idais:quoteOf ?parent", "?i a idais:Goal ; idais:inArea ?parent"],
)
def test_positions_are_one_to_n_without_ties(kg: KnowledgeGraph, pattern: str) -> None:
    counts = rows(
        kg,
        f"SELECT ?parent (COUNT(?i) AS ?n) (COUNT(DISTINCT ?pos) AS ?d) (MIN(?pos) AS ?lo) (MAX(?pos) AS ?hi) "
        f"WHERE {{ {pattern} . ?i idais:position ?pos }} GROUP BY ?parent",
    )
    assert counts and all(r["n"] == r["d"] == r["hi"] and r["lo"] == "1" for r in counts), counts
    unpositioned = rows(kg, f"SELECT ?i WHERE {{ {pattern} FILTER NOT EXISTS {{ ?i idais:position ?pos }} }}")
    assert unpositioned == []


def test_ontology_says_which_terms_are_inverses_and_kinds(kg: KnowledgeGraph) -> None:
    kinds = rows(
        kg,
        f"SELECT ?p WHERE {{ GRAPH kg:graph\\/ontology {{ ?p <{RDFS}subPropertyOf> idais:matchesPolicy }} }} ORDER BY ?p",
    )
    assert [r["p"] for r in kinds] == [
        IDAIS + "matchesPolicyInOtherWording",
        IDAIS + "matchesPolicyUpToSpacing",
        IDAIS + "matchesPolicyVerbatim",
    ]
    # naming another action is not a match of any kind
    assert kg.sparql("ASK { idais:inSlotOfPolicy rdfs:subPropertyOf* idais:matchesPolicy }") is False


# ---------------------------------------------------------------------------------------------------------------
# Footnote markers: in the verbatim text, in no translation
# ---------------------------------------------------------------------------------------------------------------

MARKER = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]|\^\{[\d ]+\}")


def test_no_translation_carries_a_footnote_marker(kg: KnowledgeGraph) -> None:
    marked = rows(kg, "SELECT ?s ?t WHERE { ?s idais:translation ?t }")
    assert len(marked) >= 173  # every translated text of release 1.0.0
    assert [r["s"] for r in marked if MARKER.search(r["t"])] == []


def test_the_texts_that_carry_markers_keep_them_verbatim(kg: KnowledgeGraph) -> None:
    """The verbatim text keeps the markers the translation drops: policy fund-safety-case-research (line 313) prints
    ^{40 41 42} after …“阴谋”这一领域的安全案例。; its translation ends with "scheming”." and no marker."""
    found = rows(
        kg,
        "SELECT ?v ?t WHERE { ed:policy\\/fund-safety-case-research idais:verbatimText ?v ; idais:translation ?t }",
    )
    assert len(found) == 1
    assert "^{40 41 42}" in found[0]["v"]
    assert found[0]["t"].endswith("scheming”.")
