"""The pre-forked server: worker processes that each accept HTTP connections and answer their queries in-process.

The supervisor (the process ``idais-kg serve`` started, whose PID never changes) binds the listening socket, loads
the dataset, builds the app and forks workers. A worker inherits the socket, the dataset (its pages shared with the
supervisor until written), the app and the handoff channel (``handoff``); it starts its watchdog (``inproc``),
denies itself the network (the seccomp filter of ``sandbox``: ``socket()`` fails for every family but AF_UNIX,
while ``accept``, ``read``, ``write`` and ``sendmsg`` on inherited and accepted sockets go on), bounds its address
space (RLIMIT_AS, the backstop behind the watchdog's bound on resident memory), then accepts connections and serves
them all on one event loop with uvicorn's HTTP protocol. An ad-hoc query is guarded, evaluated and serialised on
that loop's thread: no pipe, no second process or thread to wake, no copy of the answer.

A query holds its worker's loop while it runs. Once it has run for ``inproc.SHED_AFTER`` (50 ms), the watchdog
hands the worker's other connections to the other workers, with any request already read from them, so they do not
wait behind it (see ``forked``); a query the watchdog must then stop (deadline, memory) ends a process that serves
no one else, so no other client loses a request. A worker per core or two keeps the processes few: 16 processes
serving one connection each, as an earlier design did, cost 1.7 times the CPU per query on two cores.

The supervisor keeps ``Settings.workers`` workers of the current generation running, up to
``Settings.max_workers`` in all; a worker that ended (stopped by its watchdog, crashed, SIGKILLed) is replaced by
a fork, in milliseconds; one whose event loop stops beating is killed. The kill limit (429), the restart count and
the heartbeats live in memory all workers share (``shared``).

When the served store gets a new version, the supervisor loads it, forks a new generation of workers and retires
the old ones: each hands its idle connections over (to the new generation, the only workers still taking them) and
answers the requests under way with ``Connection: close``, then exits; a new version is served without a restart.
The worker's side is ``forked``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import os
import select
import signal
import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.errors import ServeError
from idais_kg.serve.forked import ENDING, LONG, RETIRE, SHORT, worker_process
from idais_kg.serve.handoff import Handoff
from idais_kg.serve.inproc import InProcess
from idais_kg.serve.reload import StoreWatcher
from idais_kg.serve.sandbox import build_filter
from idais_kg.serve.settings import MiB, Settings
from idais_kg.serve.shared import SLOTS, SharedState
from idais_kg.store import Store

log = logging.getLogger("uvicorn.error")
BACKLOG = 2048
TICK = 0.2  # seconds between the supervisor's rounds when nothing wakes it
HEARTBEAT_SLACK = 5.0  # seconds past the deadline without a beat of its event loop before a worker is killed
EARLY = 3.0  # a worker that dies this soon after it started, unasked, counts towards giving up
GIVE_UP = 8  # early deaths in a row after which the supervisor stops: the workers cannot run here
MESSAGE = struct.Struct("<cI")  # worker -> supervisor: what happened, and its pid
CACHE_SHARE = 8  # a worker's caches get this fraction of Settings.cache_bytes: there are many workers


def serve(settings: Settings) -> None:
    """``idais-kg serve`` with pre-forked workers: refuse what can be refused, load, fork, supervise."""
    from idais_kg.dataset.dumps import build
    from idais_kg.dataset.serving import default_store_dir, require_store, serving_graph
    from idais_kg.dataset.versioned import current
    from idais_kg.serve import listen
    from idais_kg.serve.linked_data import Dumps

    if settings.sandbox:
        build_filter()  # no libseccomp: one clear error now, not workers that fail to start
    if settings.store_dir is not None:
        require_store(settings.store_dir)
    sock = listen(settings.host, settings.port)
    try:
        sock.listen(BACKLOG)
        kg = serving_graph(settings.store_dir)
        dumps_dir = settings.dumps_dir or kg.layout.build_dir / "dumps"
        if Dumps(dumps_dir, kg.layout.root).missing():  # written before serving: the server writes nothing
            build(kg.layout, out_dir=dumps_dir)
        store_dir = settings.store_dir or default_store_dir()
        Supervisor(settings, sock, store_dir if current(store_dir) else None).run(kg)
    finally:
        sock.close()


@dataclass
class Member:
    """One worker process, as the supervisor knows it."""

    slot: int
    generation: int
    started: float
    long: bool = False  # in a long query: its event loop is held, its connections were handed over
    ending: bool = False  # its watchdog stopped a query: it is on its way out
    retired: bool = False  # asked to finish (an older generation)


class Supervisor:
    """Forks the workers, keeps enough of them waiting, replaces the ended, rolls a new generation."""

    def __init__(self, settings: Settings, sock: socket.socket, watch: Path | None) -> None:
        self.settings = settings
        self.sock = sock
        self.state = SharedState()
        self.inbox, self.outbox = os.pipe()
        self.handoff = Handoff()
        os.set_blocking(self.inbox, False)
        self.pid = os.getpid()
        self.members: dict[int, Member] = {}
        self.generation = 0
        self.app: ASGIApp | None = None
        self.stopping = False
        self.early_deaths = 0
        self.watcher = StoreWatcher(None, watch, None) if watch is not None else None

    def build_app(self, kg: KnowledgeGraph) -> ASGIApp:
        """The app every worker of the next generation serves, its queries answered in-process."""
        from idais_kg.serve.app import create_app

        gc.unfreeze()  # (the previous generation's objects may be collected now)
        settings = dataclasses.replace(
            self.settings, cache_bytes=max(MiB, self.settings.cache_bytes // CACHE_SHARE)
        )
        # Queries run on a store loaded afresh from the dataset's N-Quads, as the pool's query processes load it:
        # the assembled store carries what its building left (graphs cleared and filled again), which made a
        # full scan about 8x slower (36 against 4.6 ms for OFFSET 10000, measured side by side).
        store = Store()
        store.load_nquads(kg.store.serialize("nquads"))
        runner = InProcess(store, settings, self.state)
        app = create_app(kg, settings, pool=runner)
        gc.collect()
        gc.freeze()  # the collector leaves the inherited objects alone, so their pages stay shared
        return app

    def run(self, kg: KnowledgeGraph) -> None:
        """Serve until SIGTERM or SIGINT."""
        import uvicorn

        self.app = self.build_app(kg)
        uvicorn.Config(self.app, log_level="info")  # (configures uvicorn's logging, as each worker will)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select
        self.keep_enough()
        host, port = self.sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        log.info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", shown, port)
        log.info("serving with pre-forked workers (supervisor pid %d)", os.getpid())
        try:
            while not self.stopping:
                self.round()
        finally:
            self.shutdown()

    def _stop(self, *_: Any) -> None:
        self.stopping = True

    def round(self) -> None:
        """One round: messages, the dead, silent workers, the store, enough workers."""
        with contextlib.suppress(InterruptedError):
            select.select([self.inbox], [], [], TICK)
        self.read_messages()
        self.reap()
        self.check_heartbeats()
        if self.watcher is not None:
            self.check_store()
        self.keep_enough()

    def read_messages(self) -> None:
        """What the workers said: a long query began or ended, a worker is ending (its watchdog stopped a query)."""
        try:
            data = os.read(self.inbox, MESSAGE.size * 512)
        except BlockingIOError:
            return
        for kind, pid in MESSAGE.iter_unpack(data[: len(data) - len(data) % MESSAGE.size]):
            member = self.members.get(pid)
            if member is None:
                continue
            if kind == LONG:
                member.long = True
            elif kind == SHORT:
                member.long = False
            elif kind == ENDING and not member.ending:
                member.ending = True
                self.state.add_restart()

    def reap(self) -> None:
        """Collect exited workers; count those that died unannounced as restarts."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            member = self.members.pop(pid, None)
            if member is None or member.ending or member.retired or self.stopping:
                continue
            how = f"signal {-os.waitstatus_to_exitcode(status)}" if os.WIFSIGNALED(status) else "exit"
            log.warning("query worker %d died (%s); starting another", pid, how)
            self.state.add_restart()
            if time.monotonic() - member.started < EARLY:
                self.early_deaths += 1
                if self.early_deaths >= GIVE_UP:
                    self.stopping = True
                    raise ServeError("the query workers die as they start: see the log above")
            else:
                self.early_deaths = 0

    def keep_enough(self) -> None:
        """``workers`` workers of the current generation free to take connections (at most ``max_workers`` in
        all): one held by a long query does not count, so its connections and new ones are taken meanwhile; once
        it is free again, one worker too many is retired."""
        if self.stopping:
            return
        current = [(pid, m) for pid, m in self.members.items() if not (m.ending or m.retired)]
        free = [pid for pid, m in current if not m.long]
        for _ in range(self.settings.workers - len(free)):
            if len(self.members) >= self.settings.max_workers:
                break
            self.spawn()
        for pid in free[: max(0, len(free) - self.settings.workers)]:  # (the oldest first)
            self.retire(pid)
        live = sum(1 for m in self.members.values() if not (m.ending or m.retired))
        self.state.set_counts(live, live)

    def retire(self, pid: int) -> None:
        """Ask a worker to hand over its idle connections, finish the others and exit."""
        self.members[pid].retired = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, RETIRE)

    def check_heartbeats(self) -> None:
        """Kill a worker whose event loop has stopped for longer than any query may run; reaping replaces it."""
        now = time.monotonic()
        limit = self.settings.deadline + HEARTBEAT_SLACK
        for pid, member in list(self.members.items()):
            if now - member.started > limit and now - self.state.last_beat(member.slot) > limit:
                log.warning("query worker %d stopped answering; killing it", pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                member.started = now  # (once)

    def check_store(self) -> None:
        """A new store version: a new generation of workers serves it, the old one is retired."""
        if self.watcher is None:
            return
        kg = self.watcher.poll()
        if kg is None:
            return
        self.app = self.build_app(kg)
        self.generation += 1
        old = [pid for pid, m in self.members.items() if m.generation < self.generation]
        for pid in old:
            self.members[pid].retired = True
        self.keep_enough()  # the new generation first ...
        for pid in old:  # ... then the old one stops accepting
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, RETIRE)

    def free_slot(self) -> int:
        """A heartbeat slot no live worker holds."""
        used = {m.slot for m in self.members.values()}
        for slot in range(SLOTS):
            if slot not in used:
                return slot
        raise ServeError(f"more than {SLOTS} query workers at once")

    def message(self, kind: bytes) -> bytes:
        """What a worker writes on the pipe to say ``kind`` (one short write: never torn)."""
        return MESSAGE.pack(kind, os.getpid())

    def spawn(self) -> None:
        """Fork one worker of the current generation."""
        slot = self.free_slot()
        self.state.beat(slot)
        # The signals that retire a worker are held until it has its own handlers: one sent to a worker that
        # is just forked would otherwise meet the supervisor's handler, be lost, and leave the worker running.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT, RETIRE})
        try:
            pid = os.fork()
            if pid == 0:
                worker_process(self, slot, held)  # never returns
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        self.members[pid] = Member(slot, self.generation, time.monotonic())

    def shutdown(self) -> None:
        """Stop every worker (each finishes the requests under way), then reap them."""
        for pid in self.members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + 10
        while self.members and time.monotonic() < end:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                self.members.pop(pid, None)
            else:
                time.sleep(0.05)
        for pid in self.members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.members.clear()
