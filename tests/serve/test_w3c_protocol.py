"""The W3C SPARQL 1.1 Protocol tests, read from their manifest and sent to the real server.

Our endpoint is read-only and serves only its own dataset, so the update tests and the tests that name graphs
we do not host (default-graph-uri, named-graph-uri, FROM) must be refused with a 4xx; the rest apply as written.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import rdflib
from rdflib.collection import Collection

MANIFEST = Path(__file__).parent / "w3c" / "manifest.ttl"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")


def load_cases() -> list[tuple[str, list[dict[str, object]]]]:
    graph = rdflib.Graph().parse(MANIFEST, format="turtle")
    manifest = next(graph.subjects(rdflib.RDF.type, MF.Manifest))
    cases = []
    for test in Collection(graph, graph.value(manifest, MF.entries)):
        action = graph.value(test, MF.action)
        requests = []
        for req in Collection(graph, graph.value(action, HT.requests)):
            body = graph.value(req, HT.body)
            headers = {}
            header_list = graph.value(req, HT.headers)
            if header_list is not None:
                for header in Collection(graph, header_list):
                    headers[str(graph.value(header, HT.fieldName))] = str(graph.value(header, HT.fieldValue))
            resp = graph.value(req, HT.resp)
            requests.append(
                {
                    "method": str(graph.value(req, HT.methodName)),
                    "path": str(graph.value(req, HT.absolutePath)),
                    "body": str(graph.value(body, CNT.chars)) if body is not None else None,
                    "encoding": str(graph.value(body, CNT.characterEncoding) or "UTF-8")
                    if body is not None
                    else None,
                    "headers": headers,
                    "status": {str(s).rsplit("#", 1)[1] for s in graph.objects(resp, MF.expectedStatus)},
                    "format": str(graph.value(resp, MF.expectedFormat) or ""),
                    "boolean": graph.value(resp, MF.expectedBoolean),
                }
            )
        cases.append((str(test).rsplit("#", 1)[1], requests))
    return cases


CASES = load_cases()


def names_outside_graph(requests: list[dict[str, object]]) -> bool:
    text = " ".join(str(r["path"]) + " " + str(r["body"] or "") for r in requests)
    return any(word in text for word in ("default-graph-uri", "named-graph-uri", "FROM <"))


def send(base: str, req: dict[str, object]) -> tuple[int, str, bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    path = str(req["path"]).replace("/sparql/", "/sparql", 1)
    body = None
    if req["body"] is not None:
        body = str(req["body"]).encode("utf-16" if str(req["encoding"]).upper() == "UTF-16" else "utf-8")
    conn.putrequest(str(req["method"]), path)
    headers = dict(req["headers"])  # type: ignore[call-overload]
    for name, value in headers.items():
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp.getheader("content-type") or "", data


@pytest.mark.parametrize(("name", "requests"), CASES, ids=[c[0] for c in CASES])
def test_w3c_protocol(server, name: str, requests: list[dict[str, object]]) -> None:
    if name.startswith("update_") or names_outside_graph(requests):
        status, _, body = send(server.url, requests[0])
        assert 400 <= status < 500, (status, body)
        assert b"Traceback" not in body
        return
    for req in requests:
        status, content_type, body = send(server.url, req)
        wanted = {f"StatusCode{status // 100}xx"}
        assert wanted & req["status"], (status, body)  # type: ignore[operator]
        if req["boolean"] is not None:
            assert "json" in content_type or "xml" in content_type
            if "json" in content_type:
                assert json.loads(body)["boolean"] is bool(req["boolean"].toPython())  # type: ignore[union-attr]
