"""The wheel is a working product: built from this tree, installed into a fresh venv without downloading anything,
and run from an empty folder, it finds its sources inside the installed package and writes only to that folder.

The fresh venv gets no dependencies of its own: a .pth file adds the project venv's site-packages AFTER the venv's
own, so the wheel's ``idais_kg`` is the one imported (a .pth line adds a folder, and the editable install's own
.pth in it, which would put ``src/`` on the path, is not read).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from processes import free_port, healthy, stop, wait_until

from idais_kg.sources.layout import Layout

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "tests" / "cases" / "partners" / "clean.ttl"
SOURCE_FOLDERS = ("ontology", "data", "shapes", "queries")


@dataclass
class Installed:
    venv: Path
    site: Path
    wheel: Path
    sdist: Path


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a new user: no IDAIS_KG_HOME, no PYTHONPATH, a HOME of their own."""
    env = {k: v for k, v in os.environ.items() if k not in ("IDAIS_KG_HOME", "PYTHONPATH", "VIRTUAL_ENV")}
    env["HOME"] = str(home)
    return env


def source_files() -> list[Path]:
    files = [p for folder in SOURCE_FOLDERS for p in (ROOT / folder).rglob("*") if p.is_file()]
    assert len(files) > 40  # the ontology, the guide, its source text, the shapes and the saved queries
    return files


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("packaging")
    # sdist first, then the wheel built FROM the sdist: so the sdist too must carry everything the wheel needs
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", base / "dist", ROOT)
    (wheel,) = (base / "dist").glob("idais_kg-*.whl")
    (sdist,) = (base / "dist").glob("idais_kg-*.tar.gz")
    venv = base / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (site / "zz-project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return Installed(venv, site, wheel, sdist)


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_wheel_carries_every_source_file(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    expected = {"idais_kg/sources/packaged/" + p.relative_to(ROOT).as_posix() for p in source_files()}
    assert expected - names == set()
    assert "idais_kg/dataset/sparql/class-counts.rq" in names


def test_sdist_carries_every_source_file(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    expected = {p.relative_to(ROOT).as_posix() for p in source_files()}
    assert expected - names == set()
    assert {"pyproject.toml", "README.md", "src/idais_kg/sources/layout.py"} <= names


def snapshot(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture
def served(installed: Installed, user_dir: Path) -> Iterator[str]:
    port = free_port()
    log = (user_dir.parent / "serve.log").open("wb")
    process = subprocess.Popen(
        [installed.venv / "bin" / "idais-kg", "serve", "--port", str(port), "--workers", "1"],
        cwd=user_dir,
        env=clean_env(user_dir.parent),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until(lambda: healthy(url, timeout=5), process, 120, "the installed server")
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n" + (user_dir.parent / "serve.log").read_text()) from None
        yield url
    finally:
        stop(process)
        log.close()


def test_installed_wheel_works_from_an_empty_folder(installed: Installed, user_dir: Path) -> None:
    cli = installed.venv / "bin" / "idais-kg"
    env = clean_env(user_dir.parent)
    before = snapshot(installed.venv)

    version = run(cli, "--version", cwd=user_dir, env=env).splitlines()
    assert version[0].startswith("idais-kg 0.1.0")
    assert version[1].startswith("data: guide edition 2025-02, ontology 2.0.0, sources sha256:")
    assert version[1] == f"data: {Layout(ROOT).data_version()}"  # the very sources of this tree
    assert version[2] == f"sources: installed {installed.site / 'idais_kg' / 'sources' / 'packaged'}"

    built = run(cli, "build", cwd=user_dir, env=env)
    assert f"wrote {user_dir / 'build' / 'dumps'}" in built
    assert (user_dir / "build" / "dumps" / "idais-kg.trig").is_file()

    listed = [line.split()[0] for line in run(cli, "query", "--list", cwd=user_dir, env=env).splitlines()]
    assert "goals-by-area" in listed and "partner-links-by-goal" in listed

    notebook = (
        "import idais_kg; print(idais_kg.load().sparql('ASK { area:safety-research a idais:PolicyArea }'))"
    )
    assert run(installed.venv / "bin" / "python", "-c", notebook, cwd=user_dir, env=env) == "True\n"

    answer = json.loads(run(cli, "query", "goals-by-area", "--format", "json", cwd=user_dir, env=env))
    rows = answer["results"]["bindings"]
    assert len(rows) == 15  # one row per goal of the guide
    assert len({r["goal"]["value"] for r in rows}) == 15

    validated = subprocess.run(
        [cli, "validate", "--no-reasoner"], cwd=user_dir, env=env, capture_output=True, text=True, check=False
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr

    shutil.copy(CLEAN, user_dir / "their.ttl")
    checked = subprocess.run(
        [cli, "partner", "check", "their.ttl"],
        cwd=user_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    assert snapshot(installed.venv) == before  # nothing written into the venv (site-packages included)


def test_installed_wheel_serves(installed: Installed, served: str) -> None:
    query = "SELECT (COUNT(?g) AS ?n) WHERE { ?g a <https://w3id.org/idais-kg/ontology#Goal> }"
    request = urllib.request.Request(
        served + "/sparql?" + urllib.parse.urlencode({"query": query}),
        headers={"Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        answer = json.load(response)
    assert answer["results"]["bindings"][0]["n"]["value"] == "15"
