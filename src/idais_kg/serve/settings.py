"""The server's settings: one frozen value handed to the app factory (nothing is read from the environment)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20


@dataclass(frozen=True)
class Settings:
    """How the server listens, and the bounds it puts on ad-hoc queries."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 4  # query worker processes (pre-forked: how many serve connections at all times)
    deadline: float = 10.0  # seconds an ad-hoc query may run before its worker is killed
    queue_wait: float = 5.0  # seconds a request waits for a free worker before a 503
    row_cap: int = 10_000  # rows (SELECT) or triples (CONSTRUCT/DESCRIBE) returned at most
    max_query_bytes: int = 32_768
    max_depth: int = 40  # nesting of { ( [ in an ad-hoc query
    cache_entries: int = 1024
    cache_bytes: int = 256 * 1024 * 1024  # per cache (finished responses, and the front cache's replays)
    retry_after: int = 5  # seconds, sent with 503 responses
    sandbox: bool = True  # deny the query workers the network (seccomp); off only by an explicit --no-sandbox
    worker_memory: int = (
        1024 * MiB
    )  # bytes a query worker may add to what it holds once the dataset is loaded
    kill_limit: int = 5  # worker kills (deadline, memory, crash) one client may cause per kill_window ...
    kill_window: float = (
        60.0  # ... seconds; past that its ad-hoc queries are answered 429 until the oldest ages out
    )
    dumps_dir: Path | None = None  # default: the project's build/dumps
    store_dir: Path | None = None  # the persistent partner store; default build/store, served when it exists
    access_log: bool = False  # a line per request on stderr (costs about a tenth of the throughput)
    # "prefork": worker processes that each accept HTTP and evaluate their requests' queries in-process (see
    # serve/prefork.py); "pool": one server process that hands each ad-hoc query to a query process over a pipe
    query_path: str = "prefork"
    max_workers: int = 48  # pre-forked workers in all, those finishing a long query or retiring included


def parse_size(text: str) -> int:
    """A size in bytes from ``512M``, ``2G``, ``1.5GiB`` or a plain number of bytes (binary multiples).

    >>> parse_size("512M"), parse_size("2GiB"), parse_size("1048576")
    (536870912, 2147483648, 1048576)
    >>> parse_size("lots")
    Traceback (most recent call last):
    ...
    ValueError: not a size: 'lots' (give bytes, or a number with K, M or G)
    """
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = units.get(cleaned[-1:], 1)
    try:
        value = float(cleaned[:-1] if unit > 1 else cleaned) * unit
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"not a size: {text!r} (give bytes, or a number with K, M or G)")
    if value < 1:
        raise ValueError(f"not a size: {text!r} (it must be positive)")
    return int(value)
