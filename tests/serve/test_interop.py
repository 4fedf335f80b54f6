"""Interoperability: the clients and parsers our users already have, each against a real ``serve`` on loopback
(or on the files we write). A client that is not installed skips with the reason.

- SPARQLWrapper: every query form in every format it asks for;
- rdflib's SPARQLStore: SELECT, ASK and CONSTRUCT with returnFormat xml, json and csv;
- Jena ARQ (Debian's libapache-jena-java, its command classes ``arq.rsparql`` and ``arq.sparql``): a remote query,
  and a ``SERVICE`` query into us from Jena's own engine;
- the OWL API (Debian's libowlapi-java, tests/owlapi/OwlCheck.java): every Turtle we write loads;
- Jena RIOT (``riotcmd.riot --validate``): every dump is valid.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, TSV, TURTLE, XML, SPARQLWrapper
from test_engines import xerces_resources
from virtuoso_server import running_virtuoso

from idais_kg.dataset.dumps import serialise_all

JAVA_DIR = Path("/usr/share/java")
OWL_CHECK = Path(__file__).parents[1] / "owlapi" / "OwlCheck.java"
ONTOLOGY = Path(__file__).resolve().parents[2] / "ontology" / "idais.ttl"
IDAIS = "https://w3id.org/idais-kg/ontology#"
GOAL = "https://w3id.org/idais-kg/id/goal/ai-safety-rd-resources"
COUNT = f"SELECT (COUNT(?g) AS ?n) WHERE {{ ?g a <{IDAIS}Goal> }}"
ASK = f"ASK {{ <{GOAL}> a <{IDAIS}Goal> }}"
ASK_NO = f"ASK {{ <{GOAL}> a <{IDAIS}Nothing> }}"
CONSTRUCT = f"CONSTRUCT {{ ?g a <{IDAIS}Goal> }} WHERE {{ ?g a <{IDAIS}Goal> }}"
DESCRIBE = f"DESCRIBE <{GOAL}>"
JENA_JARS = [
    "jena-cmds", "jena-arq", "jena-base", "jena-core", "jena-iri", "commons-cli", "commons-codec",
    "commons-compress", "commons-csv", "commons-io", "commons-lang3", "dexx.collection", "gson", "guava",
    "httpclient", "httpcore", "jackson-annotations", "jackson-core", "jackson-databind", "jsonld-java", "slf4j-api",
    "slf4j-nop", "thrift", "titanium-json-ld", "jakarta.json-api", "protobuf", "caffeine",
]  # fmt: skip
OWLAPI_JARS = [
    "owlapi-api", "owlapi-impl", "owlapi-parsers", "owlapi-apibinding", "owlapi-tools", "guava", "caffeine",
    "commons-io", "commons-codec", "commons-rdf-api", "atinject-jsr330-api", "hppcrt", "xz", "jsr305", "slf4j-api",
    "slf4j-nop",
]  # fmt: skip
JAVA = shutil.which("java")
needs_jena = pytest.mark.skipif(
    JAVA is None or not (JAVA_DIR / "jena-cmds.jar").exists(),
    reason="no Java or no Jena command classes (scripts/setup.sh installs libapache-jena-java as root)",
)
needs_owlapi = pytest.mark.skipif(
    JAVA is None or not (JAVA_DIR / "owlapi-api.jar").exists(),
    reason="no Java or no OWL API (scripts/setup.sh installs libowlapi-java as root)",
)


def classpath(jars: list[str]) -> str:
    return ":".join(str(JAVA_DIR / f"{j}.jar") for j in jars if (JAVA_DIR / f"{j}.jar").exists())


def java(path: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [JAVA or "java", "-cp", path, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def jena(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Jena's classpath, with the Xerces message resources of jena-core.jar copied where its relocated classes
    look for them (as tests/test_engines.py does; Debian's jar lacks them at that place)."""
    return classpath(JENA_JARS) + ":" + str(xerces_resources(tmp_path_factory.mktemp("jena-resources")))


def goals(kg) -> int:  # type: ignore[no-untyped-def]
    return int(kg.sparql("SELECT (COUNT(?g) AS ?n) WHERE { ?g a idais:Goal }").values("n")[0])


# SPARQLWrapper ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select(server, kg, fmt: str) -> None:
    client = SPARQLWrapper(server.url + "/sparql", returnFormat=fmt)
    client.setQuery(COUNT)
    result = client.query().convert()
    if fmt == JSON:
        value = result["results"]["bindings"][0]["n"]["value"]
    elif fmt == XML:
        value = result.getElementsByTagName("literal")[0].firstChild.data
    else:
        value = result.decode().splitlines()[1].split("^^")[0].strip('"')
    assert int(value) == goals(kg)


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
@pytest.mark.parametrize(("query", "expected"), [(ASK, True), (ASK_NO, False)])
def test_sparqlwrapper_ask(server, fmt: str, query: str, expected: bool) -> None:
    client = SPARQLWrapper(server.url + "/sparql", returnFormat=fmt)
    client.setQuery(query)
    result = client.query().convert()
    if fmt == JSON:
        assert result["boolean"] is expected
    elif fmt == XML:
        assert result.getElementsByTagName("boolean")[0].firstChild.data == str(expected).lower()
    else:
        assert result.decode().split() == [
            "_askResult" if fmt == CSV else "?_askResult",
            str(expected).lower(),
        ]


@pytest.mark.parametrize("fmt", [TURTLE, XML, JSONLD, N3, JSON, CSV])
@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE])
def test_sparqlwrapper_graphs(server, kg, fmt: str, query: str) -> None:
    client = SPARQLWrapper(server.url + "/sparql", returnFormat=fmt)
    client.setQuery(query)
    response = client.query()
    media = response.info()["content-type"].split(";")[0]
    graph = rdflib.Graph().parse(data=response.response.read(), format=media)
    if query == CONSTRUCT:
        assert len(graph) == goals(kg)
    else:
        assert (rdflib.URIRef(GOAL), rdflib.RDF.type, rdflib.URIRef(IDAIS + "Goal")) in graph


# rdflib's SPARQLStore ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json", "csv"])
def test_rdflib_sparqlstore(server, kg, fmt: str) -> None:
    store = SPARQLStore(server.url + "/sparql", returnFormat=fmt)
    graph = rdflib.Graph(store)
    rows = list(graph.query(COUNT))
    assert int(rows[0][0]) == goals(kg)
    constructed = graph.query(CONSTRUCT).graph
    assert constructed is not None and len(constructed) == goals(kg)
    for query, expected in ((ASK, True), (ASK_NO, False)):
        answer = graph.query(query)
        if fmt == "csv":  # rdflib reads every CSV as a table: Jena's one-column form, one row
            assert [str(row[0]) for row in answer] == [str(expected).lower()]
        else:
            assert answer.askAnswer is expected


# Jena ARQ ---------------------------------------------------------------------------------------------------------


@needs_jena
def test_jena_rsparql(server, kg, jena: str) -> None:
    run = java(jena, "arq.rsparql", "--service", server.url + "/sparql", "--results=json", COUNT)
    assert run.returncode == 0, run.stderr
    assert int(json.loads(run.stdout)["results"]["bindings"][0]["n"]["value"]) == goals(kg)
    for query, expected in ((ASK, True), (ASK_NO, False)):
        run = java(jena, "arq.rsparql", "--service", server.url + "/sparql", "--results=json", query)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["boolean"] is expected


@needs_jena
def test_jena_service_query_into_us(server, kg, jena: str, tmp_path: Path) -> None:
    query = tmp_path / "service.rq"
    query.write_text(
        f"SELECT (COUNT(?g) AS ?n) WHERE {{ SERVICE <{server.url}/sparql> {{ ?g a <{IDAIS}Goal> }} }}"
    )
    run = java(jena, "arq.sparql", "--query", str(query), "--results=json")
    assert run.returncode == 0, run.stderr
    assert int(json.loads(run.stdout)["results"]["bindings"][0]["n"]["value"]) == goals(kg)


# The files we write: OWL API and Jena RIOT ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, kg, server) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    """Every kind of Turtle (and every dump) we write: the dumps, void.ttl, a resource, the dataset page, the
    service description, the ontology as served."""
    folder = tmp_path_factory.mktemp("written")
    out = {}
    for name, data in serialise_all(kg).items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    for name, path in (
        ("resource.ttl", "/id/goal/ai-safety-rd-resources"),
        ("dataset.ttl", "/dataset"),
        ("service.ttl", "/sparql"),
        ("ontology.ttl", "/ontology"),
        ("describe.ttl", "/sparql?query=" + quote(DESCRIBE)),
    ):
        status, _, body = server.get(path, "text/turtle")
        assert status == 200
        (folder / name).write_bytes(body)
        out[name] = folder / name
    return out


@needs_owlapi
def test_owlapi_loads_every_turtle_we_write(written: dict[str, Path]) -> None:
    files = [str(p) for name, p in sorted(written.items()) if name.endswith(".ttl")] + [str(ONTOLOGY)]
    run = java(classpath(OWLAPI_JARS), str(OWL_CHECK), *files)
    lines = [line.split("\t") for line in run.stdout.splitlines()]
    assert [(Path(f).name, status) for f, status, *_ in lines] == [(Path(f).name, "loaded") for f in files]
    assert run.returncode == 0


RIOT_DUMPS = ["idais-kg.ttl", "idais-kg.nt", "idais-kg.rdf", "idais-kg.trig", "idais-kg.nq", "void.ttl"]
# Jena's JSON-LD reader (titanium-json-ld) needs an implementation of Jakarta JSON-P, which Debian ships only as its
# API (libjsonp2-java): riot exits 1 on any JSON-LD there, without a word. rdflib reads it (tests/test_build.py).
NO_JSONLD = "Debian's Jena has no Jakarta JSON-P implementation for its JSON-LD reader"


@needs_jena
@pytest.mark.parametrize(
    "name", [*RIOT_DUMPS, pytest.param("idais-kg.jsonld", marks=pytest.mark.skip(reason=NO_JSONLD))]
)
def test_riot_validates_every_dump(written: dict[str, Path], jena: str, name: str) -> None:
    run = java(jena, "riotcmd.riot", "--validate", "--strict", str(written[name]))
    assert (run.returncode, run.stderr.strip(), run.stdout.strip()) == (0, "", "")


@needs_jena
def test_riot_refuses_a_broken_dump(tmp_path: Path, jena: str) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text("<http://example.org/s> <http://example.org/p> .\n")
    assert java(jena, "riotcmd.riot", "--validate", "--strict", str(broken)).returncode == 1


# Virtuoso ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A fresh Virtuoso on loopback ports (its HTTP base and SQL port), its SPARQL user allowed to run SERVICE."""
    grants = ["SPARQL_LOAD_SERVICE_DATA", "SPARQL_SPONGE"]
    with running_virtuoso(tmp_path_factory.mktemp("virtuoso"), grants) as server:
        yield server.url, server.sql


def test_virtuoso_service_query_into_us(server, kg, virtuoso: tuple[str, int]) -> None:
    base, _ = virtuoso
    query = f"SELECT ?g WHERE {{ SERVICE <{server.url}/sparql> {{ ?g a <{IDAIS}Goal> }} }}"
    request = urllib.request.Request(
        base + "/sparql",
        data=urlencode({"query": query}).encode(),
        headers={"Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        bindings = json.load(response)["results"]["bindings"]
    expected = kg.sparql("SELECT ?g WHERE { ?g a idais:Goal }").values("g")
    assert sorted(b["g"]["value"] for b in bindings) == sorted(str(g) for g in expected)
