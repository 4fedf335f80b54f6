"""How partner data reaches the on-disk store: the parallel N-Triples loader, the check that runs beside the load,
and verdicts remembered by ``partner check`` (fixtures: tests/cases/partners/, fictional organisations)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import isomorphic

from idais_kg.cli import main
from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.dataset.versioned import open_read_only
from idais_kg.errors import PartnerRejected
from idais_kg.partners import loader as bulk
from idais_kg.partners import registry as partners
from idais_kg.partners import verdicts as partner_verdicts
from idais_kg.partners.check import PartnerFile
from idais_kg.sources.layout import Layout
from idais_kg.sources.untrusted import Limits

CASES = Path(__file__).parent / "cases" / "partners"


def as_ntriples(source: Path, target: Path) -> Path:
    """A fixture converted to N-Triples (blank nodes included), to take the N-Triples paths."""
    quads = ox.parse(path=str(source), format=ox.RdfFormat.TURTLE)
    target.write_bytes(
        ox.serialize(
            [ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES
        )
    )
    return target


def graph_of_store(store_dir: Path, name: str) -> rdflib.Graph:
    store = open_read_only(store_dir)
    g = ox.NamedNode(partners.graph_of(name))
    data = ox.serialize(
        [ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, g)],
        format=ox.RdfFormat.N_TRIPLES,
    )
    return rdflib.Graph().parse(data=data, format="nt")


def test_parts_keep_blank_nodes_together_and_lose_no_line() -> None:
    lines = [b"<http://e.org/s%d> <http://e.org/p> <http://e.org/o> .\n" % i for i in range(100)]
    lines[10] = b"_:b1 <http://e.org/p> <http://e.org/o> .\n"
    lines[70] = b"<http://e.org/s> <http://e.org/p> _:b1 .\n"
    data = b"".join(lines)
    got = bulk.parts(data, 3)
    assert len(got) == 3
    assert got[0] == lines[10] + lines[70]
    assert sorted(line for part in got for line in part.splitlines(keepends=True)) == sorted(lines)
    assert bulk.parts(data, 1) == [data]
    assert bulk.parts(b"", 4) == []


def test_parallel_load_equals_one_load(tmp_path: Path) -> None:
    """Blank nodes spread over the file stay one node each: the graph is isomorphic to a single bulk load."""
    lines = as_ntriples(CASES / "clean.ttl", tmp_path / "clean.nt").read_bytes().splitlines(keepends=True)
    blank = [
        b"<https://example.org/fictional/lumen-observatory/dataset> <http://www.w3.org/ns/dcat#contactPoint> _:c .\n",
        b'_:c <http://www.w3.org/2006/vcard/ns#fn> "Front desk" .\n',
        b"_:c <http://www.w3.org/2006/vcard/ns#hasEmail> _:m .\n",
        b'_:m <http://www.w3.org/2000/01/rdf-schema#label> "mail" .\n',
    ]
    for i, line in enumerate(blank):  # spread over the file, so a naive cut would split them
        lines.insert(i * len(lines) // len(blank), line)
    data = b"".join(lines)
    g = ox.NamedNode("https://example.org/fictional/graph")
    one, many = ox.Store(), ox.Store(str(tmp_path / "db"))
    one.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=g)
    bulk.load_ntriples(many, data, g, threads=4)

    def rdflib_graph(store: ox.Store) -> rdflib.Graph:
        nt = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g)
        return rdflib.Graph().parse(data=nt, format="nt")

    assert len(many) == len(one) == len(lines)
    assert isomorphic(rdflib_graph(one), rdflib_graph(many))
    blank_nodes = {q.subject for q in many if isinstance(q.subject, ox.BlankNode)}
    assert len(blank_nodes) == 2


@pytest.mark.parametrize("fixture", ["clean.nt", "clean.ttl", "links.csv"])
def test_add_with_and_without_a_remembered_verdict_store_the_same(
    kg: KnowledgeGraph, tmp_path: Path, fixture: str
) -> None:
    """N-Triples are loaded from the file's bytes; other syntaxes from the N-Triples that the check kept."""
    path = CASES / fixture
    if fixture == "clean.nt":
        path = as_ntriples(CASES / "clean.ttl", tmp_path / "clean.nt")
    checked, fresh = tmp_path / "checked", tmp_path / "fresh"
    report = partners.check_and_remember(path, checked, kg)
    kept = sorted(p.suffix for p in (checked / partner_verdicts.FOLDER).iterdir())
    assert report.conforms and kept == ([".json"] if fixture == "clean.nt" else [".json", ".nt"])
    remembered = partners.add("lumen", path, checked, kg=kg)
    again = partners.add("lumen", path, fresh, kg=kg)
    assert (remembered.rechecked, again.rechecked) == (False, True)
    assert remembered.report is None and again.report is not None
    assert remembered.triples == again.triples == report.triples
    assert isomorphic(graph_of_store(checked, "lumen"), graph_of_store(fresh, "lumen"))
    assert len(graph_of_store(checked, "lumen")) == report.triples
    assert list((checked / partner_verdicts.FOLDER).iterdir()) == []  # used once, then dropped


def test_a_verdict_without_its_ntriples_is_not_used(kg: KnowledgeGraph, tmp_path: Path) -> None:
    store = tmp_path / "store"
    partners.check_and_remember(CASES / "clean.ttl", store, kg)
    (kept,) = (store / partner_verdicts.FOLDER).glob("*.nt")
    kept.unlink()
    assert partners.add("lumen", CASES / "clean.ttl", store, kg=kg).rechecked


def test_a_verdict_that_kept_no_graph_for_turtle_is_not_used(kg: KnowledgeGraph, tmp_path: Path) -> None:
    store = tmp_path / "store"
    partners.check_and_remember(CASES / "clean.ttl", store, kg)
    (record,) = (store / partner_verdicts.FOLDER).glob("*.json")
    record.write_text(
        json.dumps({k: v for k, v in json.loads(record.read_text()).items() if k != "ntriples"})
    )
    assert partners.add("lumen", CASES / "clean.ttl", store, kg=kg).rechecked


def test_only_the_newest_verdicts_are_kept(kg: KnowledgeGraph, tmp_path: Path) -> None:
    store = tmp_path / "store"
    for i in range(partner_verdicts.KEEP + 2):
        variant = tmp_path / f"clean-{i}.ttl"
        variant.write_bytes((CASES / "clean.ttl").read_bytes() + b"\n# variant %d\n" % i)
        partners.check_and_remember(variant, store, kg)
    assert len(list((store / partner_verdicts.FOLDER).glob("*.json"))) == partner_verdicts.KEEP
    assert len(list((store / partner_verdicts.FOLDER).glob("*.nt"))) == partner_verdicts.KEEP


def test_a_changed_byte_is_checked_again(kg: KnowledgeGraph, tmp_path: Path) -> None:
    path = tmp_path / "partner.ttl"
    shutil.copy(CASES / "clean.ttl", path)
    partners.check_and_remember(path, tmp_path / "store", kg)
    path.write_bytes(path.read_bytes() + b"\n# one more line\n")
    assert partners.add("lumen", path, tmp_path / "store", kg=kg).rechecked
    assert (
        partners.add("other", CASES / "links.csv", tmp_path / "store", kg=kg, recheck=True).report is not None
    )


def test_verdict_key_follows_what_the_check_depends_on(kg: KnowledgeGraph, tmp_path: Path) -> None:
    ttl = PartnerFile.read(CASES / "clean.ttl")
    key = partner_verdicts.key(ttl, partners.graph_of("a"), kg.layout)
    assert key == partner_verdicts.key(ttl, partners.graph_of("b"), kg.layout)  # Turtle names no graph
    assert key != partner_verdicts.key(
        PartnerFile.read(CASES / "clean.ttl", Limits(max_depth=8)), partners.graph_of("a"), kg.layout
    )
    trig = tmp_path / "own.trig"
    trig.write_text("<https://example.org/fictional/s> <https://example.org/fictional/p> 1 .\n")
    source = PartnerFile.read(trig)
    assert partner_verdicts.key(source, partners.graph_of("a"), kg.layout) != partner_verdicts.key(
        source, partners.graph_of("b"), kg.layout
    )


@pytest.mark.parametrize(
    "edit", ["shapes/partner/partner.ttl", "data/guide/2025-02/footnotes.ttl", "ontology/idais.ttl"]
)
def test_verdict_key_follows_the_shapes_and_the_guide(
    kg: KnowledgeGraph, project_copy: Layout, edit: str
) -> None:
    source = PartnerFile.read(CASES / "clean.ttl")
    graph = partners.graph_of("a")
    assert partner_verdicts.key(source, graph, project_copy) == partner_verdicts.key(source, graph, kg.layout)
    with (project_copy.root / edit).open("a") as out:
        out.write("\n# an edit\n")
    assert partner_verdicts.key(source, graph, project_copy) != partner_verdicts.key(source, graph, kg.layout)


def test_a_failing_check_is_not_remembered_and_a_torn_record_is_ignored(
    kg: KnowledgeGraph, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    assert not partners.check_and_remember(CASES / "broken.ttl", store, kg).conforms
    assert not (store / partner_verdicts.FOLDER).exists()
    partners.check_and_remember(CASES / "clean.ttl", store, kg)
    (record,) = (store / partner_verdicts.FOLDER).glob("*.json")
    record.write_text('{"triples": ')  # torn
    assert partners.add("lumen", CASES / "clean.ttl", store, kg=kg).rechecked


def test_rejected_ntriples_leave_the_store_untouched(kg: KnowledgeGraph, tmp_path: Path) -> None:
    """The staging copy was being written while the check ran: a failed check throws all of it away."""
    store = tmp_path / "store"
    partners.add("lumen", CASES / "clean.ttl", store, kg=kg)
    before = partners.fingerprint(store)
    broken = as_ntriples(CASES / "broken.ttl", tmp_path / "broken.nt")
    with pytest.raises(PartnerRejected, match="does not conform; nothing was stored"):
        partners.add("quillmoor", broken, store, kg=kg)
    assert partners.fingerprint(store) == before
    assert sorted(p.name for p in store.iterdir() if not p.name.startswith(".")) == [
        "current",
        (store / "current").resolve().name,
    ]


def test_cli_check_then_add_uses_the_verdict(tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "store")
    checked = runner.invoke(main, ["partner", "check", str(CASES / "clean.ttl"), "--store", store])
    assert checked.exit_code == 0, checked.output
    added = runner.invoke(main, ["partner", "add", "lumen", str(CASES / "clean.ttl"), "--store", store])
    assert added.exit_code == 0, added.output
    assert "as checked by `partner check` before" in added.output
    replaced = runner.invoke(
        main,
        ["partner", "add", "lumen", str(CASES / "links.csv"), "--store", store, "--replace", "--recheck"],
    )
    assert "replaced partner lumen: 29 triples (checked now)" in replaced.output


def test_killed_while_the_staging_copy_is_written(kg: KnowledgeGraph, tmp_path: Path) -> None:
    """SIGKILL while the writer thread fills the staging copy (a 60k-triple file, paused on the main thread):
    the store keeps its old state, and the next command clears the half-written copy."""
    store = tmp_path / "store"
    partners.add("lumen", CASES / "clean.ttl", store, kg=kg)
    before = partners.fingerprint(store)
    big = as_ntriples(CASES / "clean.ttl", tmp_path / "big.nt")
    item = "https://example.org/fictional/lumen-observatory/item/"
    with big.open("a") as out:
        for i in range(20_000):
            out.write(
                f"<{item}{i}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/CreativeWork> .\n"
                f'<{item}{i}> <http://www.w3.org/2000/01/rdf-schema#label> "item {i}" .\n'
                f"<{item}{i}> <https://w3id.org/idais-kg/ontology#addressesGoal> "
                "<https://w3id.org/idais-kg/id/goal/post-deployment-monitoring> .\n"
            )
    env = {**os.environ, "IDAIS_KG_TEST_STEP": "pause:loading"}
    command = [sys.executable, "-m", "idais_kg.cli", "partner", "add", "big", str(big), "--store", str(store)]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert b"paused at loading" in line, line
    assert [p.name for p in store.iterdir() if p.name.startswith(".staging-")]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert partners.fingerprint(store) == before
    partners.remove("lumen", store)  # the next command works, and clears what the killed one left
    assert not [p for p in store.iterdir() if p.name.startswith(".staging-")]
    assert partners.registered(store) == []


def test_check_as_the_partner_a_file_that_names_its_graph(tmp_path: Path) -> None:
    """A TriG file that writes into its own partner graph passes `check --as` that partner, and only that one."""
    trig = tmp_path / "lumen.trig"
    quads = ox.parse(path=str(CASES / "clean.ttl"), format=ox.RdfFormat.TURTLE)
    own = ox.NamedNode(partners.graph_of("lumen"))
    trig.write_bytes(
        ox.serialize(
            [ox.Quad(q.subject, q.predicate, q.object, own) for q in quads], format=ox.RdfFormat.TRIG
        )
    )
    runner, store = CliRunner(), ["--store", str(tmp_path / "store")]
    refused = runner.invoke(main, ["partner", "check", str(trig), *store])
    assert refused.exit_code == 2 and "may only write" in refused.output
    passed = runner.invoke(main, ["partner", "check", str(trig), "--as", "lumen", *store])
    assert passed.exit_code == 0, passed.output
    added = runner.invoke(main, ["partner", "add", "lumen", str(trig), *store])
    assert "as checked by `partner check` before" in added.output
