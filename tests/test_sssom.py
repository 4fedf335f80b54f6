"""SSSOM as the standard defines it and as sssom-py writes it: the TSV reader (sources/tables.py), SSSOM's RDF form
as partner input, and what ``partner check`` / ``partner add`` make of both.

Fixtures: cases/partners/sssom-py/ holds files that sssom-py 0.4.21 wrote with its defaults
(tests/fixtures/make_sssom_fixtures.py: a FICTIONAL "Fennick Policy Lab" mapping three topics to real goals),
and upstream/ two files of sssom-py's own test data (MIT licence, beside them).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import graph_diff, isomorphic

from idais_kg.cli import main
from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.dataset.versioned import open_read_only
from idais_kg.errors import TableError
from idais_kg.partners import registry as partners
from idais_kg.sources.tables import read_table

SSSOM_PY = Path(__file__).parent / "cases" / "partners" / "sssom-py"
UPSTREAM = SSSOM_PY / "upstream"
FEN = "https://example.org/fictional/fennick-lab/"
GOAL = "https://w3id.org/idais-kg/id/goal/"
SHAPE = "https://w3id.org/idais-kg/shapes#"
SEMAPV = "https://w3id.org/semapv/vocab/"
ORCID = "https://orcid.org/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
HEADER = """\
# curie_map:
#   ex: https://example.org/fictional/sorrel/
# mapping_set_id: https://example.org/fictional/sorrel/set
# license: https://creativecommons.org/licenses/by/4.0/
"""
COLUMNS = "subject_id\tsubject_label\tpredicate_id\tobject_id\tmapping_justification\n"
ROW = "ex:a\tA topic (fictional)\tskos:exactMatch\tgoal:domestic-model-registration\tsemapv:ManualMappingCuration\n"


def found(report: partners.CheckReport) -> set[tuple[str, str]]:
    return {(f.shape.removeprefix(SHAPE), f.severity) for f in report.findings}


@pytest.mark.parametrize("name", ["fennick.sssom.tsv", "fennick.ttl"])
def test_sssom_py_defaults_conform(kg: KnowledgeGraph, name: str, tmp_path: Path) -> None:
    """Both forms that sssom-py writes by default pass in full (they were refused: subject_type in the header
    ignored, creator_label/mapping_date not counted; the RDF form had no dataset description)."""
    report = partners.check(SSSOM_PY / name, kg)
    assert report.findings == []
    linked = {goal.removeprefix(GOAL): n for goal, n in report.links_per_goal if n}
    assert (
        linked
        == {  # the direct triple of each mapping (its reification, owl:annotatedTarget, is not counted)
            "ai-incident-tracking-and-reporting": 1,
            "large-data-centre-monitoring": 1,
            "red-lines-and-early-warning-thresholds": 1,
        }
    )
    result = CliRunner().invoke(main, ["partner", "check", str(SSSOM_PY / name), "--store", str(tmp_path)])
    assert result.exit_code == 0, result.output


def rdflib_graph(quads: list[ox.Quad]) -> rdflib.Graph:
    data = ox.serialize(
        [ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES
    )
    return rdflib.Graph().parse(data=data, format="nt")  # (rdflib normalises 0.95 and 9.5e-01 alike)


@pytest.mark.parametrize("name", ["fennick", "fennick-no-labels"])
def test_the_table_and_its_rdf_form_give_one_graph(name: str) -> None:
    """Our reading of the TSV is sssom-py's RDF form of it, plus the same derived triples as for that RDF."""
    graph = partners.graph_of("x")
    table = rdflib_graph(partners.read_partner(SSSOM_PY / f"{name}.sssom.tsv", graph))
    rdf = rdflib_graph(partners.read_partner(SSSOM_PY / f"{name}.ttl", graph))
    _, only_table, only_rdf = graph_diff(table, rdf)
    assert isomorphic(table, rdf), (sorted(only_table), sorted(only_rdf))


MAPPINGS = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX pav: <http://purl.org/pav/>
PREFIX sssom: <https://w3id.org/sssom/>
SELECT ?g ?subject ?predicate ?object ?justification ?confidence ?author ?label
WHERE {
  GRAPH ?g {
    ?set a sssom:MappingSet ; sssom:mappings ?m .
    ?m a owl:Axiom ; owl:annotatedSource ?subject ; owl:annotatedProperty ?predicate ;
       owl:annotatedTarget ?object ; sssom:mapping_justification ?justification ; sssom:confidence ?confidence ;
       pav:authoredBy ?author .
    ?subject ?predicate ?object ; rdfs:label ?label .
  }
}
ORDER BY ?subject
"""


@pytest.mark.parametrize("name", ["fennick.sssom.tsv", "fennick.ttl"])
def test_add_keeps_every_mapping_with_its_provenance(kg: KnowledgeGraph, name: str, tmp_path: Path) -> None:
    """``partner add`` stores each mapping in SSSOM's RDF terms (a reified owl:Axiom with its justification,
    confidence and author) beside its direct skos triple: one SPARQL query over the store, an exact answer."""
    store_dir = tmp_path / "store"
    partners.add("fennick", SSSOM_PY / name, store_dir, kg=kg)
    answer = open_read_only(store_dir).query(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" + MAPPINGS,
        substitutions={ox.Variable("g"): ox.NamedNode(partners.graph_of("fennick"))},
    )
    assert isinstance(answer, ox.QuerySolutions)
    rows = [
        (
            r["subject"].value.removeprefix(FEN),
            r["predicate"].value.removeprefix(SKOS),
            r["object"].value.removeprefix(GOAL),
            r["justification"].value.removeprefix(SEMAPV),
            float(r["confidence"].value),
            r["author"].value.removeprefix(ORCID),
            r["label"].value,
        )
        for r in answer
    ]
    assert rows == [
        (
            "topic/compute-oversight",
            "closeMatch",
            "large-data-centre-monitoring",
            "LexicalMatching",
            0.7,
            "0000-0000-0000-0002",
            "Compute oversight (fictional topic)",
        ),
        (
            "topic/incident-sharing",
            "exactMatch",
            "ai-incident-tracking-and-reporting",
            "ManualMappingCuration",
            0.95,
            "0000-0000-0000-0001",
            "Incident sharing (fictional topic)",
        ),
        (
            "topic/red-lines",
            "narrowMatch",
            "red-lines-and-early-warning-thresholds",
            "ManualMappingCuration",
            0.85,
            "0000-0000-0000-0001",
            "Red lines (fictional topic)",
        ),
    ]


def test_an_sssom_rdf_file_in_n_triples_is_stored_with_its_direct_triples(
    kg: KnowledgeGraph, tmp_path: Path
) -> None:
    """N-Triples is normally loaded from the file's own bytes; SSSOM's RDF form is not (triples are derived)."""
    nt = tmp_path / "fennick.nt"
    nt.write_bytes(rdflib.Graph().parse(SSSOM_PY / "fennick.ttl").serialize(format="nt", encoding="utf-8"))
    result = partners.add("fennick", nt, tmp_path / "store", kg=kg)
    assert result.triples == 48
    store = open_read_only(tmp_path / "store")
    g = ox.NamedNode(partners.graph_of("fennick"))
    direct = store.quads_for_pattern(
        ox.NamedNode(FEN + "topic/red-lines"), ox.NamedNode(SKOS + "narrowMatch"), None, g
    )
    assert [q.object.value for q in direct] == [GOAL + "red-lines-and-early-warning-thresholds"]


def test_header_subject_type_types_every_subject() -> None:
    """sssom-py condenses a subject_type shared by all rows into the header: it applies to every subject."""
    quads = read_table(SSSOM_PY / "fennick.sssom.tsv", partners.graph_of("x"))
    types = {(q.subject.value, q.object.value) for q in quads if q.predicate.value.endswith("#type")}
    subjects = {FEN + t for t in ("topic/incident-sharing", "topic/compute-oversight", "topic/red-lines")}
    assert {s for s, t in types if t == SKOS + "Concept"} == subjects


def test_a_missing_subject_label_column_is_readable(kg: KnowledgeGraph) -> None:
    """The optional subject_label column left out: the file reads (it was 'unreadable', exit 2); the shapes then
    ask for a label of each linking resource (exit 1)."""
    report = partners.check(SSSOM_PY / "fennick-no-labels.sssom.tsv", kg)
    assert sorted((f.shape.removeprefix(SHAPE), f.value) for f in report.findings) == [
        ("PartnerResourceLabelled", FEN + t)
        for t in ("topic/compute-oversight", "topic/incident-sharing", "topic/red-lines")
    ]
    assert report.exit_code == 1


def test_sssom_pys_trailing_tabs_file_reads(kg: KnowledgeGraph) -> None:
    """sssom-py's own trailing-tabs test file (its header lines end in tabs: 'not YAML' before): all 8 mappings
    are read; it maps nothing of the guide, which the partner shapes refuse."""
    quads = read_table(UPSTREAM / "trailing-tabs.sssom.tsv", partners.graph_of("x"))
    assert len([q for q in quads if q.predicate.value == SKOS + "closeMatch"]) == 6
    assert len([q for q in quads if q.predicate.value == SKOS + "exactMatch"]) == 2
    report = partners.check(UPSTREAM / "trailing-tabs.sssom.tsv", kg)
    assert found(report) == {  # (and SSSOM's subject_type is optional: the subjects are untyped)
        ("PartnerLinksIntoGuide", "Violation"),
        ("PartnerResourceTyped", "Violation"),
    }


def test_sssom_pys_rdf_file_reads_and_a_negated_mapping_gives_no_link(kg: KnowledgeGraph) -> None:
    """sssom-py's standard-rdf.ttl: the set is the dataset; its one mapping is negated, so no direct triple."""
    quads = partners.read_partner(UPSTREAM / "standard-rdf.ttl", partners.graph_of("x"))
    assert not [q for q in quads if q.predicate.value == SKOS + "closeMatch"]
    assert [q.object.value for q in quads if q.predicate.value.endswith("#label")] == ["alice"]
    report = partners.check(UPSTREAM / "standard-rdf.ttl", kg)
    assert found(report) == {  # no creator: no publisher nor contact point; no link into the guide
        ("PartnerDatasetPublisher", "Violation"),
        ("PartnerDatasetContact", "Violation"),
        ("PartnerLinksIntoGuide", "Violation"),
    }


def test_a_reified_link_with_a_typo_is_found(kg: KnowledgeGraph, tmp_path: Path) -> None:
    """SSSOM's RDF form passed on its reified links alone; the direct triple derived from each is checked now."""
    path = tmp_path / "typo.ttl"
    text = (SSSOM_PY / "fennick.ttl").read_text(encoding="utf-8")
    path.write_text(text.replace("goal:large-data-centre-monitoring ;", "goal:large-data-centre-monitorin ;"))
    report = partners.check(path, kg)
    assert [(f.shape.removeprefix(SHAPE), f.value, f.hint) for f in report.findings] == [
        (
            "PartnerLinkTargetExists",
            GOAL + "large-data-centre-monitorin",
            GOAL + "large-data-centre-monitoring",
        )
    ]


def test_an_unknown_curie_prefix_is_refused_with_its_row(tmp_path: Path) -> None:
    """``foo:bar`` was stored as the IRI <foo:bar>; a prefix that is not in the curie_map is an error."""
    path = tmp_path / "prefix.sssom.tsv"
    path.write_text(HEADER + COLUMNS + ROW + ROW.replace("goal:domestic-model-registration", "foo:bar"))
    with pytest.raises(
        TableError, match=r"prefix.sssom.tsv:7: object_id: 'foo:bar': the prefix 'foo' is not in"
    ):
        read_table(path, partners.graph_of("x"))


def test_trailing_tabs_in_rows_are_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sssom.tsv"
    path.write_text(HEADER.replace("\n", "\t\t\n") + COLUMNS + ROW.replace("\n", "\t\t\n"))
    quads = read_table(path, partners.graph_of("x"))
    assert [q.object.value for q in quads if q.predicate.value == SKOS + "exactMatch"] == [
        GOAL + "domestic-model-registration"
    ]
    path.write_text(HEADER + COLUMNS + ROW.replace("\n", "\tsurplus\n"))
    with pytest.raises(TableError, match=r"tabs.sssom.tsv:6: a row with more cells than columns"):
        read_table(path, partners.graph_of("x"))


def test_the_standards_metadata_slots_count(kg: KnowledgeGraph, tmp_path: Path) -> None:
    """creator_label alone names the publisher (a blank-node foaf:Agent), a set-wide mapping_date is a date."""
    path = tmp_path / "slots.sssom.tsv"
    path.write_text(
        HEADER
        + "# creator_label: Sorrel Group (fictional)\n# mapping_date: 2025-02-03\n# subject_type: owl class\n"
        + COLUMNS
        + ROW
    )
    report = partners.check(path, kg)
    assert report.findings == []
    quads = read_table(path, partners.graph_of("x"))
    (publisher,) = [q.object for q in quads if q.predicate.value.endswith("/publisher")]
    assert isinstance(publisher, ox.BlankNode)
    assert {
        (q.predicate.value.rsplit("/", 1)[-1], q.object.value) for q in quads if q.subject == publisher
    } == {
        ("22-rdf-syntax-ns#type", "http://xmlns.com/foaf/0.1/Agent"),
        ("name", "Sorrel Group (fictional)"),
    }


def test_a_table_without_a_mapping_set_keeps_its_links(kg: KnowledgeGraph, tmp_path: Path) -> None:
    """No header at all: each row is still a mapping with its direct triple; the check asks for a dataset."""
    path = tmp_path / "bare.sssom.tsv"
    path.write_text(COLUMNS + ROW.replace("ex:a", "https://example.org/fictional/sorrel/a"))
    quads = read_table(path, partners.graph_of("x"))
    assert [q.object.value for q in quads if q.predicate.value == SKOS + "exactMatch"] == [
        GOAL + "domestic-model-registration"
    ]
    assert found(partners.check(path, kg)) == {("own:dataset", "Violation")}
