"""The worker's side of the pre-forked server (see ``prefork``): one process, many connections, one event loop.

A worker is forked by the supervisor with the app, the listening socket and the handoff channel (``handoff``); it
starts its watchdog (``inproc``), denies itself the network, bounds its address space, then accepts connections and
serves them with uvicorn's HTTP protocol, evaluating each ad-hoc query inline, until it is retired (SIGUSR2,
SIGTERM) or its watchdog ends it. A query holds the event loop while it runs, so once one has run for
``inproc.SHED_AFTER`` the watchdog hands the worker's other connections to the other workers (with any request
already read from them): they are answered there instead of waiting, and a query that must then be stopped ends a
process that serves no one else. A retired worker hands over its idle connections and finishes the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import httptools
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idais_kg.errors import ServeError
from idais_kg.serve.fastlane import FastLane, Reply
from idais_kg.serve.handoff import MAX_PENDING
from idais_kg.serve.inproc import CONNECTION, InProcess
from idais_kg.serve.sandbox import SandboxUnavailable, bound_memory, deny_network
from idais_kg.serve.settings import MiB
from idais_kg.serve.worker import JOB_STACK

if TYPE_CHECKING:
    from idais_kg.serve.prefork import Supervisor

# What a worker tells the supervisor: its watchdog stopped a query, and it ends; a long query holds its loop (its
# connections were handed over: the supervisor keeps enough other workers to take them); that query ended.
ENDING, LONG, SHORT = b"e", b"l", b"s"
RETIRE = signal.SIGUSR2  # supervisor -> worker: hand over your idle connections, finish the others, exit
PR_SET_PDEATHSIG = 1  # prctl(2)
TCP_CORK = getattr(socket, "TCP_CORK", 3)  # (Linux)
# The collector's thresholds in a worker: a request allocates a few hundred objects, nearly all freed by their
# counts, so the default (a young collection every 700 allocations) ran one every few requests for nothing; at
# 50,000 it runs about once in two hundred (measured: 5-10% more ad-hoc queries a second).
GC_THRESHOLDS = (50_000, 20, 100)
OK = b"HTTP/1.1 200 OK\r\n"  # (uvicorn's status line, whatever the request's version)


class Draining:
    """ASGI middleware, outermost in a worker: marks a connection as answering from the start of its response (a
    connection half answered cannot be handed to another worker), corks its socket until the response is complete
    (uvicorn writes the head and the body apart: corked, a small answer leaves in one segment), and once the worker
    is retiring or ending, every response says ``Connection: close``, so the client reconnects (to another worker)
    instead of finding a closed socket."""

    def __init__(self, app: ASGIApp, runner: InProcess) -> None:
        self.app = app
        self.runner = runner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Mark and cork the connection at the start of each response; add ``Connection: close`` once the worker
        drains; uncork at the end of the response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = scope.get(CONNECTION)

        async def closing(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                if conn is not None:
                    conn.answering = True
                    conn.cork(True)
                if self.runner.draining:
                    message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)
            if kind == "http.response.body" and not message.get("more_body") and conn is not None:
                conn.cork(False)

        try:
            await self.app(scope, receive, closing)
        finally:
            if conn is not None:
                conn.cork(False)  # (an app that failed mid-response)


def tracked(base: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """The HTTP protocol ``base`` (uvicorn's), keeping what a handoff needs to know of its connection.

    ``pending``: every byte read since the connection last had no request open, so a connection handed over
    carries its unanswered requests whole; ``open``: requests begun and not yet answered; ``answering``: a response
    has started and is not complete (set by ``Draining``); ``mixed``: ``pending`` also holds a request already
    answered (one answered while more of what was read was still to parse, or while a pipelined one was open), so
    the connection cannot move until it has no request open again. The request's scope names its connection
    (``CONNECTION``), so that the watchdog knows where to answer a stopped query.
    """

    class Tracked(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, worker: Worker, preload: bytes = b"", **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.worker = worker
            self.preload = preload
            self.pending = bytearray()
            self.open = 0
            self.answering = False
            self.feeding = False  # in data_received: the parser may have more of what was read to parse
            self.mixed = False
            self.gone = False  # handed to another worker: this process must not read or write it again
            self.fd = -1
            self.sock: Any = None
            self.corked = False
            self.direct: bytearray | None = None  # the body of a request the fast lane is reading
            self.keep = True  # (of that request) whether the connection stays open after its answer

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self.sock = transport.get_extra_info("socket")
            self.fd = self.sock.fileno()
            self.worker.connections[self.fd] = self
            if self.preload:  # what the giving worker had read: parsed before anything read from the socket
                data, self.preload = self.preload, b""
                self.data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.worker.connections.get(self.fd) is self:
                del self.worker.connections[self.fd]
            super().connection_lost(exc)
            self.worker.maybe_done()

        def data_received(self, data: bytes) -> None:
            if self.gone:
                return
            self.pending += data
            self.feeding = True
            try:
                super().data_received(data)
            finally:
                self.feeding = False
            if not self.open:  # everything read is parsed and answered
                self.pending.clear()
                self.mixed = False

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.open += 1
            self.scope[CONNECTION] = self
            self.direct = None

        # --- the fast lane, without the ASGI cycle (see ``fastlane``): the request read whole, answered in one
        # write, or handed to uvicorn's cycle as if just parsed ---------------------------------------------

        def on_headers_complete(self) -> None:
            lane = self.worker.lane
            if (
                lane is not None
                and not self.access_log
                and (self.cycle is None or self.cycle.response_complete)
                and not self.pipeline
                and not self.parser.should_upgrade()
            ):
                method = self.parser.get_method().decode("ascii")
                parsed = httptools.parse_url(self.url)
                if lane.takes(method, parsed.path, self.headers):
                    version = self.parser.get_http_version()
                    self.scope["method"] = method
                    if version != "1.1":
                        self.scope["http_version"] = version
                    self.scope["path"] = self.root_path + parsed.path.decode("ascii")
                    self.scope["raw_path"] = self.root_path.encode("ascii") + parsed.path
                    self.scope["query_string"] = parsed.query or b""
                    self.keep = version != "1.0" and self.parser.should_keep_alive()
                    self.direct = bytearray()
                    return
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if self.direct is not None:
                self.direct += body
                return
            super().on_body(body)

        def on_message_complete(self) -> None:
            if self.direct is None:
                super().on_message_complete()
                return
            body, self.direct = bytes(self.direct), None
            lane = self.worker.lane
            try:
                outcome = lane.respond(self.scope, body) if lane is not None else {}
            except Exception:  # a defect of ours: the app answers (a 500, as for any other)
                self.logger.exception("the fast lane failed; the app answers")
                outcome = {}
            if isinstance(outcome, Reply):
                self.reply(outcome)
                return
            self.scope.update(outcome)  # the runner's answer or failure, if the query ran
            super().on_headers_complete()
            if body:
                super().on_body(body)
            super().on_message_complete()

        def reply(self, reply: Reply) -> None:
            """Write a 200 as uvicorn's cycle writes it (its Date header first), in one write."""
            keep = self.keep and not self.worker.runner.draining
            head = [
                OK,
                *(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers),
            ]
            head += [name + b": " + value + b"\r\n" for name, value in reply.headers]
            if not keep:
                head.append(b"connection: close\r\n")
            head.append(b"\r\n")
            self.transport.write(b"".join(head) + reply.body)
            if not keep:
                self.transport.close()
            self.on_response_complete()

        def on_response_complete(self) -> None:
            self.open = max(0, self.open - 1)
            self.answering = False
            if (
                self.open or self.feeding
            ):  # its bytes and those of a later request are in ``pending`` together
                self.mixed = True
            else:
                self.pending.clear()
                self.mixed = False
            super().on_response_complete()

        def cork(self, on: bool) -> None:
            """Hold partial segments back (TCP_CORK) until the response is written whole, or let them go."""
            if on == self.corked or self.gone or self.sock is None:
                return
            with contextlib.suppress(OSError, AttributeError):
                self.sock.setsockopt(socket.IPPROTO_TCP, TCP_CORK, 1 if on else 0)
                self.corked = on

        def movable(self) -> bool:
            """Whether it can be handed over now: nothing of a response written or waiting to be, and every
            byte of its unanswered requests kept."""
            if (
                self.gone
                or self.answering
                or self.mixed
                or self.transport is None
                or self.transport.is_closing()
            ):
                return False
            return self.transport.get_write_buffer_size() == 0 and len(self.pending) <= MAX_PENDING

    return Tracked


class Worker:
    """One worker's serving loop: accept connections (new ones, and those other workers hand over), serve them
    all with uvicorn's protocol on one event loop, until retired or ended."""

    def __init__(self, supervisor: Supervisor, slot: int, app: ASGIApp, runner: InProcess) -> None:
        self.supervisor, self.slot, self.app, self.runner = supervisor, slot, app, runner
        self.loop: asyncio.AbstractEventLoop | None = None
        self.connections: dict[int, Any] = {}  # fd -> Tracked protocol
        self.done: asyncio.Future[None] | None = None
        self.accepting = False
        self.exit_code = 0
        self.factory: Callable[..., asyncio.Protocol] | None = None
        self.lane: FastLane | None = None  # answers plain queries right in the protocol (None: never)

    def tell(self, kind: bytes) -> None:
        """A message to the supervisor (a few bytes: one write on the pipe, never torn)."""
        with contextlib.suppress(OSError):
            os.write(self.supervisor.outbox, self.supervisor.message(kind))

    # --- on the event loop ------------------------------------------------------------------------------------

    def retire(self) -> None:
        """Stop accepting, hand every idle connection to the workers that go on, finish the others, exit."""
        self.runner.draining = True
        self.stop_accepting()
        self.give_away(lambda conn: not conn.open)
        self.drop_given()
        self.maybe_done()

    def stop_accepting(self) -> None:
        """Take no more connections, new or handed over."""
        if self.accepting and self.loop is not None:
            self.loop.remove_reader(self.supervisor.sock.fileno())
            self.loop.remove_reader(self.supervisor.handoff.receiver.fileno())
        self.accepting = False

    def maybe_done(self) -> None:
        """End the serving loop once the worker drains and holds no connection."""
        if self.runner.draining and not self.connections and self.done is not None and not self.done.done():
            self.done.set_result(None)

    def accept_new(self) -> None:
        """The listening socket is readable: take one connection (one per wake-up, so the workers share them)."""
        try:
            conn, _ = self.supervisor.sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):  # another worker took it
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.attach(conn, b"")

    def accept_given(self) -> None:
        """A connection another worker handed over."""
        given = self.supervisor.handoff.take()
        if given is not None:
            self.attach(*given)

    def attach(self, conn: socket.socket, preload: bytes) -> None:
        """Serve ``conn``, its parser fed ``preload`` before anything read from the socket."""
        if self.loop is None or self.factory is None:
            conn.close()
            return
        conn.setblocking(False)
        factory = self.factory
        task = self.loop.create_task(
            self.loop.connect_accepted_socket(lambda: factory(preload=preload), conn)
        )
        ATTACHING.add(task)
        task.add_done_callback(ATTACHING.discard)

    # --- on the watchdog's thread, or on the loop ---------------------------------------------------------------

    def give_away(self, which: Callable[[Any], bool]) -> int:
        """Hand the connections that ``which`` selects and that can move to the other workers; how many went.

        Called by the watchdog while the event loop is held in a query (nothing else touches the connections
        then), or on the event loop itself when retiring.
        """
        given = 0
        for conn in list(self.connections.values()):
            if not which(conn) or not conn.movable():
                continue
            if not self.supervisor.handoff.give(conn.fd, bytes(conn.pending)):
                break
            conn.gone = True
            given += 1
        return given

    def hand_over_others(self, keep: Any) -> int:
        """Hand over every connection but ``keep`` (the one whose query holds the loop) that can move, and have
        the supervisor keep enough other workers to take them, and new ones, meanwhile."""
        given = self.give_away(lambda conn: conn is not keep)
        self.tell(LONG)
        return given

    def drop_given(self) -> None:
        """Close this process's descriptors of the connections handed over (on the event loop; the
        connections go on in the workers that took them), once the long query ended."""
        for conn in list(self.connections.values()):
            if conn.gone:
                conn.transport.abort()
        self.tell(SHORT)

    # --- the loop -----------------------------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run the app's lifespan, then serve until retired (or ended by the watchdog)."""
        import uvicorn
        from uvicorn.lifespan.on import LifespanOn
        from uvicorn.server import ServerState

        settings = self.supervisor.settings
        config = uvicorn.Config(
            self.app,
            http="httptools",
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
        self.done = loop.create_future()
        state = ServerState()
        protocol = tracked(config.http_protocol_class)

        def factory(preload: bytes = b"") -> asyncio.Protocol:
            return protocol(  # type: ignore[call-arg]
                config=config,
                server_state=state,
                app_state=lifespan.state,
                _loop=loop,
                worker=self,
                preload=preload,
            )

        self.factory = factory
        beating = loop.create_task(self.beat(state))
        listener, given = self.supervisor.sock, self.supervisor.handoff.receiver
        listener.setblocking(False)
        loop.add_reader(listener.fileno(), self.accept_new)
        loop.add_reader(given.fileno(), self.accept_given)
        self.accepting = True
        try:
            if self.runner.draining:
                self.retire()
            await self.done
        finally:
            self.stop_accepting()
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


ATTACHING: set[asyncio.Task[Any]] = set()  # (tasks are weakly held by the loop)


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
        lane = FastLane(app)
        outer = Draining(lane, runner)
        worker = Worker(supervisor, slot, outer, runner)
        worker.lane = lane
        if hasattr(os, "sched_setscheduler"):  # a woken worker does not preempt the client that woke it
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        runner.begin(outer, lambda: worker.tell(ENDING), worker.hand_over_others, worker.drop_given)
        if settings.sandbox:
            deny_network()
        bound_memory(2 * settings.worker_memory + 2 * settings.cache_bytes + 512 * MiB)

        def retire(*_: Any) -> None:
            if worker.loop is None:  # not serving yet: nothing to finish
                os._exit(0)
            worker.loop.call_soon_threadsafe(worker.retire)

        for sig in (signal.SIGTERM, RETIRE):
            signal.signal(sig, retire)
        gc.set_threshold(*GC_THRESHOLDS)
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
