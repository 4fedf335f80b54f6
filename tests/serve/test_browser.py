"""The pages in a real browser: headless Chromium (Debian's) driven by Playwright, against the real server.

A reader's path: the home page, a goal, its page (title, progress, quotes, policies), the query page, an example
query run, its results table. Every request the browser makes is recorded and must go to the loopback server:
the pages, and YASGUI in them, contact no other host. Screenshots are kept in ``test-artifacts/`` (git-ignored).

The browser is the system's (``scripts/setup.sh`` installs Debian's chromium when it runs as root, as CI does);
elsewhere, without it, these tests skip and say why.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

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


@pytest.mark.skipif(
    not YASGUI, reason="YASGUI is not bundled: scripts/build-yasgui.sh (run by setup) makes it"
)
def test_query_page_with_yasgui(server, browser_page) -> None:
    page, requested = browser_page
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
    only_loopback(server, requested)


def test_query_page_with_the_plain_editor(server, browser_page) -> None:
    page, requested = browser_page
    page.goto(server.url + "/query?editor=plain")
    page.select_option("#examples", index=1)
    assert "SELECT" in page.locator("#query").input_value()
    page.click("#form button")
    page.locator("#out table tr").nth(1).wait_for()
    assert page.locator("#status").inner_text().startswith("200")
    assert page.locator("#out table tr").count() >= 2
    shoot(page, "query-plain")
    only_loopback(server, requested)
