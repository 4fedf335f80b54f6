"""The server's settings: one frozen value handed to the app factory (nothing is read from the environment)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """How the server listens, and the bounds it puts on ad-hoc queries."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 4  # query worker processes for ad-hoc SPARQL
    deadline: float = 10.0  # seconds an ad-hoc query may run before its worker is killed
    queue_wait: float = 5.0  # seconds a request waits for a free worker before a 503
    row_cap: int = 10_000  # rows (SELECT) or triples (CONSTRUCT/DESCRIBE) returned at most
    max_query_bytes: int = 32_768
    max_depth: int = 40  # nesting of { ( [ in an ad-hoc query
    cache_entries: int = 1024
    cache_bytes: int = 256 * 1024 * 1024  # per cache (finished responses, and the front cache's replays)
    retry_after: int = 5  # seconds, sent with 503 responses
    dumps_dir: Path | None = None  # default: the project's build/dumps
    store_dir: Path | None = None  # the persistent partner store; default build/store, served when it exists
    access_log: bool = False  # a line per request on stderr (costs about a tenth of the throughput)
