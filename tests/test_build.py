"""``build``: the dumps parse back to the built graph; bad input stops the build and leaves old dumps intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

from idais_kg.dataset.assemble import load
from idais_kg.dataset.dumps import build
from idais_kg.errors import RdfSyntaxError
from idais_kg.namespaces import GRAPH_DESCRIPTION
from idais_kg.sources.layout import Layout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dumps")
    build(out_dir=out)
    return out


def built_union() -> rdflib.Graph:
    kg = load()
    union = rdflib.Graph()
    union.parse(data=kg.store.serialize("ntriples"), format="nt")
    return union


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("idais-kg.ttl", "turtle"),
        ("idais-kg.nt", "nt"),
        ("idais-kg.rdf", "xml"),
        ("idais-kg.jsonld", "json-ld"),
    ],
)
def test_triple_dumps_parse_back_isomorphic(built: Path, name: str, fmt: str) -> None:
    reparsed = rdflib.Graph()
    reparsed.parse(built / name, format=fmt)
    assert isomorphic(reparsed, built_union())


@pytest.mark.parametrize(("name", "fmt"), [("idais-kg.trig", "trig"), ("idais-kg.nq", "nquads")])
def test_quad_dumps_keep_the_named_graphs(built: Path, name: str, fmt: str) -> None:
    reparsed = rdflib.Dataset()
    reparsed.parse(built / name, format=fmt)
    kg = load()
    expected = rdflib.Dataset()
    expected.parse(data=kg.store.serialize("nquads"), format="nquads")
    names = {str(g.identifier) for g in reparsed.graphs() if len(g)}
    assert names == set(kg.store.graphs())
    for graph_name in names:
        got, want = reparsed.graph(rdflib.URIRef(graph_name)), expected.graph(rdflib.URIRef(graph_name))
        assert isomorphic(got, want), graph_name


def test_jsonld_uses_a_local_context(built: Path) -> None:
    doc = json.loads((built / "idais-kg.jsonld").read_text(encoding="utf-8"))
    assert isinstance(doc["@context"], dict)
    assert doc["@context"]["goal"] == "https://w3id.org/idais-kg/id/goal/"
    context = json.loads((built / "context.jsonld").read_text(encoding="utf-8"))
    assert context["@context"] == doc["@context"]


def test_dataset_description_counts_the_dataset(built: Path) -> None:
    void = rdflib.Graph().parse(built / "void.ttl", format="turtle")
    vd = rdflib.Namespace("http://rdfs.org/ns/void#")
    dataset = rdflib.URIRef("https://w3id.org/idais-kg/id/dataset")
    triples = int(void.value(dataset, vd.triples))
    kg = load()
    described = {
        (q.subject, q.predicate, q.object)
        for q in kg.store.quads()
        if q.graph_name.value != GRAPH_DESCRIPTION
    }
    assert triples == len(described)
    goal_partition = [
        p
        for p in void.objects(dataset, vd.classPartition)
        if void.value(p, vd["class"]) == rdflib.URIRef("https://w3id.org/idais-kg/ontology#Goal")
    ]
    assert [int(void.value(p, vd.entities)) for p in goal_partition] == [15]


def test_syntax_error_names_file_and_line_and_keeps_old_dumps(project_copy: Layout, tmp_path: Path) -> None:
    out = tmp_path / "dumps"
    build(layout=project_copy, out_dir=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = project_copy.data_dir / "guide" / "overview.ttl"
    lines = broken.read_text(encoding="utf-8").split("\n")
    lines.insert(20, '<overview/row/99> idais:rowNumber 99 ; idais:goalNameAsWritten "unterminated .')
    broken.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(RdfSyntaxError) as err:
        build(layout=project_copy, out_dir=out)
    assert err.value.path.endswith("overview.ttl")
    assert err.value.line == 21
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
