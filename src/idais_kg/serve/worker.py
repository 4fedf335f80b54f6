"""What a query worker process does: evaluate one ad-hoc query and serialise its answer, at most a row cap of it.

The worker and the server speak in frames on the worker's stdin and stdout: a 4-byte big-endian length, then the
payload. The server sends the dataset (N-Quads) once, then one job at a time as JSON; the worker answers ``ready``
once, then one answer per job: a status byte (``o`` complete, ``t`` truncated at the row cap, ``e`` a message for
the user) followed by the body the client will receive, already serialised by the engine. Nothing is pickled: the
server never unpickles what a process that ran untrusted queries sent it.

Before it reads anything, the worker denies itself the network (see ``sandbox``); once the dataset is loaded it
bounds its own memory. A worker that cannot be sandboxed answers its dataset with ``e`` and a reason instead of
``ready``; one whose query ran into a Python MemoryError answers ``m`` and exits (Rust's allocator aborts the
process by itself).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import threading
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import IO, Any

import pyoxigraph as ox

from idais_kg.errors import QueryError
from idais_kg.results import term_json
from idais_kg.serve.sandbox import SandboxUnavailable, bound_memory, deny_network
from idais_kg.store import Store, serialize_plain

HEADER = struct.Struct(">I")
JOB_STACK = 256 * 1024 * 1024
READY = b"ready"
OK, TRUNCATED, ERROR = b"o", b"t", b"e"
MEMORY = b"m"  # the whole answer when a query needed more memory than the worker's bound
# The fewest bytes one row (or triple) can take in each format: a complete answer shorter than
# MIN_ROW_BYTES * row_cap therefore holds at most row_cap rows, and the engine's own bytes can be sent as they are.
MIN_ROW_BYTES = {ox.QueryResultsFormat.JSON: 2, ox.QueryResultsFormat.XML: 17}
MIN_ROW_BYTES |= {ox.QueryResultsFormat.CSV: 2, ox.QueryResultsFormat.TSV: 1}


@dataclass(frozen=True)
class Job:
    """One ad-hoc query, with its dataset and the media type wanted (chosen before evaluation)."""

    query: str
    media_type: str
    row_cap: int
    default_graph: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    query_dataset: bool = False
    base_iri: str | None = None  # the service's base IRI, against which relative IRIs resolve

    def encode(self) -> bytes:
        """The job as JSON, to send to a worker process."""
        fields = {f.name: getattr(self, f.name) for f in dataclass_fields(self)}
        return json.dumps(fields, ensure_ascii=False).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> Job:
        """The job that :meth:`encode` wrote (JSON lists back to tuples)."""
        fields: dict[str, Any] = json.loads(data)
        for name in ("default_graph", "named_graphs"):
            if fields[name] is not None:
                fields[name] = tuple(fields[name])
        return cls(**fields)


@dataclass(frozen=True)
class Answer:
    """A worker's answer to one Job: the serialised result and whether the row cap cut it, or a message
    for the user when the query failed.
    """

    body: bytes = b""
    media_type: str = ""
    truncated: bool = False
    error: str | None = None  # a message for the user (a 400), never a traceback

    def encode(self) -> bytes:
        """One status byte (ok, truncated or error) then the body or the message, for the server."""
        if self.error is not None:
            return ERROR + self.error.encode("utf-8")
        return (TRUNCATED if self.truncated else OK) + self.body

    @classmethod
    def decode(cls, data: bytes, media_type: str) -> Answer:
        """The answer that :meth:`encode` wrote, with the media type the job asked for."""
        status, body = data[:1], data[1:]
        if status == ERROR:
            return cls(error=body.decode("utf-8", "replace"))
        return cls(body, media_type, status == TRUNCATED)


class Bounded:
    """A write-only buffer that refuses to grow past ``limit`` bytes (the engine stops serialising there)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        """Keep ``data``, or raise BufferError once the whole would pass the limit."""
        self.size += len(data)
        if self.size > self.limit:
            raise BufferError("answer longer than the fast path allows")
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """A no-op, for the file-like interface that the engine serialises into."""
        pass

    def getvalue(self) -> bytes:
        """Everything written so far."""
        return b"".join(self.parts)


def native(result: Any, limit: int, **options: Any) -> bytes | None:
    """The engine's own serialisation of a result, or None once it would pass ``limit`` bytes."""
    out = Bounded(limit)
    try:
        result.serialize(out, **options)
    except (BufferError, OSError, ValueError):
        if out.size > out.limit:
            return None
        raise
    return out.getvalue()


def evaluate(store: Store, job: Job) -> Answer:
    """Run one job and serialise its result, at most ``row_cap`` rows or triples of it.

    A small table (most of them) is serialised by the engine in one go. When one may exceed the row cap, the
    query runs again and its rows are taken one by one up to the cap (the engine evaluates lazily, so a huge
    result costs no more than the cap). Triples are always taken one by one: only ``ox.serialize`` writes our
    prefixes.
    """
    from idais_kg.serve.negotiation import RDF_FORMATS, RESULT_FORMATS

    def run() -> Any:
        return store.query(
            job.query,
            default_graph=list(job.default_graph) if job.default_graph is not None else None,
            named_graphs=list(job.named_graphs) if job.named_graphs is not None else None,
            query_dataset=job.query_dataset,
            base_iri=job.base_iri,
        )

    try:
        result = run()
        if isinstance(result, ox.QueryBoolean):
            return Answer(result.serialize(format=RESULT_FORMATS[job.media_type]) or b"", job.media_type)
        if isinstance(result, ox.QuerySolutions):
            fmt = RESULT_FORMATS[job.media_type]
            whole = native(result, MIN_ROW_BYTES[fmt] * job.row_cap - 1, format=fmt)
            if whole is not None:
                return Answer(whole, job.media_type)
            return capped_solutions(run(), job)
        from idais_kg.namespaces import PREFIXES

        triples: list[ox.Triple] = []
        for triple in result:
            if len(triples) == job.row_cap:
                break
            triples.append(triple)
        truncated = len(triples) == job.row_cap and next(iter(result), None) is not None
        data = serialize_plain(triples, RDF_FORMATS[job.media_type], dict(PREFIXES))  # (no escaped names)
        return Answer(data, job.media_type, truncated)
    except QueryError as exc:
        return Answer(error=brief(str(exc)))
    except (SyntaxError, ValueError, OSError, TypeError, KeyError, RuntimeError) as exc:
        return Answer(error=f"SPARQL evaluation failed: {brief(str(exc))}")


def capped_solutions(result: ox.QuerySolutions, job: Job) -> Answer:
    """The first ``row_cap`` rows of a SELECT, in the wanted format, and whether more were left."""
    from idais_kg.serve.negotiation import RESULT_FORMATS

    names = [v.value for v in result.variables]
    rows: list[dict[str, dict[str, str]]] = []
    for solution in result:
        if len(rows) == job.row_cap:
            break
        rows.append({n: term_json(solution[n]) for n in names if solution[n] is not None})
    truncated = len(rows) == job.row_cap and next(iter(result), None) is not None
    doc = json.dumps({"head": {"vars": names}, "results": {"bindings": rows}}, ensure_ascii=False).encode()
    fmt = RESULT_FORMATS[job.media_type]
    if fmt != ox.QueryResultsFormat.JSON:
        doc = ox.parse_query_results(doc, format=ox.QueryResultsFormat.JSON).serialize(format=fmt) or b""
    return Answer(doc, job.media_type, truncated)


def brief(message: str, limit: int = 240) -> str:
    """The engine's message cut to its first line (its list of expected tokens can run to a page).

    >>> brief("error at 1:6: expected one of a, b\\n| c")
    'error at 1:6: expected one of a, b …'
    """
    first, _, rest = message.partition("\n")
    cut = first[:limit]
    return cut + (" …" if rest or len(first) > limit else "")


def frame(payload: bytes) -> bytes:
    """One message on the wire.

    >>> frame(b"ok")
    b'\\x00\\x00\\x00\\x02ok'
    """
    return HEADER.pack(len(payload)) + payload


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next message from a blocking stream, or None at its end."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the file descriptor ``fd``, however many writes it takes."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def worker_arguments(argv: list[str]) -> argparse.Namespace:
    """What the server tells a worker on its command line: its memory bound, and whether to sandbox it."""
    parser = argparse.ArgumentParser(prog="idais-kg query worker")
    parser.add_argument(
        "--memory", type=int, required=True, help="bytes a query may add to the loaded dataset"
    )
    parser.add_argument("--no-sandbox", dest="sandbox", action="store_false")
    return parser.parse_args(argv)


def worker_main(argv: list[str] | None = None) -> None:
    """The body of a worker process: read the dataset once from stdin, then answer jobs until stdin closes.

    Anything printed goes to stderr, so that it cannot corrupt the channel on stdout.
    """
    options = worker_arguments(sys.argv[1:] if argv is None else argv)
    # The engine recurses once per operator of an expression (``1+1+…``: 16,000 levels fit in 32 KB of query)
    # and overflows the 8 MiB main-thread stack at about 6,000, killing the process. Jobs run on a thread with
    # a stack large enough for the longest query the guard lets through; it is only reserved, not used.
    threading.stack_size(JOB_STACK)
    runner = threading.Thread(target=serve_jobs, args=(options,), name="jobs")
    runner.start()
    runner.join()


def serve_jobs(options: argparse.Namespace) -> None:
    """The worker's loop, on the big-stack thread: sandbox, dataset, memory bound, then one job at a time."""
    if hasattr(os, "sched_setscheduler"):  # Linux: a woken worker does not preempt the server that woke it
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    inbox = os.fdopen(os.dup(0), "rb")
    outbox = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if options.sandbox:
        try:
            deny_network()
        except SandboxUnavailable as exc:
            write_all(outbox, frame(ERROR + str(exc).encode("utf-8")))
            return
    data = read_frame(inbox)
    if data is None:
        return
    store = Store()
    store.load_nquads(data)
    del data
    bound_memory(options.memory)
    write_all(outbox, frame(READY))
    while (payload := read_frame(inbox)) is not None:
        try:
            answer = evaluate(store, Job.decode(payload)).encode()
        except MemoryError:
            write_all(outbox, frame(MEMORY))
            return
        write_all(outbox, frame(answer))
