"""Responses every route shares: cached answers with the build's ETag, error bodies in the wanted form, and the
security headers on every response.

Error bodies carry the message meant for the user and nothing else: no stack trace, no file path.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idais_kg.serve import i18n
from idais_kg.serve.cache import Cached, etag_for, matches
from idais_kg.serve.front import CACHEABLE
from idais_kg.serve.negotiation import HTML, JSON, choose

if TYPE_CHECKING:
    from idais_kg.serve.app import Service

CACHE_CONTROL = "public, max-age=300"
REASONS = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable"}
REASONS |= {413: "Content Too Large", 415: "Unsupported Media Type", 429: "Too Many Requests"}
REASONS |= {503: "Service Unavailable"}


def service_of(request: Request) -> Service:
    """The service the app serves now (a reload replaces it between requests)."""
    service: Service = request.app.state.service
    return service


async def cached(
    request: Request,
    key: str,
    produce: Callable[[], Awaitable[Cached]],
    vary: str = "Accept",
) -> Response:
    """Answer from the cache or ``produce``; send 304 when the client already holds this representation.

    A page depends on the reader's language (``i18n``) and, through its language switch, on the query string: the
    cache keeps one answer per key, language and query string, and the ETag of an HTML answer names both, so that
    one language is never answered, or confirmed by a 304, to a reader of the other.
    """
    service = service_of(request)
    lang = str(request.scope.get(i18n.SCOPE_KEY, i18n.DEFAULT))
    query = request.scope.get("query_string", b"").decode("latin-1")
    key = f"{key}|lang={lang}|{query}"
    item = service.cache.get(key)
    if item is None:
        item = await produce()
        if item.status < 500:
            service.cache.put(key, item)
    html = item.media_type.startswith(HTML)
    tag = etag_for(service.build, key if html else key.rsplit("|lang=", 1)[0])
    headers = {"Vary": vary, "Cache-Control": CACHE_CONTROL}
    if html:  # (on a 304 too, which has no Content-Type for i18n.Language to see)
        headers["Vary"] = ", ".join(filter(None, (vary, *i18n.VARY)))
        headers["Content-Language"] = lang
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag, **headers})
    if item.status == 200:
        headers["ETag"] = tag
        request.scope[CACHEABLE] = True  # the front cache may replay this answer to the same request
    response = Response(item.body, status_code=item.status, media_type=item.media_type, headers=headers)
    for name, value in item.headers.items():
        response.headers[name] = value
    if request.method == "HEAD":  # the headers of the GET, its Content-Length included; no body
        response.body = b""
    return response


def error(
    request: Request | None, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """An error in the form the client reads best: an HTML page, JSON, or plain text (the default)."""
    wanted = (
        choose(request.headers.get("accept") if request else None, ["text/plain", HTML, JSON]) or "text/plain"
    )
    reason = REASONS.get(status, "Error")
    if wanted == HTML and request is not None:
        return service_of(request).pages.error(status, reason, message, headers)
    if wanted == JSON:
        body = json.dumps({"status": status, "error": reason, "message": message}, ensure_ascii=False)
        return Response(body, status_code=status, media_type=JSON, headers=headers)
    return Response(f"{status} {reason}: {message}\n", status, media_type="text/plain", headers=headers)


# What a page may load, run and send: only this server's own files (``default-src 'self'``, which also holds
# ``connect-src`` to the same origin), no inline script or style (the templates have none: their script and CSS are
# files under /static; a ``<script type="application/json">`` data block is never run, so it needs no hash), no
# plugins, no ``<base>``, forms only to us, no framing by other sites. Sent on every response, not only HTML: a
# browser applies it to whatever it renders as a document.
PAGE_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The query page with YASGUI needs one allowance more, inline styles: YASR's column resizer inserts ``<style>``
# elements and YASQE's error tooltip uses a ``style`` attribute (both from the bundle's own script; its other styles
# are set through the DOM, which CSP does not govern). Hashes would pin the bundle's exact CSS text (and need
# 'unsafe-hashes' for the attribute) and break, blocked, on any YASGUI update; a style can move or hide things but
# not run code, and the page shows nothing of the data but what YASGUI fetches from /sparql. Scripts stay 'self':
# no 'unsafe-inline', no 'unsafe-eval' (the bundle needs neither), and requests go to this server only.
EDITOR_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
POLICIES = {"/query": EDITOR_POLICY}


class SecurityHeaders:
    """ASGI middleware, outermost: ``Content-Security-Policy`` and ``X-Content-Type-Options: nosniff`` on every
    response, replays of the front cache included (they pass through here too), 304s and errors alike."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        nosniff = (b"x-content-type-options", b"nosniff")
        self.default = [(b"content-security-policy", PAGE_POLICY.encode()), nosniff]
        self.by_path = {p: [(b"content-security-policy", v.encode()), nosniff] for p, v in POLICIES.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the page's security headers to the start of every HTTP response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.by_path.get(scope["path"], self.default)

        async def with_headers(message: Message) -> None:
            if (
                message["type"] == "http.response.start"
            ):  # a new message: the front cache keeps the one it saw
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
