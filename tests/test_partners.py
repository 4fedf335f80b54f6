"""Partner data: checks (with pySHACL as the reference), the persistent store, atomicity under faults and kills.

Fixtures in cases/partners/ are FICTIONAL organisations linking to real guide IRIs: clean.ttl conforms,
broken.ttl has every kind of error, mapping.sssom.tsv and links.csv are the two table layouts; cases/partners/shapes/
holds one shape case per file (blank nodes, DCAT-AP conventions) in the manner of tests/cases/shapes/, run under
pySHACL, ours and Jena; tests/test_sssom.py has the SSSOM files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from pyshacl import validate as pyshacl_validate
from rdflib.namespace import SH
from test_engines import missing_jena, run_batch
from test_inputs import EXPECTED, Listener
from test_shapes import closure

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


# ----------------------------------------------------------------------------------------------------------------
# shape cases: each file of cases/partners/shapes/ is a partner file plus, in RDF, the results it must give
# (t:expect [ t:sourceShape …; t:focusNode …; t:value …; t:severity … ], the vocabulary of tests/test_shapes.py); a
# blank node in an expectation stands for any blank node. The same results from pySHACL, ours and Jena.
# ----------------------------------------------------------------------------------------------------------------

SHAPE_CASES = sorted((CASES / "shapes").glob("*.ttl"))
T = rdflib.Namespace("https://w3id.org/idais-kg/test/shape-case#")
PartnerResult = tuple[str, str, str | None, str]  # (shape, focus, value, severity); "_:" for any blank node


def term_key(term: object) -> str | None:
    """An IRI or literal as its text, any blank node as "_:" (ours gives a blank node's id: it has no ':')."""
    if term is None:
        return None
    if isinstance(term, rdflib.BNode | ox.BlankNode) or (isinstance(term, str) and ":" not in term):
        return "_:"
    return term.value if isinstance(term, ox.NamedNode | ox.Literal) else str(term)


def split_partner_case(path: Path) -> tuple[rdflib.Graph, set[PartnerResult]]:
    graph = rdflib.Graph().parse(path, format="turtle")
    (case,) = graph.subjects(RDF_TYPE, T.ShapeTestCase)
    assert graph.value(case, rdflib.RDFS.comment), f"{path.name} says what it tests"
    expected = {
        (
            str(graph.value(e, T.sourceShape)).replace(SHAPE, ""),
            term_key(graph.value(e, T.focusNode)),
            term_key(graph.value(e, T.value)),
            str(graph.value(e, T.severity)).rsplit("#", 1)[-1],
        )
        for e in graph.objects(case, T.expect)
    }
    data = rdflib.Graph()
    manifest = closure(graph, case)
    for triple in graph:
        if triple not in manifest:
            data.add(triple)
    return data, expected  # type: ignore[return-value]


RDF_TYPE = rdflib.RDF.type


@pytest.fixture(scope="module")
def guide_types(kg: KnowledgeGraph) -> rdflib.Graph:
    """What the partner shapes see of the guide (partners.check.guide_scratch): its rdf:type triples."""
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in partners.guide_scratch(kg)]
    return rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")


def report_results(report: rdflib.Graph) -> set[PartnerResult]:
    return {
        (
            str(report.value(r, SH.sourceShape)).replace(SHAPE, ""),
            term_key(report.value(r, SH.focusNode)),
            term_key(report.value(r, SH.value)),
            str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
        )
        for r in report.subjects(RDF_TYPE, SH.ValidationResult)
    }


@pytest.mark.parametrize("case", SHAPE_CASES, ids=[c.stem for c in SHAPE_CASES])
def test_partner_shape_case_ours(case: Path, kg: KnowledgeGraph, tmp_path: Path) -> None:
    data, expected = split_partner_case(case)
    path = tmp_path / f"{case.stem}.nt"
    path.write_bytes(data.serialize(format="nt", encoding="utf-8"))
    report = partners.check(path, kg)
    got = {
        (f.shape.replace(SHAPE, ""), term_key(f.focus), term_key(f.value), f.severity)
        for f in report.findings
    }
    assert got == expected
    assert report.exit_code == int(any(e[3] == "Violation" for e in expected))


@pytest.mark.parametrize("case", SHAPE_CASES, ids=[c.stem for c in SHAPE_CASES])
def test_partner_shape_case_pyshacl(case: Path, guide_types: rdflib.Graph) -> None:
    data, expected = split_partner_case(case)
    shapes = rdflib.Graph().parse(ROOT / "shapes" / "partner" / "partner.ttl")
    _, report, _ = pyshacl_validate(data + guide_types, shacl_graph=shapes, inference="none", advanced=True)
    assert report_results(report) == expected


@pytest.fixture(scope="module")
def jena_partner_reports(
    tmp_path_factory: pytest.TempPathFactory, guide_types: rdflib.Graph
) -> dict[str, rdflib.Graph]:
    """Every partner shape case validated by Jena's SHACL in one JVM (tests/test_engines.py explains the set-up)."""
    work = tmp_path_factory.mktemp("jena-partner")
    args = [str(ROOT / "shapes" / "partner" / "partner.ttl"), "--"]
    for case in SHAPE_CASES:
        data, _ = split_partner_case(case)
        (work / f"{case.stem}.nt").write_bytes((data + guide_types).serialize(format="nt", encoding="utf-8"))
        args += [str(work / f"{case.stem}.nt"), str(work / f"{case.stem}.report.nt")]
    run_batch(work, args)
    return {c.stem: rdflib.Graph().parse(work / f"{c.stem}.report.nt", format="nt") for c in SHAPE_CASES}


@pytest.mark.skipif(
    missing_jena, reason="Jena's SHACL is not installed (scripts/setup.sh installs it as root)"
)
@pytest.mark.parametrize("case", SHAPE_CASES, ids=[c.stem for c in SHAPE_CASES])
def test_partner_shape_case_jena(case: Path, jena_partner_reports: dict[str, rdflib.Graph]) -> None:
    _, expected = split_partner_case(case)
    assert report_results(jena_partner_reports[case.stem]) == expected


def test_add_refuses_blank_node_links(kg: KnowledgeGraph, tmp_path: Path) -> None:
    """``[] skos:closeMatch goal:<typo>`` and ``[] owl:sameAs goal:x`` were added; now nothing is stored."""
    data, _ = split_partner_case(CASES / "shapes" / "blank-subject-links.ttl")
    path = tmp_path / "blank.nt"
    path.write_bytes(data.serialize(format="nt", encoding="utf-8"))
    with pytest.raises(PartnerRejected, match="PartnerLinkTargetExists"):
        partners.add("wrenfield", path, tmp_path / "store", kg=kg)
    assert partners.registered(tmp_path / "store") == []


def test_every_partner_shape_is_exercised() -> None:
    """Each partner shape is the source of an expected result of some case (here, or in broken.ttl)."""
    shapes = rdflib.Graph().parse(ROOT / "shapes" / "partner" / "partner.ttl")
    named = {str(s).replace(SHAPE, "") for s in shapes.subjects(RDF_TYPE, SH.NodeShape)}
    expected = {e[0] for case in SHAPE_CASES for e in split_partner_case(case)[1]}
    assert named - expected - {e[0] for e in BROKEN_EXPECTED} == set()


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
    # a table in SSSOM's RDF form (the set's slots, an owl:Axiom of 4 triples + its slots per row, sssom:mappings)
    # and what the shapes read of it (void:Dataset, publisher, contact point; per row the direct triple, label and
    # type): links.csv 5 + 7 + 8 + 3 + 2 * 3, mapping.sssom.tsv 5 + 3 * 8 + 3 + 3 * 3
    assert lumen.file == "links.csv" and lumen.triples == 29 and harbour.triples == 41
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
