"""``build``: the dumps parse back to the built graph; bad input stops the build and leaves old dumps intact."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

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


def isomorphic(got: rdflib.Graph, want: rdflib.Graph) -> bool:
    """The same graph up to blank node labels: both canonicalised by pyoxigraph (rdflib's own isomorphism test took
    ~40 s a dump at 16k triples). The graphs themselves are as rdflib parsed them, the other parser of the dumps."""

    def canonical(graph: rdflib.Graph) -> set[ox.Quad]:
        data = graph.serialize(format="nt", encoding="utf-8")
        dataset = ox.Dataset(ox.parse(data, format=ox.RdfFormat.N_QUADS))
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        return set(dataset)

    return len(got) == len(want) and canonical(got) == canonical(want)


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
    broken = project_copy.data_dir / "guide" / "2025-02" / "overview.ttl"
    lines = broken.read_text(encoding="utf-8").split("\n")
    lines.insert(20, '<overview/row/99> idais:rowNumber 99 ; idais:goalNameAsWritten "unterminated .')
    broken.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(RdfSyntaxError) as err:
        build(layout=project_copy, out_dir=out)
    assert err.value.path.endswith("overview.ttl")
    assert err.value.line == 21
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# A prefixed name whose local part holds a backslash escape (``ed:section\/x``), outside string literals.
ESCAPED_NAME = re.compile(r"(?<![\w<\"'])[A-Za-z][\w.-]*:[^\s\\]*(?:\\\S[^\s\\]*)+")
LITERAL = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"')


def escaped_names(turtle: str) -> list[str]:
    """The prefixed names with escapes in a Turtle text (its string literals left out).

    >>> escaped_names('ed:section\\\\/x a ed:y ; rdfs:label "a:b\\\\/c" .')
    ['ed:section\\\\/x']
    """
    return [m.group(0) for m in ESCAPED_NAME.finditer(LITERAL.sub('""', turtle))]


@pytest.mark.parametrize("name", ["idais-kg.ttl", "idais-kg.trig", "void.ttl"])
def test_turtle_dumps_have_no_escaped_prefixed_names(built: Path, name: str) -> None:
    text = (built / name).read_text(encoding="utf-8")
    assert escaped_names(text) == []
    if name == "idais-kg.ttl":  # the prefixes are still used where they can be (in TriG, the graph names
        assert "ed:" in text and "kg:" in text  # kg:graph/... hold every quad in full IRIs)


def test_the_ontology_has_no_escaped_prefixed_names() -> None:
    assert escaped_names((Path(__file__).resolve().parents[1] / "ontology" / "idais.ttl").read_text()) == []


def test_escaped_names_finds_what_pyoxigraph_would_write() -> None:
    import pyoxigraph as ox

    from idais_kg.namespaces import PREFIXES

    triple = ox.Triple(
        ox.NamedNode(PREFIXES["ed"] + "section/x"), ox.NamedNode(RDF_TYPE), ox.NamedNode(RDF_TYPE)
    )
    raw = ox.serialize([triple], format=ox.RdfFormat.TURTLE, prefixes=dict(PREFIXES)) or b""
    assert escaped_names(raw.decode()) == ["ed:section\\/x"]


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def count(kg, pattern: str, distinct: bool) -> int:  # type: ignore[no-untyped-def]
    inner = f"SELECT DISTINCT * {{ {pattern} }}" if distinct else f"SELECT * {{ {pattern} }}"
    return int(kg.sparql(f"SELECT (COUNT(*) AS ?n) {{ {inner} }}").values("n")[0])


def test_the_default_graph_is_a_set(kg) -> None:  # type: ignore[no-untyped-def]
    """COUNT(*) equals COUNT(DISTINCT) over every shape of triple pattern: any triple, each predicate, each
    class; ``?r idais:matchesPolicy ?p`` counted 65 rows for 55 pairs while the default graph was the engine's union."""
    patterns = ["?s ?p ?o", "?s a ?c"]
    predicates = kg.sparql("SELECT DISTINCT ?p { ?s ?p ?o } ORDER BY ?p").values("p")
    classes = kg.sparql("SELECT DISTINCT ?c { ?s a ?c } ORDER BY ?c").values("c")
    patterns += [f"?s <{p}> ?o" for p in predicates] + [f"?s a <{c}>" for c in classes]
    unequal = [p for p in patterns if count(kg, p, False) != count(kg, p, True)]
    assert unequal == []
    triples = {(q.subject, q.predicate, q.object) for q in kg.store.quads()}
    # (no triple sits in two graphs since the overview's matches moved to the editorial graph: issue 14)
    assert count(kg, "?s ?p ?o", False) == len(triples) == len(kg.store)
    assert count(kg, "?r idais:matchesPolicy ?p", False) == 54  # row 3's first entry names another action
    # the named graphs still hold each their own copy
    in_graphs = int(kg.sparql("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }").values("n")[0])
    assert in_graphs == len(kg.store)


def test_dumps_are_world_readable_gzipped_and_checksummed(built: Path) -> None:
    import gzip
    import hashlib
    import stat

    dumps = sorted(
        p.name
        for p in built.iterdir()
        if p.name.startswith("idais-kg.") and not p.name.endswith(".gz") and p.name != "idais-kg.dcat.ttl"
    )
    assert dumps == [f"idais-kg.{s}" for s in ("jsonld", "nq", "nt", "rdf", "trig", "ttl")]
    for name in dumps:
        assert gzip.decompress((built / f"{name}.gz").read_bytes()) == (built / name).read_bytes()
    sums = dict(reversed(line.split("  ")) for line in (built / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {p.name for p in built.iterdir() if p.name != "SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((built / name).read_bytes()).hexdigest() == digest
    for path in built.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name
