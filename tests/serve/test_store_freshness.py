"""One current guide everywhere: the partner store records which build of the sources its copy of the guide is;
a stale store is refused with the command to run; ``build`` brings it up to date and keeps the partners; the CLI
reads what ``serve`` serves; and a running server serves a new version of its store without a restart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from idais_kg.cli import main

ROOT = Path(__file__).resolve().parents[2]
CLEAN = ROOT / "tests" / "cases" / "partners" / "clean.ttl"
GOAL_FILE = Path("data/guide/common/goals.ttl")  # (where the goals are since the data were reorganised)
OLD, NEW = '"Require post-deployment monitoring"@en', '"Require monitoring after deployment"@en'
TITLE = "SELECT ?l WHERE { goal:post-deployment-monitoring skos:prefLabel ?l FILTER (LANG(?l) = 'en') }"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sources, used as the project (IDAIS_KG_HOME), with a partner store holding one partner."""
    for folder in ("ontology", "data", "queries", "shapes"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.setenv("IDAIS_KG_HOME", str(tmp_path))
    added = CliRunner().invoke(main, ["partner", "add", "lumen", str(CLEAN)])
    assert added.exit_code == 0, added.output
    return tmp_path


def edit_label(tree: Path) -> None:
    path = tree / GOAL_FILE
    text = path.read_text(encoding="utf-8")
    assert text.count(OLD) == 1
    path.write_text(text.replace(OLD, NEW), encoding="utf-8")


def title(runner: CliRunner) -> str:
    out = runner.invoke(main, ["sparql", TITLE, "--format", "csv"])
    assert out.exit_code == 0, out.output
    return out.output.splitlines()[1]


def test_a_stale_store_is_refused_and_build_brings_it_up_to_date(tree: Path) -> None:
    runner = CliRunner()
    assert title(runner) == "Require post-deployment monitoring"
    links = runner.invoke(main, ["query", "partner-links-by-goal", "--format", "csv"])
    assert (
        links.exit_code == 0 and len(links.output.splitlines()) > 1
    )  # the CLI reads the store: lumen's links
    edit_label(tree)
    stale = runner.invoke(main, ["sparql", TITLE])
    assert stale.exit_code == 2
    assert stale.stderr.strip().endswith(
        "run `idais-kg build` to bring its guide up to date (the partners are kept)"
    )
    built = runner.invoke(main, ["build"])
    assert built.exit_code == 0, built.output
    assert built.output.splitlines()[-1] == (
        f"updated the guide in the partner store {tree / 'build' / 'store'} (1 partner graphs kept)"
    )
    assert title(runner) == "Require monitoring after deployment"
    listed = runner.invoke(main, ["partner", "list"])
    assert "lumen" in listed.output
    assert runner.invoke(main, ["query", "partner-links-by-goal", "--format", "csv"]).output == links.output


def get(url: str, accept: str) -> tuple[str, bytes]:
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept}), timeout=10) as r:
        return r.headers["ETag"], r.read()


def test_a_running_server_serves_the_new_store_without_a_restart(tree: Path, start_server) -> None:
    store = tree / "build" / "store"
    with start_server(tree, "--workers", "1", "--store", str(store)) as server:
        pid = server.process.pid
        goal = server.url + "/id/goal/post-deployment-monitoring"
        tag, body = get(goal, "text/turtle")
        assert OLD.split("@")[0].encode() in body
        edit_label(tree)
        env = {**os.environ, "IDAIS_KG_HOME": str(tree)}
        subprocess.run(
            [sys.executable, "-m", "idais_kg.cli", "build"], check=True, env=env, capture_output=True
        )
        began = time.monotonic()
        while time.monotonic() - began < 20:
            new_tag, body = get(goal, "text/turtle")
            if NEW.split("@")[0].encode() in body:
                break
            time.sleep(0.1)
        assert NEW.split("@")[0].encode() in body
        assert new_tag != tag and server.process.pid == pid
        status, _, answer = server.post(
            "/sparql",
            b"ASK { GRAPH <https://w3id.org/idais-kg/id/graph/partner/lumen> { ?s ?p ?o } }",
            "application/sparql-query",
            "application/sparql-results+json",
        )
        assert status == 200 and json.loads(answer)["boolean"] is True  # the partner is still served
        (tree / "reload-seconds.txt").write_text(f"{time.monotonic() - began:.2f}\n")
