"""Worker supervision: ad-hoc queries run in a pool of processes that can be killed.

pyoxigraph cannot cancel a running query and can crash its process, so each ad-hoc query is evaluated in a worker
process that loaded the dataset once (from an N-Quads serialisation handed over at start). A worker that overruns
the deadline is killed; one that dies is noticed; either way a fresh one takes its place, and the server process
itself never evaluates an ad-hoc query.

The server talks to its workers on the event loop itself (pipe transports, no thread per call): a job goes out as
one frame, the worker's already-serialised answer comes back as one frame, and the deadline is a timer on the
loop. See ``evaluation`` for the worker's side and the frames.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from typing import Any

from idais_kg.serve.evaluation import HEADER, READY, Answer, Job, frame

__all__ = [
    "Answer",
    "DeadlineExceeded",
    "Job",
    "Overloaded",
    "PoolError",
    "Worker",
    "WorkerDied",
    "WorkerPool",
]

log = logging.getLogger(__name__)
START_TIMEOUT = 60.0
WORKER_COMMAND = "from idais_kg.serve.evaluation import worker_main; worker_main()"


class PoolError(RuntimeError):
    """An ad-hoc query that got no answer from the pool (the server answers 503)."""


class DeadlineExceeded(PoolError):
    pass


class WorkerDied(PoolError):
    pass


class Overloaded(PoolError):
    pass


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


class Worker:
    """One worker process (a fresh interpreter running ``worker_main``) and the pipes to it; one job at a time."""

    def __init__(self, nquads: bytes) -> None:
        self.nquads = nquads
        self.process: subprocess.Popen[bytes] | None = None
        self.frames: Frames | None = None
        self.reader: asyncio.ReadTransport | None = None
        self.writer: asyncio.WriteTransport | None = None

    async def start(self) -> None:
        """Start the process (off the loop: forking a large server takes a moment), hand it the dataset, await it."""
        process = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-c", WORKER_COMMAND],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdin is not None and process.stdout is not None  # both were asked for
        loop = asyncio.get_running_loop()
        self.process = process
        self.reader, self.frames = await loop.connect_read_pipe(Frames, process.stdout)
        self.writer, _ = await loop.connect_write_pipe(asyncio.Protocol, process.stdin)
        try:
            if await self._exchange(frame(self.nquads), START_TIMEOUT) != READY:
                raise WorkerDied("a query worker answered its dataset with something else than ready")
        except PoolError as exc:
            await self.stop()
            raise WorkerDied("a query worker did not start") from exc

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
        return self.process.pid if self.process else None

    async def call(self, job: Job, deadline: float) -> Answer:
        """Send a job and wait at most ``deadline`` seconds; kill the process on overrun or death."""
        try:
            return Answer.decode(await self._exchange(frame(job.encode()), deadline), job.media_type)
        except PoolError:
            await self.stop()
            raise

    async def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
        for transport in (self.writer, self.reader):
            if transport is not None:
                transport.close()
        if process is not None:
            await asyncio.to_thread(process.wait, 5)
        self.process, self.frames, self.reader, self.writer = None, None, None, None

    @property
    def healthy(self) -> bool:
        return (
            self.process is not None
            and self.process.poll() is None
            and not (self.frames and self.frames.closed)
        )


class WorkerPool:
    """A fixed number of workers; a request borrows one, and a broken one is replaced in the background."""

    def __init__(self, nquads: bytes, size: int, deadline: float, queue_wait: float) -> None:
        self.nquads = nquads
        self.size = size
        self.deadline = deadline
        self.queue_wait = queue_wait
        self.idle: asyncio.LifoQueue[Worker] = (
            asyncio.LifoQueue()
        )  # the most recently used worker is the hottest
        self.workers: list[Worker] = []
        self.restarts = 0
        self._background: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        workers = [Worker(self.nquads) for _ in range(self.size)]
        await asyncio.gather(*(w.start() for w in workers))
        for worker in workers:
            self.workers.append(worker)
            self.idle.put_nowait(worker)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        for worker in self.workers:
            await worker.stop()

    async def run(self, job: Job) -> Answer:
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
        return {"workers": self.size, "idle": self.idle.qsize(), "restarts": self.restarts}
