"""Worker supervision: ad-hoc queries run in a pool of processes that can be killed.

pyoxigraph cannot cancel a running query and can crash its process, so each ad-hoc query is evaluated in a worker
process that loaded the dataset once (from an N-Quads serialisation handed over at start). A worker that overruns
the deadline is killed; one that dies is noticed; either way a fresh one takes its place, and the server process
itself never evaluates an ad-hoc query.

The server talks to its workers on the event loop itself (pipe transports, no thread per call): a job goes out as
one frame, the worker's already-serialised answer comes back as one frame, and the deadline is a timer on the
loop. See ``evaluation`` for the worker's side and the frames, and ``sandbox`` for what a worker may not do.

A worker's stderr passes through the server, which keeps its last lines: when a worker dies, they tell a query
that ran past the memory bound (Rust's allocator says so before it aborts) from any other crash. The kills each
client caused are counted (``kills``), and a client that keeps causing them is refused before it gets a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import subprocess
import sys
from typing import Any

from idais_kg.serve.kills import KillRecord
from idais_kg.serve.sandbox import build_filter
from idais_kg.serve.settings import MiB, Settings
from idais_kg.serve.worker import ERROR, HEADER, MEMORY, READY, Answer, Job, frame, write_all

__all__ = [
    "Answer",
    "DeadlineExceeded",
    "Job",
    "MemoryExceeded",
    "Overloaded",
    "PoolError",
    "RateLimited",
    "Worker",
    "WorkerDied",
    "WorkerPool",
]

log = logging.getLogger(__name__)
START_TIMEOUT = 60.0
WORKER_COMMAND = "from idais_kg.serve.worker import worker_main; worker_main()"
# A worker's last words when it died for want of memory: Rust's default allocation-error handler, and a Python
# MemoryError that reached the top or a PyO3 boundary (which then aborts on the null object it was left with).
OUT_OF_MEMORY = (b"memory allocation of ", b"MemoryError")
TAIL_BYTES = 4096


class PoolError(RuntimeError):
    """An ad-hoc query that got no answer from the pool: the server answers ``status``, with ``Retry-After``."""

    status = 503
    retry_after: int | None = None  # seconds; None for the server's usual


class DeadlineExceeded(PoolError):
    """A query that ran past the deadline (the server's, or a client's tighter one); its worker is killed."""

    pass


class WorkerDied(PoolError):
    """A worker that died or would not start; the query gets no answer and the worker is replaced."""

    pass


class Overloaded(PoolError):
    """Every worker stayed busy for the whole ``queue_wait``: the query was not started."""

    pass


class MemoryExceeded(PoolError):
    """The query needed more memory than a worker may use; the worker is gone and will be replaced."""

    def __init__(self, bound: int) -> None:
        super().__init__(
            f"the query needed more memory than the {bound / MiB:g} MiB a query may use, so it was stopped"
        )


class RateLimited(PoolError):
    """A client that caused too many worker kills lately; ``retry_after`` is in seconds (the server answers 429)."""

    status = 429

    def __init__(self, kills: KillRecord, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"queries from this address stopped {kills.limit} query workers in the last {kills.window:g} s "
            f"(by overrunning the deadline or the memory bound, or by crashing them); try again in {retry_after} s"
        )


class Frames(asyncio.Protocol):
    """The reading end of a worker's stdout: splits it into frames and hands each to the one waiting call."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[bytes] | None = None
        self.closed = False

    def expect(self) -> asyncio.Future[bytes]:
        self.waiter = asyncio.get_running_loop().create_future()
        if self.closed:
            self.waiter.set_exception(WorkerDied("the query worker is not running"))
        else:
            self._deliver()
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._deliver()

    def _deliver(self) -> None:
        if self.waiter is None or self.waiter.done() or len(self.buffer) < HEADER.size:
            return
        (size,) = HEADER.unpack_from(self.buffer)
        if len(self.buffer) < HEADER.size + size:
            return
        payload = bytes(self.buffer[HEADER.size : HEADER.size + size])
        del self.buffer[: HEADER.size + size]
        self.waiter.set_result(payload)

    def eof_received(self) -> bool | None:
        self.connection_lost(None)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(WorkerDied("the query worker died while evaluating the query"))


class Stderr(asyncio.Protocol):
    """The reading end of a worker's stderr: passed on to the server's stderr, its last bytes kept."""

    def __init__(self) -> None:
        self.tail = b""
        self.closed = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # a server without a stderr still serves
            write_all(2, data)
        self.tail = (self.tail + data)[-TAIL_BYTES:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


class Worker:
    """One worker process (a fresh interpreter running ``worker_main``) and the pipes to it; one job at a time."""

    def __init__(self, nquads: bytes, sandboxed: bool = True, memory: int = Settings.worker_memory) -> None:
        self.nquads = nquads
        self.sandboxed = sandboxed
        self.memory = memory
        self.process: subprocess.Popen[bytes] | None = None
        self.frames: Frames | None = None
        self.stderr: Stderr | None = None
        self.reader: asyncio.ReadTransport | None = None
        self.writer: asyncio.WriteTransport | None = None
        self.errors: asyncio.ReadTransport | None = None

    async def start(self) -> None:
        """Start the process (off the loop: forking a large server takes a moment), hand it the dataset, await it."""
        command = [sys.executable, "-c", WORKER_COMMAND, "--memory", str(self.memory)]
        process = await asyncio.to_thread(
            subprocess.Popen,
            command if self.sandboxed else [*command, "--no-sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if not (process.stdin and process.stdout and process.stderr):  # (all three were asked for)
            raise WorkerDied("a query worker started without its pipes")
        loop = asyncio.get_running_loop()
        self.process = process
        self.reader, self.frames = await loop.connect_read_pipe(Frames, process.stdout)
        self.errors, self.stderr = await loop.connect_read_pipe(Stderr, process.stderr)
        self.writer, _ = await loop.connect_write_pipe(asyncio.Protocol, process.stdin)
        try:
            reply = await self._exchange(frame(self.nquads), START_TIMEOUT)
        except PoolError as exc:
            await self.stop()
            raise WorkerDied("a query worker did not start") from exc
        if reply != READY:
            await self.stop()
            reason = reply[1:].decode("utf-8", "replace") if reply[:1] == ERROR else "it did not answer ready"
            raise WorkerDied(f"a query worker did not start: {reason}")

    async def _exchange(self, message: bytes, timeout: float) -> bytes:
        if self.writer is None or self.frames is None or self.writer.is_closing():
            raise WorkerDied("the query worker is not running")
        reply = self.frames.expect()
        self.writer.write(message)
        overrun = DeadlineExceeded(f"the query ran longer than the deadline of {timeout:g} s")

        def expire() -> None:
            if not reply.done():
                reply.set_exception(overrun)

        timer = asyncio.get_running_loop().call_later(timeout, expire)
        try:
            return await reply
        finally:
            timer.cancel()

    @property
    def pid(self) -> int | None:
        """The process id of the running worker, or None when it is stopped."""
        return self.process.pid if self.process else None

    async def call(self, job: Job, deadline: float) -> Answer:
        """Send a job and wait at most ``deadline`` seconds; kill the process on overrun, death or memory."""
        try:
            reply = await self._exchange(frame(job.encode()), deadline)
            if reply == MEMORY:
                raise MemoryExceeded(self.memory)
            return Answer.decode(reply, job.media_type)
        except WorkerDied as exc:
            out_of_memory = await self._ran_out_of_memory()
            await self.stop()
            if out_of_memory:
                raise MemoryExceeded(self.memory) from exc
            raise
        except PoolError:
            await self.stop()
            raise

    async def _ran_out_of_memory(self) -> bool:
        """Whether the worker that just died did so for want of memory.

        Past the bound, Rust's allocator writes "memory allocation of N bytes failed" and aborts, and a Python
        MemoryError that escapes leaves its traceback; the kernel's OOM killer sends SIGKILL (the pool sends it
        only after this question is asked). Another crash (a stack overflow, say) is a plain death.
        """
        process, stderr = self.process, self.stderr
        if process is None:
            return False
        try:
            code = await asyncio.to_thread(process.wait, 2)
        except subprocess.TimeoutExpired:
            return False
        if stderr is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stderr.closed.wait(), 1)
        last_words = stderr.tail if stderr is not None else b""
        return code == -signal.SIGKILL or any(marker in last_words for marker in OUT_OF_MEMORY)

    async def stop(self) -> None:
        """Kill the process if it still runs, close its pipes and reap it; the worker may be started again."""
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
        for transport in (self.writer, self.reader, self.errors):
            if transport is not None:
                transport.close()
        if process is not None:
            await asyncio.to_thread(process.wait, 5)
        self.process, self.frames, self.stderr = None, None, None
        self.reader, self.writer, self.errors = None, None, None

    @property
    def healthy(self) -> bool:
        """True while the process runs and its stdout is open, so it can take a job."""
        return (
            self.process is not None
            and self.process.poll() is None
            and not (self.frames and self.frames.closed)
        )


class WorkerPool:
    """A fixed number of workers; a request borrows one, and a broken one is replaced in the background.

    ``sandbox`` (on unless turned off explicitly) denies the workers the network; the pool checks at once that it
    can, so that a machine without libseccomp is one clear error when the server is built, not a silent risk.
    ``memory`` is what a query may add to a worker once the dataset is loaded; ``kills`` counts the workers each
    client had killed.
    """

    def __init__(
        self,
        nquads: bytes,
        size: int,
        deadline: float,
        queue_wait: float,
        *,
        sandbox: bool = Settings.sandbox,
        memory: int = Settings.worker_memory,
        kills: KillRecord | None = None,
    ) -> None:
        if sandbox:
            build_filter()
        self.nquads = nquads
        self.size = size
        self.deadline = deadline
        self.queue_wait = queue_wait
        self.sandboxed = sandbox
        self.memory = memory
        self.kills = kills or KillRecord(Settings.kill_limit, Settings.kill_window)
        self.idle: asyncio.LifoQueue[Worker] = (
            asyncio.LifoQueue()
        )  # the most recently used worker is the hottest
        self.workers: list[Worker] = []
        self.restarts = 0
        self._background: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(cls, nquads: bytes, settings: Settings) -> WorkerPool:
        """The pool the server's settings describe: size, deadline, queue wait, sandbox, memory, kills."""
        return cls(
            nquads,
            settings.workers,
            settings.deadline,
            settings.queue_wait,
            sandbox=settings.sandbox,
            memory=settings.worker_memory,
            kills=KillRecord(settings.kill_limit, settings.kill_window),
        )

    async def start(self) -> None:
        """Start every worker at once (each loads the dataset) and make them all idle."""
        workers = [Worker(self.nquads, self.sandboxed, self.memory) for _ in range(self.size)]
        await asyncio.gather(*(w.start() for w in workers))
        for worker in workers:
            self.workers.append(worker)
            self.idle.put_nowait(worker)

    async def close(self) -> None:
        """Cancel the restarts under way and stop every worker, when the server shuts down."""
        for task in list(self._background):
            task.cancel()
        for worker in self.workers:
            await worker.stop()

    async def run(self, job: Job, client: str | None = None) -> Answer:
        """Evaluate ``job`` in a worker; ``client`` (its address) is charged with the kill if the worker dies.

        A client that caused too many kills lately is refused (RateLimited) before it gets a worker.
        """
        if client is not None and (wait := self.kills.wait(client)):
            raise RateLimited(self.kills, wait)
        try:
            worker = self.idle.get_nowait()
        except asyncio.QueueEmpty:
            try:
                worker = await asyncio.wait_for(self.idle.get(), self.queue_wait)
            except TimeoutError:
                raise Overloaded("every query worker is busy") from None
        try:
            if not worker.healthy:
                await self._restart(worker)
            answer = await worker.call(job, self.deadline)
        except BaseException:
            # A worker that failed, or whose request was cancelled mid-job (its late answer would be read as the
            # next job's), is replaced in the background before it goes back to the idle queue.
            if client is not None:
                self.kills.note(client)
            task = asyncio.get_running_loop().create_task(self._restart_and_return(worker))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            raise
        self.idle.put_nowait(worker)
        return answer

    async def _restart(self, worker: Worker) -> None:
        await worker.stop()
        await worker.start()
        self.restarts += 1
        log.warning("restarted query worker (now pid %s)", worker.pid)

    async def _restart_and_return(self, worker: Worker) -> None:
        try:
            await self._restart(worker)
        finally:
            self.idle.put_nowait(worker)

    def stats(self) -> dict[str, Any]:
        """The pool's size, idle workers and restarts so far, for ``/healthz``."""
        return {"workers": self.size, "idle": self.idle.qsize(), "restarts": self.restarts}
