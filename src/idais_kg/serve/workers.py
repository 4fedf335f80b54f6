"""Worker supervision: ad-hoc queries run in a pool of processes that can be killed.

pyoxigraph cannot cancel a running query and can crash its process, so each ad-hoc query is evaluated in a worker
process that loaded the dataset once (from an N-Quads serialisation handed over at start). A worker that overruns
the deadline is killed; one that dies is noticed; either way a fresh one takes its place, and the server process
itself never evaluates an ad-hoc query.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from idais_kg.errors import QueryError
from idais_kg.results import term_json
from idais_kg.store import Store

log = logging.getLogger(__name__)
START_TIMEOUT = 60.0
WORKER_COMMAND = "from idais_kg.serve.workers import worker_main; worker_main()"


class PoolError(RuntimeError):
    """An ad-hoc query that got no answer from the pool (the server answers 503)."""


class DeadlineExceeded(PoolError):
    pass


class WorkerDied(PoolError):
    pass


class Overloaded(PoolError):
    pass


@dataclass(frozen=True)
class Job:
    """One ad-hoc query, with its dataset and the media type wanted (chosen before evaluation)."""

    query: str
    media_type: str
    row_cap: int
    default_graph: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    query_dataset: bool = False


@dataclass(frozen=True)
class Answer:
    body: bytes = b""
    media_type: str = ""
    truncated: bool = False
    error: str | None = None  # a message for the user (a 400), never a traceback


def evaluate(store: Store, job: Job) -> Answer:
    """Run one job in a worker and serialise its result, at most ``row_cap`` rows or triples of it."""
    from idais_kg.serve.negotiation import RDF_FORMATS, RESULT_FORMATS

    try:
        result = store.query(
            job.query,
            default_graph=list(job.default_graph) if job.default_graph is not None else None,
            named_graphs=list(job.named_graphs) if job.named_graphs is not None else None,
            query_dataset=job.query_dataset,
        )
        if isinstance(result, ox.QueryBoolean):
            return Answer(result.serialize(format=RESULT_FORMATS[job.media_type]) or b"", job.media_type)
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            rows: list[dict[str, dict[str, str]]] = []
            for solution in result:
                if len(rows) == job.row_cap:
                    break
                rows.append({n: term_json(solution[n]) for n in names if solution[n] is not None})
            truncated = len(rows) == job.row_cap and next(iter(result), None) is not None
            doc = json.dumps(
                {"head": {"vars": names}, "results": {"bindings": rows}}, ensure_ascii=False
            ).encode()
            fmt = RESULT_FORMATS[job.media_type]
            if fmt != ox.QueryResultsFormat.JSON:
                doc = (
                    ox.parse_query_results(doc, format=ox.QueryResultsFormat.JSON).serialize(format=fmt)
                    or b""
                )
            return Answer(doc, job.media_type, truncated)
        triples: list[ox.Triple] = []
        for triple in result:
            if len(triples) == job.row_cap:
                break
            triples.append(triple)
        truncated = len(triples) == job.row_cap and next(iter(result), None) is not None
        from idais_kg.namespaces import PREFIXES

        data = ox.serialize(triples, format=RDF_FORMATS[job.media_type], prefixes=dict(PREFIXES)) or b""
        return Answer(data, job.media_type, truncated)
    except QueryError as exc:
        return Answer(error=brief(str(exc)))
    except (SyntaxError, ValueError, OSError, TypeError, KeyError) as exc:
        return Answer(error=f"SPARQL evaluation failed: {exc}")


def brief(message: str, limit: int = 240) -> str:
    """The engine's message cut to its first line (its list of expected tokens can run to a page).

    >>> brief("error at 1:6: expected one of a, b\\n| c")
    'error at 1:6: expected one of a, b …'
    """
    first, _, rest = message.partition("\n")
    cut = first[:limit]
    return cut + (" …" if rest or len(first) > limit else "")


def worker_main() -> None:
    """The body of a worker process: read the dataset once from stdin, then answer jobs until stdin closes.

    Jobs arrive and answers leave as pickled messages on stdin/stdout (the worker is our own child process);
    anything printed goes to stderr so that it cannot corrupt the channel.
    """
    inbox, outbox = Connection(os.dup(0), writable=False), Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    store = Store()
    store.load_nquads(inbox.recv_bytes())
    outbox.send("ready")
    while True:
        try:
            job = inbox.recv()
        except (EOFError, OSError):
            return
        outbox.send(evaluate(store, job))


class Worker:
    """One worker process (a fresh interpreter running ``worker_main``) and the pipes to it; one request at a time."""

    def __init__(self, nquads: bytes) -> None:
        self.nquads = nquads
        self.process: subprocess.Popen[bytes] | None = None
        self.outbox: Connection | None = None
        self.inbox: Connection | None = None
        self.start()

    def start(self) -> None:
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER_COMMAND], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert process.stdin is not None and process.stdout is not None  # both were asked for
        outbox = Connection(os.dup(process.stdin.fileno()), readable=False)
        inbox = Connection(os.dup(process.stdout.fileno()), writable=False)
        process.stdin.close()
        process.stdout.close()
        try:
            outbox.send_bytes(self.nquads)
            if not inbox.poll(START_TIMEOUT) or inbox.recv() != "ready":
                raise WorkerDied("a query worker did not start")
        except (EOFError, OSError) as exc:
            process.kill()
            process.wait()
            raise WorkerDied("a query worker did not start") from exc
        self.process, self.outbox, self.inbox = process, outbox, inbox

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def call(self, job: Job, deadline: float) -> Answer:
        """Send a job and wait at most ``deadline`` seconds; kill the process on overrun or death."""
        if self.outbox is None or self.inbox is None:
            raise WorkerDied("the query worker is not running")
        try:
            self.outbox.send(job)
            if self.inbox.poll(deadline):
                answer: Answer = self.inbox.recv()
                return answer
        except (EOFError, OSError) as exc:
            self.stop()
            raise WorkerDied("the query worker died while evaluating the query") from exc
        self.stop()
        raise DeadlineExceeded(f"the query ran longer than the deadline of {deadline:g} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(5)
        for conn in (self.outbox, self.inbox):
            if conn is not None:
                conn.close()
        self.process, self.outbox, self.inbox = None, None, None

    @property
    def healthy(self) -> bool:
        return self.process is not None and self.process.poll() is None


class WorkerPool:
    """A fixed number of workers; a request borrows one, and a broken one is replaced in the background."""

    def __init__(self, nquads: bytes, size: int, deadline: float, queue_wait: float) -> None:
        self.nquads = nquads
        self.size = size
        self.deadline = deadline
        self.queue_wait = queue_wait
        self.idle: asyncio.Queue[Worker] = asyncio.Queue()
        self.workers: list[Worker] = []
        self.restarts = 0
        self._lock = threading.Lock()

    async def start(self) -> None:
        started = await asyncio.gather(*(asyncio.to_thread(Worker, self.nquads) for _ in range(self.size)))
        for worker in started:
            self.workers.append(worker)
            self.idle.put_nowait(worker)

    async def close(self) -> None:
        for worker in self.workers:
            await asyncio.to_thread(worker.stop)

    async def run(self, job: Job) -> Answer:
        try:
            worker = await asyncio.wait_for(self.idle.get(), self.queue_wait)
        except TimeoutError:
            raise Overloaded("every query worker is busy") from None
        try:
            if not worker.healthy:
                await self._restart(worker)
            return await asyncio.to_thread(worker.call, job, self.deadline)
        except PoolError:
            asyncio.get_running_loop().create_task(self._restart_and_return(worker))
            worker = None  # type: ignore[assignment]
            raise
        finally:
            if worker is not None:
                self.idle.put_nowait(worker)

    async def _restart(self, worker: Worker) -> None:
        await asyncio.to_thread(worker.stop)
        await asyncio.to_thread(worker.start)
        with self._lock:
            self.restarts += 1
        log.warning("restarted query worker (now pid %s)", worker.pid)

    async def _restart_and_return(self, worker: Worker) -> None:
        try:
            await self._restart(worker)
        finally:
            self.idle.put_nowait(worker)

    def stats(self) -> dict[str, Any]:
        return {"workers": self.size, "idle": self.idle.qsize(), "restarts": self.restarts}
