"""Publish to a REAL Oxigraph server process (PyPI ``oxigraph``, ``oxigraph serve`` on a free loopback port), then
every saved-query case gives the same rows remotely (SPARQLWrapper, parameters as a VALUES block) and in-process."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml
from click.testing import CliRunner
from test_queries import CASES, with_partners

from idais_kg import remote
from idais_kg.cli import main
from idais_kg.graph import KnowledgeGraph

OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
PARTNERS = {"lumen": "clean.ttl", "harbour": "mapping.sssom.tsv"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    if not Path(OXIGRAPH).exists():
        pytest.skip("the oxigraph server (pip install oxigraph) is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [OXIGRAPH, "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def published(server: str, kg: KnowledgeGraph) -> KnowledgeGraph:
    full = with_partners(kg, PARTNERS)
    sent = remote.publish(full, server + "/update")
    assert sum(sent.values()) == len(full.store)
    return full


def rows(result: object) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in r.items()} for r in result.rows]  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_same_answer_remotely(server: str, published: KnowledgeGraph, path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    params = {k: str(v) for k, v in (case.get("params") or {}).items()}
    local = published.query(case["query"], **params)
    there = remote.query(published, case["query"], server + "/query", params)
    assert there.variables == local.variables
    assert rows(there) == rows(local)


def test_graph_store_protocol_and_cli(server: str, published: KnowledgeGraph, tmp_path: Path) -> None:
    sent = remote.publish(published, server + "/update", server + "/store")
    assert sum(sent.values()) == len(published.store)
    runner = CliRunner()
    out = runner.invoke(
        main,
        [
            "query",
            "policies-of-goal",
            "-p",
            "goal=goal:post-deployment-monitoring",
            "--endpoint",
            server + "/query",
        ],
    )
    local = runner.invoke(main, ["query", "policies-of-goal", "-p", "goal=goal:post-deployment-monitoring"])
    assert out.exit_code == 0 and out.output == local.output


def test_a_quote_in_a_parameter_stays_in_its_literal() -> None:
    """The VALUES block binds exactly the given value, whatever quotes and braces it holds."""
    value = '" } } DROP ALL ; # \\ """'
    block = remote.values_block({"x": ox.Literal(value)})
    (row,) = ox.Store().query("SELECT ?x WHERE {}" + block)  # type: ignore[misc]
    assert row["x"] == ox.Literal(value)
