"""The front cache: a repeated GET or HEAD is answered with the bytes of the first answer, before any routing.

The dataset does not change while the server runs, so a response that a route produced through
``responses.cached`` (and marked with :data:`CACHEABLE`) is a function of the request line and of the few headers
that can change it: ``Accept`` (negotiation), ``Host`` (the service description names its endpoint), whether
there is an ``Origin`` (CORS headers), and the reader's language (``i18n.Language`` chose it from ``?lang``, the
cookie or ``Accept-Language``, and took ``lang`` out of the query string). This layer keys on exactly those and replays the status, headers and body
the app sent, so a page, a resource or a saved query costs a dictionary lookup the second time. A conditional
request (``If-None-Match``) goes through to the app, which answers 304 from its own cache. The security headers
are added outside this layer (``responses.SecurityHeaders``), so a replay carries them as a first answer does.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idais_kg.serve.i18n import DEFAULT, SCOPE_KEY

CACHEABLE = "idais_kg.cacheable"  # set in the ASGI scope by a route whose 200 answer may be replayed


@dataclass(frozen=True)
class Replay:
    """One answer as the app sent it: its ``http.response.start`` message and its whole body."""

    start: Message
    body: bytes

    @property
    def size(self) -> int:
        """What the answer counts for against the store's bound: its body, and a rough 64 bytes a header."""
        return len(self.body) + 64 * len(self.start["headers"])


class ReplayStore:
    """Finished responses by request key, least recently used first out, bounded in entries and in bytes."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple[bytes, ...], Replay] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[bytes, ...]) -> Replay | None:
        """The answer kept under ``key`` (now the most recently used), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def clear(self) -> None:
        """Forget every answer (the dataset they came from is no longer the one served)."""
        with self._lock:
            self._items.clear()
            self.size = 0

    def put(self, key: tuple[bytes, ...], item: Replay) -> None:
        """Keep ``item`` (not if over ``max_bytes / 8``), evicting the least recently used to fit."""
        if self.entries <= 0 or item.size > self.max_bytes // 8:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self.size += item.size - (old.size if old else 0)
            self._items[key] = item
            while self._items and (len(self._items) > self.entries or self.size > self.max_bytes):
                _, dropped = self._items.popitem(last=False)
                self.size -= dropped.size


def request_key(scope: Scope) -> tuple[bytes, ...] | None:
    """What a replayable answer depends on, or None for a request that must reach the app."""
    method = scope["method"]
    if method not in ("GET", "HEAD"):
        return None
    accept = host = b""
    origin = b"0"
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = accept + b"," + value if accept else value
        elif name == b"host":
            host = value
        elif name == b"origin":
            origin = b"1"
        elif name == b"if-none-match":
            return None
    path = scope.get("raw_path") or scope["path"].encode("utf-8")
    lang = str(scope.get(SCOPE_KEY, DEFAULT)).encode()
    return (method.encode(), path, scope.get("query_string", b""), accept, host, origin, lang)


class FrontCache:
    """ASGI middleware: replay a stored answer, or pass the request on and keep its answer if marked cacheable."""

    def __init__(self, app: ASGIApp, store: ReplayStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an HTTP request from the store, or pass it to the app and keep a copy of the answer."""
        key = request_key(scope) if scope["type"] == "http" else None
        if key is None:
            await self.app(scope, receive, send)
            return
        hit = self.store.get(key)
        if hit is not None:
            await send(hit.start)
            await send({"type": "http.response.body", "body": hit.body, "more_body": False})
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        if start is not None and start["status"] == 200 and scope.get(CACHEABLE):
            self.store.put(key, Replay(dict(start), b"".join(chunks)))
