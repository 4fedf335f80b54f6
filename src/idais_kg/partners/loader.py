"""Loading N-Triples into an on-disk (RocksDB) store on every core.

pyoxigraph's bulk loader is the fastest way in, but one call runs on about one core (1M triples: 19 s, 17 s of it
user time). It releases the GIL, and calls on the same store may run side by side (each writes its own SST files,
which RocksDB ingests one at a time), so the text is cut at line ends into one part per core (1M triples, two
cores: 9.5 s). One catch: the loader gives each call's blank nodes fresh identifiers, so every line that mentions
a blank node goes into the same part, whatever its size.
"""

from __future__ import annotations

import os
import threading

import pyoxigraph as ox


def parts(data: bytes, count: int) -> list[bytes]:
    """N-Triples cut into at most ``count`` parts at line ends, all lines with a blank node in the first part.

    >>> parts(b"<a> <b> <c> .\\n_:x <b> <c> .\\n<d> <b> _:x .\\n<e> <b> <c> .\\n", 2)
    [b'_:x <b> <c> .\\n<d> <b> _:x .\\n', b'<a> <b> <c> .\\n<e> <b> <c> .\\n']
    """
    if b"_:" in data:
        lines = data.splitlines(keepends=True)
        blank = b"".join(line for line in lines if b"_:" in line)
        rest = b"".join(line for line in lines if b"_:" not in line)
        return [p for p in (blank, *parts(rest, count - 1)) if p] if count > 1 else [data]
    out, start = [], 0
    for i in range(1, count + 1):
        newline = data.find(b"\n", max(start, len(data) * i // count)) if i < count else -1
        end = len(data) if newline < 0 else newline + 1
        if end > start:
            out.append(data[start:end])
        start = end
    return out


def load_ntriples(store: ox.Store, data: bytes, graph: ox.NamedNode, threads: int | None = None) -> None:
    """Load N-Triples (already parsed once elsewhere, so known to be valid) into ``graph``, a part per thread.

    Not atomic, like the bulk loader itself: use it on a staging copy. The first error of any part is raised
    after every part has ended.
    """
    errors: list[BaseException] = []

    def load(part: bytes) -> None:
        try:
            store.bulk_load(part, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    workers = [
        threading.Thread(target=load, args=(part,), name=f"bulk-load-{i}")
        for i, part in enumerate(parts(data, threads or os.cpu_count() or 1))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
