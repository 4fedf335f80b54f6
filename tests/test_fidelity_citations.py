"""Fidelity of the footnotes, the bibliography and the cited works (issue 14 part C, issue 15 point 3).

One test per capability, with the exact values the source text prints and the lines it prints them on (1-based,
as the build's idais:startLine): footnote kinds and languages, what footnotes mention, amounts in footnotes and in
titles, well-formed and misprinted DOIs, arXiv identifiers, identifier IRIs, the places and dates of each work.
"""

from __future__ import annotations

import re

import pytest
import rdflib

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.namespaces import GRAPH_DERIVED, GRAPH_EDITORIAL, GRAPH_GUIDE
from idais_kg.validation.validate import validate

KG = "https://w3id.org/idais-kg/id/"
ED = KG + "guide/2025-02/"
SOURCE = KG + "source/"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
ISH = rdflib.Namespace("https://w3id.org/idais-kg/shapes#")
URL = re.compile(r"https?://[^\s<>]+")


def rows(kg: KnowledgeGraph, text: str) -> list[dict[str, str]]:
    return [{k: v.value for k, v in row.items()} for row in kg.sparql(text).rows]  # type: ignore[union-attr]


def short(iri: str) -> str:
    return iri.replace(ED, "").replace(KG, "")


def printed(source_lines: list[str], line: str | int) -> str:
    return source_lines[int(line) - 1]


# ----------------------------------------------------------------------------------------------------------------
# Point 3: footnote kinds, and the language of footnote texts
# ----------------------------------------------------------------------------------------------------------------


def test_a_footnote_that_sends_to_a_web_page_cites_it(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    """Footnote 3 (line 112) ends 如需进一步信息，请见：<URL>: a citation of that page, a fabio:WebPage."""
    url = "https://exponentphilanthropy.org/qa/can-a-private-foundation-make-a-grant-to-a-government-agency/"
    assert f"请见：<{url}>" in printed(source_lines, 112)
    found = rows(
        kg,
        "SELECT ?c ?work ?url ?text WHERE { ?c cito:hasCitingEntity ed:footnote\\/3 ; cito:hasCitedEntity ?work ; "
        "idais:urlAsWritten ?url ; idais:textAsWritten ?text . ?work a fabio:WebPage ; fabio:hasURL ?u "
        "FILTER (STR(?u) = ?url) }",
    )
    assert found == [
        {
            "c": ED + "footnote/3#c1",
            "work": SOURCE + "private-foundation-grant-to-government-agency",
            "url": url,
            "text": f"<{url}>",
        }
    ]
    notes = rows(kg, "SELECT ?n WHERE { ?f a idais:ExplanatoryNote ; idais:footnoteNumber ?n } ORDER BY ?n")
    assert [int(r["n"]) for r in notes] == [1, 2, 21, 43]  # lines 91, 110, 222, 347: they cite no work


def test_every_url_a_footnote_prints_is_a_citation(kg: KnowledgeGraph) -> None:
    """Whatever else a footnote explains, each URL it prints is the URL of one of its citations."""
    texts = rows(kg, "SELECT ?f ?t WHERE { ?f a idais:Footnote ; idais:verbatimText ?t }")
    cited = rows(kg, "SELECT ?f ?u WHERE { ?c cito:hasCitingEntity ?f ; idais:urlAsWritten ?u }")
    urls = {(r["f"], r["u"]) for r in cited}
    printed_urls = {(r["f"], u.rstrip(".")) for r in texts for u in URL.findall(r["t"])}
    assert printed_urls == urls
    assert len(urls) == 70


def chinese_prose(text: str) -> bool:
    """The language rule of docs/modelling.md: with printed URLs removed, Chinese characters and no two Latin words
    in a row."""
    prose = re.sub(r"<[^>]*>|https?://[^ ]+", "", text)
    return bool(re.search("[\u4e00-\u9fff]", prose)) and not re.search(
        r"[A-Za-z][A-Za-z'’.&-]*[ ,]+[A-Za-z]", prose
    )


def test_footnote_texts_are_zh_exactly_where_the_rule_says(
    kg: KnowledgeGraph, source_lines: list[str]
) -> None:
    found = rows(
        kg,
        "SELECT ?n ?t (LANG(?t) AS ?lang) ?line WHERE { ?f idais:footnoteNumber ?n ; idais:verbatimText ?t ; "
        "idais:sourceLocation/idais:startLine ?line }",
    )
    assert len(found) == 78
    tagged = sorted(int(r["n"]) for r in found if r["lang"] == "zh")
    assert tagged == [1, 2, 3, 21, 43]  # lines 91, 110, 112, 222, 347
    for r in found:
        assert (r["lang"] == "zh") == chinese_prose(r["t"]), r["n"]
        assert r["lang"] in ("zh", ""), r["n"]  # never @en: that is our translation
        assert r["t"] in printed(source_lines, r["line"]).replace("**", ""), r["n"]
    mixed = {int(r["n"]) for r in found if re.search("[\u4e00-\u9fff]", r["t"]) and r["lang"] == ""}
    assert mixed == {57, 72}  # bilingual titles as printed (lines 462, 561): plain strings


# ----------------------------------------------------------------------------------------------------------------
# Points 2 and 4 for footnotes: mentions, amounts
# ----------------------------------------------------------------------------------------------------------------


def test_footnotes_mention_what_their_prose_names(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    found = rows(
        kg,
        "SELECT ?n ?x WHERE { ?f idais:footnoteNumber ?n ; schema:mentions ?x } ORDER BY ?n ?x",
    )
    assert [(int(r["n"]), short(r["x"])) for r in found] == [
        (1, "initiative/stanford-ai-index"),  # 2024年斯坦福AI指数, line 91
        (2, "initiative/california-tobacco-tax"),  # 在加利福尼亚州，烟草税, line 110
        (2, "jurisdiction/california"),
        (3, "jurisdiction/united-states"),  # 在美国等国家, line 112
        (43, "instrument/china-genai-registration-rules"),  # 中国的模型注册规定, line 347
        (43, "instrument/us-executive-order-ai-2023"),  # 拜登政府关于人工智能的行政命令
        (43, "jurisdiction/china"),
        (43, "jurisdiction/european-union"),  # 在欧盟
        (43, "organisation/eu-ai-office"),  # 欧盟人工智能办公室
    ]
    # footnote 43 names the Biden administration (拜登政府), not the United States: no jurisdiction link
    assert "拜登政府" in printed(source_lines, 347) and "美国" not in printed(source_lines, 347)
    # each mention is a naming: a label of the entity is printed in the footnote's text
    named = rows(
        kg,
        "SELECT ?n ?x ?t (GROUP_CONCAT(STR(?l); SEPARATOR='|') AS ?labels) WHERE { ?f idais:footnoteNumber ?n ; "
        "schema:mentions ?x ; idais:verbatimText ?t . ?x skos:prefLabel|skos:altLabel ?l } GROUP BY ?n ?x ?t",
    )
    for r in named:
        assert any(label in r["t"] for label in r["labels"].split("|")), (r["n"], r["x"])


def test_every_amount_in_footnotes_and_titles_is_a_quantity(
    kg: KnowledgeGraph, source_lines: list[str]
) -> None:
    found = rows(
        kg,
        "SELECT ?by ?q ?v ?unit ?w ?qualifier WHERE { ?by idais:statesQuantity ?q . ?q schema:value ?v ; "
        "idais:asWritten ?w . OPTIONAL { ?q schema:currency|schema:unitText ?unit } "
        "OPTIONAL { ?q idais:valueQualifier ?qualifier } "
        f"FILTER (STRSTARTS(STR(?by), '{ED}footnote/') || STRSTARTS(STR(?by), '{SOURCE}')) }} ORDER BY ?q",
    )
    got = [(short(r["q"]), float(r["v"]), r["unit"], r["w"], short(r.get("qualifier", ""))) for r in found]
    approx, more = (
        "https://w3id.org/idais-kg/ontology#Approximately",
        "https://w3id.org/idais-kg/ontology#MoreThan",
    )
    assert got == [
        ("footnote/1#q1", 110e9, "USD", "约为1100亿美元", approx),
        ("footnote/1#q2", 0.05, "share", "约占私人投资的5%", approx),
        ("footnote/1#q3", 120e9, "USD", "大约为1200亿美元", approx),
        ("footnote/1#q4", 0.33, "share", "33%", ""),
        ("footnote/1#q5", 40e9, "USD", "400亿美元", ""),
        ("footnote/1#q6", 200e6, "USD", "超过2亿美元", more),
        ("source/tech-secretary-unveils-2024#q1", 8.5e6, "GBP", "£8.5 Million", ""),
    ]
    for r in found[:6]:
        assert r["w"] in printed(source_lines, 91)
    for line in (120, 710):  # footnote 7 and the bibliography print the title
        assert "£8.5 Million" in printed(source_lines, line)
    # no other amount is printed in a footnote or a cited work's title
    amount = re.compile(r"[£$€]\s?\d|\d\s?(?:亿|万)?美元|\d+(?:\.\d+)?%|\d\s?(?:[Mm]illion|[Bb]illion)")
    texts = rows(
        kg,
        "SELECT ?s ?t WHERE { { ?s a idais:Footnote ; idais:verbatimText ?t } UNION "
        "{ ?s a idais:Source ; dcterms:title ?t } }",
    )
    with_amounts = {short(r["s"]) for r in texts if amount.search(URL.sub("", r["t"]))}
    assert with_amounts == {"footnote/1", "footnote/7", "source/tech-secretary-unveils-2024"}


# ----------------------------------------------------------------------------------------------------------------
# Point 6: identifiers exactly as far as they are valid
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def doi_pattern(kg: KnowledgeGraph) -> re.Pattern[str]:
    """The one regex of a well-formed DOI, read from ish:Source-doi (shapes/citations.ttl)."""
    shapes = rdflib.Graph().parse(kg.layout.shapes_dir / "citations.ttl")
    pattern = shapes.value(ISH["Source-doi"], SH.pattern)
    assert shapes.value(ISH["Source-doi"], SH.flags) == rdflib.Literal("i")
    return re.compile(str(pattern), re.IGNORECASE)


def test_prism_doi_holds_only_well_formed_dois(kg: KnowledgeGraph, doi_pattern: re.Pattern[str]) -> None:
    dois = [r["d"] for r in rows(kg, "SELECT ?d WHERE { ?s prism:doi ?d }")]
    assert len(dois) == 26 and all(doi_pattern.match(d) for d in dois)
    assert "10.5281/ZENODO.10974162" in dois and "10.48550/ARXIV.2407.17347" in dois  # lines 734, 724
    assert not {"10.5281/ZENODO.10974162.zh", "10.48550/ARXIV.240717347"} & set(dois)
    for probe, ok in [
        ("10.48550/arXiv.2407.17347", True),
        ("10.1016/S2214-109X(21)00140-6", True),
        ("10.1787/d1a8d965-en", True),  # OECD's own -en is part of the DOI
        ("10.48550/ARXIV.240717347", False),
        ("10.5281/ZENODO.10974162.zh", False),
        ("https://doi.org/10.7759/cureus.3076", False),
    ]:
        assert bool(doi_pattern.match(probe)) is ok, probe


def test_misprinted_dois_are_kept_as_written_and_flagged(
    kg: KnowledgeGraph, doi_pattern: re.Pattern[str], source_lines: list[str]
) -> None:
    written = rows(
        kg,
        "SELECT ?at ?d ?line WHERE { ?at idais:doiAsWritten ?d . "
        "{ ?at cito:hasCitingEntity/idais:sourceLocation/idais:startLine ?line } UNION "
        "{ ?at idais:sourceLocation/idais:startLine ?line } }",
    )
    bad = sorted((short(r["at"]), r["d"], r["line"]) for r in written if not doi_pattern.match(r["d"]))
    assert bad == [
        ("footnote/23#c1", "10.48550/ARXIV.240717347", "226"),
        ("footnote/4#c1", "10.5281/ZENODO.10974162.zh", "114"),
    ]
    for _, doi, line in bad:
        assert doi in printed(source_lines, line)
    editorial = kg.store.query(
        f"SELECT ?at ?p WHERE {{ GRAPH <{GRAPH_EDITORIAL}> {{ ?at <https://w3id.org/idais-kg/ontology#probableDoi> ?p }} }}"
    )
    assert sorted((short(s["at"].value), s["p"].value) for s in editorial) == [
        ("footnote/23#c1", "10.48550/ARXIV.2407.17347"),  # as the bibliography prints it, line 724
        ("footnote/4#c1", "10.5281/ZENODO.10974162"),  # line 734
    ]
    in_guide = kg.store.query(
        f"ASK {{ GRAPH <{GRAPH_GUIDE}> {{ ?at <https://w3id.org/idais-kg/ontology#probableDoi> ?p }} }}"
    )
    assert not bool(in_guide)


def test_arxiv_identifiers_printed_in_urls_are_recorded(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    found = rows(
        kg,
        "SELECT ?s ?id WHERE { ?s dcterms:identifier ?id FILTER (STRSTARTS(?id, 'arXiv:')) } ORDER BY ?s",
    )
    assert len(found) == 22
    got = {short(r["s"]): r["id"] for r in found}
    assert (
        got["source/brundage-2020-trustworthy-ai"] == "arXiv:2004.07213"
    )  # http://arxiv.org/abs/…, 172 and 619
    assert got["source/stein-2024-role-of-governments"] == "arXiv:2410.04931"  # footnote 59, line 483
    assert (
        got["source/wasil-2024-ai-emergency-preparedness"] == "arXiv:2407.17347"
    )  # the well-formed DOI, 724
    # each is printed in a URL of the work, on a line that prints the work (footnote or bibliography)
    places = rows(
        kg,
        "SELECT ?s ?id ?line WHERE { ?s dcterms:identifier ?id ; idais:sourceLocation/idais:startLine ?line }",
    )
    for r in found:
        number = r["id"].removeprefix("arXiv:")
        lines = [p["line"] for p in places if p["s"] == r["s"]]
        assert any(
            f"arxiv.org/abs/{number}" in printed(source_lines, n)
            or f"10.48550/ARXIV.{number}" in printed(source_lines, n)
            for n in lines
        ), r["s"]


# ----------------------------------------------------------------------------------------------------------------
# Issue 15 point 3: identifiers that resolve
# ----------------------------------------------------------------------------------------------------------------


def test_identifier_iris_are_built_from_the_literals(kg: KnowledgeGraph) -> None:
    same_as = {
        (q.subject.value, q.object.value)
        for q in kg.store.quads(GRAPH_DERIVED)
        if q.predicate.value == "https://schema.org/sameAs"
    }
    urls = {
        (q.subject.value, q.object.value)
        for q in kg.store.quads(GRAPH_DERIVED)
        if q.predicate.value == "https://schema.org/url"
    }
    dois = {(r["s"], "https://doi.org/" + r["d"]) for r in rows(kg, "SELECT ?s ?d WHERE { ?s prism:doi ?d }")}
    arxiv = {
        (r["s"], "https://arxiv.org/abs/" + r["id"].removeprefix("arXiv:"))
        for r in rows(kg, "SELECT ?s ?id WHERE { ?s dcterms:identifier ?id }")
    }
    assert same_as == dois | arxiv and len(same_as) == 26 + 22
    printed_urls = {
        (r["s"], r["u"]) for r in rows(kg, "SELECT ?s ?u WHERE { ?s a idais:Source ; fabio:hasURL ?u }")
    }
    misprinted = {
        (
            SOURCE + "zhou-2024-model-ai-law",
            "https://doi.org/10.5281/ZENODO.10974162.zh",
        ),  # footnote 4, line 114
        (SOURCE + "wasil-2024-ai-emergency-preparedness", "https://doi.org/10.48550/ARXIV.240717347"),  # 226
    }
    assert misprinted <= printed_urls
    assert urls == printed_urls - misprinted and len(urls) == 80
    wasil = SOURCE + "wasil-2024-ai-emergency-preparedness"
    assert {o for s, o in same_as if s == wasil} == {
        "https://doi.org/10.48550/ARXIV.2407.17347",
        "https://arxiv.org/abs/2407.17347",
    }
    # the IRIs are ours to state, not the guide's: nothing of the kind in the guide graph
    assert not any(q.predicate.value.startswith("https://schema.org/sa") for q in kg.store.quads(GRAPH_GUIDE))


# ----------------------------------------------------------------------------------------------------------------
# Point 7: every place that prints a work, and the date as printed there
# ----------------------------------------------------------------------------------------------------------------


def test_every_work_points_at_every_place_that_prints_it(kg: KnowledgeGraph) -> None:
    assert (
        rows(kg, "SELECT ?s WHERE { ?s a idais:Source FILTER NOT EXISTS { ?s idais:sourceLocation ?l } }")
        == []
    )
    places = rows(
        kg,
        "SELECT ?s ?line WHERE { ?s a idais:Source ; idais:sourceLocation/idais:startLine ?line }",
    )
    by_work: dict[str, set[int]] = {}
    for r in places:
        by_work.setdefault(short(r["s"]), set()).add(int(r["line"]))
    assert len(by_work) == 80
    assert by_work["source/reuel-2024-open-problems"] == {
        172,
        309,
        698,
    }  # footnotes 15 and 37, the bibliography
    assert by_work["source/heim-2024-governing-cloud"] == {379, 403, 405, 663}  # footnotes 47, 49, 50
    assert by_work["source/private-foundation-grant-to-government-agency"] == {112}  # footnote 3 only
    assert by_work["source/kim-2021-operation-warp-speed"] == {675}  # the bibliography only
    expected = rows(
        kg,
        "SELECT ?s ?line WHERE { ?s a idais:Source FILTER NOT EXISTS { ?s a idais:Instrument } "
        "{ ?c cito:hasCitedEntity ?s ; cito:hasCitingEntity/idais:sourceLocation/idais:startLine ?line } UNION "
        "{ ?e biro:references ?s ; idais:sourceLocation/idais:startLine ?line } }",
    )
    wanted: dict[str, set[int]] = {}
    for r in expected:
        wanted.setdefault(short(r["s"]), set()).add(int(r["line"]))
    assert {k: v for k, v in by_work.items() if not k.startswith("instrument/")} == wanted
    # the two laws cited as works keep the one place where the text first names them
    assert {k: len(v) for k, v in by_work.items() if k.startswith("instrument/")} == {
        "instrument/eu-ai-act": 1,
        "instrument/us-executive-order-ai-2023": 1,
    }


def test_each_citation_and_entry_carries_the_date_printed_there(
    kg: KnowledgeGraph, source_lines: list[str]
) -> None:
    found = rows(
        kg,
        "SELECT ?at ?d ?line WHERE { ?at idais:dateAsWritten ?d . "
        "{ ?at a cito:Citation ; cito:hasCitingEntity/idais:sourceLocation/idais:startLine ?line } UNION "
        "{ ?at a idais:BibliographyEntry ; idais:sourceLocation/idais:startLine ?line } }",
    )
    dated = {short(r["at"]): r["d"] for r in found}
    assert sum(k.startswith("footnote/") for k in dated) == 75  # of 80 citations
    assert sum(k.startswith("bibliography/") for k in dated) == 76  # every entry
    undated = rows(
        kg, "SELECT ?c WHERE { ?c a cito:Citation FILTER NOT EXISTS { ?c idais:dateAsWritten ?d } }"
    )
    assert sorted(short(r["c"]) for r in undated) == [
        f"footnote/{n}#c1"
        for n in (19, 3, 49, 50, 53)  # back-references, and footnote 3's bare URL
    ]
    assert dated["footnote/25#c1"] == "n.d."  # line 230
    assert dated["bibliography/white-house-voluntary-ai-commitments-2023"] == "September 2023"  # 726
    assert dated["footnote/66#c1"] == "30 July 2018"  # not the 2018 of its title, line 506
    assert dated["bibliography/guest-2024-topics-track-iis"] == "2 May 2024"  # split over 655-657
    assert dated["footnote/12#c1"] == "Forthcoming"  # line 166
    assert dated["footnote/26#c1"] == "2024"  # ‘EU AI Act’, § 55 (2024), line 232
    for r in found:  # each date is printed where it is recorded (the split entry across its lines)
        text = " ".join(source_lines[int(r["line"]) - 1 : int(r["line"]) + 3])
        assert r["d"] in re.sub(r"\s+", " ", text), r["at"]


@pytest.fixture(scope="module")
def warnings(kg: KnowledgeGraph) -> dict[str, list[tuple[str, str]]]:
    report = validate(kg, reasoner=False)
    found: dict[str, list[tuple[str, str]]] = {}
    for f in report.findings:
        found.setdefault(f.source.rsplit("#", 1)[-1], []).append((short(f.focus), f.message))
    return found


def test_a_date_printed_differently_is_a_warning(warnings: dict[str, list[tuple[str, str]]]) -> None:
    assert warnings["CitationDateAgreesWithBibliography-dateAsWritten"] == [
        (
            "footnote/25#c1",
            "Footnote 25 (line 230) dates the work n.d.; the bibliography (line 726) dates it September 2023.",
        )
    ]


def test_a_misprinted_doi_is_a_warning_with_its_reading(warnings: dict[str, list[tuple[str, str]]]) -> None:
    assert sorted(warnings["DoiAsWrittenMisprinted"]) == [
        (
            "footnote/23#c1",
            "Footnote 23 (line 226) prints the DOI 10.48550/ARXIV.240717347, which is not a well-formed DOI of the "
            "work it cites and is kept only as written; it probably means 10.48550/ARXIV.2407.17347.",
        ),
        (
            "footnote/4#c1",
            "Footnote 4 (line 114) prints the DOI 10.5281/ZENODO.10974162.zh, which is not a well-formed DOI of the "
            "work it cites and is kept only as written; it probably means 10.5281/ZENODO.10974162.",
        ),
    ]
