"""Releases: data/releases.ttl, which release a tree is, the dataset description, and CHANGELOG's data sections.

Release 1.0.0 is commit c3de134 (the same quads as c2eae4c), issued 2026-12-01. The tests that read the release's
own sources go through git and skip, saying why, in a checkout without that history.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from idais_kg.cli import main
from idais_kg.dataset.assemble import load
from idais_kg.dataset.releases import (
    Release,
    ReleaseError,
    built_version,
    data_fingerprint,
    export_commit,
    find_release,
    releases,
    resolve_commit,
)
from idais_kg.devtools import changelog
from idais_kg.sources.layout import Layout

ROOT = Path(__file__).resolve().parents[1]
COMMIT = "c3de13462c2343ee1785f7c0f87d46cc16969e8d"


def has_commit(commit: str) -> bool:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return False
    done = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"], check=False)
    return done.returncode == 0


needs_history = pytest.mark.skipif(
    not has_commit(COMMIT), reason="this checkout has no git history with commit c3de134 (release 1.0.0)"
)


def test_releases_as_recorded() -> None:
    assert releases(Layout(ROOT)) == [
        Release(
            version="1.0.0",
            iri="https://w3id.org/idais-kg/id/dataset/1.0.0",
            issued="2026-12-01",
            commit=COMMIT,
            sources_sha256="b8c2176b8da7f78bb71ed33c5c68e48bac853d7c8d7be46adf989fba2878823a",
            previous=None,
            ontology_version="https://w3id.org/idais-kg/ontology/1.0.0",
        ),
        Release(
            version="2.0.0",
            iri="https://w3id.org/idais-kg/id/dataset/2.0.0",
            issued="2026-12-02",
            commit="97ef397864ceb40dded60ea18686fa54194f8715",
            sources_sha256="24baa1e4f63eee27e502829dc48493e637f6418a9dba09b1c4157444234387e5",
            previous="https://w3id.org/idais-kg/id/dataset/1.0.0",
            ontology_version="https://w3id.org/idais-kg/ontology/2.0.0",
        ),
    ]
    assert find_release(Layout(ROOT), "v1.0.0") == find_release(Layout(ROOT), "1.0.0")
    assert find_release(Layout(ROOT), "9.9.9") is None


def record(layout: Layout, version: str, sha: str, previous: str | None = None) -> None:
    """Append a release to the tree's data/releases.ttl."""
    prior = (
        f" ; <http://www.w3.org/ns/dcat#previousVersion> <https://w3id.org/idais-kg/id/dataset/{previous}>"
    )
    (layout.data_dir / "releases.ttl").open("a", encoding="utf-8").write(
        f'\n<https://w3id.org/idais-kg/id/dataset/{version}> <http://www.w3.org/ns/dcat#version> "{version}" ;'
        f' <http://purl.org/dc/terms/issued> "2027-01-01"^^<http://www.w3.org/2001/XMLSchema#date> ;'
        f' <https://w3id.org/idais-kg/ontology#sourcesSha256> "{sha}"{prior if previous else ""} .\n'
    )


def test_built_version_is_the_release_whose_sources_match(project_copy: Layout) -> None:
    record(project_copy, "2.1.0", data_fingerprint(project_copy.root), previous="2.0.0")
    assert built_version(project_copy) == "2.1.0"
    assert [r.version for r in releases(project_copy)] == ["1.0.0", "2.0.0", "2.1.0"]
    assert releases(project_copy)[2].previous == "https://w3id.org/idais-kg/id/dataset/2.0.0"
    # naming a release is no change of the data: the file of releases is not among the data's files
    (project_copy.data_dir / "releases.ttl").open("a", encoding="utf-8").write("# a comment\n")
    assert built_version(project_copy) == "2.1.0"
    goals = project_copy.data_dir / "guide" / "common" / "goals.ttl"
    goals.write_text(goals.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    assert built_version(project_copy) == "2.1.0+dev (unreleased changes)"


def test_no_releases_file(project_copy: Layout) -> None:
    (project_copy.data_dir / "releases.ttl").unlink()
    assert (built_version(project_copy), releases(project_copy)) == ("unreleased", [])


def test_the_description_names_the_releases(project_copy: Layout) -> None:
    record(project_copy, "2.1.0", data_fingerprint(project_copy.root), previous="2.0.0")
    kg = load(project_copy)
    got = kg.sparql(
        """SELECT ?version ?issued ?commit ?ontology WHERE { GRAPH kg:graph\\/description {
             kg:dataset dcat:hasVersion ?release . ?release dcat:version ?version ; dcterms:issued ?issued .
             OPTIONAL { ?release idais:madeFromCommit ?commit } OPTIONAL { ?release dcterms:conformsTo ?ontology } }
           } ORDER BY ?version"""
    )
    assert [
        (r["version"].value, r["issued"].value, r["commit"].value, r["ontology"].value) for r in got.rows
    ] == [
        ("1.0.0", "2026-12-01", COMMIT, "https://w3id.org/idais-kg/ontology/1.0.0"),
        (
            "2.0.0",
            "2026-12-02",
            "97ef397864ceb40dded60ea18686fa54194f8715",
            "https://w3id.org/idais-kg/ontology/2.0.0",
        ),
    ]  # the recorded 2.1.0 above is not linked from kg:dataset (dcat:hasVersion is hand-written)
    built = kg.sparql("SELECT ?v WHERE { GRAPH kg:graph\\/description { kg:dataset dcat:version ?v } }")
    assert built.values("v") == ["2.1.0"]  # type: ignore[union-attr]


def test_version_option_names_the_release() -> None:
    out = CliRunner().invoke(main, ["--version"]).output
    assert out.splitlines()[-1] == f"release: {built_version(Layout.default())}"
    assert out.splitlines()[-1].startswith("release: 2.0.0")


def test_an_unknown_commit(tmp_path: Path) -> None:
    if not has_commit(COMMIT):
        pytest.skip("no git history here")
    with pytest.raises(ReleaseError, match="no commit 'f00d' in the git history"):
        resolve_commit(ROOT, "f00d")


@needs_history
def test_recorded_sources_are_those_of_the_commit(tmp_path: Path) -> None:
    """The sha256 in data/releases.ttl is the fingerprint of the data files at the release's commit."""
    release = find_release(Layout(ROOT), "1.0.0")
    assert release is not None
    tree = export_commit(ROOT, release.commit, tmp_path)
    assert data_fingerprint(tree.root) == release.sources_sha256
    assert sorted(p.name for p in tree.root.iterdir()) == ["data", "ontology", "queries", "shapes"]


# --- CHANGELOG.md ---


def test_changelog_has_the_section_of_1_0_0() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    found = changelog.written(text, "1.0.0")
    assert found is not None
    lines = found.split("\n")
    assert lines[1] == "### Data: release 1.0.0 (2026-12-01, commit c3de134)"
    assert lines[3].startswith("from nothing (the first release) to release 1.0.0 (commit c3de134): ")


@needs_history
def test_changelog_section_of_1_0_0_is_what_the_diff_writes() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.written(text, "1.0.0") == changelog.section("1.0.0", Layout(ROOT))


def test_changelog_write_replaces_its_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "CHANGELOG.md"
    file.write_text("# Changelog\n", encoding="utf-8")
    sections = iter(["<!-- data 2.0.0: a -->", "<!-- data 2.0.0: b -->"])
    start, end = changelog.markers("2.0.0")
    monkeypatch.setattr(changelog, "section", lambda v, layout=None: f"{start}\n{next(sections)}\n{end}\n")
    assert changelog.write("2.0.0", file)
    assert changelog.write("2.0.0", file)
    assert file.read_text(encoding="utf-8") == f"# Changelog\n\n{start}\n<!-- data 2.0.0: b -->\n{end}\n"


# --- the release pages of the server ---


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from idais_kg.serve.app import create_app

    return TestClient(create_app(load()))  # no lifespan: these pages need no query worker


def test_release_pages(client) -> None:  # type: ignore[no-untyped-def]
    index = client.get("/releases/", headers={"accept": "text/html"})
    assert index.status_code == 200
    assert (
        '<a href="/releases/1.0.0">1.0.0</a></td><td>2026-12-01</td><td><code>c3de13462c23</code>'
        in index.text
    )
    one = client.get("/releases/1.0.0")
    assert one.status_code == 200
    assert (
        "<dt>made from commit</dt><dd><code>c3de13462c2343ee1785f7c0f87d46cc16969e8d</code></dd>" in one.text
    )
    assert "The first release: there is no earlier release to compare it with." in one.text
    missing = client.get("/releases/9.9.9", headers={"accept": "text/plain"})
    assert (
        missing.status_code,
        "no release 9.9.9 (releases: 1.0.0, 2.0.0; or unreleased)" in missing.text,
    ) == (
        404,
        True,
    )


@needs_history
def test_unreleased_page_lists_the_diff(client) -> None:  # type: ignore[no-untyped-def]
    from idais_kg.dataset.diff import diff
    from idais_kg.dataset.diff.render import summary

    page = client.get("/releases/unreleased")
    assert page.status_code == 200
    latest = releases(Layout(ROOT))[-1].version
    expected = summary(diff(latest, "working", Layout(ROOT))).replace("working tree", "the data served here")
    assert f"<p>{expected}</p>" in page.text.replace("&#39;", "'")


def test_release_pages_are_valid_html(client) -> None:  # type: ignore[no-untyped-def]
    html5lib = pytest.importorskip("html5lib", reason="html5lib is not installed")
    for path in ("/releases/", "/releases/1.0.0"):
        html5lib.HTMLParser(strict=True).parse(client.get(path).content)
