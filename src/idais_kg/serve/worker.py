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
import itertools
import json
import os
import re
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import IO, Any

import pyoxigraph as ox

from idais_kg.errors import QueryError
from idais_kg.serve.sandbox import SandboxUnavailable, bound_memory, deny_network
from idais_kg.store import PLAIN_LOCAL, Store

HEADER = struct.Struct(">I")
JOB_STACK = 256 * 1024 * 1024
READY = b"ready"
OK, TRUNCATED, ERROR = b"o", b"t", b"e"
MEMORY = b"m"  # the whole answer when a query needed more memory than the worker's bound
# What marks a row where the engine writes each results format, and how many marks more than rows there are: a
# JSON row after the first starts ``,{`` (nowhere else outside a string), an XML row ``<result>`` (``<`` is escaped
# in text), a CSV or TSV row ends in a newline, as the header does. A mark inside a value (a literal holding
# ``,{``, a CSV string holding a newline) only makes the count larger, so a count within the cap proves that the
# rows are, and the engine's own bytes can be sent as they are, from one evaluation.
ROW_MARKS = {ox.QueryResultsFormat.JSON: (b",{", -1), ox.QueryResultsFormat.XML: (b"<result>", 0)}
ROW_MARKS |= {ox.QueryResultsFormat.CSV: (b"\n", 1), ox.QueryResultsFormat.TSV: (b"\n", 1)}


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


class Rows:
    """A write-only buffer that counts a format's row marks (``ROW_MARKS``) and refuses more than ``limit``."""

    def __init__(self, mark: bytes, limit: int) -> None:
        self.mark = mark
        self.limit = limit
        self.count = 0
        self.tail = b""  # the last bytes written, where a mark may begin that the next write ends
        self.parts: list[bytes] = []
        self.over = False

    def write(self, data: bytes) -> int:
        """Keep ``data``, or raise BufferError once the marks pass the limit."""
        data = bytes(data)
        self.count += (self.tail + data).count(self.mark)
        self.tail = data[len(data) - len(self.mark) + 1 :] if len(self.mark) > 1 else b""
        if self.count > self.limit:
            self.over = True
            raise BufferError("more rows than the row cap")
        self.parts.append(data)
        return len(data)

    def flush(self) -> None:
        """A no-op, for the file-like interface that the engine serialises into."""
        pass

    def getvalue(self) -> bytes:
        """Everything written so far."""
        return b"".join(self.parts)


class Lines:
    """A write-only buffer that keeps whole lines up to ``limit`` of them, then refuses more (BufferError).

    A TSV answer has one line per row after its header, and no newline inside a row (TSV escapes them), so
    counting lines counts rows exactly, as the engine writes them.
    """

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.parts: list[bytes] = []
        self.full = False

    def write(self, data: bytes) -> int:
        """Keep ``data``, up to the limit's last newline; past it, BufferError."""
        count = data.count(b"\n")
        if count < self.left:
            self.left -= count
            self.parts.append(bytes(data))
            return len(data)
        end = -1
        for _ in range(self.left):
            end = data.index(b"\n", end + 1)
        self.parts.append(bytes(data[: end + 1]))
        self.left, self.full = 0, True
        raise BufferError("the row cap is reached")

    def flush(self) -> None:
        """A no-op, for the file-like interface that the engine serialises into."""
        pass

    def getvalue(self) -> bytes:
        """The lines kept."""
        return b"".join(self.parts)


def within_cap(result: Any, fmt: ox.QueryResultsFormat, row_cap: int) -> bytes | None:
    """The engine's own serialisation of a table, or None once it may hold more than ``row_cap`` rows."""
    mark, extra = ROW_MARKS[fmt]
    out = Rows(mark, row_cap + extra)
    try:
        result.serialize(out, format=fmt)
    except (BufferError, OSError, ValueError):  # the engine may hand our BufferError back as another
        if out.over:
            return None
        raise
    return out.getvalue()


def evaluate(store: Store, job: Job) -> Answer:
    """Run one job and serialise its result, at most ``row_cap`` rows or triples of it.

    A table is serialised by the engine in one go while its row marks show it within the cap (see
    ``ROW_MARKS``); past that, the query runs again to be cut at the cap (``capped_solutions``; the engine
    evaluates lazily, so a huge result costs no more than the cap). Triples are taken up to the cap by
    ``islice`` and written by the engine (``graph_answer``). No Python loop goes over the rows.
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
            whole = within_cap(result, fmt, job.row_cap)
            if whole is not None:
                return Answer(whole, job.media_type)
            return capped_solutions(run, job)
        from idais_kg.namespaces import PREFIXES

        triples: list[ox.Triple] = list(itertools.islice(result, job.row_cap + 1))  # (taken by C, not a loop)
        truncated = len(triples) > job.row_cap
        del triples[job.row_cap :]
        data = graph_answer(triples, RDF_FORMATS[job.media_type], dict(PREFIXES))
        return Answer(data, job.media_type, truncated)
    except QueryError as exc:
        return Answer(error=brief(str(exc)))
    except (SyntaxError, ValueError, OSError, TypeError, KeyError, RuntimeError) as exc:
        return Answer(error=f"SPARQL evaluation failed: {brief(str(exc))}")


def graph_answer(triples: list[ox.Triple], fmt: ox.RdfFormat, prefixes: dict[str, str]) -> bytes:
    """Triples as the engine writes them with our prefixes, never with an escaped local name (``ed:a\\/b``).

    In Turtle and TriG the answer declares only the prefixes it uses, and none under which one of its IRIs would
    need an escape (such IRIs are written in full): the engine takes a prefix for an IRI by the longest namespace,
    so the prefixes are chosen by that rule first (:func:`prefixes_for`), and the engine writes the answer once.
    Every prefix more costs the engine's writer time for every IRI (34 of them made a 56-triple answer six times
    slower to write), and a reader nothing but lines to skip.
    """
    if fmt not in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):
        return ox.serialize(triples, format=fmt, prefixes=prefixes) or b""
    # The answer's IRIs, to choose prefixes by, as the engine's N-Triples show them: every IRI is found (none holds
    # ``<`` or ``>``); a string holding ``<…>`` can only add a name that abbreviates nothing, or make a prefix look
    # unsafe, and then IRIs are written in full.
    lines = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    iris = {iri.decode("utf-8", "replace") for iri in set(IRI_IN_LINES.findall(lines))}
    return ox.serialize(triples, format=fmt, prefixes=prefixes_for(iris, prefixes)) or b""


def prefixes_for(iris: set[str], prefixes: dict[str, str]) -> dict[str, str]:
    """The prefixes that abbreviate some of ``iris`` into a plain local name, where none abbreviates another
    of them into an escaped one (under the engine's rule: an IRI takes the longest namespace it starts with).

    >>> ns = {"a": "http://e/", "b": "http://e/x/", "c": "http://f/"}
    >>> prefixes_for({"http://e/x/y", "http://e/z"}, ns)
    {'a': 'http://e/', 'b': 'http://e/x/'}
    >>> prefixes_for({"http://e/x/y/z", "http://e/w"}, ns)  # (b gives y/z; then a gives x/y/z)
    {}
    """
    names = {ns: name for name, ns in prefixes.items()}  # (one name per namespace, as the engine keeps them)
    known = ABBREVIATIONS.setdefault(tuple(names.items()), {})
    if len(known) > 65_536:  # (answers to ad-hoc CONSTRUCTs can name any IRI: bounded)
        known.clear()
    choices = []
    for iri in iris:
        found = known.get(iri)
        if found is None:
            matching = sorted((ns for ns in names if iri.startswith(ns)), key=len, reverse=True)
            found = known[iri] = tuple(
                (names[ns], PLAIN_LOCAL.fullmatch(iri[len(ns) :]) is not None) for ns in matching
            )
        if found:
            choices.append(found)
    kept = set(names.values())
    while True:
        used: set[str] = set()
        bad: set[str] = set()
        for found in choices:
            for name, plain in found:
                if name in kept:
                    (used if plain else bad).add(name)
                    break
        if not bad:
            return {name: prefixes[name] for name in sorted(used)}
        kept -= bad


IRI_IN_LINES = re.compile(rb"<([^<>]*)>")  # (every IRI of N-Triples: none holds < or >)
# For each prefix table, each IRI's prefixes, longest namespace first, each with whether the local name it leaves
# is plain: an answer's IRIs come back in the next answers.
ABBREVIATIONS: dict[tuple[tuple[str, str], ...], dict[str, tuple[tuple[str, bool], ...]]] = {}


def capped_solutions(run: Callable[[], Any], job: Job) -> Answer:
    """The first ``row_cap`` rows of a SELECT too long for the one-pass bound, in the wanted format, and whether
    more were left; every byte of it written by the engine.

    The query runs again, written as TSV and counted line by line up to one row past the cap (the engine
    evaluates lazily: a huge result costs no more than the cap). Within the cap it runs once more in the wanted
    format; past it, the TSV cut at the cap is read back by the engine and written in the wanted format.
    """
    from idais_kg.serve.negotiation import RESULT_FORMATS

    fmt = RESULT_FORMATS[job.media_type]
    lines = Lines(job.row_cap + 2)  # the header, the cap, and one row more
    try:
        run().serialize(lines, format=ox.QueryResultsFormat.TSV)
    except (BufferError, OSError, ValueError):  # the engine may hand our BufferError back as another
        if not lines.full:
            raise
    if not lines.full:
        whole = lines.getvalue() if fmt == ox.QueryResultsFormat.TSV else run().serialize(format=fmt)
        return Answer(whole or b"", job.media_type)
    cut = lines.getvalue()
    cut = cut[: cut.rfind(b"\n", 0, len(cut) - 1) + 1]  # the header and row_cap rows: the extra row goes
    if fmt != ox.QueryResultsFormat.TSV:
        cut = ox.parse_query_results(cut, format=ox.QueryResultsFormat.TSV).serialize(format=fmt) or b""
    return Answer(cut, job.media_type, True)


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
