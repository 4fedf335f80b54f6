"""Every response carries the Content-Security-Policy and ``X-Content-Type-Options: nosniff``, replays of the front
cache included, and the pages need nothing the policy forbids: no inline script, no inline style."""

from __future__ import annotations

import asyncio
from html.parser import HTMLParser

import pytest
from starlette.types import Message, Receive, Scope, Send

from idais_kg.serve.front import CACHEABLE, FrontCache, ReplayStore
from idais_kg.serve.responses import EDITOR_POLICY, PAGE_POLICY, SecurityHeaders

GOAL = "/id/goal/post-deployment-monitoring"
RESULTS = "/api/queries/policies-of-goal?goal=goal:post-deployment-monitoring"
HTML_ROUTES = {  # path -> status, as a browser asks for it
    "/": 200,
    "/query": 200,
    "/query?editor=plain": 200,
    "/ontology": 200,
    GOAL: 200,
    "/dataset": 200,
    "/api/docs": 200,
    RESULTS: 200,
    "/no-such-page": 404,
    "/id/goal/no-such-goal": 404,
    "/api/queries/policies-of-goal": 400,
}
OTHER_ROUTES = {  # path, Accept -> status
    ("/healthz", None): 200,
    ("/sparql?query=ASK%7B%7D", "application/sparql-results+json"): 200,
    ("/static/site.css", None): 200,
    ("/api/openapi.json", None): 200,
    ("/api/queries", None): 200,
    (GOAL, "text/turtle"): 200,
    ("/sparql?query=SELEC", "application/sparql-results+json"): 400,
}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def policy_for(path: str) -> str:
    return EDITOR_POLICY if path.split("?")[0] == "/query" else PAGE_POLICY


def assert_secured(path: str, headers: dict[str, str]) -> None:
    assert headers.get("content-security-policy") == policy_for(path), path
    assert headers.get("x-content-type-options") == "nosniff", path


@pytest.mark.parametrize("path", HTML_ROUTES, ids=list(HTML_ROUTES))
def test_html_routes_carry_the_policy(server, path: str) -> None:  # type: ignore[no-untyped-def]
    first = server.get(path, BROWSER_ACCEPT)
    again = server.get(path, BROWSER_ACCEPT)  # a 200 of a cached route is now the front cache's replay
    for status, headers, _ in (first, again):
        assert status == HTML_ROUTES[path]
        assert headers["content-type"].startswith("text/html")
        assert_secured(path, headers)
    assert first[2] == again[2]


@pytest.mark.parametrize("route", OTHER_ROUTES, ids=[f"{p} {a}" for p, a in OTHER_ROUTES])
def test_other_responses_carry_the_headers_too(server, route: tuple[str, str | None]) -> None:  # type: ignore[no-untyped-def]
    path, accept = route
    for _ in range(2):
        status, headers, _ = server.get(path, accept)
        assert status == OTHER_ROUTES[route]
        assert_secured(path, headers)


def test_conditional_head_redirect_and_method_errors_carry_the_headers(server) -> None:  # type: ignore[no-untyped-def]
    status, headers, _ = server.get(GOAL, "text/html")
    assert status == 200
    not_modified = server.get(GOAL, "text/html", If_None_Match=headers["etag"])
    head = server.head(GOAL, "text/html")
    refused = server.post("/", b"", "text/plain", accept="text/html")
    assert (not_modified[0], head[0], refused[0]) == (304, 200, 405)
    for _, found, _ in (not_modified, head, refused):
        assert_secured(GOAL, found)
    status, headers, _ = server.get("/dumps/", BROWSER_ACCEPT)  # the dumps "folder" redirects to /dataset
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert_secured("/dataset", headers)


class Inline(HTMLParser):
    """What in a page the policy would refuse: inline script, inline style, script or style from elsewhere."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if "style" in attr:
            self.found.append(f"<{tag} style=…>")
        if any(name.startswith("on") for name in attr):
            self.found.append(f"<{tag} on…=>")
        if tag == "style":
            self.found.append("<style>")
        script = tag == "script" and attr.get("type") != "application/json"  # a data block is never run
        if script and not (attr.get("src") or "").startswith("/static/"):
            self.found.append(f"<script src={attr.get('src')!r}>")
        stylesheet = (
            tag == "link" and "stylesheet" in (attr.get("rel") or "").split()
        )  # (alternates are no style)
        if stylesheet and not (attr.get("href") or "").startswith("/static/"):
            self.found.append(f"<link href={attr.get('href')!r}>")


@pytest.mark.parametrize("path", HTML_ROUTES, ids=list(HTML_ROUTES))
def test_pages_have_no_inline_script_or_style(server, path: str) -> None:  # type: ignore[no-untyped-def]
    _, _, body = server.get(path, BROWSER_ACCEPT)
    assert Inline(body.decode()).found == []


def test_replays_get_the_headers_once() -> None:
    """The front cache answers the second request without the app; the headers are still there, once each."""
    calls: list[str] = []

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["path"])
        scope[CACHEABLE] = True
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
        )
        await send({"type": "http.response.body", "body": b"<p>page</p>", "more_body": False})

    app = SecurityHeaders(FrontCache(route, ReplayStore(entries=8, max_bytes=1_000_000)))

    async def get(path: str) -> list[Message]:
        sent: list[Message] = []
        scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode()}
        scope |= {"query_string": b"", "headers": [(b"host", b"test"), (b"accept", b"text/html")]}

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent

    for path in ("/", "/query"):
        first, again = asyncio.run(get(path)), asyncio.run(get(path))
        assert calls.count(path) == 1  # the second answer was a replay
        for sent in (first, again):
            headers = sent[0]["headers"]
            assert [v for k, v in headers if k == b"content-security-policy"] == [policy_for(path).encode()]
            assert [v for k, v in headers if k == b"x-content-type-options"] == [b"nosniff"]
            assert sent[1]["body"] == b"<p>page</p>"
