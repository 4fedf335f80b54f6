"""Publish to a REAL Oxigraph server process (PyPI ``oxigraph``, ``oxigraph serve`` on a free loopback port), then
every saved-query case gives the same rows remotely (SPARQLWrapper, parameters as a VALUES block) and in-process."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare
import yaml
from click.testing import CliRunner
from processes import oxigraph_server
from test_queries import CASES, with_partners

from idais_kg import remote
from idais_kg.cli import main
from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.sources.layout import Layout
from idais_kg.sources.queries import QueryRegistry
from idais_kg.store import Store

PARTNERS = {"lumen": "clean.ttl", "harbour": "mapping.sssom.tsv"}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with oxigraph_server() as url:
        yield url


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


SCRATCH = "https://example.org/idais-kg-test/scratch"
EX = "https://example.org/"
STAGING_PREFIX = "https://w3id.org/idais-kg/id/graph/staging/"


def scratch(triples: list[ox.Triple]) -> KnowledgeGraph:
    """A dataset of one test graph (outside our namespace, so the saved queries never see it)."""
    store = Store()
    store.add_all(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(SCRATCH)) for t in triples)
    return KnowledgeGraph(
        store=store, layout=Layout.default(), queries=QueryRegistry(Layout.default().queries_dir)
    )


def remote_graph(server: str, graph: str) -> rdflib.Graph:
    """The graph as the server returns it (Graph Store Protocol GET, N-Triples), parsed by rdflib."""
    url = server + "/store?" + urllib.parse.urlencode({"graph": graph})
    request = urllib.request.Request(url, headers={"Accept": "application/n-triples"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return rdflib.Graph().parse(data=response.read().decode(), format="nt")


def local_graph(triples: list[ox.Triple]) -> rdflib.Graph:
    return rdflib.Graph().parse(data=remote.ntriples(triples), format="nt")


def graphs_at(server: str) -> set[str]:
    """The named graphs at the server."""
    form = urllib.parse.urlencode({"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"}).encode()
    request = urllib.request.Request(
        server + "/query", data=form, headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = remote.from_json(json.loads(response.read()))
    return {row["g"].value for row in answer.rows}


def linked_blank_nodes() -> list[ox.Triple]:
    """A blank node whose triples are far apart (plain triples between them), linked to a second blank node."""
    p = [ox.NamedNode(f"{EX}p{i}") for i in range(4)]
    b, c = ox.BlankNode(), ox.BlankNode()
    return [
        ox.Triple(ox.NamedNode(EX + "a"), p[0], b),
        *(ox.Triple(ox.NamedNode(f"{EX}plain/{i}"), p[1], ox.Literal(str(i))) for i in range(5)),
        ox.Triple(b, p[2], ox.Literal("on the blank node")),
        ox.Triple(b, p[3], c),
        ox.Triple(c, p[2], ox.Literal("on the second blank node")),
        ox.Triple(ox.NamedNode(EX + "z"), p[0], c),
    ]


def test_a_blank_node_arrives_whole_across_batches(server: str) -> None:
    """With two triples a request, the blank nodes' triples would be sent in different INSERT DATA requests (each
    request its own blank node scope, so two nodes at the server); they go in one, and the graph arrives whole."""
    triples = linked_blank_nodes()
    try:
        assert remote.publish(scratch(triples), server + "/update", batch=2) == {SCRATCH: len(triples)}
        there = remote_graph(server, SCRATCH)
        assert len(there) == len(triples)
        assert rdflib.compare.isomorphic(there, local_graph(triples))
        assert not {g for g in graphs_at(server) if g.startswith(STAGING_PREFIX)}
    finally:
        remote._update(server + "/update", f"DROP SILENT GRAPH <{SCRATCH}>")


def test_batches_keep_blank_node_components_together() -> None:
    triples = linked_blank_nodes()
    batches = list(remote.batches(triples, 2))
    assert sorted(map(str, (t for b in batches for t in b))) == sorted(map(str, triples))
    (together,) = [b for b in batches if any(isinstance(t.subject, ox.BlankNode) for t in b)]
    assert len(together) == 5  # the component: larger than a batch, sent whole
    assert all(len(b) <= 2 for b in batches if b is not together)
    plain = [
        ox.Triple(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.Literal(str(i))) for i in range(5)
    ]
    assert [len(b) for b in remote.batches(plain, 2)] == [2, 2, 1]


def test_a_failed_publish_leaves_the_remote_graph_as_it_was(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second INSERT DATA goes to a route the real server refuses (HTTP 404): the graph keeps exactly its previous
    content, and the staging graph the first request filled is dropped."""
    endpoint = server + "/update"
    before = linked_blank_nodes()
    after = [
        ox.Triple(ox.NamedNode(f"{EX}new/{i}"), ox.NamedNode(EX + "p"), ox.Literal(str(i))) for i in range(5)
    ]
    sent: list[str] = []
    real = remote._update

    def refuse_the_second_insert(url: str, update: str) -> None:
        sent.append(update)
        inserts = sum(1 for u in sent if u.startswith("INSERT DATA"))
        real(url + "-refused" if update.startswith("INSERT DATA") and inserts == 2 else url, update)

    try:
        remote.publish(scratch(before), endpoint)
        monkeypatch.setattr(remote, "_update", refuse_the_second_insert)
        with pytest.raises(remote.RemoteError, match="is not supported by this server"):
            remote.publish(scratch(after), endpoint, batch=2)
        assert sum(1 for u in sent if u.startswith("INSERT DATA")) == 2  # the first one did arrive
        there = remote_graph(server, SCRATCH)
        assert len(there) == len(before)
        assert rdflib.compare.isomorphic(there, local_graph(before))
        assert not {g for g in graphs_at(server) if g.startswith(STAGING_PREFIX)}
    finally:
        real(endpoint, f"DROP SILENT GRAPH <{SCRATCH}>")


def test_every_graph_arrives_whole_through_update(server: str, published: KnowledgeGraph) -> None:
    """The whole dataset through SPARQL Update in batches of 20 triples, fewer than its largest blank-node component
    (the ontology's, 40 triples when written): every graph at the server is isomorphic to ours, and no staging
    graph is left."""
    local = {
        g: [ox.Triple(q.subject, q.predicate, q.object) for q in published.store.quads(g)]
        for g in published.store.graphs()
    }
    assert max(len(u) for t in local.values() for u in remote._units(t) if isinstance(u, list)) > 20
    assert remote.publish(published, server + "/update", batch=20) == {
        g: sum(1 for _ in published.store.quads(g)) for g in published.store.graphs()
    }
    for graph, triples in local.items():
        assert rdflib.compare.isomorphic(remote_graph(server, graph), local_graph(triples)), graph
    assert graphs_at(server) == set(published.store.graphs())


def test_an_interrupted_publish_drops_its_staging_graph(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C between two INSERT DATA requests: the staging graph is dropped before the interrupt goes on."""
    endpoint = server + "/update"
    triples = linked_blank_nodes()
    real = remote._update
    inserts = 0

    def interrupt_the_second_insert(url: str, update: str) -> None:
        nonlocal inserts
        inserts += update.startswith("INSERT DATA")
        if inserts == 2 and update.startswith("INSERT DATA"):
            raise KeyboardInterrupt
        real(url, update)

    monkeypatch.setattr(remote, "_update", interrupt_the_second_insert)
    with pytest.raises(KeyboardInterrupt):
        remote.publish(scratch(triples), endpoint, batch=2)
    assert not {g for g in graphs_at(server) if g.startswith(STAGING_PREFIX)}
    assert SCRATCH not in graphs_at(server)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "data:,x", "http:///nohost", "gopher://h/"]
)
@pytest.mark.parametrize("command", ["query", "publish", "graph-store"])
def test_only_http_endpoints_are_reached(url: str, command: str) -> None:
    """urllib opens file:, ftp: and data: URLs too; the CLI refuses them before any request, in one line."""
    args = {
        "query": ["query", "goals-by-area", "--endpoint", url],
        "publish": ["publish", "--endpoint", url],
        "graph-store": ["publish", "--endpoint", "http://127.0.0.1:9/u", "--graph-store", url],
    }[command]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "only http and https URLs are accepted" in result.output
    assert result.output.count("\n") == 1
