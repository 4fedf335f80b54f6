"""The pages in a real browser: headless Chromium (Debian's) driven by Playwright, against the real server.

A reader's path: the home page, a goal, its page (title, progress, quotes, policies), the query page, an example
query run, its results table. Every request the browser makes is recorded and must go to the loopback server:
the pages, and YASGUI in them, contact no other host. Every page works under its Content-Security-Policy: the
browser reports no violation, and on a goal page that a hostile partner links to with script IRIs no script runs.
Screenshots are kept in ``test-artifacts/`` (git-ignored).

The browser is the system's (``scripts/setup.sh`` installs Debian's chromium when it runs as root, as CI does);
elsewhere, without it, these tests skip and say why.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_partner_pages import HOSTILE, HOSTILE_GOAL, hostile_partner

from idais_kg.partners import registry as partners
from idais_kg.serve.pages import STATIC

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
YASGUI = (STATIC / "vendor" / "yasgui.min.js").exists()

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
if CHROMIUM is None:
    pytest.skip(
        "no chromium on PATH: scripts/setup.sh installs Debian's chromium when run as root",
        allow_module_level=True,
    )


@pytest.fixture
def browser_page(tmp_path: Path, server) -> Iterator[tuple[object, list[str]]]:
    """A fresh Chromium profile and page; yields the page and the list of every URL it requested."""
    requested: list[str] = []
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.on("request", lambda req: requested.append(req.url))
            page.set_default_timeout(20_000)
            yield page, requested
        finally:
            context.close()


@dataclass
class Watch:
    """What a page did that it must not: dialogs (alert, confirm) and Content-Security-Policy violations, as the
    console reports them and as ``securitypolicyviolation`` events (recorded by a script the browser injects, which
    the policy does not govern)."""

    page: object
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        events = self.page.evaluate("window.__cspViolations || []")  # type: ignore[attr-defined]
        return self.console + [f"{e['directive']} {e['blocked']} ({e['source']})" for e in events]


RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(
  {directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile}));
"""


def watch(page) -> Watch:  # type: ignore[no-untyped-def]
    """Record, from the next navigation on, the dialogs and CSP violations of ``page`` (dialogs are dismissed)."""
    seen = Watch(page)

    def dialog(d) -> None:  # type: ignore[no-untyped-def]
        seen.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    page.on("console", lambda m: "Content Security Policy" in m.text and seen.console.append(m.text))
    page.add_init_script(RECORD_VIOLATIONS)
    return seen


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory, start_server):  # type: ignore[no-untyped-def]
    """A server whose store holds a partner that links ``javascript:``, ``data:`` and ``vbscript:`` IRIs to a goal."""
    folder = tmp_path_factory.mktemp("hostile-server")
    partners.add("fictional-hostile", hostile_partner(folder), folder / "store")
    with start_server(folder, "--workers", "1", "--store", str(folder / "store")) as server:
        yield server


def only_loopback(server, requested: list[str]) -> None:
    origin = urlsplit(server.url)
    outside = [
        url
        for url in requested
        if not url.startswith(("data:", "blob:", "about:"))
        and (urlsplit(url).hostname, urlsplit(url).port) != (origin.hostname, origin.port)
    ]
    assert requested and not outside, f"requests to other hosts: {outside}"


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_home_goal_page_and_back(server, browser_page) -> None:
    page, requested = browser_page
    seen = watch(page)
    page.goto(server.url + "/")
    assert "IDAIS Policy Guide" in page.locator("h1").inner_text()
    goals = page.locator(".goal-cell a")
    assert goals.count() == 15
    title = goals.first.inner_text()
    goals.first.click()
    page.wait_for_url("**/id/goal/**")
    assert title in page.locator("h1").inner_text()
    headings = page.locator("h2").all_inner_texts()
    assert {"Progress", "Quotes of the consensus statements", "Potential policies"} <= set(headings)
    assert page.locator("h2:text('Progress') + div a").first.inner_text()  # a level, such as "Limited"
    assert page.locator("blockquote").count() >= 1
    assert page.locator("h2:text('Potential policies') + ol > li").count() >= 1
    shoot(page, "goal-page")
    only_loopback(server, requested)
    assert seen.violations() == [] and seen.dialogs == []


def test_hostile_partner_links_run_no_script(hostile_server, browser_page) -> None:
    page, requested = browser_page
    seen = watch(page)
    url = f"{hostile_server.url}/id/goal/{HOSTILE_GOAL}"
    page.goto(url)
    assert "Partner links" in page.locator("h2").all_inner_texts()
    protocols = page.eval_on_selector_all("a[href]", "links => links.map((a) => a.protocol)")
    assert protocols and set(protocols) <= {"http:", "https:"}
    for iri, label in HOSTILE.items():
        assert page.get_by_text(iri, exact=True).count() >= 1  # the IRI is shown, as text
        shown = page.get_by_text(label, exact=True)
        assert shown.count() >= 1
        for n in range(shown.count()):
            shown.nth(n).click()  # text, not a link: nothing happens
    page.wait_for_timeout(300)
    assert page.url == url
    assert seen.dialogs == [] and seen.violations() == []
    shoot(page, "hostile-partner-links")
    # The policy is the second line: a script or a javascript: link that got into the page would not run either.
    page.evaluate(
        """() => {
      const script = document.createElement("script");
      script.textContent = "window.__ran = true; alert(document.domain)";
      document.body.append(script);
      const link = Object.assign(document.createElement("a"), {id: "injected", textContent: "injected"});
      link.href = "javascript:window.__ran = true; alert(document.domain)";
      document.body.append(link);
    }"""
    )
    page.click("#injected")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran === undefined")
    assert seen.dialogs == [] and page.url == url
    blocked = seen.violations()
    assert blocked and all("script-src" in v for v in blocked)
    only_loopback(hostile_server, requested)


@pytest.mark.skipif(
    not YASGUI, reason="YASGUI is not bundled: scripts/build-yasgui.sh (run by setup) makes it"
)
def test_query_page_with_yasgui(server, browser_page) -> None:
    page, requested = browser_page
    seen = watch(page)
    page.goto(server.url + "/")
    page.click("nav >> text=SPARQL query")
    page.wait_for_url("**/query")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.select_option("#examples", label=page.locator("#examples option").nth(1).inner_text())
    page.click(".yasqe_queryButton")
    table = page.locator(".yasr table.dataTable")
    table.locator("tbody tr").first.wait_for()
    assert table.locator("tbody tr").count() >= 1
    assert table.locator("thead th").count() >= 2
    shoot(page, "query-yasgui")
    page.click(".yasr .select_response")  # the raw response view (CodeMirror) works under the policy too
    page.locator(".yasr .CodeMirror").first.wait_for()
    only_loopback(server, requested)
    assert seen.violations() == [] and seen.dialogs == []


def test_query_page_with_the_plain_editor(server, browser_page) -> None:
    page, requested = browser_page
    seen = watch(page)
    page.goto(server.url + "/query?editor=plain")
    page.select_option("#examples", index=1)
    assert "SELECT" in page.locator("#query").input_value()
    page.click("#form button")
    page.locator("#out table tr").nth(1).wait_for()
    assert page.locator("#status").inner_text().startswith("200")
    assert page.locator("#out table tr").count() >= 2
    shoot(page, "query-plain")
    only_loopback(server, requested)
    assert seen.violations() == [] and seen.dialogs == []


NARROW_PAGES = [
    "/",
    "/id/goal/post-deployment-monitoring",
    "/id/guide/2025-02/policy/broaden-model-registration-visibility",
    "/id/source/anderljung-2023-frontier-ai-regulation",
    "/id/area/domestic-governance",
    "/ontology",
    "/id/dataset",
]


@pytest.mark.parametrize("path", NARROW_PAGES)
def test_pages_fit_a_phone_without_sideways_scrolling(server, browser_page, path: str) -> None:
    """At 375 px (a phone), no page is wider than the window; goal cards sit in a grid of equal-height rows."""
    page, _ = browser_page
    page.set_viewport_size({"width": 375, "height": 800})  # type: ignore[attr-defined]
    page.goto(server.url + path)  # type: ignore[attr-defined]
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 375, f"{path} is {width} px wide at 375 px"
    shoot(page, "narrow-" + (path.strip("/").replace("/", "-") or "home"))
    if path == "/":
        page.set_viewport_size({"width": 1400, "height": 900})  # type: ignore[attr-defined]
        tops = page.evaluate(  # type: ignore[attr-defined]
            "[...document.querySelector('.goals').children].map(c => [c.offsetTop, c.offsetHeight])"
        )
        rows: dict[int, set[int]] = {}
        for top, height in tops:
            rows.setdefault(top, set()).add(height)
        assert len(rows) < len(tops)  # several cards a row at 1400 px
        assert all(len(heights) == 1 for heights in rows.values())  # aligned: one height per row
