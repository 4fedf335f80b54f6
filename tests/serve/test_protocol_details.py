"""Protocol details from the security audit, against the real server: bypasses over HTTP, encodings, negotiation."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from test_guard_corpus import Listener

JSON_RESULTS = "application/sparql-results+json"


@pytest.fixture(scope="module")
def listener():
    listening = Listener()
    yield listening
    listening.sock.close()
    assert listening.hits == 0, "the server reached the loopback listener"


def post(server, query: str, accept: str = JSON_RESULTS):
    return server.post("/sparql", query.encode(), "application/sparql-query", accept)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?s WHERE { #\rSERVICE <http://127.0.0.1:{port}/x> { ?s ?p ?o } }",
        "SELECT ?s WHERE { BIND(<http://x/\\u0041#> AS ?x) SERVICE <http://127.0.0.1:{port}/x> { ?s ?p ?o } }",
        "PREFIX ex: <http://127.0.0.1:{port}/> SELECT * { SERVICEex:x { ?s ?p ?o } }",
        "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
        "SELECT * WHERE { #\rFROM <file:///etc/passwd> }",
    ],
)
def test_bypasses_get_a_4xx_and_reach_nothing(server, listener, query: str) -> None:
    for send in (
        lambda q: post(server, q),
        lambda q: server.get("/sparql?query=" + quote(q), JSON_RESULTS),
        lambda q: server.post("/sparql", ("query=" + quote(q)).encode(), "application/x-www-form-urlencoded"),
    ):
        status, _, body = send(query.replace("{port}", str(listener.port)))
        assert 400 <= status < 500, body
        assert b"Traceback" not in body
    assert listener.hits == 0


def test_a_comment_ended_by_cr_is_a_comment(server) -> None:
    status, _, body = post(server, "ASK { #\r?s ?p ?o }")
    assert status == 200 and json.loads(body)["boolean"] is True


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("SELECT ?s\nWHERE {\n  ?s ?p ?o .\n  ? }", "4:6"),  # a plain text: the engine read the client's own
        ("SELECT ?s # é\nWHERE {\n  ?s ?p ?o .\n  ? }", "4:5"),  # lexed: the token's place, mapped back
    ],
)
def test_engine_errors_point_at_the_clients_text(server, query: str, where: str) -> None:
    status, headers, body = post(server, query, "application/json")
    assert status == 400 and headers["content-type"].startswith("application/json")
    assert json.loads(body)["message"].startswith(f"SPARQL syntax error: error at {where}:")


def test_invalid_utf8_in_a_percent_encoded_query_is_400(server) -> None:
    status, _, body = server.get("/sparql?query=ASK%20%7B%7D%FF", JSON_RESULTS)
    assert status == 400 and b"not UTF-8" in body
    form = b"query=ASK%20%7B%7D%C3"
    assert server.post("/sparql", form, "application/x-www-form-urlencoded", JSON_RESULTS)[0] == 400


@pytest.mark.parametrize(
    ("accept", "form", "expected"),
    [
        ("application/*", "ASK {}", JSON_RESULTS),
        ("*/*", "ASK {}", JSON_RESULTS),
        ("text/*", "ASK {}", "text/csv"),
        ("application/*", "CONSTRUCT WHERE { ?s a ?c } LIMIT 1", "application/ld+json"),
        ("text/*", "CONSTRUCT WHERE { ?s a ?c } LIMIT 1", "text/turtle"),
        (f"{JSON_RESULTS};q=0, */*", "ASK {}", "application/sparql-results+xml"),
    ],
)
def test_media_ranges_follow_the_rules(server, accept: str, form: str, expected: str) -> None:
    status, headers, _ = post(server, form, accept)
    assert status == 200 and headers["content-type"].split(";")[0] == expected


def test_406_varies_on_accept(server) -> None:
    status, headers, _ = post(server, "ASK {}", "image/png")
    assert status == 406 and "Accept" in headers["vary"]


def test_construct_turtle_has_no_escaped_prefixed_names(server) -> None:
    """Protégé's Turtle parser stops at ``ed:section\\/…``: the endpoint writes such IRIs in full."""
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER (CONTAINS(STR(?s), '/section/')) } LIMIT 50"
    status, _, body = post(server, query, "text/turtle")
    assert status == 200 and b"/section/" in body
    assert b"\\/" not in body and b"\\#" not in body
