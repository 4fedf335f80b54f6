"""Completeness and fidelity of the graph, checked against the shipped source text itself."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.namespaces import GRAPH_GUIDE, GRAPH_TRANSLATIONS
from idais_kg.sources.verbatim import location_text, paragraphs

FOOTNOTE_LINE = re.compile(r"^([⁰¹²³⁴⁵⁶⁷⁸⁹]+)\s")
SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
GOAL_HEADINGS = {  # heading line in the source -> goal slug (checked against the text below)
    69: "ai-safety-rd-resources",
    102: "international-safety-cooperation",
    150: "verification-methods-research",
    190: "red-lines-and-early-warning-thresholds",
    241: "third-party-audit-and-evaluation",
    285: "safety-cases-and-assurances",
    329: "domestic-model-registration",
    353: "large-data-centre-monitoring",
    386: "ai-incident-tracking-and-reporting",
    413: "risk-management-and-evaluation-practices",
    442: "post-deployment-monitoring",
    475: "professional-ethics-for-ai-practitioners",
    514: "ai-safety-as-global-public-good",
    539: "global-red-line-standards-and-market-access",
    568: "international-agreements-and-institutions",
}
BIBLIOGRAPHY_START = 608
GOAL = "https://w3id.org/idais-kg/id/goal/"


def rows(kg: KnowledgeGraph, sparql: str) -> list[dict[str, str]]:
    result = kg.sparql(sparql)
    return [{k: v.value for k, v in r.items()} for r in result.rows]


def policy_bullets_in_source(lines: list[str]) -> Counter[str]:
    """Count top-level bullets under each goal's 潜在政策 heading, straight from the text."""
    counts: Counter[str] = Counter()
    starts = sorted(GOAL_HEADINGS)
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else BIBLIOGRAPHY_START
        section = lines[start - 1 : end - 1]
        in_policies = False
        for line in section:
            if line == "潜在政策":
                in_policies = True
            elif in_policies and line.startswith("- "):
                counts[GOAL_HEADINGS[start]] += 1
    return counts


def test_goal_headings_are_where_the_table_says(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    found = rows(kg, "SELECT ?g ?t WHERE { ?g a idais:Goal ; skos:prefLabel ?t . FILTER(LANG(?t)='zh') }")
    by_slug = {r["g"].removeprefix(GOAL): r["t"] for r in found}
    assert len(by_slug) == 15
    for line, slug in GOAL_HEADINGS.items():
        assert source_lines[line - 1] == by_slug[slug]


def test_four_areas_each_goal_in_one(kg: KnowledgeGraph) -> None:
    areas = rows(
        kg, "SELECT ?a (COUNT(?g) AS ?n) WHERE { ?a a idais:PolicyArea . ?g idais:inArea ?a } GROUP BY ?a"
    )
    assert {r["a"].rsplit("/", 1)[1]: int(r["n"]) for r in areas} == {
        "safety-research": 3,
        "testing-evaluation": 3,
        "domestic-governance": 6,
        "international-governance": 3,
    }
    multi = rows(kg, "SELECT ?g WHERE { ?g idais:inArea ?a, ?b FILTER(?a != ?b) }")
    assert multi == []


def test_each_goal_has_exactly_one_assessment_of_the_edition(kg: KnowledgeGraph) -> None:
    found = rows(
        kg,
        "SELECT ?g (COUNT(?x) AS ?n) WHERE { ?g a idais:Goal . OPTIONAL { ?x idais:assessmentOf ?g ; "
        "idais:inEdition <https://w3id.org/idais-kg/id/guide/2025-02> } } GROUP BY ?g",
    )
    assert len(found) == 15
    assert {int(r["n"]) for r in found} == {1}


def test_policies_per_goal_match_the_source(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    expected = policy_bullets_in_source(source_lines)
    # The PDF conversion merged the last policy of this goal into the paragraph of the one before (line 602).
    expected["international-agreements-and-institutions"] += 1
    found = rows(
        kg, "SELECT ?g (COUNT(?p) AS ?n) WHERE { ?p a idais:PotentialPolicy ; idais:policyOf ?g } GROUP BY ?g"
    )
    assert {r["g"].removeprefix(GOAL): int(r["n"]) for r in found} == dict(expected)
    assert sum(expected.values()) == 56


def test_merged_policy_is_its_own_resource(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    found = rows(
        kg,
        "SELECT ?p ?lead WHERE { ?p idais:leadPhrase ?lead FILTER(STRSTARTS(?lead, '就关键新兴安全标准')) }",
    )
    assert len(found) == 1
    merged_line = source_lines[601]
    assert merged_line.index("⁷⁷") < merged_line.index(found[0]["lead"])


def test_lead_phrase_opens_the_policy_text(kg: KnowledgeGraph) -> None:
    found = rows(
        kg,
        "SELECT ?p ?lead ?text WHERE { ?p a idais:PotentialPolicy ; idais:leadPhrase ?lead ; idais:verbatimText ?text "
        "FILTER(LANG(?lead)='zh') }",
    )
    assert len(found) == 56
    for r in found:
        assert r["text"].startswith(r["lead"].rstrip()), r["p"]
        assert r["lead"].rstrip().endswith("。"), r["p"]


def test_every_quote_occurs_verbatim(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    text = "\n".join(source_lines)
    quotes = rows(kg, "SELECT ?q ?t WHERE { ?q a idais:Quote ; idais:verbatimText ?t }")
    assert len(quotes) == 29
    for q in quotes:
        for part in q["t"].split("\n"):
            assert part in text, q["q"]


def test_quote_attributions_are_printed_after_the_quote(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    found = rows(
        kg,
        "SELECT ?q ?a ?name WHERE { ?q idais:attributionAsWritten ?a ; idais:dialogueNameAsWritten ?name }",
    )
    assert len(found) == 29
    flat = "".join(source_lines)
    for r in found:
        assert r["a"] in flat, r["q"]
        assert r["name"] in r["a"]


def test_every_text_occurs_at_its_source_location(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    found = rows(
        kg,
        "SELECT ?s ?t ?start ?end WHERE { ?s idais:verbatimText ?t ; idais:sourceLocation ?l . "
        "?l idais:startLine ?start ; idais:endLine ?end }",
    )
    # 29 quotes, 15 assessments, 56 policies, 78 footnotes, 76 bibliography entries, 5 red lines,
    # 5 paragraphs and 3 front-matter sections
    assert len(found) == 267
    missing = []
    for r in found:
        window = location_text(source_lines, int(r["start"]), int(r["end"]))
        missing += [(r["s"], p[:40]) for p in paragraphs(r["t"]) if p not in window]
    assert missing == []


def test_every_resource_from_the_text_has_a_location(kg: KnowledgeGraph) -> None:
    classes = [
        "Goal",
        "Quote",
        "ProgressAssessment",
        "PotentialPolicy",
        "Footnote",
        "BibliographyEntry",
        "OverviewRow",
        "Section",
        "Paragraph",
        "RedLine",
    ]
    for cls in classes:
        found = rows(
            kg, f"SELECT ?s WHERE {{ ?s a idais:{cls} FILTER NOT EXISTS {{ ?s idais:sourceLocation ?l }} }}"
        )
        assert found == [], cls


def test_footnotes_1_to_78_each_cited_once(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    numbers = [int(m[1].translate(SUPERSCRIPT)) for line in source_lines if (m := FOOTNOTE_LINE.match(line))]
    assert numbers == list(range(1, 79))
    found = rows(
        kg,
        "SELECT ?n (COUNT(?c) AS ?citers) WHERE { ?f idais:footnoteNumber ?n . OPTIONAL { ?c idais:hasFootnote ?f } } "
        "GROUP BY ?n",
    )
    assert sorted(int(r["n"]) for r in found) == list(range(1, 79))
    assert {int(r["citers"]) for r in found} == {1}


def test_footnote_markers_stand_in_their_citers(kg: KnowledgeGraph) -> None:
    found = rows(
        kg,
        "SELECT ?n ?t WHERE { ?c idais:hasFootnote ?f ; idais:verbatimText ?t . ?f idais:footnoteNumber ?n }",
    )
    assert len(found) == 78
    for r in found:
        n = r["n"]
        sup = n.translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
        assert sup in r["t"] or re.search(r"\^\{[\d ]*\b" + n + r"\b[\d ]*\}", r["t"]), n


def test_every_bibliography_entry(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    entries = [
        line
        for line in source_lines[BIBLIOGRAPHY_START:]
        if line.strip() and not line.startswith("[") and not re.match(r"^May 2024", line)
    ]
    assert len(entries) == 76
    found = rows(
        kg, "SELECT ?e ?t WHERE { ?e a idais:BibliographyEntry ; idais:verbatimText ?t ; biro:references ?s }"
    )
    assert len(found) == 76
    printed = {e.removeprefix("- ") for e in entries}
    assert {r["t"].split("\n")[0] for r in found} == printed


def test_overview_table_row_by_row(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    table = [line.split("\t") for line in source_lines[45:65] if "\t" in line and not line.startswith("类别")]
    assert len(table) == 15
    found = rows(
        kg,
        "SELECT ?n ?name ?cat WHERE { ?r a idais:OverviewRow ; idais:rowNumber ?n ; idais:goalNameAsWritten ?name "
        "OPTIONAL { ?r idais:categoryAsWritten ?cat } } ORDER BY ?n",
    )
    assert [int(r["n"]) for r in found] == list(range(1, 16))
    assert [r["name"] for r in found] == [cells[1] for cells in table]
    assert [r.get("cat", "") for r in found] == [cells[0] for cells in table]


def test_overview_entries_are_the_printed_items(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    found = rows(
        kg,
        "SELECT ?n ?pos ?text WHERE { ?r idais:rowNumber ?n ; idais:listsPolicy ?e . "
        "?e idais:position ?pos ; idais:textAsWritten ?text } ORDER BY ?n ?pos",
    )
    table = [line.split("\t") for line in source_lines[45:65] if "\t" in line and not line.startswith("类别")]
    printed = []
    for cells in table:
        items = re.sub(r"<[^>]+>", "", cells[2]).split("。")
        printed.append([i.strip() + "。" for i in items if i.strip()])
    assert sum(len(p) for p in printed) == len(found) == 55
    for r in found:
        assert r["text"] == printed[int(r["n"]) - 1][int(r["pos"]) - 1]


@pytest.mark.parametrize(
    "label",
    ["skos:prefLabel", "idais:leadPhrase", "dcterms:title"],
)
def test_labels_have_one_zh_and_one_en(kg: KnowledgeGraph, label: str) -> None:
    found = rows(
        kg,
        f"SELECT ?s (SUM(IF(LANG(?l)='zh',1,0)) AS ?zh) (SUM(IF(LANG(?l)='en',1,0)) AS ?en) "
        f"WHERE {{ GRAPH ?g {{ ?s {label} ?l }} FILTER(?g IN (<{GRAPH_GUIDE}>, <{GRAPH_TRANSLATIONS}>)) "
        f"FILTER(LANG(?l) != '') }} GROUP BY ?s",
    )
    bad = [r["s"] for r in found if (r["zh"], r["en"]) != ("1", "1")]
    assert bad == []


def test_english_lives_only_in_the_translations_graph(kg: KnowledgeGraph) -> None:
    found = rows(
        kg,
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/idais-kg/id/graph/guide> { ?s ?p ?o "
        "FILTER(LANGMATCHES(LANG(?o), 'en')) } }",
    )
    assert found[0]["n"] == "0"
