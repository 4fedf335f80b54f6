"""Ad-hoc queries evaluated where the request was read: inline, on the worker's one serving thread, with a watchdog.

In the pre-forked server (``prefork``) a worker process evaluates a query right on the thread that parsed the
request: no queue, no thread or process to wake, no copy of the answer. The engine releases the GIL while it
evaluates and serialises, which leaves a **watchdog** thread free to run; it keeps the promises that the separate
query processes of ``pool`` kept:

- **No waiting behind a long query.** Once a query has run ``SHED_AFTER``, the watchdog has the worker hand its
  other connections to the other workers (``forked``, ``handoff``), so that none waits for it, and none is lost
  if the query must then be stopped.

- **Deadline.** Past the query's deadline (ours, or a client's tighter one), the watchdog answers the request
  itself: it runs the app once more for the same request, marked with the failure (so the 503 and its
  ``Retry-After``, ``X-Query-Deadline``, CORS and security headers are exactly what the routes and middleware
  write), writes that response on the connection, and ends the process. The supervisor forks a replacement
  (a fork of a process that holds the dataset: milliseconds, no reload).
- **Memory.** The watchdog compares the resident size with what the process held before the query, plus the bound;
  past it, the same, with a 503 that says the query needed more memory than it may use. ``RLIMIT_AS`` stays as the
  backstop (see ``prefork``), and a Python MemoryError ends the worker after its answer too.
- **Kill limit.** The client is charged with the kill (``SharedKills``, seen by every worker) before it hears the
  503, and a client at the limit is answered 429 before its query runs.

The interface is the pool's (``run``, ``start``, ``close``, ``stats``) and so are the errors.
"""

from __future__ import annotations

import asyncio
import errno
import http
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message

from idais_kg.serve.pool import (
    Answer,
    DeadlineExceeded,
    Job,
    MemoryExceeded,
    PoolError,
    RateLimited,
    WorkerDied,
)
from idais_kg.serve.settings import Settings
from idais_kg.serve.shared import SharedKills, SharedState
from idais_kg.serve.worker import evaluate
from idais_kg.store import Store

log = logging.getLogger(__name__)
FAILURE = "idais.failure"  # scope key: the watchdog's re-run of a request answers with this PoolError
ANSWERED = (
    "idais.answered"  # scope key: the fast lane ran the query already; the app answers with this Answer
)
CONNECTION = "idais.connection"  # scope key: the connection (``forked.tracked`` protocol) a request came on
# Seconds a query may hold the worker's event loop before the watchdog hands the worker's other connections over
# to the other workers (see ``forked``): long enough that ordinary queries never cause a handoff.
SHED_AFTER = 0.05
# Seconds between the watchdog's looks at a query that has run for SLOW_TICK already, and between its looks
# otherwise (most queries end before it looks at them: it costs them nothing).
TICK = 0.005
SLOW_TICK = 0.025
BASELINE_EVERY = 1.0  # seconds at most between two readings of the resident size before a query
PAGE = os.sysconf("SC_PAGE_SIZE")


def resident() -> int:
    """The resident size of the calling process in bytes (``/proc/self/statm``)."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * PAGE


@dataclass(eq=False)
class Running:
    """The query the serving thread evaluates now."""

    client: str | None
    request: Request | None
    started: float  # time.monotonic() when it started
    deadline: float  # time.monotonic() at which it is stopped
    limit: float  # the deadline in seconds, for the message
    connection: Any = None  # the connection it came on (a ``forked.tracked`` protocol), if known
    killed: bool = False
    handed: bool = False  # the worker's other connections were handed over while it ran

    @property
    def fd(self) -> int | None:
        """The file descriptor of its connection."""
        fd = getattr(self.connection, "fd", -1)
        return fd if isinstance(fd, int) and fd >= 0 else None


class InProcess:
    """The pool's interface, evaluating inline; built before the fork, begun in each worker process."""

    def __init__(self, store: Store, settings: Settings, state: SharedState) -> None:
        self.store = store
        self.size = settings.workers
        self.deadline = settings.deadline
        self.memory = settings.worker_memory
        self.kills = SharedKills(state, settings.kill_limit, settings.kill_window)
        self.state = state
        self.lock = threading.Lock()
        self.current: Running | None = None
        self.baseline = 0
        self.baseline_at = 0.0
        self.draining = False  # every response says Connection: close; the worker ends once it holds none
        self.app: ASGIApp | None = None  # the worker's whole app, to answer a stopped request with
        self.on_end: Callable[[], None] = lambda: None  # tells the supervisor, before the process ends
        # (watchdog) hand over every connection but the given one; (event loop) close what was handed over
        self.hand_over: Callable[[Any], int] = lambda keep: 0
        self.after_handover: Callable[[], None] = lambda: None
        self.begun = False

    def begin(
        self,
        app: ASGIApp,
        on_end: Callable[[], None],
        hand_over: Callable[[Any], int] | None = None,
        after_handover: Callable[[], None] | None = None,
    ) -> None:
        """In the worker process, before it serves: start the watchdog."""
        self.app, self.on_end = app, on_end
        if hand_over is not None:
            self.hand_over = hand_over
        if after_handover is not None:
            self.after_handover = after_handover
        self.baseline, self.baseline_at = resident(), time.monotonic()
        threading.Thread(target=self._watch, name="watchdog", daemon=True).start()
        self.begun = True

    # --- the pool's interface --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing to start here: :meth:`begin` ran in the worker before it served."""
        if not self.begun:
            raise WorkerDied("the in-process query runner was not begun in this process")

    async def close(self) -> None:
        """Nothing to stop: the watchdog ends with the process."""
        return None

    async def run(
        self,
        job: Job,
        client: str | None = None,
        deadline: float | None = None,
        request: Request | None = None,
    ) -> Answer:
        """:meth:`run_now`, as the pool's interface has it (a coroutine)."""
        return self.run_now(job, client, deadline, request)

    def run_now(
        self,
        job: Job,
        client: str | None = None,
        deadline: float | None = None,
        request: Request | None = None,
    ) -> Answer:
        """Evaluate ``job`` now, on this thread, within ``deadline`` seconds (ours, or a client's tighter one).

        ``request`` lets the watchdog answer it if the query must be stopped; in the watchdog's re-run of that
        request, the failure it carries is raised here instead.
        """
        if request is not None and isinstance(failure := request.scope.get(FAILURE), PoolError):
            raise failure
        if request is not None and isinstance(answered := request.scope.get(ANSWERED), Answer):
            return answered
        if client is not None and (wait := self.kills.wait(client)):
            raise RateLimited(self.kills, wait)  # type: ignore[arg-type]
        limit = self.deadline if deadline is None else min(deadline, self.deadline)
        now = time.monotonic()
        if now - self.baseline_at > BASELINE_EVERY:  # (what the caches grew by since then is not the query's)
            self.baseline, self.baseline_at = resident(), now
        connection = request.scope.get(CONNECTION) if request is not None else None
        running = Running(client, request, now, now + limit, limit, connection)
        self.current = running
        try:
            return evaluate(self.store, job)
        except MemoryError:  # Python's: the process is near its bound; it ends after this answer
            self._charge(client)
            self.draining = True
            self.on_end()
            raise MemoryExceeded(self.memory) from None
        finally:
            with self.lock:
                stopped = running.killed
                self.current = None
            if stopped:  # the watchdog answers this request and ends the process: never answer it twice
                threading.Event().wait()
            if running.handed:  # (on the event loop, before it reads anything again)
                self.after_handover()

    def stats(self) -> dict[str, Any]:
        """For ``/healthz``: the pool's figures, shared by the workers, and the worker that answered."""
        live, _ = self.state.counts
        return {
            "workers": self.size,
            "restarts": self.state.restarts,
            "live": live,
            "worker": os.getpid(),
        }

    # --- the watchdog ----------------------------------------------------------------------------------------

    def _charge(self, client: str | None) -> None:
        if client is not None:
            self.kills.note(client)

    def _watch(self) -> None:
        """Look at the running query every TICK: past its deadline or the memory bound, stop it."""
        tick = SLOW_TICK
        while True:
            time.sleep(tick)
            running = self.current
            now = time.monotonic()
            tick = TICK if running is not None and now - running.started >= SLOW_TICK else SLOW_TICK
            if running is None:
                continue
            if not running.handed and now - running.started >= SHED_AFTER:
                with self.lock:
                    if self.current is running:
                        self._hand_over(running)
            reason: PoolError | None = None
            if now >= running.deadline:
                reason = DeadlineExceeded(f"the query ran longer than the deadline of {running.limit:g} s")
            else:
                try:
                    grown = resident() - self.baseline
                except (OSError, ValueError, IndexError):
                    continue
                if grown > self.memory:
                    reason = MemoryExceeded(self.memory)
            if reason is None:
                continue
            with self.lock:
                if self.current is not running:
                    continue
                running.killed = True
            self.stop(running, reason)

    def _hand_over(self, running: Running) -> None:
        """Hand the worker's other connections over (once per query; with the lock held, while the event loop
        is held by ``running``, so nothing else touches them)."""
        if running.handed:
            return
        running.handed = True
        try:
            given = self.hand_over(running.connection)
        except Exception:  # a defect: the connections stay here, served after this query
            log.exception("query worker %d could not hand its connections over", os.getpid())
            return
        if given:
            log.info(
                "query worker %d: a long query; %d connection(s) handed to other workers", os.getpid(), given
            )

    def stop(self, running: Running, reason: PoolError) -> None:
        """Answer the stopped query's request with ``reason`` on its connection, then end the process."""
        code = 0
        try:
            self._hand_over(running)  # (if the deadline came first) no other client goes down with it
            self._charge(running.client)
            self.draining = True
            log.warning("query worker %d: %s; it ends and is replaced", os.getpid(), reason)
            if running.request is not None and running.fd is not None:
                send_all(running.fd, self.render(running.request, reason))
        except Exception:  # a defect while answering: the client gets a closed connection, the log says why
            log.exception("query worker %d could not answer the stopped query", os.getpid())
            code = 1
        finally:
            self.on_end()
            os._exit(code)

    def render(self, request: Request, reason: PoolError) -> bytes:
        """The whole HTTP response the app gives ``request`` when its query fails with ``reason``."""
        if self.app is None:
            raise WorkerDied("no app to answer with")
        scope = {**request.scope, FAILURE: reason}
        body = getattr(request, "_body", b"")
        messages: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            messages.append(message)

        app = self.app

        async def answer() -> None:
            await app(scope, receive, send)

        asyncio.run(answer())
        start = next(m for m in messages if m["type"] == "http.response.start")
        status = int(start["status"])
        phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else ""
        head = [f"HTTP/1.1 {status} {phrase}".encode("latin-1")]
        head += [name + b": " + value for name, value in start.get("headers", ()) if name != b"connection"]
        head.append(b"connection: close")
        payload = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        return b"\r\n".join(head) + b"\r\n\r\n" + (b"" if request.method == "HEAD" else payload)


def send_all(fd: int, data: bytes, timeout: float = 2.0) -> None:
    """Write ``data`` on a (non-blocking) socket, waiting for room at most ``timeout`` seconds in all."""
    view = memoryview(data)
    end = time.monotonic() + timeout
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("the client does not read its answer") from None
            select.select([], [fd], [], left)
        except OSError as exc:
            if exc.errno in (errno.EPIPE, errno.ECONNRESET):  # the client is gone: nothing to answer
                return
            raise
