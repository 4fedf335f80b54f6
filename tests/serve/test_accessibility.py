"""The four pages a researcher cites (a goal, a policy, a footnote, the ontology), as a reader sees them in
headless Chromium at 1400 px and at 375 px, in Chinese and in English: the language switch sticks (a cookie, no
script); the guide's original comes before our translation; footnote markers link to their footnote and the
footnote back to each place that cites it; titles and property names are labels, not prefixed names; nothing is
wider than a phone; and axe-core finds no serious or critical violation.

axe-core comes from the npm registry (``scripts/setup.sh`` installs it into the git-ignored ``build/axe``); it is
evaluated in the page through the DevTools protocol (Playwright's ``evaluate``), never served by our app, so the
pages' Content-Security-Policy is untouched. Screenshots and each page's axe results are kept in
``test-artifacts/`` (git-ignored). Without Chromium or axe-core these tests skip and say why.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_browser import ARTIFACTS, browser_page, only_loopback, shoot, watch

__all__ = ["browser_page"]  # the fixture, from test_browser

AXE = Path(__file__).resolve().parents[2] / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
GOAL = "/id/goal/ai-safety-rd-resources"
POLICY = "/id/guide/2025-02/policy/fund-ai-safety-institutes"  # line 93: "…自愿捐款等。²³"
FOOTNOTE = "/id/guide/2025-02/footnote/3"  # line 112, cited by POLICY
ONTOLOGY = "/ontology"
PAGES = {"goal": GOAL, "policy": POLICY, "footnote": FOOTNOTE, "ontology": ONTOLOGY}
WIDTHS = (1400, 375)
CURIE = re.compile(r"^(idais|kg|ed|goal|area|policy|footnote|guide):\S")
# What each page is headed, in each language (the labels of the data and of the ontology).
HEADINGS = {
    ("goal", "en"): "Ensure the necessary resources for AI safety R&D",  # data/guide/common/goals.ttl
    ("goal", "zh"): "保证人工智能安全研发的必要资源",
    ("policy", "zh"): "以来源广泛的资金资助人工智能安全研究所或相关国家级安全组织。",
    (
        "policy",
        "en",
    ): "Fund AI safety institutes or related national safety bodies from a broad range of sources.",
    ("footnote", "en"): "Footnote 3",
    ("footnote", "zh"): "脚注 3",
}


def axe_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """axe-core's violations on the page as it is now (the script evaluated through the DevTools protocol)."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    return page.evaluate("axe.run(document, {resultTypes: ['violations']}).then((r) => r.violations)")  # type: ignore[no-any-return]


def in_order(page, first: str, second: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the first element matching ``first`` precedes the first matching ``second`` in the document."""
    return page.evaluate(  # type: ignore[no-any-return]
        """([a, b]) => {
          const x = document.querySelector(a), y = document.querySelector(b);
          return !!(x && y && (x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING));
        }""",
        [first, second],
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_as_a_reader_sees_it(server, browser_page, name: str, lang: str, width: int) -> None:
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed at {AXE}: scripts/setup.sh installs it from the npm registry")
    page, requested = browser_page
    page.set_default_timeout(120_000)  # the ontology's page is long: its full-page screenshot takes a while
    seen = watch(page)
    page.set_viewport_size({"width": width, "height": 900})
    path = PAGES[name]
    page.goto(f"{server.url}{path}?lang={lang}")  # the switch: it sets the cookie
    page.goto(server.url + path)  # and the cookie holds it, without the parameter and without script
    assert page.evaluate("document.documentElement.lang") == lang
    switch = page.locator("p.switch a")
    assert switch.count() == 1 and switch.get_attribute("hreflang") == ("en" if lang == "zh" else "zh")

    heading = page.locator("h1").inner_text()
    title = page.title()
    assert not CURIE.match(heading) and not CURIE.match(title)
    if (name, lang) in HEADINGS:
        assert heading.startswith(HEADINGS[name, lang]) and title == HEADINGS[name, lang]
    properties = page.locator("main table th a").all_inner_texts()
    assert not [p for p in properties if p.startswith(("idais:", "kg:"))]

    if name == "goal":
        assert page.locator("blockquote").count() >= 1
        for n in range(page.locator("blockquote").count()):
            block = f"blockquote:nth-of-type({n + 1})"
            assert in_order(page, f"{block} .original", f"{block} .translation")
        assert page.locator("h2 + ol > li").count() >= 1
    if name == "policy":
        assert in_order(page, "section.text .original", "section.text .translation")
        assert in_order(page, "section.text .translation", "section.text p.notes")
        markers = page.locator("section.text .original sup.fn a")
        assert markers.all_inner_texts() == ["²", "³"]
        assert page.locator("section.text p.notes a").all_inner_texts() == ["[2]", "[3]"]
    if name == "footnote":
        assert in_order(page, "section.text .original", "section.text .translation")
        url = "https://exponentphilanthropy.org/qa/can-a-private-foundation-make-a-grant-to-a-government-agency/"
        assert page.locator(f'section.text .original a[href="{url}"]').count() == 1
        assert page.locator("section.cited-by a").get_attribute("href") == POLICY + "#fnref-3"
    if name == "ontology":
        assert page.locator("nav.toc a").count() > 50
        assert page.locator('img[src="/ontology/diagram.svg"]').count() == 1
        terms = page.locator("section.term h3").all_inner_texts()
        assert terms and not [t for t in terms if CURIE.match(t)]

    if width == 375:
        sizes = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert sizes[0] <= sizes[1], f"{path} is {sizes[0]} px wide in a {sizes[1]} px window"
    shoot(page, f"{name}-{lang}-{width}")

    violations = axe_violations(page)
    ARTIFACTS.joinpath(f"axe-{name}-{lang}-{width}.json").write_text(
        json.dumps(violations, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    grave = [
        f"{v['impact']} {v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert grave == []
    only_loopback(server, requested)
    assert seen.violations() == [] and seen.dialogs == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_footnote_links_resolve_both_ways(server, browser_page, lang: str) -> None:
    """From the policy's marker to the footnote, and from the footnote back to the marker: each link lands on a
    page that has what it points at (the anchor ``fnref-N``, itself a link to the footnote)."""
    page, requested = browser_page
    page.goto(f"{server.url}{POLICY}?lang={lang}")
    page.locator("section.text .original sup.fn a").nth(1).click()
    page.wait_for_url("**" + FOOTNOTE)
    assert page.evaluate("document.documentElement.lang") == lang
    page.locator("section.cited-by a").first.click()
    page.wait_for_url("**" + POLICY + "#fnref-3")
    target = page.evaluate(
        "(() => { const a = document.getElementById('fnref-3'); return a && a.pathname; })()"
    )
    assert target == FOOTNOTE
    for n in (2, 3):  # the links after our translation go to the same footnotes
        href = page.locator("section.text p.notes a").nth(n - 2).get_attribute("href")
        assert href == f"/id/guide/2025-02/footnote/{n}"
    only_loopback(server, requested)
