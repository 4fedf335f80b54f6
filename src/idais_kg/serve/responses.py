"""Responses every route shares: cached answers with the build's ETag, and error bodies in the wanted form.

Error bodies carry the message meant for the user and nothing else: no stack trace, no file path.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from idais_kg.serve.cache import Cached, etag_for, matches
from idais_kg.serve.front import CACHEABLE
from idais_kg.serve.negotiation import HTML, JSON, choose

if TYPE_CHECKING:
    from idais_kg.serve.app import Service

CACHE_CONTROL = "public, max-age=300"
REASONS = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable"}
REASONS |= {413: "Content Too Large", 415: "Unsupported Media Type", 503: "Service Unavailable"}


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def cached(
    request: Request,
    key: str,
    produce: Callable[[], Awaitable[Cached]],
    vary: str = "Accept",
) -> Response:
    """Answer from the cache or ``produce``; send 304 when the client already holds this representation."""
    service = service_of(request)
    tag = etag_for(service.build, key)
    headers = {"Vary": vary, "Cache-Control": CACHE_CONTROL}
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag, **headers})
    item = service.cache.get(key)
    if item is None:
        item = await produce()
        if item.status < 500:
            service.cache.put(key, item)
    if item.status == 200:
        headers["ETag"] = tag
        request.scope[CACHEABLE] = True  # the front cache may replay this answer to the same request
    body = b"" if request.method == "HEAD" else item.body
    response = Response(body, status_code=item.status, media_type=item.media_type, headers=headers)
    for name, value in item.headers.items():
        response.headers[name] = value
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
