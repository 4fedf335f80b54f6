"""Fidelity of the body of the guide and of its entities (issue 14, part B), checked against the source text.

One block per capability: mentions by one rule (docs/modelling.md, "Mentions: one rule"), quantities with their
qualifiers and asWritten spans, stated dates and printed dates of instruments, printed links, organisations by kind.
Line numbers are 1-based lines of data/source/idais-policy-guide-2025-02.zh.txt.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.validation.validate import validate

KG = "https://w3id.org/idais-kg/id/"
ED = KG + "guide/2025-02/"
IDAIS = "https://w3id.org/idais-kg/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
GUIDE = f"<{KG}graph/guide>"
EDITORIAL = f"<{KG}graph/editorial>"
KINDS = ("organisation/", "jurisdiction/", "instrument/", "initiative/")


def short(iri: str) -> str:
    return iri.replace(ED, "").replace(KG, "")


def lines_of(kg: KnowledgeGraph, resource: str) -> tuple[int, int]:
    rows = kg.sparql(
        f"SELECT ?s ?e WHERE {{ <{resource}> idais:sourceLocation ?l . ?l idais:startLine ?s ; idais:endLine ?e }}"
    ).rows
    assert len(rows) == 1, resource
    return int(rows[0]["s"].value), int(rows[0]["e"].value)


# ----------------------------------------------------------------------------------------------------------------
# Mentions: one rule
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def labels(kg: KnowledgeGraph) -> dict[str, set[str]]:
    """Every name of every organisation, jurisdiction, instrument and initiative: zh prefLabel and altLabels."""
    rows = kg.sparql(
        "SELECT ?e ?l WHERE { { ?e skos:prefLabel ?l FILTER (LANG(?l) = 'zh') } UNION { ?e skos:altLabel ?l } }"
    ).rows
    names: dict[str, set[str]] = {}
    for row in rows:
        entity = short(row["e"].value)
        if entity.startswith(KINDS):
            names.setdefault(entity, set()).add(row["l"].value)
    return names


@pytest.fixture(scope="module")
def body_texts(kg: KnowledgeGraph) -> dict[str, tuple[str, set[str]]]:
    """The body's texts (quotes, assessments, policies, sections, paragraphs): verbatim text and what they mention."""
    rows = kg.sparql(
        f"""SELECT ?t ?text WHERE {{
          VALUES ?c {{ idais:Quote idais:ProgressAssessment idais:PotentialPolicy idais:Section idais:Paragraph }}
          GRAPH {GUIDE} {{ ?t a ?c ; idais:verbatimText ?text }} FILTER (LANG(?text) = 'zh') }}"""
    ).rows
    texts = {short(r["t"].value): (r["text"].value, set()) for r in rows}
    for row in kg.sparql("SELECT ?t ?e WHERE { ?t schema:mentions|idais:namesExample ?e }").rows:
        if short(row["t"].value) in texts and short(row["e"].value).startswith(KINDS):
            texts[short(row["t"].value)][1].add(short(row["e"].value))
    return texts


def occurrences(text: str, labels: dict[str, set[str]]) -> list[tuple[int, int, str]]:
    """Where each name is printed in ``text`` (a Latin-script name only as a whole word)."""
    found = []
    for entity, names in labels.items():
        for name in names:
            for m in re.finditer(re.escape(name), text):
                latin = re.fullmatch(r"[A-Za-z0-9 .,'-]+", name)
                if latin and re.match(
                    r"[A-Za-z]", text[m.start() - 1 : m.start()] + text[m.end() : m.end() + 1]
                ):
                    continue
                found.append((m.start(), m.end(), entity))
    return found


def named(text: str, labels: dict[str, set[str]]) -> set[str]:
    """What a text names by rules 1 and 2: every printed name, but a jurisdiction only where its name is not part
    of a longer printed name of another entity."""
    occ = occurrences(text, labels)
    result = set()
    for start, end, entity in occ:
        inside = any(
            o[2] != entity and o[0] <= start and end <= o[1] and o[1] - o[0] > end - start for o in occ
        )
        if not (entity.startswith("jurisdiction/") and inside):
            result.add(entity)
    return result


# Mentions that the mechanical reading of rules 1-2 cannot see, each with its rule (docs/modelling.md)
NAMED_WITHOUT_A_LABEL = {
    # rule 3: 中美政府间国际对话 (line 526) names China and the United States
    ("assessment/ai-safety-as-global-public-good", "jurisdiction/united-states"),
    # rule 4: 英国和美国人工智能安全研究所国际组织网络谅解备忘录 (line 132) names both institutes
    ("assessment/international-safety-cooperation", "organisation/uk-aisi"),
    # 英国为其人工智能安全研究所 (line 89): the institute's name, 人工智能安全研究所, with the possessive 其 (the UK's)
    ("policy/fund-ai-safety-institutes", "organisation/uk-aisi"),
    # rule 4: 违反生物或化学武器公约 (line 200) names both conventions
    ("quote/red-lines-and-early-warning-thresholds/beijing-2024", "instrument/biological-weapons-convention"),
}


def test_the_body_has_its_texts(body_texts: dict[str, tuple[str, set[str]]]) -> None:
    kinds = {name.split("/")[0] for name in body_texts}
    assert kinds == {"quote", "assessment", "policy", "section", "paragraph"}
    # 29 quotes, 15 assessments, 56 policies, 3 sections with text, 5 paragraphs
    assert len(body_texts) == 108
    assert sum(len(m) for _, m in body_texts.values()) == 137


def test_every_mention_is_a_naming(
    body_texts: dict[str, tuple[str, set[str]]], labels: dict[str, set[str]]
) -> None:
    """Rules 1-4: each mention of a body text is a name printed in it (or one of the listed cases of rules 3-4)."""
    unnamed = {
        (text, entity)
        for text, (verbatim, mentions) in body_texts.items()
        for entity in mentions - named(verbatim, labels)
    }
    assert unnamed == NAMED_WITHOUT_A_LABEL


def test_every_naming_is_a_mention(
    body_texts: dict[str, tuple[str, set[str]]], labels: dict[str, set[str]]
) -> None:
    """Each entity a body text names by rules 1-2 is mentioned by it; a place inside another name is not."""
    missing = {
        (text, entity)
        for text, (verbatim, mentions) in body_texts.items()
        for entity in named(verbatim, labels) - mentions
    }
    assert missing == set()


def test_allusions_are_not_mentions(body_texts: dict[str, tuple[str, set[str]]]) -> None:
    # line 77: 继续召开峰会 (keep holding summits) does not name the AI Summits (first named at line 526)
    assert "initiative/ai-summits" not in body_texts["quote/ai-safety-rd-resources/venice-2024"][1]
    # line 218: 根据行政命令要求 and 几家美国企业已自愿承诺 allude to the executive order and the White House commitments
    assert body_texts["policy/require-frontier-model-evaluations-and-sharing"][1] == {
        "jurisdiction/united-states",
        "instrument/eu-ai-act",
    }
    # line 270: 开源评估框架 does not name Inspect (named in footnote 34, line 280)
    assert "initiative/uk-aisi-inspect" not in body_texts["policy/shared-evaluation-infrastructure"][1]
    # line 502: 公开信 does not name the right-to-warn letter (named in footnote 67, line 508)
    assert "instrument/right-to-warn-letter" not in body_texts["policy/right-to-warn-for-ai-practitioners"][1]


def test_places_inside_names_are_not_mentions(body_texts: dict[str, tuple[str, set[str]]]) -> None:
    # line 89: 美国人工智能安全研究所 (the US only inside the name); 英国为其… and 英国总额 name the UK on their own
    assert body_texts["policy/fund-ai-safety-institutes"][1] == {
        "organisation/uk-aisi",
        "organisation/us-aisi",
        "jurisdiction/united-kingdom",
    }
    # line 95: 中国社会科学院法学研究所; line 98: 英国人工智能安全研究所; line 262: 《欧盟人工智能法》
    assert body_texts["policy/tax-credits-for-safety-research"][1] == {
        "organisation/cass-institute-of-law",
        "instrument/model-ai-law-mail",
    }
    assert body_texts["policy/calls-for-third-party-safety-research"][1] == {"organisation/uk-aisi"}
    assert body_texts["assessment/third-party-audit-and-evaluation"][1] == {"instrument/eu-ai-act"}
    # line 588: 中国全球人工智能治理倡议, G7广岛程序 and 联合国高级别咨询机构: the place is not named, the organisations are
    agreements = body_texts["assessment/international-agreements-and-institutions"][1]
    assert "jurisdiction/china" not in agreements
    assert {"organisation/g7", "organisation/un", "organisation/un-hlab"} <= agreements


def test_two_country_shorthands(body_texts: dict[str, tuple[str, set[str]]]) -> None:
    # line 526: 中美政府间国际对话 names both countries (and 中国顶尖专家 China again)
    public_good = body_texts["assessment/ai-safety-as-global-public-good"]
    assert "中美政府间国际对话" in public_good[0]
    assert {"jurisdiction/china", "jurisdiction/united-states"} <= public_good[1]
    # line 178: 美苏 inside the name 美苏联合验证试验 names neither country
    verification = body_texts["policy/international-verification-projects"]
    assert "1988年美苏联合验证试验" in verification[0]
    assert verification[1] == {
        "initiative/us-soviet-joint-verification-experiment",
        "instrument/threshold-test-ban-treaty",
    }


# Entities whose first naming is not their first printing in the text, or that the mechanical reading cannot find
FIRST_NAMED = {
    "initiative/ai-summits": 526,  # 人工智能峰会（AI Summits）; line 77 only alludes (峰会)
    "initiative/uk-aisi-inspect": 280,  # footnote 34; line 270 only describes it (开源评估框架)
    "instrument/right-to-warn-letter": 508,  # footnote 67; line 502 only describes it (公开信)
    "instrument/us-executive-order-ai-2023": 228,  # footnote 24's English title; line 218 only alludes (行政命令)
    "jurisdiction/united-states": 112,  # footnote 3 (在美国等国家); line 89 only inside 美国人工智能安全研究所
    "jurisdiction/china": 140,  # 和中国20个组织; line 95 only inside 中国社会科学院法学研究所
    "jurisdiction/california": 110,  # footnote 2 (在加利福尼亚州); line 13 only inside 加州大学伯克利分校
    "jurisdiction/european-union": 341,  # 在欧盟和美国; line 218 only inside 《欧盟人工智能法》
    "jurisdiction/soviet-union": 536,  # 与苏联共享; line 178 only inside 美苏联合验证试验
    "jurisdiction/united-kingdom": 89,  # 英国为其人工智能安全研究所
}
# named where the mechanical reading sees no name (rule 4, the possessive), or never named on its own
FIRST_NAMED_BY_HAND = {
    "organisation/uk-aisi": 89,  # 英国为其人工智能安全研究所 (its full name first at line 98)
    "instrument/biological-weapons-convention": 200,  # 生物或化学武器公约 (rule 4)
    "initiative/permissive-action-links": 536,  # line 63's 人工智能允许行动联系机制 is the AI analogue, not the PALs
    "jurisdiction/singapore": 270,  # printed only inside names: its first printing (新加坡人工智能Verify基金会)
}


def first_naming(entity: str, source_lines: list[str], labels: dict[str, set[str]]) -> int | None:
    own = {entity: labels[entity]}
    for number, line in enumerate(source_lines, 1):
        if not occurrences(line, own):
            continue
        if entity in named(line, labels):
            return number
    return None


def test_source_location_is_the_first_naming(
    kg: KnowledgeGraph, source_lines: list[str], labels: dict[str, set[str]]
) -> None:
    for entity, line in FIRST_NAMED.items():
        assert first_naming(entity, source_lines, labels) == line, entity
    wrong = {}
    for entity in labels:
        expected = FIRST_NAMED_BY_HAND.get(entity) or first_naming(entity, source_lines, labels)
        if lines_of(kg, KG + entity)[1] != expected:
            wrong[entity] = (lines_of(kg, KG + entity), expected)
    assert wrong == {}


def test_goals_mentioning_counts_footnotes(kg: KnowledgeGraph) -> None:
    """The saved query covers every text of a goal: California is named only in footnote 2 (line 110)."""
    rows = kg.query("goals-mentioning", entity="jurisdiction:california").rows
    assert [(short(r["goal"].value), r["mentions"].value, r["footnotes"].value) for r in rows] == [
        ("goal/ai-safety-rd-resources", "1", "1")
    ]
    # the 2023 executive order: footnote 43 (line 347) of goal domestic-model-registration, the policy at line 472
    rows = kg.query("goals-mentioning", entity="instrument:us-executive-order-ai-2023").rows
    counts = {short(r["goal"].value): (r["mentions"].value, r["footnotes"].value) for r in rows}
    assert counts["goal/domestic-model-registration"] == ("1", "1")
    assert int(counts["goal/post-deployment-monitoring"][0]) >= 1


# ----------------------------------------------------------------------------------------------------------------
# Quantities
# ----------------------------------------------------------------------------------------------------------------

THIRD = Decimal(1) / Decimal(3)
BODY_QUANTITIES = {
    # line 85: 约400亿美元, 10亿美元, 不到总金额的0.5%
    "assessment/ai-safety-rd-resources#q1": (Decimal("40000000000"), "USD", "Approximately", "约400亿美元"),
    "assessment/ai-safety-rd-resources#q2": (Decimal("1000000000"), "USD", None, "10亿美元"),
    "assessment/ai-safety-rd-resources#q3": (Decimal("0.005"), "share", "LessThan", "不到总金额的0.5%"),
    # lines 89, 93: 超1亿美元, 约10%
    "policy/fund-ai-safety-institutes#q1": (Decimal("100000000"), "USD", "MoreThan", "超1亿美元"),
    "policy/fund-ai-safety-institutes#q2": (Decimal("0.1"), "share", "Approximately", "约10%"),
    # line 95: 至少是……的30%
    "policy/tax-credits-for-safety-research#q1": (
        Decimal("0.3"),
        "share",
        "AtLeast",
        "至少是人工智能开发商和供应商研发或采购用于安全和治理目的装备费用的30%",
    ),
    # line 98: 1000万美元; line 282: 10亿美元
    "policy/calls-for-third-party-safety-research#q1": (Decimal("10000000"), "USD", None, "1000万美元"),
    "policy/compute-and-api-credits-for-evaluators#q1": (Decimal("1000000000"), "USD", None, "10亿美元"),
    # line 140: 在13年的时间里, 20个组织
    "policy/global-joint-research-projects#q1": (Decimal("13"), "year", None, "13年"),
    "policy/global-joint-research-projects#q2": (Decimal("20"), "organisation", None, "20个组织"),
    # lines 73, 75: 三分之一的最低支出承诺 (最低 qualifies the commitment), 至少三分之一
    "quote/ai-safety-rd-resources/oxford-2023#q1": (THIRD, "share", None, "三分之一"),
    "quote/ai-safety-rd-resources/beijing-2024#q1": (THIRD, "share", "AtLeast", "至少三分之一"),
}
QUALIFIER_WORDS = {
    "Approximately": ("约", "大约"),
    "MoreThan": ("超", "超过", "逾"),
    "Nearly": ("近", "将近", "接近"),
    "LessThan": ("不到", "不足", "少于"),
    "AtLeast": ("至少",),
}


@pytest.fixture(scope="module")
def body_quantities(kg: KnowledgeGraph) -> dict[str, tuple[Decimal, str, str | None, str, str]]:
    rows = kg.sparql(
        """SELECT ?r ?q ?v ?unit ?qual ?w WHERE {
          ?r idais:statesQuantity ?q . ?q schema:value ?v ; idais:asWritten ?w ; schema:currency|schema:unitText ?unit .
          OPTIONAL { ?q idais:valueQualifier ?qual }
          FILTER NOT EXISTS { ?r a idais:Footnote } FILTER NOT EXISTS { ?r a idais:Source } }"""
    ).rows
    return {
        short(r["q"].value): (
            Decimal(r["v"].value),
            r["unit"].value,
            r["qual"].value.replace(IDAIS, "") if "qual" in r else None,
            r["w"].value,
            short(r["r"].value),
        )
        for r in rows
    }


def test_every_body_amount_is_a_quantity(
    body_quantities: dict[str, tuple[Decimal, str, str | None, str, str]],
) -> None:
    found = {}
    for q, (value, unit, qualifier, written, _) in body_quantities.items():
        if unit == "share" and abs(value - THIRD) < Decimal("1e-12"):
            value = THIRD
        found[q] = (value, unit, qualifier, written)
    assert found == BODY_QUANTITIES


def test_quantities_are_cut_by_one_rule(
    kg: KnowledgeGraph,
    source_lines: list[str],
    body_quantities: dict[str, tuple[Decimal, str, str | None, str, str]],
) -> None:
    """asWritten runs from the qualifier word (if any) through the unit, as printed in its resource's lines, and the
    qualifier is the one its word says; no qualifier word stands just before a span that has none."""
    for q, (_, _, qualifier, written, resource) in body_quantities.items():
        start, end = lines_of(kg, ED + resource)
        text = "".join(source_lines[start - 1 : end])
        assert written in text, q
        word = next((w for k, ws in QUALIFIER_WORDS.items() for w in ws if written.startswith(w)), None)
        assert qualifier == next((k for k, ws in QUALIFIER_WORDS.items() if word in ws), None), q
        before = text[: text.index(written)]
        assert not any(before.endswith(w) for ws in QUALIFIER_WORDS.values() for w in ws), q


def test_value_qualifiers_are_in_the_ontology(kg: KnowledgeGraph) -> None:
    rows = kg.sparql(
        "SELECT ?q ?zh WHERE { ?q a idais:ValueQualifier ; rdfs:label ?zh FILTER (LANG(?zh) = 'zh') } ORDER BY ?q"
    ).rows
    assert {r["q"].value.replace(IDAIS, ""): r["zh"].value for r in rows} == {
        "Approximately": "约",
        "AtLeast": "至少",
        "LessThan": "不到",
        "MoreThan": "超过",
        "Nearly": "将近",
    }


# ----------------------------------------------------------------------------------------------------------------
# Dates
# ----------------------------------------------------------------------------------------------------------------

STATED_DATES = {
    # what it dates, the first dialogue, is the editors' reading (data/editorial/body-dates.ttl)
    "section/about-us#d1": ("2023-10", "gYearMonth", "2023年10月", "dialogue/oxford-2023", 13),
    "section/introduction#d1": ("2023", "gYear", "自2023年底以来", None, 23),
    "policy/international-verification-projects#d1": (
        "1988",
        "gYear",
        "1988年",
        "initiative/us-soviet-joint-verification-experiment",
        178,
    ),
    "policy/international-verification-projects#d2": (
        "1974",
        "gYear",
        "1974年以来",
        "instrument/threshold-test-ban-treaty",
        178,
    ),
    "assessment/third-party-audit-and-evaluation#d1": (
        "2026",
        "gYear",
        "到2026年",
        "instrument/eu-ai-act",
        262,
    ),
    "policy/critical-infrastructure-ai-usage-data#d1": (
        "2023",
        "gYear",
        "2023年",
        "instrument/us-executive-order-ai-2023",
        472,
    ),
    "policy/shield-safety-cooperation-from-geopolitical-competition#d1": (
        "2019",
        "gYear",
        "2019年",
        "instrument/us-export-controls-huawei-2019",
        532,
    ),
}


def test_dates_in_running_text_are_typed(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    rows = kg.sparql(
        """SELECT ?d ?v ?w ?what ?line WHERE {
          ?r idais:statesDate ?d . ?d idais:dateValue ?v ; idais:asWritten ?w ; idais:sourceLocation/idais:endLine ?line .
          OPTIONAL { ?d idais:dates ?what } }"""
    ).rows
    found = {
        short(r["d"].value): (
            r["v"].value,
            r["v"].datatype.value.replace(XSD, ""),
            r["w"].value,
            short(r["what"].value) if "what" in r else None,
            int(r["line"].value),
        )
        for r in rows
    }
    assert found == STATED_DATES
    for value, _, written, _, line in found.values():
        assert written in source_lines[line - 1]
        assert value[:4] in written
    editorial = kg.sparql(f"SELECT ?d ?what WHERE {{ GRAPH {EDITORIAL} {{ ?d idais:dates ?what }} }}").rows
    assert [(short(r["d"].value), short(r["what"].value)) for r in editorial] == [
        ("section/about-us#d1", "dialogue/oxford-2023")
    ]
    deadlines = kg.sparql("SELECT ?d WHERE { ?d a idais:Deadline , idais:StatedDate }").values("d")
    assert [short(d) for d in deadlines] == ["assessment/third-party-audit-and-evaluation#d1"]


# (instrument, value, datatype, line where printed)
ISSUED = {
    "instrument/eu-ai-act": ("2024", "gYear", 232),  # 'EU AI Act', § 55 (2024)
    "instrument/us-executive-order-ai-2023": ("2023", "gYear", 472),  # 拜登政府2023年人工智能行政命令
    # White House, September 2023 (the bibliography; footnote 25 prints n.d.)
    "instrument/white-house-voluntary-ai-commitments": ("2023-09", "gYearMonth", 726),
    "instrument/model-ai-law-mail": ("2024-04-16", "date", 114),  # 16 April 2024
    "instrument/omb-ai-memo-2023": ("2023-11-01", "date", 116),  # 1 November 2023
    "instrument/us-export-controls-huawei-2019": ("2019", "gYear", 532),  # 2019年美国对于华为的出口管制
    "instrument/right-to-warn-letter": ("2024-06-04", "date", 508),  # 4 June 2024
}
PRINTED_AS = {"2024": "2024", "2023": "2023", "2023-09": "September 2023", "2024-04-16": "16 April 2024"}
PRINTED_AS |= {"2023-11-01": "1 November 2023", "2019": "2019年", "2024-06-04": "4 June 2024"}


def test_instruments_have_their_printed_dates(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    rows = kg.sparql(
        "SELECT ?i ?v WHERE { ?i a idais:Instrument ; dcterms:issued ?v . "
        "FILTER (STRSTARTS(STR(?i), 'https://w3id.org/idais-kg/id/instrument/')) }"
    ).rows
    found = {short(r["i"].value): (r["v"].value, r["v"].datatype.value.replace(XSD, "")) for r in rows}
    assert found == {i: (v, t) for i, (v, t, _) in ISSUED.items()}
    for instrument, (value, _, line) in ISSUED.items():
        assert PRINTED_AS[value] in source_lines[line - 1], instrument
        notes = kg.sparql(f"SELECT ?n WHERE {{ <{KG}{instrument}> skos:editorialNote ?n }}").values("n")
        assert any(f"line {line}" in n and n.startswith("Date issued") for n in notes), instrument
    # the treaty's 1974 is when it stalled (line 178), not printed as its date: a stated date, no dcterms:issued
    assert "instrument/threshold-test-ban-treaty" not in found


# ----------------------------------------------------------------------------------------------------------------
# Printed links
# ----------------------------------------------------------------------------------------------------------------


def printed_links_in_body(source_lines: list[str]) -> list[tuple[int, str, str]]:
    """Every [text](target) of the body: before the bibliography (line 608), outside the footnote blocks."""
    links = []
    for number, line in enumerate(source_lines[:607], 1):
        if re.match(r"^[¹²³⁴⁵⁶⁷⁸⁹⁰]", line):
            continue
        links += [(number, m.group(1), m.group(2)) for m in re.finditer(r"\[([^\]]*)\]\(([^)]*)\)", line)]
    return links


def test_every_printed_link_of_the_body_is_recorded(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    rows = kg.sparql(
        """SELECT ?r ?link ?text ?target ?line ?labels ?verbatim WHERE {
          ?r idais:hasPrintedLink ?link ; idais:verbatimText ?verbatim FILTER (LANG(?verbatim) = 'zh')
          ?link idais:linkText ?text ; idais:linkTargetAsWritten ?target ; idais:sourceLocation/idais:startLine ?line .
          OPTIONAL { ?link idais:labels ?labels } }"""
    ).rows
    assert sorted((int(r["line"].value), r["text"].value, r["target"].value) for r in rows) == sorted(
        printed_links_in_body(source_lines)
    )
    assert printed_links_in_body(source_lines) == [
        (17, "人工智能安全部国际论坛", "#"),
        (17, "Fynn Heide", "#"),
        (17, "Conor McGurk", "#"),
        (23, "人工智能安全部际对话", "#"),
        (266, "人工智能研发", "#"),
    ]
    for row in rows:
        assert row["text"].value in row["verbatim"].value  # the verbatim text keeps the link text
    labelled = {short(r["link"].value): short(r["labels"].value) for r in rows if "labels" in r}
    assert labelled == {
        "section/safe-ai-forum#link1": "organisation/safe-ai-forum",
        "section/introduction#link1": "organisation/idais",
    }


@pytest.fixture(scope="module")
def report(kg: KnowledgeGraph):  # type: ignore[no-untyped-def]
    return validate(kg, reasoner=False)


def test_lost_link_targets_are_reported(report) -> None:  # type: ignore[no-untyped-def]
    lost = sorted(
        (short(f.focus), f.severity, f.message)
        for f in report.findings
        if f.source.endswith("PrintedLinkTargetLost")
    )
    assert [(focus, severity) for focus, severity, _ in lost] == [
        ("paragraph/third-party-audit-and-evaluation-policies-note#link1", "Warning"),
        ("section/introduction#link1", "Warning"),
        ("section/safe-ai-forum#link1", "Warning"),
        ("section/safe-ai-forum#link2", "Warning"),
        ("section/safe-ai-forum#link3", "Warning"),
    ]
    assert next(m for _, _, m in lost) == (
        'The link on "人工智能研发" (line 266) has the target "#": the PDF linked it, the conversion lost where to.'
    )


# ----------------------------------------------------------------------------------------------------------------
# Organisations by kind
# ----------------------------------------------------------------------------------------------------------------

KIND_CLASSES = (
    "Company",
    "GovernmentBody",
    "ResearchInstitute",
    "IntergovernmentalOrganisation",
    "NonProfit",
)


def kinds_in(kg: KnowledgeGraph, graph: str) -> dict[str, set[str]]:
    rows = kg.sparql(f"SELECT ?o ?k WHERE {{ GRAPH {graph} {{ ?o a ?k }} }}").rows
    kinds: dict[str, set[str]] = {}
    for row in rows:
        kind = row["k"].value.replace(IDAIS, "")
        if kind in (*KIND_CLASSES, "AISafetyInstitute"):
            kinds.setdefault(short(row["o"].value), set()).add(kind)
    return kinds


def test_every_organisation_has_a_kind(kg: KnowledgeGraph) -> None:
    organisations = {short(o) for o in kg.sparql("SELECT ?o WHERE { ?o a idais:Organisation }").values("o")}
    guide, editorial = kinds_in(kg, GUIDE), kinds_in(kg, EDITORIAL)
    assert set(guide) | set(editorial) == organisations
    assert set(guide) & set(editorial) == set()  # the guide's kinds are not repeated as ours
    # 兰德公司 (line 536): a non-profit research organisation, not a company
    assert editorial["organisation/rand"] == {"ResearchInstitute", "NonProfit"}
    assert editorial["organisation/uk-aisi"] == {"AISafetyInstitute", "GovernmentBody"}
    assert editorial["organisation/openai"] == {"Company"}


def test_kinds_the_text_states(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    """The guide's own kinds: 腾讯和阿里巴巴等中国企业 (line 452), 一些人工智能企业，如Anthropic (line 313); for OpenAI
    (人工智能开发商, line 452) and BCS (行业协会, line 497) the noun is the guide's, the class ours."""
    assert kinds_in(kg, GUIDE) == {
        "organisation/tencent": {"Company"},
        "organisation/alibaba": {"Company"},
        "organisation/anthropic": {"Company"},
    }
    rows = kg.sparql(
        f"SELECT ?o ?w ?line WHERE {{ GRAPH {GUIDE} {{ ?o idais:kindAsWritten ?w ; idais:kindStatedIn ?l }} "
        "BIND (xsd:integer(STRAFTER(STR(?l), ',')) AS ?line) }"
    ).rows
    stated = {short(r["o"].value): (r["w"].value, int(r["line"].value)) for r in rows}
    assert stated == {
        "organisation/tencent": ("中国企业", 452),
        "organisation/alibaba": ("中国企业", 452),
        "organisation/anthropic": ("人工智能企业", 313),
        "organisation/openai": ("人工智能开发商", 452),
        "organisation/bcs": ("行业协会", 497),
    }
    for written, line in stated.values():
        assert written in source_lines[line - 1]
    assert "腾讯和阿里巴巴等中国企业" in source_lines[451]
    assert "一些人工智能企业，如Anthropic" in source_lines[312]


def test_kind_classes_are_aligned(kg: KnowledgeGraph) -> None:
    rows = kg.sparql(
        "SELECT ?c ?m WHERE { ?c rdfs:subClassOf idais:Organisation . OPTIONAL { ?c skos:closeMatch ?m } }"
    ).rows
    aligned: dict[str, set[str]] = {}
    for row in rows:
        aligned.setdefault(row["c"].value.replace(IDAIS, ""), set())
        if "m" in row:
            aligned[row["c"].value.replace(IDAIS, "")].add(
                row["m"].value.replace("https://schema.org/", "schema:")
            )
    assert aligned == {
        "Company": {"schema:Corporation"},
        "GovernmentBody": {"schema:GovernmentOrganization"},
        "ResearchInstitute": {"schema:ResearchOrganization", "schema:CollegeOrUniversity"},
        "IntergovernmentalOrganisation": set(),
        "NonProfit": {"schema:NGO"},
    }
