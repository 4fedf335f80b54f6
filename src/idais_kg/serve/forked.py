"""The worker's side of the pre-forked server (see ``prefork``): one process, one connection at a time.

A worker is forked by the supervisor with the app and the listening socket; it starts its watchdog (``inproc``),
denies itself the network, bounds its address space, then accepts a connection, serves it with uvicorn's HTTP
protocol until it closes, and accepts the next, until it is retired (SIGUSR2, SIGTERM) or its watchdog ends it.
It tells the supervisor, on a pipe, when it takes a connection, when it is free again and when it is ending.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Iterable
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idais_kg.errors import ServeError
from idais_kg.serve.inproc import InProcess
from idais_kg.serve.sandbox import SandboxUnavailable, bound_memory, deny_network
from idais_kg.serve.settings import MiB
from idais_kg.serve.worker import JOB_STACK

if TYPE_CHECKING:
    from idais_kg.serve.prefork import Supervisor

ACCEPTED, FREE, ENDING = b"a", b"f", b"e"  # what a worker tells the supervisor
RETIRE = signal.SIGUSR2  # supervisor -> worker: finish your connection (if any) and exit
PR_SET_PDEATHSIG = 1  # prctl(2)


class Draining:
    """ASGI middleware, outermost in a worker: once it is retiring or ending, every response says
    ``Connection: close``, so the client reconnects (to another worker) instead of finding a closed socket."""

    def __init__(self, app: ASGIApp, runner: InProcess) -> None:
        self.app = app
        self.runner = runner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add ``Connection: close`` to the start of each response once the worker drains."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start" and self.runner.draining:
                message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)


class Worker:
    """One worker's serving loop: accept a connection, serve it with uvicorn's protocol, accept the next."""

    def __init__(self, supervisor: Supervisor, slot: int, app: ASGIApp, runner: InProcess) -> None:
        self.supervisor, self.slot, self.app, self.runner = supervisor, slot, app, runner
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiting: asyncio.Future[socket.socket | None] | None = None
        self.exit_code = 0

    def tell(self, kind: bytes) -> None:
        """A message to the supervisor (a few bytes: one write on the pipe, never torn)."""
        with contextlib.suppress(OSError):
            os.write(self.supervisor.outbox, self.supervisor.message(kind))

    def retire(self) -> None:
        """Finish the connection under way, if any, then exit (on the event loop)."""
        self.runner.draining = True
        if self.waiting is not None and not self.waiting.done():
            if self.loop is not None:
                self.loop.remove_reader(self.supervisor.sock.fileno())
            self.waiting.set_result(None)

    async def next_connection(self, listener: socket.socket) -> socket.socket | None:
        """The next connection this worker takes, or None once it is retired.

        The connection is accepted in the readiness callback itself, so that a retirement between two
        callbacks can never take a connection from the kernel's queue and drop it: one that no worker took
        stays there for another.
        """
        loop = asyncio.get_running_loop()
        waiting: asyncio.Future[socket.socket | None] = loop.create_future()
        self.waiting = waiting
        fd = listener.fileno()

        def readable() -> None:
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):  # another worker took it
                return
            loop.remove_reader(fd)
            if waiting.done():  # (cannot happen: the reader is removed when it is done)
                conn.close()
                return
            waiting.set_result(conn)

        loop.add_reader(fd, readable)
        try:
            return await waiting
        finally:
            loop.remove_reader(fd)
            self.waiting = None

    async def serve(self) -> None:
        """Run the app's lifespan, then connections one after another until retired."""
        import uvicorn
        from uvicorn.lifespan.on import LifespanOn
        from uvicorn.server import ServerState

        settings = self.supervisor.settings
        config = uvicorn.Config(
            self.app,
            log_level="info",
            access_log=settings.access_log,
            server_header=False,
            proxy_headers=False,
            lifespan="on",
        )
        config.load()
        lifespan = LifespanOn(config)
        await lifespan.startup()
        if lifespan.should_exit:
            raise ServeError("the app did not start")
        self.loop = loop = asyncio.get_running_loop()
        state = ServerState()
        beating = loop.create_task(self.beat(state))
        listener = self.supervisor.sock
        listener.setblocking(False)
        base = config.http_protocol_class
        try:
            while not self.runner.draining:
                conn = await self.next_connection(listener)
                if conn is None:
                    break
                self.tell(ACCEPTED)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                closed = loop.create_future()

                def factory(closed: asyncio.Future[None] = closed) -> asyncio.Protocol:
                    protocol = base(  # type: ignore[call-arg]
                        config=config, server_state=state, app_state=lifespan.state, _loop=loop
                    )
                    lost = protocol.connection_lost

                    def connection_lost(exc: Exception | None) -> None:
                        lost(exc)
                        if not closed.done():
                            closed.set_result(None)

                    protocol.connection_lost = connection_lost  # type: ignore[method-assign]
                    return protocol

                self.runner.connection = conn.fileno()
                await loop.connect_accepted_socket(factory, conn)
                await closed
                self.runner.connection = None
                if not self.runner.draining:
                    self.tell(FREE)
        finally:
            beating.cancel()
            await lifespan.shutdown()

    async def beat(self, state: Any) -> None:
        """Say this worker's event loop runs; keep uvicorn's Date header current."""
        while True:
            self.supervisor.state.beat(self.slot)
            state.default_headers = [(b"date", formatdate(usegmt=True).encode("latin-1"))]
            await asyncio.sleep(0.25)

    def main(self) -> None:
        """The worker's event loop (uvloop where uvicorn would choose it), on this thread."""
        try:
            import uvloop

            runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        except ImportError:
            runner = asyncio.Runner()
        try:
            with runner:
                runner.run(self.serve())
        except BaseException:  # the worker's last words; the supervisor replaces it
            traceback.print_exc()
            self.exit_code = 1


def die_with_parent(parent: int) -> None:
    """Have the kernel send SIGTERM to this process when the supervisor dies (Linux); end now if it has."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def worker_process(supervisor: Supervisor, slot: int, mask: Iterable[int]) -> None:
    """The body of a forked worker: never returns (``os._exit``). ``mask``: the signal mask to restore (the
    supervisor holds the retiring signals across the fork).

    The event loop runs on a thread with a large stack (the engine recurses once per operator of an expression,
    as in ``worker``); this main thread only takes the signals: SIGTERM and SIGUSR2 retire the worker, and end it
    at once while it has served nothing yet. It gets SIGTERM when the supervisor dies, so it never outlives it.
    """
    code = 1
    try:
        for sig in (signal.SIGINT, signal.SIGCHLD, signal.SIGTERM, RETIRE):
            signal.signal(sig, signal.SIG_DFL)
        die_with_parent(supervisor.pid)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a retirement sent meanwhile ends it here
        os.close(supervisor.inbox)
        settings, app = supervisor.settings, supervisor.app
        if app is None:
            raise ServeError("no app to serve")
        runner: InProcess = app.state.service.pool  # type: ignore[attr-defined]
        outer = Draining(app, runner)
        worker = Worker(supervisor, slot, outer, runner)
        if hasattr(os, "sched_setscheduler"):  # a woken worker does not preempt the client that woke it
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        runner.begin(outer, lambda: worker.tell(ENDING))
        if settings.sandbox:
            deny_network()
        bound_memory(2 * settings.worker_memory + 2 * settings.cache_bytes + 512 * MiB)

        def retire(*_: Any) -> None:
            if worker.loop is None:  # not serving yet: nothing to finish
                os._exit(0)
            worker.loop.call_soon_threadsafe(worker.retire)

        for sig in (signal.SIGTERM, RETIRE):
            signal.signal(sig, retire)
        threading.stack_size(JOB_STACK)
        thread = threading.Thread(target=worker.main, name="serve")
        thread.start()
        threading.stack_size(0)
        while thread.is_alive():
            thread.join(0.5)
        code = worker.exit_code
    except SandboxUnavailable as exc:
        print(f"idais-kg: error: {exc}", file=sys.stderr)
        code = 3
    except BaseException:  # the worker's last words; the supervisor replaces it
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)
