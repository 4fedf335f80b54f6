"""The pages in both languages, as a client of the real server gets them: the language chosen by ``?lang`` (which
sets a cookie), the cookie, then ``Accept-Language``; every interface string from the catalogue in both; the caches
never answering one language to a reader of the other. And the guide's footnote markers as links, both ways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from idais_kg.namespaces import PREFIXES
from idais_kg.serve import i18n, ontology_docs
from idais_kg.serve.pages import TEMPLATES
from idais_kg.serve.responses import REASONS

GOAL = "/id/goal/ai-safety-rd-resources"
POLICY = "/id/guide/2025-02/policy/fund-ai-safety-institutes"  # source line 93: "…自愿捐款等。²³" (2 and 3)
FOOTNOTE = "/id/guide/2025-02/footnote/3"  # source line 112
AGENDAS = (
    "/id/guide/2025-02/policy/advance-priority-verification-research"  # line 164: "^{12 13 14 15 16 17}"
)
SAFETY_CASES = "/id/guide/2025-02/policy/fund-safety-case-research"  # cites 39-42: "³⁹", later "^{40 41 42}"


def html_of(server, path: str, **headers: str) -> tuple[dict[str, str], str]:
    status, got, body = server.get(path, "text/html", **headers)
    assert status == 200, path
    return got, body.decode()


def lang_of(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', html)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "en"),
        ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "zh"),
        ({"Accept-Language": "en;q=0.5, zh-TW;q=0.9"}, "zh"),
        ({"Accept-Language": "zh;q=0, en;q=0.1"}, "en"),
        ({"Accept-Language": "fr-FR, de;q=0.8"}, "en"),
        ({"Accept-Language": "en", "Cookie": "idais_lang=zh"}, "zh"),  # the cookie wins
        ({"Accept-Language": "zh", "Cookie": "other=1; idais_lang=en"}, "en"),
        ({"Cookie": "idais_lang=fr"}, "en"),  # not a language of ours: as if absent
    ],
    ids=["default", "zh-cn", "q-values", "q-zero", "neither", "cookie-zh", "cookie-en", "cookie-bad"],
)
def test_the_language_a_reader_gets(server, headers: dict[str, str], expected: str) -> None:
    got, html = html_of(server, "/", **headers)
    assert lang_of(html) == expected
    assert got["content-language"] == expected
    assert ("概览" in html) == (expected == "zh") and ("Overview" in html) == (expected == "en")
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in got["vary"].split(",")}
    assert "set-cookie" not in got


def test_the_switch_sets_a_cookie_that_then_wins(server) -> None:
    got, html = html_of(server, GOAL + "?lang=zh", Accept_Language="en")
    assert lang_of(html) == "zh"
    assert got["set-cookie"] == f"idais_lang=zh; Path=/; Max-Age={365 * 24 * 3600}; SameSite=Lax"
    assert f'<a href="{GOAL}?lang=en" lang="en" hreflang="en">English</a>' in html
    got, html = html_of(server, GOAL + "?lang=en", Cookie="idais_lang=zh")
    assert lang_of(html) == "en" and got["set-cookie"].startswith("idais_lang=en;")
    assert f'<a href="{GOAL}?lang=zh" lang="zh" hreflang="zh">中文</a>' in html


def test_lang_is_not_a_parameter_of_a_saved_query(server) -> None:
    """``?lang`` works on every page: a saved query's page does not take it for a parameter of its own."""
    status, _, body = server.get("/api/queries/goals-by-area?lang=zh", "text/html")
    assert status == 200 and lang_of(body.decode()) == "zh"
    assert '<a href="/api/queries/goals-by-area?lang=en"' in body.decode()
    status, _, body = server.get("/api/queries/goals-by-area?lang=zh", "application/sparql-results+json")
    assert status == 200 and body.startswith(b"{")


def test_the_caches_never_cross_languages(server) -> None:
    """The same URL asked for in one language, then the other, then again: each answer in its reader's language,
    with an ETag of its own; a 304 only for the ETag of the same language."""
    for path in ("/", GOAL, "/ontology", POLICY):
        tags = {}
        for lang in ("en", "zh", "en", "zh"):
            got, html = html_of(server, path, Cookie=f"idais_lang={lang}")
            assert lang_of(html) == lang, path
            tags.setdefault(lang, got["etag"])
            assert tags[lang] == got["etag"]
        assert tags["en"] != tags["zh"]
        status, _, _ = server.get(path, "text/html", Cookie="idais_lang=zh", If_None_Match=tags["en"])
        assert status == 200
        status, got, _ = server.get(path, "text/html", Cookie="idais_lang=zh", If_None_Match=tags["zh"])
        assert status == 304 and "Accept-Language" in got["vary"]


def test_rdf_does_not_vary_by_language(server) -> None:
    en = server.get(GOAL, "text/turtle", Accept_Language="en")
    zh = server.get(GOAL, "text/turtle", Accept_Language="zh")
    assert en[0] == zh[0] == 200 and en[2] == zh[2] and en[1]["etag"] == zh[1]["etag"]
    assert "Accept-Language" not in en[1].get("vary", "")


def test_an_error_page_is_in_the_readers_language(server) -> None:
    status, _, body = server.get("/id/goal/no-such-goal", "text/html", Accept_Language="zh")
    assert status == 404 and lang_of(body.decode()) == "zh" and "未找到" in body.decode()


# -- the message catalogue -------------------------------------------------------------------------------------

USED = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.-]+)["']""")
DYNAMIC = re.compile(r"""\b(?:t|known)\(\s*["']([A-Za-z0-9_.-]+\.)["']\s*~""")


def templates() -> list[Path]:
    return sorted(TEMPLATES.glob("*.html"))


def test_every_message_is_in_both_languages() -> None:
    catalogue = i18n.catalogue()
    assert len(catalogue) >= 100
    assert {k for k, v in catalogue.items() if set(v) != {"en", "zh"} or not all(v.values())} == set()


def test_every_message_a_template_asks_for_exists_and_every_message_is_used() -> None:
    catalogue = set(i18n.catalogue())
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in templates():
        text = path.read_text(encoding="utf-8")
        used |= set(USED.findall(text))
        prefixes |= set(DYNAMIC.findall(text))
    for path in TEMPLATES.parent.glob("*.py"):  # the messages the code asks for (a footnote's title)
        used |= set(
            re.findall(r"""i18n\.text\(\s*["']([A-Za-z0-9_.-]+)["']""", path.read_text(encoding="utf-8"))
        )
    used = {k for k in used if not k.endswith(".")}
    assert used - catalogue == set()
    assert prefixes == {"onto.section.", "onto.meta.", "status."}
    # the keys the pages make of a prefix and a name: a section's anchor, a metadata property's name, a status
    dynamic = {"onto.section." + anchor for _, anchor, _ in ontology_docs.SECTIONS} | {
        "onto.section.other-terms"
    }
    dynamic |= {"onto.meta." + name.replace(" ", "_") for name in ontology_docs.METADATA_NAMES.values()}
    dynamic |= {f"status.{code}" for code in REASONS}
    assert dynamic - catalogue == set()
    used |= dynamic
    used |= {
        k for k in catalogue if k.startswith("term.")
    }  # borrowed terms' labels (Pages.label), tested below
    assert catalogue - used == set()


def test_each_borrowed_label_names_a_term_the_graph_uses(kg) -> None:
    """The catalogue's labels of borrowed terms (``term.rdf:type``): each a property or class of the dataset."""
    used = {
        r["t"].value
        for r in kg.sparql(
            "SELECT DISTINCT ?t WHERE { { GRAPH ?g { ?s ?t ?o } } UNION { GRAPH ?g { ?s a ?t } } }"
        ).rows
    }
    labelled = {k.removeprefix("term.") for k in i18n.catalogue() if k.startswith("term.")}
    assert len(labelled) == 104
    expanded = {c: PREFIXES[c.split(":")[0]] + c.split(":", 1)[1] for c in labelled}
    assert {c for c, iri in expanded.items() if iri not in used} == set()


def test_interface_text_is_not_written_into_my_templates() -> None:
    """The templates of the pages hold no English sentence of their own: their words come from the catalogue."""
    for name in (
        "base",
        "home",
        "resource",
        "ontology",
        "query",
        "error",
        "listing",
        "graph",
        "results",
        "api",
    ):
        text = (TEMPLATES / f"{name}.html").read_text(encoding="utf-8")
        prose = re.sub(r"{[{%#].*?[}%#]}|<[^>]+>", " ", text, flags=re.S)
        words = re.findall(r"\b[a-z]{4,}\b(?: \b[a-z]{2,}\b){2,}", prose)
        assert words == [], name


# -- footnote markers ------------------------------------------------------------------------------------------


def footnote_links(html: str) -> list[tuple[str, str | None, str]]:
    """The footnote links of a page: (href, id or None, text)."""
    return [
        (href, anchor or None, text)
        for href, anchor, text in re.findall(
            r'<a href="(/id/guide/2025-02/footnote/\d+)"(?: id="([^"]+)")?[^>]*>([^<]+)</a>', html
        )
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_markers_link_to_their_footnotes(server, lang: str) -> None:
    _, html = html_of(server, POLICY, Cookie=f"idais_lang={lang}")
    text = re.search(r'<section class="text".*?</section>', html, re.S).group(0)
    original = text.index('class="original"')
    translation = text.index('class="translation"')
    assert 0 <= original < translation
    assert text.count("原文 / Original") == 1 and text.count("译文 / Our translation") == 1
    assert footnote_links(text) == [
        ("/id/guide/2025-02/footnote/2", "fnref-2", "²"),
        ("/id/guide/2025-02/footnote/3", "fnref-3", "³"),
        ("/id/guide/2025-02/footnote/2", None, "[2]"),  # after our translation, which has no markers
        ("/id/guide/2025-02/footnote/3", None, "[3]"),
    ]
    assert text.index('id="fnref-2"') < translation < text.index('<p class="notes">')
    assert "自愿捐款等。<sup" in text


def test_markers_printed_as_a_list_and_markers_not_printed() -> None:
    """Unit: the ``^{12 13 14 15 16 17}`` of line 164, and a footnote that the text cites without a marker."""
    from idais_kg.serve.views import segments

    pieces = segments(
        "确定了关键研究问题。^{12 13 14 15 16 17}总的来说", {n: f"/fn/{n}" for n in range(12, 18)}, set()
    )
    assert [(p.number, p.anchor) for p in pieces if p.number] == [(n, f"fnref-{n}") for n in range(12, 18)]
    assert "".join(p.text for p in pieces) == "确定了关键研究问题。^{12 13 14 15 16 17}总的来说"  # as printed


def test_each_footnote_links_back_to_every_place_that_cites_it(server, kg) -> None:
    """Every idais:hasFootnote of the guide: the footnote's page links to ``citing#fnref-N``, and the citing page
    has exactly one element with that id, a link to the footnote."""
    rows = kg.sparql(
        "SELECT ?citing ?n WHERE { ?citing idais:hasFootnote ?f . ?f idais:footnoteNumber ?n } ORDER BY ?citing ?n"
    ).rows
    assert sorted(int(r["n"].value) for r in rows) == list(range(1, 79))  # footnotes 1-78, each cited once
    cited: dict[str, list[str]] = {}
    for row in rows:
        citing = "/id/" + row["citing"].value.removeprefix("https://w3id.org/idais-kg/id/")
        cited.setdefault(citing, []).append(row["n"].value)
    for citing, numbers in cited.items():
        _, html = html_of(server, citing)
        for n in numbers:
            assert html.count(f'id="fnref-{n}"') == 1, (citing, n)
            assert re.search(rf'<a href="/id/guide/2025-02/footnote/{n}" id="fnref-{n}"', html), (citing, n)
            _, note = html_of(server, f"/id/guide/2025-02/footnote/{n}")
            back = re.search(r'<section class="cited-by".*?</section>', note, re.S).group(0)
            assert f'<a href="{citing}#fnref-{n}">' in back


def test_markers_printed_as_lists_get_anchors(server) -> None:
    _, html = html_of(server, AGENDAS)
    anchored = [(a, t) for _, a, t in footnote_links(html) if a]
    assert anchored == [(f"fnref-{n}", str(n)) for n in range(12, 18)]
    _, html = html_of(server, SAFETY_CASES)
    anchored = [(href.rsplit("/", 1)[1], t) for href, a, t in footnote_links(html) if a]
    assert anchored == [("39", "³⁹"), ("40", "40"), ("41", "41"), ("42", "42")]  # "³⁹" and "^{40 41 42}"


def test_a_footnotes_printed_url_is_a_link(server) -> None:
    _, html = html_of(server, FOOTNOTE)
    url = "https://exponentphilanthropy.org/qa/can-a-private-foundation-make-a-grant-to-a-government-agency/"
    original = re.search(r'<p lang="zh" class="original">.*?</p>', html, re.S).group(0)
    assert f'请见：&lt;<a href="{url}">{url}</a>&gt;' in original
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert title == "Footnote 3"


def test_a_cited_footnote_without_a_marker_is_anchored_after_the_translation() -> None:
    """Unit: a text that cites footnotes 39 and 40 but prints only ³⁹: 40's anchor is its link after our
    translation, so that its footnote's page still links back to a place on the page."""
    import pyoxigraph as ox

    from idais_kg.serve.resource_page import TRANSLATION, VERBATIM, ResourcePage

    node = ox.NamedNode("https://w3id.org/idais-kg/id/guide/2025-02/policy/x")
    triples = [
        ox.Triple(node, ox.NamedNode(VERBATIM), ox.Literal("方法。³⁹ 一些", language="zh")),
        ox.Triple(node, ox.NamedNode(TRANSLATION), ox.Literal("Ways. Some", language="en")),
    ]
    text = ResourcePage.__new__(ResourcePage).text(node, {node: triples}, {39: "/fn/39", 40: "/fn/40"})
    [(lang, pieces)] = text["originals"]
    assert lang == "zh" and [(p.text, p.anchor) for p in pieces] == [
        ("方法。", None),
        ("³⁹", "fnref-39"),
        (" 一些", None),
    ]
    assert [(p.text, p.href, p.anchor) for p in text["notes"]] == [
        ("[39]", "/fn/39", None),
        ("[40]", "/fn/40", "fnref-40"),
    ]
    assert [(lang, [p.text for p in pieces]) for lang, pieces in text["translations"]] == [
        ("en", ["Ways. Some"])
    ]
