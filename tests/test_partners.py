"""Partner data: checks (with pySHACL as the reference), the persistent store, atomicity under faults and kills.

Fixtures in cases/partners/ are FICTIONAL organisations linking to real guide IRIs: clean.ttl conforms,
broken.ttl has every kind of error, mapping.sssom.tsv and links.csv are the two table layouts.
"""

from __future__ import annotations

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
from pyshacl import validate as pyshacl_validate
from test_inputs import EXPECTED, Listener

from idais_kg.cli import main
from idais_kg.dataset import serving
from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.errors import IdaisError, PartnerError, PartnerRejected
from idais_kg.namespaces import KG, RDF
from idais_kg.partners import registry as partners

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).parent / "cases" / "partners"
INPUT_CASES = Path(__file__).parent / "cases" / "inputs"
SHAPE = "https://w3id.org/idais-kg/shapes#"
Q = "https://example.org/fictional/quillmoor-watch/"

GOAL = KG + "goal/"
# (shape, focus node, value): resource-level shapes report the partner's dataset as focus and the resource or the
# link target as the value.
BROKEN_EXPECTED = {
    ("PartnerDatasetContact", Q + "dataset", Q + "dataset"),
    ("PartnerDatasetPublisher", Q + "dataset", Q + "dataset"),
    ("PartnerDatasetDate", Q + "dataset", Q + "dataset"),
    ("PartnerDatasetLicense", Q + "dataset", Q + "dataset"),
    ("PartnerUndocumentedLink", Q + "dataset", GOAL + "safety-cases-and-assurances"),
    ("PartnerLinkTargetExists", Q + "dataset", GOAL + "post-deployment-monitorin"),
    ("PartnerResourceLabelled", Q + "dataset", Q + "unlabelled"),
    ("PartnerResourceTyped", Q + "dataset", Q + "untyped"),
    ("PartnerGoalLinkRange", Q + "dataset", KG + "area/domestic-governance"),
    ("PartnerMappingTarget", Q + "dataset", KG + "dialogue/beijing-2024"),
    ("own:namespace", GOAL + "post-deployment-monitoring", None),
}


@pytest.mark.parametrize("name", ["clean.ttl", "mapping.sssom.tsv", "links.csv"])
def test_clean_fixtures_conform(kg: KnowledgeGraph, name: str) -> None:
    report = partners.check(CASES / name, kg)
    assert report.findings == []
    assert report.exit_code == 0
    assert sum(n for _, n in report.links_per_goal) >= 2


def test_broken_fixture_has_every_kind_of_error(kg: KnowledgeGraph) -> None:
    report = partners.check(CASES / "broken.ttl", kg)
    got = {(f.shape.replace(SHAPE, ""), f.focus, f.value) for f in report.findings}
    assert got == BROKEN_EXPECTED
    (typo,) = [f for f in report.findings if f.shape.endswith("PartnerLinkTargetExists")]
    assert typo.hint == GOAL + "post-deployment-monitoring"
    assert "links with http://www.w3.org/2004/02/skos/core#exactMatch" in typo.message
    assert report.exit_code == 1


def test_pyshacl_agrees_on_the_partner_shapes(kg: KnowledgeGraph) -> None:
    """The set-wise evaluation gives pySHACL's results (data: the broken fixture + the guide's types)."""
    quads = partners.read_partner(CASES / "broken.ttl", partners.graph_of("x"))
    data = rdflib.Graph()
    triples = [q for q in quads] + list(
        kg.store._store.quads_for_pattern(None, ox.NamedNode(RDF + "type"), None)
    )
    data.parse(
        data=ox.serialize(
            [ox.Triple(q.subject, q.predicate, q.object) for q in triples], format=ox.RdfFormat.N_TRIPLES
        ),
        format="nt",
    )
    shapes = rdflib.Graph().parse(ROOT / "shapes" / "partner" / "partner.ttl")
    _, results, _ = pyshacl_validate(data, shacl_graph=shapes, inference="none", advanced=True)
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    reference = {
        (
            str(results.value(r, sh.sourceShape)).replace(SHAPE, ""),
            str(results.value(r, sh.focusNode)),
            str(results.value(r, sh.value)) if results.value(r, sh.value) is not None else None,
        )
        for r in results.subjects(rdflib.RDF.type, sh.ValidationResult)
    }
    assert reference == {e for e in BROKEN_EXPECTED if not e[0].startswith("own:")}


def test_csv_cells_stay_text(kg: KnowledgeGraph) -> None:
    quads = partners.read_partner(CASES / "links.csv", partners.graph_of("x"))
    labels = {q.object.value for q in quads if q.predicate.value.endswith("#label")}
    assert '=HYPERLINK("http://example.invalid","click")' in labels
    assert all(isinstance(q.object, ox.Literal) for q in quads if q.predicate.value.endswith("#comment"))


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    store = ["--store", str(tmp_path)]
    assert runner.invoke(main, ["partner", "check", str(CASES / "clean.ttl"), *store]).exit_code == 0
    assert runner.invoke(main, ["partner", "check", str(CASES / "broken.ttl"), *store]).exit_code == 1
    unsafe = runner.invoke(main, ["partner", "check", str(INPUT_CASES / "deep-jsonld.jsonld"), *store])
    assert unsafe.exit_code == 2 and "nesting deeper" in unsafe.output


# ----------------------------------------------------------------------------------------------------------------
# the persistent store
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the guide and the clean partner, made once; tests work on copies."""
    from idais_kg.dataset.assemble import load

    store = tmp_path_factory.mktemp("base") / "store"
    partners.add("lumen", CASES / "clean.ttl", store, kg=load())
    return store


@pytest.fixture
def store(base_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(base_store, copy, symlinks=True)
    return copy


def test_add_list_remove(store: Path, kg: KnowledgeGraph) -> None:
    assert [p.name for p in partners.registered(store)] == ["lumen"]
    before = partners.fingerprint(store)
    assert partners.add("lumen", CASES / "clean.ttl", store, kg=kg).status == "unchanged"
    assert partners.fingerprint(store) == before
    with pytest.raises(PartnerError, match="--replace"):
        partners.add("lumen", CASES / "links.csv", store, kg=kg)
    assert partners.add("lumen", CASES / "links.csv", store, kg=kg, replace=True).status == "replaced"
    assert partners.add("harbour", CASES / "mapping.sssom.tsv", store, kg=kg).status == "added"
    (lumen, harbour) = sorted(partners.registered(store), key=lambda p: p.name != "lumen")
    assert lumen.file == "links.csv" and lumen.triples == 13 and harbour.triples == 15
    served = serving.serving_graph(store)
    assert set(served.store.graphs()) >= {partners.graph_of("lumen"), partners.graph_of("harbour")}
    partners.remove("harbour", store)
    assert [p.name for p in partners.registered(store)] == ["lumen"]
    assert partners.graph_of("harbour") not in serving.serving_graph(store).store.graphs()
    with pytest.raises(PartnerError):
        partners.remove("harbour", store)


def hazards() -> list[Path]:
    bad = [INPUT_CASES / n for n, case in EXPECTED.items() if case["error"] != "ok" and "limits" not in case]
    return [*bad, CASES / "broken.ttl"]


@pytest.mark.parametrize("path", hazards(), ids=lambda p: p.name)
def test_hazards_leave_the_store_untouched(
    store: Path, kg: KnowledgeGraph, path: Path, tmp_path: Path, no_network: list[object]
) -> None:
    listener = Listener()
    case = tmp_path / path.name
    case.write_bytes(path.read_bytes().replace(b"127.0.0.1:PORT", b"127.0.0.1:%d" % listener.port))
    before = partners.fingerprint(store)
    with pytest.raises(IdaisError) as info:
        partners.add("intruder", case, store, kg=kg)
    assert isinstance(info.value, PartnerRejected) or info.value.exit_code == 2
    assert partners.fingerprint(store) == before
    assert listener.connections() == 0 and no_network == []
    listener.sock.close()


STEPS = ["copied", "loading", "checked", "applied", "flushed", "linked", "swapped"]


@pytest.mark.parametrize("step", STEPS)
def test_injected_failure_leaves_the_old_state(
    store: Path, kg: KnowledgeGraph, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = partners.fingerprint(store)
    monkeypatch.setenv("IDAIS_KG_TEST_STEP", f"fail:{step}")
    with pytest.raises(partners.InjectedFault):
        partners.add("harbour", CASES / "mapping.sssom.tsv", store, kg=kg)
    monkeypatch.delenv("IDAIS_KG_TEST_STEP")
    after = partners.fingerprint(store)
    if step == "swapped":  # the swap happened: the new state, complete
        assert [p.name for p in partners.registered(store)] == ["harbour", "lumen"]
    else:
        assert after == before
    assert partners.add("harbour", CASES / "mapping.sssom.tsv", store, kg=kg).status in ("added", "unchanged")
    assert not [p for p in store.iterdir() if p.name.startswith(".staging-")]


@pytest.mark.parametrize("step", ["copied", "loading", "applied", "flushed", "linked", "swapped"])
def test_killed_add_leaves_old_or_new_state(store: Path, kg: KnowledgeGraph, step: str) -> None:
    """SIGKILL the add at each step (a subprocess paused there): the store is exactly old or new."""
    before = partners.fingerprint(store)
    env = {**os.environ, "IDAIS_KG_TEST_STEP": f"pause:{step}"}
    command = [
        sys.executable,
        "-m",
        "idais_kg.cli",
        "partner",
        "add",
        "harbour",
        str(CASES / "mapping.sssom.tsv"),
    ]
    proc = subprocess.Popen([*command, "--store", str(store)], env=env, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert b"paused at " + step.encode() in line, line
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = partners.fingerprint(store)
    partners.add("harbour", CASES / "mapping.sssom.tsv", store, kg=kg)  # the next command works
    after = partners.fingerprint(store)
    assert state in (before, after)
    assert (state == after) == (step == "swapped")
