"""Every query form from every door: ``kg.sparql()`` in a notebook, ``idais-kg sparql`` in each format, and the same
command against a real remote endpoint (``oxigraph serve`` on a loopback port, the guide published to it).

The four policy areas and their Chinese names (skos:prefLabel) are the guide's chapter headings (source text, lines
67, 188, 325 and 510).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare
from click.testing import CliRunner
from processes import oxigraph_server

from idais_kg import remote
from idais_kg.cli import main
from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.errors import QueryError
from idais_kg.namespaces import IDAIS, KG, RDF
from idais_kg.results import Result

AREA = KG + "area/"
AREAS = {
    AREA + "domestic-governance": "国内治理",
    AREA + "international-governance": "国际治理",
    AREA + "safety-research": "人工智能安全研究",
    AREA + "testing-evaluation": "检测和评测",
}
SELECT = 'SELECT ?area ?zh WHERE { ?area a idais:PolicyArea ; skos:prefLabel ?zh FILTER(lang(?zh) = "zh") } ORDER BY ?area'
ASK_YES = "ASK { area:safety-research a idais:PolicyArea }"
ASK_NO = "ASK { area:safety-research a idais:Goal }"
CONSTRUCT = "CONSTRUCT { ?area a idais:PolicyArea } WHERE { ?area a idais:PolicyArea }"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    # the bytes as written: Result.stdout would turn CSV's CRLF into LF
    return result.exit_code, result.stdout_bytes.decode(), result.stderr_bytes.decode()


def areas_graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    for area in AREAS:
        graph.add((rdflib.URIRef(area), rdflib.RDF.type, rdflib.URIRef(IDAIS + "PolicyArea")))
    return graph


# --- the library ------------------------------------------------------------------------------------------------


def test_library_select_is_a_table(kg: KnowledgeGraph) -> None:
    answer = kg.sparql(SELECT)
    assert isinstance(answer, Result)
    assert answer.variables == ["area", "zh"]
    assert answer.values("area") == list(AREAS)
    assert answer.values("zh") == list(AREAS.values())


def test_library_ask_is_a_bool(kg: KnowledgeGraph) -> None:
    assert kg.sparql(ASK_YES) is True
    assert kg.sparql(ASK_NO) is False


def test_library_construct_is_an_rdflib_graph(kg: KnowledgeGraph) -> None:
    graph = kg.sparql(CONSTRUCT)
    assert isinstance(graph, rdflib.Graph)
    assert rdflib.compare.isomorphic(graph, areas_graph())
    assert dict(graph.namespaces())["area"] == rdflib.URIRef(AREA)  # our prefixes bound, for serialising


def test_library_describe_is_the_resources_triples(kg: KnowledgeGraph) -> None:
    graph = kg.sparql("DESCRIBE area:safety-research")
    assert isinstance(graph, rdflib.Graph)
    subject = ox.NamedNode(AREA + "safety-research")
    expected = {(q.predicate.value, str(q.object)) for q in kg.store.quads_about(subject)}
    assert {(str(p), o.n3()) for s, p, o in graph} == expected
    assert {str(s) for s in graph.subjects()} == {subject.value}
    assert (
        rdflib.URIRef(subject.value),
        rdflib.URIRef(RDF + "type"),
        rdflib.URIRef(IDAIS + "PolicyArea"),
    ) in graph


def test_library_syntax_error_names_the_line_and_column(kg: KnowledgeGraph) -> None:
    with pytest.raises(QueryError, match=r"^SPARQL syntax error at line 2:16 of the query: "):
        kg.sparql("SELECT *\nWHERE { ?s ?p }")


# --- the command, each format -----------------------------------------------------------------------------------

CSV = "area,zh\r\n" + "".join(f"{a},{z}\r\n" for a, z in AREAS.items())
TSV = "?area\t?zh\n" + "".join(f'<{a}>\t"{z}"@zh\n' for a, z in AREAS.items())


def test_select_table() -> None:
    code, out, _ = run("sparql", SELECT)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split(" | ") == [
        "area" + " " * 54,
        "zh" + " " * 14,
    ]  # the longest IRI: 58 characters; 8 CJK = 16 columns
    assert [line.split(" | ")[1].rstrip() for line in lines[2:6]] == list(AREAS.values())
    assert lines[-1] == "(4 rows)"


def test_select_csv() -> None:
    assert run("sparql", SELECT, "--format", "csv") == (0, CSV, "")


def test_select_tsv() -> None:
    assert run("sparql", SELECT, "--format", "tsv") == (0, TSV, "")


def test_select_json() -> None:
    code, out, _ = run("sparql", SELECT, "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "head": {"vars": ["area", "zh"]},
        "results": {
            "bindings": [
                {"area": {"type": "uri", "value": a}, "zh": {"type": "literal", "value": z, "xml:lang": "zh"}}
                for a, z in AREAS.items()
            ]
        },
    }


def test_select_xml() -> None:
    code, out, _ = run("sparql", SELECT, "--format", "xml")
    assert code == 0
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    root = ET.fromstring(out)
    assert [v.get("name") for v in root.findall("r:head/r:variable", ns)] == ["area", "zh"]
    results = root.findall("r:results/r:result", ns)
    assert [r.findtext("r:binding[@name='area']/r:uri", namespaces=ns) for r in results] == list(AREAS)
    literals = [r.find("r:binding[@name='zh']/r:literal", ns) for r in results]
    assert [
        (lit.text, lit.get("{http://www.w3.org/XML/1998/namespace}lang"))
        for lit in literals
        if lit is not None
    ] == [(z, "zh") for z in AREAS.values()]


@pytest.mark.parametrize(
    ("fmt", "yes", "no"),
    [
        ("table", "yes\n", "no\n"),
        ("csv", "boolean\r\ntrue\r\n", "boolean\r\nfalse\r\n"),
        ("tsv", "?boolean\ntrue\n", "?boolean\nfalse\n"),
        ("json", '{"head": {}, "boolean": true}\n', '{"head": {}, "boolean": false}\n'),
        (
            "xml",
            "<?xml version='1.0' encoding='utf-8'?>\n"
            '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head /><boolean>true</boolean></sparql>\n',
            "<?xml version='1.0' encoding='utf-8'?>\n"
            '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head /><boolean>false</boolean></sparql>\n',
        ),
    ],
)
def test_ask(fmt: str, yes: str, no: str) -> None:
    assert run("sparql", ASK_YES, "--format", fmt) == (0, yes, "")
    assert run("sparql", ASK_NO, "--format", fmt) == (0, no, "")


@pytest.mark.parametrize(
    ("fmt", "rdflib_format"), [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld")]
)
def test_construct(fmt: str, rdflib_format: str) -> None:
    code, out, _ = run("sparql", CONSTRUCT, "--format", fmt)
    assert code == 0
    assert rdflib.compare.isomorphic(rdflib.Graph().parse(data=out, format=rdflib_format), areas_graph())


def test_construct_is_turtle_by_default() -> None:
    code, out, _ = run("sparql", CONSTRUCT)
    assert code == 0
    assert "area:safety-research a idais:PolicyArea .\n" in out.splitlines(keepends=True)
    assert rdflib.compare.isomorphic(rdflib.Graph().parse(data=out, format="turtle"), areas_graph())


def test_query_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "areas.rq"
    path.write_text("# the areas, by IRI\n" + SELECT + "\n", encoding="utf-8")
    assert run("sparql", str(path), "--format", "csv") == (0, CSV, "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["SELECT *\nWHERE { ?s ?p }"],
            "idais-kg: error: SPARQL syntax error at line 2:16 of the query: expected one of LATERAL, SERVICE, [_]\n",
        ),
        (
            [CONSTRUCT, "--format", "csv"],
            "idais-kg: error: the answer is a graph: --format takes turtle, ntriples, jsonld, not csv\n",
        ),
        (
            [SELECT, "--format", "turtle"],
            "idais-kg: error: the answer is a table: --format takes table, csv, tsv, json, xml, not turtle\n",
        ),
        (
            [ASK_YES, "--endpoint", "file:///etc/passwd"],
            "idais-kg: error: endpoint file:///etc/passwd: only http and https URLs are accepted\n",
        ),
    ],
    ids=["syntax", "graph-as-csv", "table-as-turtle", "file-endpoint"],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    assert run("sparql", *args) == (2, "", message)


# --- the same command at a remote endpoint ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint(kg: KnowledgeGraph) -> Iterator[str]:
    with oxigraph_server() as url:
        remote.publish(kg, url + "/update", url + "/store")
        yield url + "/query"


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "xml"])
def test_remote_select_answers_as_local(endpoint: str, fmt: str) -> None:
    local = run("sparql", SELECT, "--format", fmt)
    assert run("sparql", SELECT, "--format", fmt, "--endpoint", endpoint) == local
    assert local[0] == 0


def test_remote_select_csv_exactly(endpoint: str) -> None:
    assert run("sparql", SELECT, "--format", "csv", "--endpoint", endpoint) == (0, CSV, "")


def test_remote_ask(endpoint: str) -> None:
    assert run("sparql", ASK_YES, "--endpoint", endpoint) == (0, "yes\n", "")
    assert run("sparql", ASK_NO, "--endpoint", endpoint, "--format", "json") == (
        0,
        '{"head": {}, "boolean": false}\n',
        "",
    )


@pytest.mark.parametrize(
    ("fmt", "rdflib_format"), [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld")]
)
def test_remote_construct(endpoint: str, fmt: str, rdflib_format: str) -> None:
    code, out, _ = run("sparql", CONSTRUCT, "--format", fmt, "--endpoint", endpoint)
    assert code == 0
    assert rdflib.compare.isomorphic(rdflib.Graph().parse(data=out, format=rdflib_format), areas_graph())


def test_remote_syntax_error_is_one_line_and_exit_2(endpoint: str) -> None:
    code, out, err = run("sparql", "SELECT * WHERE { ?s ?p }", "--endpoint", endpoint)
    assert (code, out) == (2, "")
    assert err.startswith(f"idais-kg: error: query at {endpoint} failed: HTTP 400: ")
    assert err.count("\n") == 1


def test_tsv_keeps_a_row_on_one_line() -> None:
    query = 'SELECT ?x ?n WHERE { VALUES (?x ?n) { ("tab\\there\\nand a line break" 7) } }'
    assert run("sparql", query, "--format", "tsv") == (
        0,
        '?x\t?n\n"tab\\there\\nand a line break"\t"7"^^<http://www.w3.org/2001/XMLSchema#integer>\n',
        "",
    )


@pytest.mark.parametrize("padding", [300, 5000])
def test_a_long_one_line_query_is_a_query_not_a_file_name(padding: int) -> None:
    # Path.is_file() raises ENAMETOOLONG for a name over 255 bytes: the text is then a query, as any other.
    text = SELECT + " #" + "x" * padding
    answer = CliRunner().invoke(main, ["sparql", text, "--format", "csv"])
    assert answer.exit_code == 0, answer.output
    assert answer.output.splitlines()[1:] == [f"{iri},{zh}" for iri, zh in sorted(AREAS.items())]
