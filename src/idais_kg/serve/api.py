"""The saved-query API (/api/queries) and its OpenAPI 3 document, both made from the queries' ``#+`` headers.

Parameters come from the query string, are typed and checked by ``SavedQuery.bind`` and bound by the engine;
a bad one is a 400 carrying the library's message.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from idais_kg.errors import IdaisError, InputError, ParameterError, UnknownQueryError
from idais_kg.serve.cache import Cached
from idais_kg.serve.negotiation import CSV, HTML, JSON, choose
from idais_kg.serve.responses import cached, error, service_of
from idais_kg.sources.queries import Param, SavedQuery
from idais_kg.version import __version__

SPARQL_JSON = "application/sparql-results+json"
RESULT_OFFER = [JSON, SPARQL_JSON, CSV, HTML]
SCHEMAS: dict[str, dict[str, str]] = {
    "iri": {"type": "string", "description": "an IRI, or a prefixed name such as goal:…"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "year": {"type": "string", "pattern": "^[0-9]{4}$"},
}


def questions(request: Request) -> list[SavedQuery]:
    """The saved queries the API publishes: the questions (not the violation and construct queries)."""
    return service_of(request).kg.queries.of_kind("question")


def describe(saved: SavedQuery) -> dict[str, Any]:
    """A saved query as one entry of the ``/api/queries`` list: its header, its parameters and its URL."""
    return {
        "name": saved.name,
        "summary": saved.summary,
        "description": saved.description,
        "tags": list(saved.tags),
        "returns": list(saved.returns),
        "params": {
            p.name: {
                "type": p.type,
                "required": p.required,
                "description": p.description,
                "example": p.example,
            }
            for p in saved.params.values()
        },
        "url": f"/api/queries/{saved.name}",
    }


async def list_queries(request: Request) -> Response:
    """``GET /api/queries``: the published questions with their parameters, as JSON."""
    body = [describe(q) for q in questions(request)]
    return JSONResponse(body, headers={"Vary": "Accept"})


async def run_query(request: Request) -> Response:
    """``GET /api/queries/{name}``: one question run with the query string's parameters, in the format the
    client accepts (JSON results, CSV or an HTML table); cached per name, parameters and media type."""
    service = service_of(request)
    name = request.path_params["name"]
    try:
        saved = service.kg.queries.get(name)
    except UnknownQueryError as exc:
        return error(request, 404, str(exc))
    if saved.kind != "question":
        return error(request, 404, f"{name!r} is not a published question")
    try:
        params = query_params(name, request.scope.get("query_string", b""))
        saved.bind(params)  # check before the cache: a bad parameter is never cached or evaluated
    except InputError as exc:
        return error(request, 400, str(exc))
    media = choose(request.headers.get("accept"), RESULT_OFFER)
    if media is None:
        return error(None, 406, "offered: " + ", ".join(RESULT_OFFER))
    key = "api|" + json.dumps([name, sorted(params.items()), media])

    async def produce() -> Cached:
        try:
            result = await asyncio.to_thread(service.kg.run, saved, params)
        except InputError as exc:
            return Cached(f"400 Bad Request: {exc}\n".encode(), "text/plain; charset=utf-8", 400)
        except IdaisError as exc:
            return Cached(f"500 Internal Server Error: {exc}\n".encode(), "text/plain; charset=utf-8", 500)
        if media == CSV:
            return Cached(result.to_csv().encode("utf-8"), CSV + "; charset=utf-8")
        if media == HTML:
            page = service.pages.results(saved.name, saved.summary, result.variables, result.rows)
            return Cached(page, HTML + "; charset=utf-8")
        return Cached(result.to_json().encode("utf-8"), media)

    return await cached(request, key, produce)


def query_params(name: str, query: bytes) -> dict[str, str]:
    """The parameters of a raw query string, each given once and decoded as UTF-8 strictly: bytes that are not
    UTF-8 are a ParameterError naming the parameter, never a U+FFFD that would stand in for them.

    >>> query_params("q", b"goal=goal%3Ax&n=1+2&t=%E5%AE%89")
    {'goal': 'goal:x', 'n': '1 2', 't': '安'}
    >>> query_params("q", b"goal=%FF")
    Traceback (most recent call last):
    ...
    idais_kg.errors.ParameterError: query 'q', parameter 'goal': not UTF-8 once percent-decoded: '%FF'
    """
    params: dict[str, str] = {}
    for pair in query.split(b"&"):  # (parse_qsl decodes with errors="replace": the U+FFFD this refuses)
        if not pair:
            continue
        raw_key, _, raw_value = (unquote_to_bytes(part.replace(b"+", b" ")) for part in pair.partition(b"="))
        key = _utf8(name, raw_key, raw_key)
        value = _utf8(name, raw_key, raw_value)
        if key in params:
            raise ParameterError(name, key, "given more than once")
        params[key] = value
    return params


def _utf8(name: str, raw_key: bytes, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        key = raw_key.decode("utf-8", "backslashreplace")
        raise ParameterError(
            name, key, f"not UTF-8 once percent-decoded: {quote(raw, safe=':/')!r}"
        ) from None


def parameter(param: Param) -> dict[str, Any]:
    """A query parameter as an OpenAPI parameter object (in the query string, with its type as a schema)."""
    out: dict[str, Any] = {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "schema": dict(SCHEMAS[param.type]),
        "description": param.description or f"a value of type {param.type}",
    }
    if param.example is not None:
        out["example"] = param.example
    return out


def openapi_document(saved_queries: list[SavedQuery]) -> dict[str, Any]:
    """The OpenAPI 3.0 description of the API: one GET operation per published question."""
    text = {"schema": {"type": "string"}}
    results = {
        JSON: {"schema": {"$ref": "#/components/schemas/SparqlResults"}},
        CSV: text,
        HTML: text,
    }
    errors = {"text/plain": text}
    paths: dict[str, Any] = {
        "/api/queries": {
            "get": {
                "operationId": "listQueries",
                "summary": "The saved questions, with their parameters",
                "responses": {
                    "200": {"description": "the list", "content": {JSON: {"schema": {"type": "array"}}}}
                },
            }
        }
    }
    for saved in saved_queries:
        paths[f"/api/queries/{saved.name}"] = {
            "get": {
                "operationId": "query_" + saved.name.replace("-", "_"),
                "summary": saved.summary,
                "description": saved.description or f"Returns {', '.join(saved.returns) or 'a table'}.",
                "tags": list(saved.tags) or ["queries"],
                "parameters": [parameter(p) for p in saved.params.values()],
                "responses": {
                    "200": {
                        "description": "the rows (SPARQL JSON results, CSV or an HTML table)",
                        "content": results,
                    },
                    "400": {"description": "a missing, unknown or ill-typed parameter", "content": errors},
                    "406": {"description": "no acceptable media type", "content": errors},
                },
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "IDAIS Policy Guide knowledge graph: saved questions",
            "version": __version__,
            "description": "Each saved SPARQL query of the project as an operation; parameters are typed and bound.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                "SparqlResults": {
                    "type": "object",
                    "description": "SPARQL 1.1 Query Results JSON",
                    "properties": {"head": {"type": "object"}, "results": {"type": "object"}},
                }
            }
        },
    }


async def openapi(request: Request) -> Response:
    """``GET /api/openapi.json``: the OpenAPI document of the API, made once at start-up."""
    return JSONResponse(service_of(request).openapi)


async def docs(request: Request) -> Response:
    """``GET /api/docs``: an HTML page that documents the API from its OpenAPI document."""
    service = service_of(request)

    async def produce() -> Cached:
        return Cached(service.pages.api_docs(service.openapi), HTML + "; charset=utf-8")

    return await cached(request, "page|api-docs", produce)
