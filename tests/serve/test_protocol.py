"""The SPARQL 1.1 Protocol at /sparql: methods, result formats by Accept, the service description, limits."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

import pytest
import rdflib
from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

COUNT_GOALS = (
    "PREFIX idais: <https://w3id.org/idais-kg/ontology#>\nSELECT (COUNT(?g) AS ?n) WHERE { ?g a idais:Goal }"
)
CONSTRUCT = (
    "PREFIX idais: <https://w3id.org/idais-kg/ontology#>\n"
    "CONSTRUCT { ?g a idais:Goal } WHERE { ?g a idais:Goal }"
)


def goal_count(kg) -> int:
    return int(kg.sparql("SELECT (COUNT(?g) AS ?n) WHERE { ?g a idais:Goal }").values("n")[0])


def test_get_post_form_and_post_direct_agree(server, kg) -> None:
    expected = goal_count(kg)
    accept = "application/sparql-results+json"
    answers = [
        server.get("/sparql?" + urlencode({"query": COUNT_GOALS}), accept),
        server.post(
            "/sparql", urlencode({"query": COUNT_GOALS}).encode(), "application/x-www-form-urlencoded", accept
        ),
        server.post("/sparql", COUNT_GOALS.encode(), "application/sparql-query", accept),
    ]
    for status, headers, body in answers:
        assert status == 200
        assert headers["content-type"].startswith(accept)
        assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) == expected


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
    ],
)
def test_select_formats(server, kg, accept: str, media: str) -> None:
    status, headers, body = server.get("/sparql?query=" + quote(COUNT_GOALS), accept)
    assert status == 200 and headers["content-type"].startswith(media)
    text = body.decode()
    expected = str(goal_count(kg))
    if "json" in media:
        assert json.loads(text)["results"]["bindings"][0]["n"]["value"] == expected
    elif "xml" in media:
        ns = {"r": "http://www.w3.org/2005/sparql-results#"}
        assert ET.fromstring(text).find(".//r:literal", ns).text == expected
    elif media == "text/csv":
        assert list(csv.reader(io.StringIO(text)))[1] == [expected]
    else:
        assert expected in text.splitlines()[1]


def test_ask_formats(server) -> None:
    status, _, body = server.get("/sparql?query=" + quote("ASK {}"), "application/sparql-results+json")
    assert status == 200 and json.loads(body)["boolean"] is True
    status, _, body = server.get("/sparql?query=" + quote("ASK {}"), "application/sparql-results+xml")
    assert status == 200 and b"<boolean>true</boolean>" in body


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_formats(server, kg, accept: str, rdflib_format: str) -> None:
    status, headers, body = server.get("/sparql?query=" + quote(CONSTRUCT), accept)
    assert status == 200 and headers["content-type"].startswith(accept)
    graph = rdflib.Graph().parse(data=body, format=rdflib_format)
    assert len(graph) == goal_count(kg)


def test_describe_is_rdf(server) -> None:
    query = "DESCRIBE <https://w3id.org/idais-kg/id/goal/ai-safety-rd-resources>"
    status, _, body = server.get("/sparql?query=" + quote(query), "text/turtle")
    assert status == 200 and len(rdflib.Graph().parse(data=body, format="turtle")) > 3


def test_not_acceptable(server) -> None:
    assert server.get("/sparql?query=" + quote(COUNT_GOALS), "text/turtle")[0] == 406
    assert server.get("/sparql?query=" + quote(CONSTRUCT), "image/png")[0] == 406
    assert server.get("/sparql?query=" + quote(COUNT_GOALS), "image/png")[0] == 406


@pytest.mark.parametrize(
    ("accept", "media", "rdflib_format"),
    [
        ("text/csv", "text/turtle", "turtle"),
        ("text/tab-separated-values", "text/turtle", "turtle"),
        ("application/sparql-results+json", "application/ld+json", "json-ld"),
        ("application/json", "application/ld+json", "json-ld"),
        ("application/sparql-results+xml", "application/rdf+xml", "xml"),
    ],
)
def test_a_graph_asked_for_in_a_results_format_comes_in_rdf(
    server, kg, accept: str, media: str, rdflib_format: str
) -> None:
    status, headers, body = server.get("/sparql?query=" + quote(CONSTRUCT), accept)
    assert status == 200 and headers["content-type"].startswith(media)
    assert headers["x-format-fallback"].startswith(media + ": a CONSTRUCT answer is a graph")
    assert len(rdflib.Graph().parse(data=body, format=rdflib_format)) == goal_count(kg)


@pytest.mark.parametrize(
    ("query", "accept", "body"),
    [
        ("ASK {}", "text/csv", b"_askResult\r\ntrue\r\n"),
        ("ASK { FILTER(false) }", "text/csv", b"_askResult\r\nfalse\r\n"),
        ("ASK {}", "text/tab-separated-values", b"?_askResult\ntrue\n"),
        ("ASK { FILTER(false) }", "text/tab-separated-values", b"?_askResult\nfalse\n"),
    ],
)
def test_ask_in_csv_and_tsv_as_jena_writes_it(server, query: str, accept: str, body: bytes) -> None:
    status, headers, answer = server.get("/sparql?query=" + quote(query), accept)
    assert (status, headers["content-type"].split(";")[0], answer) == (200, accept, body)


def test_unknown_parameters_are_ignored_and_named(server, kg) -> None:
    path = "/sparql?" + urlencode(
        {"query": COUNT_GOALS, "_": "1700000000", "callback": "f", "format": "json"}
    )
    status, headers, body = server.get(path, "application/sparql-results+json")
    assert status == 200 and headers["x-ignored-parameters"] == "_, callback, format"
    assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) == goal_count(kg)
    status, headers, _ = server.get("/sparql?" + urlencode({"query": COUNT_GOALS}), "application/json")
    assert status == 200 and "x-ignored-parameters" not in headers


def test_maxrows_only_tightens_the_row_cap(server) -> None:
    query = "SELECT * { ?s ?p ?o }"
    status, headers, body = server.get(
        "/sparql?" + urlencode({"query": query, "maxrows": "7"}), "application/json"
    )
    assert status == 200 and headers["x-row-cap"] == "7 reached; result truncated"
    assert len(json.loads(body)["results"]["bindings"]) == 7
    status, headers, body = server.get(
        "/sparql?" + urlencode({"query": query, "maxrows": str(server.row_cap * 10)}), "application/json"
    )
    assert status == 200 and headers["x-row-cap"] == f"{server.row_cap} reached; result truncated"
    assert len(json.loads(body)["results"]["bindings"]) == server.row_cap


def test_timeout_only_tightens_the_deadline(start_server, tmp_path) -> None:
    """On a server of its own: each overrun counts against the client's kill limit (as a deadline overrun does),
    which the session's shared server should not spend."""
    slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with start_server(tmp_path, "--workers", "1", "--deadline", "2") as own:
        for timeout, said in (("1000", "1s exceeded"), ("0.5", "0.5s exceeded")):  # Virtuoso's ms, Fuseki's s
            status, headers, _ = own.get(
                "/sparql?" + urlencode({"query": slow, "timeout": timeout}), "text/csv"
            )
            assert (status, headers["x-query-deadline"]) == (503, said)
        status, headers, _ = own.get("/sparql?" + urlencode({"query": slow, "timeout": "600"}), "text/csv")
        assert (status, headers["x-query-deadline"]) == (503, "2s exceeded")


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/sparql?query=" + quote(COUNT_GOALS), "application/sparql-results+json"),
        ("/sparql?query=" + quote(CONSTRUCT), "text/turtle"),
        ("/sparql", "text/turtle"),
        ("/id/goal/ai-safety-rd-resources", "text/turtle"),
        ("/id/goal/ai-safety-rd-resources", "text/html"),
        ("/ontology", "text/turtle"),
        ("/dataset", "application/ld+json"),
        ("/api/queries", "application/json"),
        ("/dumps/void.ttl", "text/turtle"),
        ("/static/site.css", "text/css"),
        ("/", "text/html"),
    ],
)
def test_head_has_the_length_and_headers_of_get(server, path: str, accept: str) -> None:
    status, got, body = server.get(path, accept)
    head_status, headed, head_body = server.head(path, accept)
    assert (head_status, head_body) == (status, b"") and status == 200
    assert int(headed["content-length"]) == len(body) > 0
    for name in ("content-type", "etag", "vary", "cache-control", "content-security-policy"):
        assert headed.get(name) == got.get(name), name


def test_service_description(server) -> None:
    status, _headers, body = server.get("/sparql", "text/turtle")
    assert status == 200
    graph = rdflib.Graph().parse(data=body, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = next(graph.subjects(rdflib.RDF.type, sd.Service))
    assert str(graph.value(service, sd.endpoint)).endswith("/sparql")
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in graph


def test_cors(server) -> None:
    status, headers, _ = server.get(
        "/sparql?query=" + quote("ASK {}"), "application/json", Origin="http://example.org"
    )
    assert status == 200 and headers["access-control-allow-origin"] == "*"


def test_row_cap_is_stated(server) -> None:
    status, headers, body = server.get("/sparql?query=" + quote("SELECT * { ?s ?p ?o }"), "application/json")
    assert status == 200
    assert str(server.row_cap) in headers["x-row-cap"]
    assert len(json.loads(body)["results"]["bindings"]) == server.row_cap


def test_etag_and_304(server) -> None:
    path = "/sparql?query=" + quote(COUNT_GOALS)
    status, headers, _ = server.get(path, "application/json")
    assert status == 200 and headers["etag"]
    status, headers2, body = server.get(path, "application/json", If_None_Match=headers["etag"])
    assert status == 304 and body == b"" and headers2["etag"] == headers["etag"]


def test_syntax_error_has_position_and_no_internals(server) -> None:
    status, _, body = server.get("/sparql?query=" + quote("SELECT * WHERE { ?s ?p }"), "application/json")
    assert status == 400
    text = body.decode()
    assert "1:" in text and "Traceback" not in text and "/work" not in text and ".py" not in text


def test_sparqlwrapper_select_and_construct(server, kg) -> None:
    client = SPARQLWrapper(server.url + "/sparql")
    client.setQuery(COUNT_GOALS)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert int(rows[0]["n"]["value"]) == goal_count(kg)
    client.setReturnFormat(XML)
    assert client.query().convert().getElementsByTagName("literal")[0].firstChild.data == str(goal_count(kg))
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=client.query().convert(), format="turtle")
    assert len(graph) == goal_count(kg)


def test_from_our_graph_is_allowed(server) -> None:
    query = "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/idais-kg/id/graph/ontology> WHERE { ?s ?p ?o }"
    status, _, body = server.get("/sparql?query=" + quote(query), "application/json")
    assert status == 200
    union = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    total = json.loads(server.get("/sparql?query=" + quote(union), "application/json")[2])
    n = int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
    assert 0 < n < int(total["results"]["bindings"][0]["n"]["value"])
