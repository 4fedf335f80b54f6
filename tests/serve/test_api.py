"""The saved-query API and its OpenAPI document."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote

from openapi_spec_validator import validate


def test_list(server, kg) -> None:
    status, _, body = server.get("/api/queries", "application/json")
    assert status == 200
    names = {q["name"] for q in json.loads(body)}
    assert names == set(kg.queries.names("question"))


def test_run_json_matches_library(server, kg) -> None:
    status, _headers, body = server.get("/api/queries/goals-by-area", "application/json")
    assert status == 200
    assert json.loads(body) == json.loads(kg.query("goals-by-area").to_json())


def test_run_with_parameter_csv_and_html(server, kg) -> None:
    path = "/api/queries/policies-of-goal?goal=" + quote("goal:ai-safety-rd-resources")
    status, headers, body = server.get(path, "text/csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert len(rows) - 1 == len(kg.query("policies-of-goal", goal="goal:ai-safety-rd-resources").rows)
    status, headers, body = server.get(path, "text/html")
    assert status == 200 and b"<table>" in body


def test_bad_parameters_are_400_with_the_message(server) -> None:
    status, _, body = server.get("/api/queries/policies-of-goal", "application/json")
    assert status == 400 and "required parameter missing" in json.loads(body)["message"]
    status, _, body = server.get(
        "/api/queries/policies-of-goal?goal=" + quote('x" } ; DROP ALL'), "text/plain"
    )
    assert status == 400 and b"not an IRI" in body
    status, _, body = server.get("/api/queries/policies-of-goal?goal=goal:nope", "text/csv")
    assert status == 400 and b"no resource" in body
    status, _, body = server.get("/api/queries/goals-by-area?x=1", "text/plain")
    assert status == 400 and b"unknown parameter" in body


def test_unknown_query_404_and_406(server) -> None:
    assert server.get("/api/queries/nope", "application/json")[0] == 404
    assert server.get("/api/queries/construct-citations", "application/json")[0] == 404
    assert server.get("/api/queries/goals-by-area", "image/png")[0] == 406


def test_openapi_validates(server, kg) -> None:
    status, _, body = server.get("/api/openapi.json")
    assert status == 200
    spec = json.loads(body)
    validate(spec)
    for name in kg.queries.names("question"):
        op = spec["paths"][f"/api/queries/{name}"]["get"]
        assert {p["name"] for p in op["parameters"]} == set(kg.queries.get(name).params)


def test_docs_and_query_pages(server, kg) -> None:
    status, _, body = server.get("/api/docs", "text/html")
    assert status == 200 and b"/api/queries/goals-by-area" in body
    status, _, body = server.get("/query", "text/html")
    assert status == 200
    for name in kg.queries.names("question"):
        assert name.encode() in body


def test_repeated_queries_are_cached(server) -> None:
    first = server.get("/api/queries/red-lines", "application/json")
    second = server.get("/api/queries/red-lines", "application/json")
    assert first[0] == second[0] == 200 and first[2] == second[2]
    assert first[1]["etag"] == second[1]["etag"]
    assert server.get("/api/queries/red-lines", "application/json", If_None_Match=first[1]["etag"])[0] == 304
