"""Our mappings to outside vocabularies (data/mappings/*.sssom.tsv, issue 15): how they load into the graph
kg:graph/mappings, what they cover, the extract of their targets (data/vocab-extract/), the SSSOM dump, the shapes
that check them (with our engine; tests/test_shapes.py runs the same case with pySHACL), the saved query of the
acceptance criteria and the pages.

Exact numbers are those of the DPV files curated in this round (dpv, dpv-eu-aiact, dpv-loc, dpv-legal); the AIRO
and VAIR files are held to the same rules (coverage, targets, labels), not to counts.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from idais_kg.cli import main
from idais_kg.dataset import mappings
from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.dataset.dumps import serialise_all
from idais_kg.devtools import vocab_extract
from idais_kg.errors import TableError
from idais_kg.namespaces import (
    GRAPH_MAPPINGS,
    GRAPH_VOCABULARIES,
    IDAIS,
    OWL,
    RDF,
    RDFS,
    SKOS,
    SSSOM,
    VOCABULARIES,
)
from idais_kg.sources.layout import Layout
from idais_kg.sources.tables import read_table, table_triples
from idais_kg.validation.validate import fast_shacl_findings, read_shapes

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
MAPPINGS = DATA / "mappings"
VOCAB = vocab_extract.default_vocab(Layout(ROOT))
SHAPE_CASE = ROOT / "tests" / "cases" / "shapes" / "mapping-broken.ttl"
GOAL = "https://w3id.org/idais-kg/id/goal/"
POLICY = "https://w3id.org/idais-kg/id/guide/2025-02/policy/"
AIACT = "https://w3id.org/dpv/legal/eu/aiact"
LOC = "https://w3id.org/dpv/loc#"
CONSIDERED = {  # the vocabularies every goal and potential policy is considered against
    "dpv-risk": "https://w3id.org/dpv/risk",
    "dpv-ai": "https://w3id.org/dpv/ai",
    "eu-aiact": AIACT,
    "airo": "https://w3id.org/airo",
    "vair": "https://w3id.org/vair",
}
HEADER = """\
# curie_map:
#   goal: https://w3id.org/idais-kg/id/goal/
#   ex: https://example.org/vocab#
# mapping_set_id: https://w3id.org/idais-kg/id/mappings/test
# license: https://creativecommons.org/licenses/by/4.0/
"""
COLUMNS = "subject_id\tpredicate_id\tobject_id\tmapping_justification\tpredicate_modifier\tobject_source\n"


def axioms(triples: list[tuple[object, ox.NamedNode, object]]) -> dict[object, dict[str, object]]:
    about: dict[object, dict[str, object]] = {}
    for s, p, o in triples:
        about.setdefault(s, {})[p.value] = o
    return {s: props for s, props in about.items() if props.get(RDF + "type") == ox.NamedNode(OWL + "Axiom")}


def rows_of(kg: KnowledgeGraph) -> list[dict[str, str]]:
    """Every mapping of the mappings graph: subject, target, vocabulary (object_source)."""
    query = (
        f"SELECT ?s ?t ?v WHERE {{ GRAPH <{GRAPH_MAPPINGS}> {{ ?m a owl:Axiom ; owl:annotatedSource ?s ;"
        " owl:annotatedTarget ?t ; sssom:object_source ?v } }"
    )
    prefixes = f"PREFIX owl: <{OWL}> PREFIX sssom: <{SSSOM}> "
    rows = kg.store.query(prefixes + query)
    return [{k: r[k].value for k in ("s", "t", "v")} for r in rows]


# ----------------------------------------------------------------------------------------------------------------
# Reading the sets
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rows", "none_found"),
    [("dpv", 173, 119), ("dpv-eu-aiact", 72, 55), ("dpv-loc", 10, 1), ("dpv-legal", 13, 12)],
)
def test_each_set_gives_its_axioms_and_a_direct_triple_per_match(
    name: str, rows: int, none_found: int
) -> None:
    quads = mappings.mapping_set_quads(MAPPINGS / f"{name}.sssom.tsv")
    assert {q.graph_name.value for q in quads} == {GRAPH_MAPPINGS}
    triples = [(q.subject, q.predicate, q.object) for q in quads]
    found = axioms(triples)
    assert len(found) == rows
    assert (
        sum(1 for a in found.values() if a[OWL + "annotatedTarget"].value == SSSOM + "NoTermFound")
        == none_found
    )
    direct = [t for t in triples if t[1].value.startswith(SKOS) and t[1].value.endswith("Match")]
    assert len(direct) == rows - none_found  # a NoTermFound row makes no match triple
    assert all(t[2].value != SSSOM + "NoTermFound" for t in direct)
    sets = [s for s, p, o in triples if p.value == RDF + "type" and o.value == SSSOM + "MappingSet"]
    assert [s.value for s in sets] == [f"https://w3id.org/idais-kg/id/mappings/{name}"]


def test_every_mapping_is_justified_dated_and_by_the_editors() -> None:
    for path in mappings.mapping_files(DATA):
        for props in axioms(table_triples(path, ours=True)).values():
            assert (
                props[SSSOM + "mapping_justification"].value
                == "https://w3id.org/semapv/vocab/ManualMappingCuration"
            )
            assert (
                props["http://purl.org/pav/authoredBy"].value == "https://w3id.org/idais-kg/id/agent/editors"
            )
            assert props["http://purl.org/dc/terms/created"].value == "2026-12-01"
            assert 0 <= float(props[SSSOM + "confidence"].value) <= 1, path.name
            assert props[RDFS + "comment"].value.strip(), path.name


def test_a_partner_table_still_may_not_describe_our_resources(tmp_path: Path) -> None:
    table = tmp_path / "t.sssom.tsv"
    table.write_text(HEADER + COLUMNS + "goal:x\tskos:closeMatch\tex:A\tsemapv:ManualMappingCuration\t\t\n")
    with pytest.raises(TableError, match="is in the IDAIS namespace"):
        read_table(table, "urn:x")
    assert len(axioms(table_triples(table, ours=True))) == 1


def test_no_term_found_and_negated_rows_make_no_match_triple(tmp_path: Path) -> None:
    table = tmp_path / "t.sssom.tsv"
    table.write_text(
        HEADER
        + COLUMNS
        + "goal:x\tskos:exactMatch\tsssom:NoTermFound\tsemapv:ManualMappingCuration\t\thttps://example.org/vocab\n"
        + "goal:x\tskos:closeMatch\tex:A\tsemapv:ManualMappingCuration\tNot\thttps://example.org/vocab\n"
        + "goal:x\tskos:broadMatch\tex:B\tsemapv:ManualMappingCuration\t\thttps://example.org/vocab\n"
    )
    quads = mappings.mapping_set_quads(table)
    direct = {
        (q.subject.value, q.predicate.value, q.object.value)
        for q in quads
        if q.predicate.value.startswith(SKOS)
    }
    assert direct == {(GOAL + "x", SKOS + "broadMatch", "https://example.org/vocab#B")}
    assert len(axioms([(q.subject, q.predicate, q.object) for q in quads])) == 3


# ----------------------------------------------------------------------------------------------------------------
# What they cover
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vocabulary", CONSIDERED)
def test_every_goal_and_policy_is_considered_against(kg: KnowledgeGraph, vocabulary: str) -> None:
    """At least one mapping or one sssom:NoTermFound record per goal and potential policy (15 + 56)."""
    considered = {r["s"] for r in rows_of(kg) if r["v"] == CONSIDERED[vocabulary]}
    types = {IDAIS + "Goal", IDAIS + "PotentialPolicy"}
    wanted = {
        q.subject.value
        for q in kg.store.quads()
        if q.predicate.value == RDF + "type" and q.object.value in types
    }
    assert len(wanted) == 15 + 56
    assert sorted(wanted - considered) == []


def test_the_jurisdictions_and_the_ai_act_are_mapped(kg: KnowledgeGraph) -> None:
    def matches(subject: str) -> set[tuple[str, str]]:
        found = [
            q for q in kg.store.quads_about(ox.NamedNode(subject)) if q.graph_name.value == GRAPH_MAPPINGS
        ]
        return {
            (q.predicate.value.removeprefix(SKOS), q.object.value)
            for q in found
            if q.predicate.value.startswith(SKOS)
        }

    j = "https://w3id.org/idais-kg/id/jurisdiction/"
    assert matches(j + "china") == {("exactMatch", LOC + "CN")}
    assert matches(j + "united-states") == {("exactMatch", LOC + "US")}
    assert matches(j + "united-kingdom") == {("exactMatch", LOC + "GB")}
    assert matches(j + "european-union") == {("closeMatch", LOC + "EU")}
    assert matches("https://w3id.org/idais-kg/id/instrument/eu-ai-act") == {
        ("exactMatch", "https://w3id.org/dpv/legal/eu#law-AIAct")
    }
    assert matches("https://w3id.org/idais-kg/id/organisation/eu-ai-office") == {
        ("closeMatch", AIACT + "#AIOffice")
    }


def test_mapped_to_an_ai_act_term_from_the_command_line() -> None:
    result = CliRunner().invoke(
        main, ["query", "mapped-to", "--param", f"target={AIACT}#SeriousIncident", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "target,target_label,subject,subject_type,subject_label,predicate,confidence,comment"
    assert [line.split(",")[2] for line in lines[1:]] == [
        GOAL + "ai-incident-tracking-and-reporting",
        POLICY + "comprehensive-incident-tracking-and-reporting",
    ]
    assert all(f",{SKOS}relatedMatch,0.7," in line for line in lines[1:])


# ----------------------------------------------------------------------------------------------------------------
# The extract of the targets
# ----------------------------------------------------------------------------------------------------------------


def test_the_extract_is_what_the_vocabularies_say() -> None:
    """Re-derived from ../shared/vocab/ and the mapping sets, the extract is unchanged (byte for byte)."""
    if not VOCAB.is_dir():
        pytest.skip(f"no vocabulary copies at {VOCAB} (the extract is checked where they are)")
    derived = vocab_extract.extract(VOCAB, DATA)
    shipped = {p.name: p.read_bytes() for p in sorted((DATA / vocab_extract.OUT).glob("*.ttl"))}
    assert sorted(derived) == sorted(shipped)
    stale = [name for name in derived if derived[name] != shipped[name]]
    assert stale == [], "run: python -m idais_kg.devtools.vocab_extract"


def test_the_extract_refuses_a_target_its_vocabulary_lacks(tmp_path: Path) -> None:
    if not VOCAB.is_dir():
        pytest.skip(f"no vocabulary copies at {VOCAB}")
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "x.sssom.tsv").write_text(
        HEADER
        + COLUMNS
        + "goal:x\tskos:closeMatch\thttps://w3id.org/dpv/risk#NoSuchRisk\tsemapv:ManualMappingCuration\t\t"
        + "https://w3id.org/dpv/risk\n"
    )
    with pytest.raises(vocab_extract.ExtractError, match="NoSuchRisk is not defined"):
        vocab_extract.extract(VOCAB, tmp_path)


def test_every_target_is_in_the_extract_with_the_label_the_row_gives(kg: KnowledgeGraph) -> None:
    labels: dict[str, set[str]] = {}
    for q in kg.store.quads(GRAPH_VOCABULARIES):
        if q.predicate.value in (SKOS + "prefLabel", RDFS + "label") and isinstance(q.object, ox.Literal):
            labels.setdefault(q.subject.value, set()).add(q.object.value)
    wrong = []
    for path in mappings.mapping_files(DATA):
        _, _, rows = mappings.read_parts(path)
        for row in rows:
            if row["object_id"] != "sssom:NoTermFound":
                prefix, _, local = row["object_id"].partition(":")
                if row["object_label"] not in labels.get(VOCABULARIES[prefix][0] + local, set()):
                    wrong.append((path.name, row["object_id"], row["object_label"]))
    assert wrong == []


def test_the_extract_carries_each_vocabularys_licence(kg: KnowledgeGraph) -> None:
    rights = {
        q.subject.value: q.object.value
        for q in kg.store.quads(GRAPH_VOCABULARIES)
        if q.predicate.value == "http://purl.org/dc/terms/rights"
    }
    assert "W3C Software and Document license" in rights[AIACT]
    assert "Creative Commons Attribution 4.0" in rights["https://w3id.org/airo"]


# ----------------------------------------------------------------------------------------------------------------
# The dump
# ----------------------------------------------------------------------------------------------------------------


def test_the_dump_holds_every_row_once(kg: KnowledgeGraph) -> None:
    dump = serialise_all(kg)["idais-kg-mappings.sssom.tsv"].decode("utf-8")
    body = [line for line in dump.splitlines() if not line.startswith("#")]
    rows = sum(len(mappings.read_parts(p)[2]) for p in mappings.mapping_files(DATA))
    assert len(body) == 1 + rows
    assert "# mapping_set_id: https://w3id.org/idais-kg/id/mappings/all" in dump.splitlines()


def test_the_dump_refuses_sets_with_different_licences(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    for name, licence in (
        ("a", "https://creativecommons.org/licenses/by/4.0/"),
        ("b", "https://example.org/l"),
    ):
        (tmp_path / "mappings" / f"{name}.sssom.tsv").write_text(
            HEADER.replace("https://creativecommons.org/licenses/by/4.0/", licence) + COLUMNS
        )
    with pytest.raises(TableError, match="license differs"):
        mappings.sssom_dump(tmp_path)


def sssom_cli() -> Path:
    """sssom-py's command line in a throwaway virtualenv (tests/fixtures/make_sssom_fixtures.py says how to make
    one): ``SSSOM_VENV`` or /tmp/sssom-venv."""
    return Path(os.environ.get("SSSOM_VENV", "/tmp/sssom-venv")) / "bin" / "sssom"


def test_the_dump_passes_sssom_validate(kg: KnowledgeGraph, tmp_path: Path) -> None:
    cli = sssom_cli()
    if not cli.is_file():
        pytest.skip(
            f"no sssom-py at {cli} (python -m venv /tmp/sssom-venv && /tmp/sssom-venv/bin/pip install sssom)"
        )
    dump = tmp_path / "idais-kg-mappings.sssom.tsv"
    dump.write_bytes(serialise_all(kg)["idais-kg-mappings.sssom.tsv"])
    done = subprocess.run([str(cli), "validate", str(dump)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Error" not in done.stdout + done.stderr


# ----------------------------------------------------------------------------------------------------------------
# The shapes, on our engine
# ----------------------------------------------------------------------------------------------------------------


def test_the_mapping_shapes_on_our_engine() -> None:
    """The broken case of tests/cases/shapes/ (mapping-broken.ttl), validated by our engine: exactly the
    results of the mapping shapes that the case expects from pySHACL."""
    quads = [ox.Quad(t.subject, t.predicate, t.object) for t in ox.parse(path=str(SHAPE_CASE))]
    findings, _ = fast_shacl_findings(quads, read_shapes(ROOT / "shapes"))
    m = "https://example.org/mapping/"
    ish = "https://w3id.org/idais-kg/shapes#"
    got = {
        (f.focus, f.source.removeprefix(ish), f.path)
        for f in findings
        if "Mapping" in f.source or "ExactMatch" in f.source
    }
    assert got == {
        (m + "unjustified", "MappingShape-justification", SSSOM + "mapping_justification"),
        (m + "missing-target", "MappingShape", OWL + "annotatedTarget"),
        (m + "individual-broader", "MappingShape", OWL + "annotatedTarget"),
        (m + "wrong-source", "MappingShape", SSSOM + "object_source"),
        (m + "overconfident", "MappingShape-confidence", SSSOM + "confidence"),
        (m + "same-as", "MappingShape-predicate", OWL + "annotatedProperty"),
        ("https://example.org/ours/b", "ExactMatchShape", SKOS + "exactMatch"),
    }


def test_the_shipped_mappings_pass_the_mapping_shapes(kg: KnowledgeGraph) -> None:
    findings, _ = fast_shacl_findings(list(kg.store.quads()), read_shapes(ROOT / "shapes"))
    assert [f for f in findings if "Mapping" in f.source or "ExactMatch" in f.source] == []


# ----------------------------------------------------------------------------------------------------------------
# The pages
# ----------------------------------------------------------------------------------------------------------------


def test_a_goal_page_shows_its_mappings(kg: KnowledgeGraph) -> None:
    from idais_kg.serve.linked_data import Describer
    from idais_kg.serve.pages import Pages
    from idais_kg.serve.settings import Settings

    html = (
        Pages(kg, Describer(kg.store), Settings())
        .render("resource", GOAL + "post-deployment-monitoring")
        .decode()
    )
    assert (
        '<li><span class="predicate">close match</span>: '
        f'<a href="{AIACT}#PostMarketMonitoringSystem">Post-Market Monitoring System</a>'
        " (EU Artificial Intelligence Act (AI Act), 2.3) · 0.8<br>"
    ) in html
    assert "sssom/NoTermFound" not in html.split('class="mappings"', 1)[1].split("</section>", 1)[0]
