"""The fast lane of a pre-forked worker: the plain ad-hoc query answered without the app's middleware and routing.

Most ad-hoc queries come from programs (SPARQLWrapper, rdflib, curl, a federated engine): ``GET /sparql?query=``
or a direct ``POST`` of the query, no cookie, no ``Origin``, no conditional header, no other parameter. For those,
and only while everything goes well, :meth:`FastLane.respond` answers the request itself, with the same steps and
the same parts as the route (``protocol``): the guard's check (a plain text as written, any other as its canonical
text), the media type the client prefers, the job, the response cache and its key, the query runner and its
deadline, the row cap and its header, the build's ETag, and the headers the route and the middleware would send,
in their order. The worker's HTTP protocol calls it for a request it has read whole (``forked``), and writes the
answer in one write; as ASGI middleware it serves the rest (a pipelined request, say).

Anything else, and any request that does not go well here (a refused query, a media type nobody offers, an
engine error, a query stopped), goes to the app unchanged, before a byte of the answer is sent: the app then
answers as it always does, given the body already read, and the runner's answer or failure if the query already
ran (``inproc.ANSWERED``, ``inproc.FAILURE``), so nothing is evaluated twice. ``tests/serve/test_fastlane.py``
and ``tests/serve/test_direct_lane.py`` check, request by request, that both paths send the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idais_kg.namespaces import SERVICE_BASE
from idais_kg.serve import i18n
from idais_kg.serve.cache import Cached, etag_for
from idais_kg.serve.guard import QueryRefused, check
from idais_kg.serve.inproc import ANSWERED, FAILURE, InProcess
from idais_kg.serve.negotiation import RDF_OFFER, RESULTS_OFFER, chosen_media
from idais_kg.serve.pool import PoolError
from idais_kg.serve.protocol import ask_table, job_for, parse_params
from idais_kg.serve.responses import CACHE_CONTROL, SecurityHeaders

if TYPE_CHECKING:
    from idais_kg.serve.app import Service

# Request headers that make an answer depend on more than the query and Accept (CORS, conditional requests, the
# reader's language for an error page), or that ask for what only the app does: such requests take the app.
DECLINED = frozenset({b"origin", b"if-none-match", b"if-match", b"if-modified-since", b"cookie"})
DECLINED |= {b"accept-language", b"expect", b"transfer-encoding", b"range"}
CONTENT_TYPES = frozenset({b"application/sparql-query", b"application/sparql-query; charset=utf-8"})
VARY = (b"vary", b"Accept, Origin")  # the route's Vary, Origin added by the CORS middleware
RESULTS, GRAPHS = tuple(RESULTS_OFFER), tuple(RDF_OFFER)


@dataclass(frozen=True)
class Reply:
    """A 200 answer of the fast lane: its headers (as the route and the middleware would send them) and body."""

    headers: list[tuple[bytes, bytes]]
    body: bytes


class FastLane:
    """ASGI middleware in a pre-forked worker (inside ``forked.Draining``, outside the app); its :meth:`respond`
    is also called by the worker's HTTP protocol directly, for a request it read whole (see ``forked``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.security = SecurityHeaders(app).default

    @staticmethod
    def takes(method: str, path: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether a request with this head may be one for the fast lane (its body may still decide not)."""
        if path != b"/sparql" or method not in ("GET", "POST"):
            return False
        content_type = b""
        for name, value in headers:
            if name in DECLINED:
                return False
            if name == b"content-type":
                content_type = value
        return method == "GET" or content_type.lower() in CONTENT_TYPES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a plain ad-hoc query here, or hand the request to the app."""
        if (
            scope["type"] != "http"
            or FAILURE in scope
            or ANSWERED in scope
            or not self.takes(scope["method"], scope["path"].encode("utf-8", "replace"), scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive) if scope["method"] == "POST" else b""
        outcome = self.respond(scope, body)
        if isinstance(outcome, Reply):
            await send({"type": "http.response.start", "status": 200, "headers": outcome.headers})
            await send({"type": "http.response.body", "body": outcome.body, "more_body": False})
            return
        await self.app({**scope, **outcome}, replaying(body, receive), send)

    def respond(self, scope: Scope, body: bytes) -> Reply | dict[str, Any]:
        """Run the query of a request that :meth:`takes` as the route does: its answer, or what the app's scope
        must carry when the app is to answer it instead (the runner's answer or failure, if the query ran)."""
        if scope["method"] == "GET":
            text = self.query_of(scope.get("query_string", b""))
        else:
            text = None if scope.get("query_string") else decode(body)
        if text is None:
            return {}
        service: Service = self.app.state.service  # type: ignore[attr-defined]
        settings = service.settings
        try:
            checked = check(
                text, service.hosted_graphs, settings.max_query_bytes, settings.max_depth, SERVICE_BASE
            )
        except QueryRefused:
            return {}
        accept = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1") if accept is None else accept + "," + value.decode("latin-1")
        media = chosen_media(accept, RESULTS if checked.form in ("SELECT", "ASK") else GRAPHS)
        if media is None:  # 406, or a graph asked for in a results format: the route says which
            return {}
        job = job_for(checked, media, settings.row_cap, None, None)
        key = "sparql|" + hashlib.sha256(repr(job).encode("utf-8")).hexdigest()
        kept = f"{key}|lang={i18n.DEFAULT}|{scope.get('query_string', b'').decode('latin-1')}"
        item = service.cache.get(kept)
        if item is None:
            scope = {**scope, "app": self.app, i18n.SCOPE_KEY: i18n.DEFAULT}
            request = Request(scope)
            request._body = body  # (what the watchdog's answer to a stopped query re-reads)
            client = scope["client"][0] if scope.get("client") else None
            runner = service.pool
            if not isinstance(runner, InProcess):  # (only a pre-forked worker has a fast lane)
                return {}
            try:
                result = runner.run_now(job, client, settings.deadline, request)
            except PoolError as exc:
                return {FAILURE: exc}
            if result.error is not None:
                return {ANSWERED: result}
            payload = ask_table(result.body, media) if checked.form == "ASK" else result.body
            extra = {"X-Row-Cap": f"{settings.row_cap} reached; result truncated"} if result.truncated else {}
            item = Cached(payload, result.media_type, 200, extra)
            service.cache.put(kept, item)
        if item.status != 200:
            return {}
        media_type = item.media_type
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            media_type += "; charset=utf-8"  # (as Starlette's Response writes it)
        headers = [
            VARY,
            (b"cache-control", CACHE_CONTROL.encode()),
            (b"etag", etag_for(service.build, key).encode()),  # (the route's tag: not by language)
            (b"content-length", str(len(item.body)).encode()),
            (b"content-type", media_type.encode("latin-1")),
        ]
        headers += [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in item.headers.items()
        ]
        return Reply(headers + self.security, item.body)

    @staticmethod
    def query_of(query_string: bytes) -> str | None:
        """The query of a query string that holds a query and nothing else, or None."""
        if not query_string.startswith(b"query=") or b"&" in query_string or b";" in query_string:
            return None
        try:
            params = parse_params(query_string.decode("latin-1"))
        except ValueError:
            return None
        values = params.get("query")
        return values[0] if len(params) == 1 and values and len(values) == 1 and values[0] else None


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def decode(body: bytes) -> str | None:
    """A direct POST's query, or None where the route must say what is wrong with it."""
    try:
        return body.decode("utf-8") or None
    except UnicodeDecodeError:
        return None


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then hands over to the connection's own ``receive``
    (which tells of the client leaving)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
