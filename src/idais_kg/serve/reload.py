"""Serving the current partner store: a running ``serve`` notices a new version of the store it serves (after
``partner add``/``remove`` or ``build``) and serves it, without a restart.

The store changes by one atomic rename of its ``current`` link (``dataset.versioned``), so watching where that
link points is enough: a poll twice a second costs one ``readlink``. A new version whose guide is older than the
sources (someone edited ``data/`` and has not run ``build``) is not served: the old one stays, and the log says
why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.dataset.serving import StaleStore, load_store, require_fresh
from idais_kg.dataset.versioned import current
from idais_kg.sources.layout import Layout

log = logging.getLogger(__name__)
POLL = 0.5  # seconds between looks at the store's `current` link


def version_of(store_dir: Path) -> Path | None:
    """The version folder the store's ``current`` link points at now."""
    link = current(store_dir)
    return link.resolve() if link is not None else None


class StoreWatcher:
    """Watches one store and hands each new version's dataset to ``reload`` (a coroutine of the app)."""

    def __init__(
        self,
        app: Any,
        store_dir: Path,
        reload: Callable[[Any, KnowledgeGraph], Awaitable[None]] | None,
    ) -> None:
        self.app = app
        self.store_dir = store_dir
        self.reload = reload
        self.seen = version_of(store_dir)
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching, on the running event loop."""
        self.task = asyncio.get_running_loop().create_task(self.watch())

    async def stop(self) -> None:
        """Stop watching."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def watch(self) -> None:
        """Poll the store; reload on every new version that holds the current guide."""
        while True:
            await asyncio.sleep(POLL)
            if version_of(self.store_dir) == self.seen:
                continue
            kg = await asyncio.to_thread(self.poll)
            if kg is not None and self.reload is not None:
                await self.reload(self.app, kg)

    def poll(self) -> KnowledgeGraph | None:
        """The dataset of a version of the store not seen before, once (None when there is none, or when it
        does not hold the current guide: then the old one stays, and the log says why). Blocking; the
        pre-forked server's supervisor calls it between its rounds."""
        version = version_of(self.store_dir)
        if version is None or version == self.seen:
            return None
        self.seen = version
        try:
            kg = self.load()
        except StaleStore as exc:
            log.warning("not serving the new version of the store: %s", exc)
            return None
        log.warning("serving the new version of the store %s (%s)", self.store_dir, version.name)
        return kg

    def load(self) -> KnowledgeGraph:
        """The dataset of the store's new version, once it is known to hold the guide built from the sources
        this server runs on (else StaleStore).
        """
        layout = Layout.default()
        require_fresh(self.store_dir, layout)
        return load_store(self.store_dir, layout)
