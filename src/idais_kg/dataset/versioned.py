"""The persistent store as a directory of versions, changed by copy, change and one atomic rename.

A store directory (default ``build/store/``)::

    current -> v-<uuid>/     the pyoxigraph (RocksDB) store that readers open, read-only
    v-<uuid>/                older versions are deleted after a successful swap
    .staging-*/              a change being made; left over only by a crash, removed next time
    .lock                    serialises writers (flock)
    .checks/                 verdicts of passed partner checks (partners.verdicts), not data

A change never writes to the current version. It copies the current version with RocksDB's checkpoint
(``Store.backup``: hard links, so the copy costs O(files), not O(data)), applies the change to the copy, flushes
and closes it, and then swaps the ``current`` symlink with one ``rename`` (atomic on POSIX). A crash or a failure
at any step before the rename leaves ``current`` as it was; after it, the new version is complete. The named
points of :func:`step` let the tests kill or fail the process at each step (``IDAIS_KG_TEST_STEP``, active only
when that variable is set).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import os
import shutil
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from idais_kg.errors import IdaisError, PartnerError, StoreWriteError, reason_of

CURRENT = "current"


def step(point: str) -> None:
    """A named point of a change, where the tests may kill (``pause``) or fail (``fail``) the process."""
    spec = os.environ.get("IDAIS_KG_TEST_STEP")
    if not spec:
        return
    action, _, where = spec.partition(":")
    if where != point:
        return
    if action == "fail":
        raise InjectedFault(f"injected failure at {point}")
    if action == "pause":
        print(f"paused at {point}", file=sys.stderr, flush=True)
        time.sleep(3600)


class InjectedFault(IdaisError):
    """The failure a test asks for at a named :func:`step` (``IDAIS_KG_TEST_STEP=fail:<point>``)."""

    exit_code = 3


@contextlib.contextmanager
def writer_lock(store_dir: Path) -> Iterator[None]:
    """Hold the store's writer lock; a store that cannot be written (read-only, on a path that is not a folder) is
    a StoreWriteError here, before anything else is tried."""
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
        handle = (store_dir / ".lock").open("a")
    except OSError as exc:
        raise StoreWriteError(store_dir, reason_of(exc)) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current(store_dir: Path) -> Path | None:
    """The ``current`` link of the store, if it points at a version folder; None for a store not made yet."""
    link = store_dir / CURRENT
    return link if link.is_symlink() and link.resolve().is_dir() else None


def open_read_only(store_dir: Path) -> ox.Store:
    """The current version opened read-only, as readers see it while a writer changes a copy."""
    path = current(store_dir)
    if path is None:
        raise PartnerError(f"no partner store at {store_dir} (add a partner first)")
    return ox.Store.read_only(str(path))


def cleanup(store_dir: Path) -> None:
    """Remove what a crash left: staging copies and versions that ``current`` does not point at."""
    live = current(store_dir)
    keep = live.resolve().name if live else None
    for entry in store_dir.iterdir():
        if entry.name.startswith((".staging-", "v-")) and entry.name != keep and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(".current-"):
            entry.unlink(missing_ok=True)


def change(store_dir: Path, apply: Callable[[ox.Store], None], seed: Callable[[], Iterable[ox.Quad]]) -> None:
    """Copy the current version (or start one from ``seed()`` quads), ``apply`` a change to the copy, and swap it
    in with one rename. Call it holding :func:`writer_lock`.

    Any failure before the swap (an error of ``apply``, a full disk, a file-size limit) removes what was written
    and leaves ``current`` as it was; operating-system errors are raised as StoreWriteError.
    """
    token = uuid.uuid4().hex
    staging, version = store_dir / f".staging-{token}", store_dir / f"v-{token}"
    link = store_dir / f".current-{token}"
    new: ox.Store | None = None
    try:
        live = current(store_dir)
        if live is not None:
            ox.Store.read_only(str(live)).backup(str(staging))
        step("copied")
        new = ox.Store(str(staging))
        if live is None:
            new.bulk_extend(seed())
        apply(new)
        step("applied")
        new.flush()
        new = None  # closes the RocksDB database
        step("flushed")
        staging.rename(version)
        link.symlink_to(version.name)
        step("linked")
        os.replace(link, store_dir / CURRENT)  # the one atomic step
    except BaseException as exc:
        # The staging store must be closed before its folder goes, and the frames of the traceback still hold it
        # (``apply``'s argument): clear them, or RocksDB writes into the folder while it is being removed. A
        # SIGKILL leaves all this to cleanup() of the next command.
        new = None
        traceback.clear_frames(exc.__traceback__)
        gc.collect()
        for folder in (staging, version):
            shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            link.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StoreWriteError(store_dir, reason_of(exc)) from exc
        raise
    try:
        fsync_dir(store_dir)
    except OSError as exc:
        raise PartnerError(
            f"the partner store {store_dir} was changed, but syncing it failed: {reason_of(exc)}"
        ) from exc
    step("swapped")
    cleanup(store_dir)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries to disk, so the renamed ``current`` link survives a power loss."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fingerprint(store_dir: Path) -> str:
    """A hash of the current version's content (sorted N-Quads), to compare states of the store."""
    path = current(store_dir)
    if path is None:
        return "empty"
    store = ox.Store.read_only(str(path))
    lines = sorted(str(q) for q in store.quads_for_pattern(None, None, None, None))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
