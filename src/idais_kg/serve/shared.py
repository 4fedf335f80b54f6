"""What the pre-forked worker processes of one server share: the kill record, the restart count, heartbeats.

Each worker process answers HTTP itself (see ``prefork``), so a client that keeps killing workers must be known to
all of them, and ``/healthz`` must report the restarts the supervisor made, whichever worker answers it. The
supervisor maps one anonymous shared page range before it forks, and every worker inherits it:

- a sequence number and a JSON copy of the kill record (client key -> kill times, ``time.monotonic``, which is the
  same clock in every process of the machine), written under a process-shared lock; a reader copies the record
  only when the sequence number moved, so the check on every ad-hoc query costs one 8-byte read;
- the number of workers the supervisor replaced;
- one heartbeat per worker slot, which the worker's event loop refreshes and the supervisor reads.

Nothing a query can reach writes here except through :class:`SharedKills` and :meth:`SharedState.beat`.
"""

from __future__ import annotations

import json
import mmap
import multiprocessing
import struct
import time
from collections import deque

from idais_kg.serve.kills import KillRecord

SLOTS = 64  # worker slots: pool size plus the workers still draining
SIZE = 1 << 20
HEAD = struct.Struct("<QQI")  # kills sequence, restarts, kill-record length
COUNTS = struct.Struct("<II")  # at offset 32: live workers, idle workers (written by the supervisor)
BEATS = 64  # offset of the heartbeats, one double per slot
BLOB = BEATS + 8 * SLOTS  # offset of the kill record's JSON


class SharedState:
    """The shared pages and their lock; made by the supervisor before it forks."""

    def __init__(self) -> None:
        self.memory = mmap.mmap(-1, SIZE, flags=mmap.MAP_SHARED)
        self.lock = multiprocessing.get_context("fork").Lock()

    def _head(self) -> tuple[int, int, int]:
        seq, restarts, length = HEAD.unpack_from(self.memory, 0)
        return int(seq), int(restarts), int(length)

    @property
    def sequence(self) -> int:
        """How many times the kill record was written."""
        return self._head()[0]

    @property
    def restarts(self) -> int:
        """How many workers the supervisor replaced."""
        return self._head()[1]

    def add_restart(self) -> None:
        """Count one replaced worker (the supervisor's only write)."""
        with self.lock:
            seq, restarts, length = self._head()
            HEAD.pack_into(self.memory, 0, seq, restarts + 1, length)

    @property
    def counts(self) -> tuple[int, int]:
        """The workers alive and those waiting for a connection, as the supervisor last counted them."""
        live, idle = COUNTS.unpack_from(self.memory, 32)
        return int(live), int(idle)

    def set_counts(self, live: int, idle: int) -> None:
        """The supervisor's count of its workers."""
        COUNTS.pack_into(self.memory, 32, live, idle)

    def read_kills(self) -> dict[str, list[float]]:
        """The kill record as last written (call with the lock held)."""
        length = self._head()[2]
        if not length:
            return {}
        data: dict[str, list[float]] = json.loads(self.memory[BLOB : BLOB + length])
        return data

    def write_kills(self, kills: dict[str, list[float]]) -> None:
        """Replace the kill record and move its sequence number (call with the lock held)."""
        data = json.dumps(kills).encode("ascii")
        if BLOB + len(data) > SIZE:  # far more clients than MAX_CLIENTS: keep the most recent kills only
            newest = sorted(kills.items(), key=lambda item: item[1][-1], reverse=True)
            data = json.dumps(dict(newest[: len(newest) // 2])).encode("ascii")
        seq, restarts, _ = self._head()
        self.memory[BLOB : BLOB + len(data)] = data
        HEAD.pack_into(self.memory, 0, seq + 1, restarts, len(data))

    def beat(self, slot: int, now: float | None = None) -> None:
        """A worker says it is alive (its event loop runs)."""
        struct.pack_into("<d", self.memory, BEATS + 8 * slot, time.monotonic() if now is None else now)

    def last_beat(self, slot: int) -> float:
        """When the worker in ``slot`` last said it was alive."""
        (when,) = struct.unpack_from("<d", self.memory, BEATS + 8 * slot)
        return float(when)


class SharedKills:
    """A KillRecord that every worker process of the server reads and writes (same ``note``/``wait`` as one)."""

    def __init__(self, state: SharedState, limit: int, window: float) -> None:
        self.state = state
        self.limit = limit
        self.window = window
        self.local = KillRecord(limit, window)
        self.seen = -1

    def _load(self) -> None:
        self.local.kills = {key: deque(times) for key, times in self.state.read_kills().items()}
        self.seen = self.state.sequence

    def note(self, host: str) -> None:
        """``host`` caused a kill now; every worker sees it before this call returns."""
        with self.state.lock:
            self._load()
            self.local.note(host)
            self.state.write_kills({key: list(times) for key, times in self.local.kills.items() if times})
            self.seen = self.state.sequence

    def wait(self, host: str) -> int:
        """Whole seconds until ``host`` may run an ad-hoc query again; 0 when it may now."""
        if self.state.sequence != self.seen:
            with self.state.lock:
                self._load()
        if not self.local.kills:  # (the usual case: no client killed a worker lately; no address to parse)
            return 0
        return self.local.wait(host)
