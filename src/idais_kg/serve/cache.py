"""Caching: one ETag per build of the dataset, and a bounded memory of finished responses.

The dataset does not change while the server runs, so a response is a function of the request alone: its ETag is
the build's hash combined with the request's key, and a repeated request is answered from memory.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field


def build_tag(nquads: bytes) -> str:
    """A hash of the dataset's content (its N-Quads lines, sorted so that the order of the store does not matter).

    >>> build_tag(b"<a> <b> <c> .\\n<d> <e> <f> .\\n") == build_tag(b"<d> <e> <f> .\\n<a> <b> <c> .\\n")
    True
    """
    lines = sorted(line for line in nquads.split(b"\n") if line.strip())
    return hashlib.sha256(b"\n".join(lines)).hexdigest()[:20]


def etag_for(build: str, key: str) -> str:
    """The (strong) ETag of one representation: the build's tag and a digest of the request key."""
    return '"' + build + "-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """True if an If-None-Match header names this ETag (or ``*``); weak tags compare equal to strong ones.

    >>> matches('W/"x-1", "y"', '"x-1"'), matches(None, '"x"'), matches('*', '"x"')
    (True, False, True)
    """
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


@dataclass
class Cached:
    """One finished response as the cache keeps it: body, media type, status and any extra headers."""

    body: bytes
    media_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class ResponseCache:
    """A least-recently-used map of request keys to finished responses, bounded in entries and in bytes.

    Bodies over ``max_body`` are not kept.
    """

    def __init__(
        self, entries: int, max_bytes: int = 256 * 1024 * 1024, max_body: int = 4 * 1024 * 1024
    ) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.max_body = min(max_body, max_bytes)
        self.size = 0
        self._items: OrderedDict[str, Cached] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Cached | None:
        """The response kept under ``key`` (now the most recently used), or None; counts hits and misses."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key: str, item: Cached) -> None:
        """Keep ``item`` (not if its body is over ``max_body``), evicting the least recently used to fit."""
        if self.entries <= 0 or len(item.body) > self.max_body:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self.size += len(item.body) - (len(old.body) if old else 0)
            self._items[key] = item
            while self._items and (len(self._items) > self.entries or self.size > self.max_bytes):
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped.body)
