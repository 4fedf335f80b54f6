"""What the tools read: the persistent store (guide and partners) when there is one, else the guide assembled
in memory. ``serve``, ``publish`` and the CLI's queries make that choice here, and only here."""

from __future__ import annotations

from pathlib import Path

from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.dataset.versioned import current, open_read_only
from idais_kg.errors import PartnerError
from idais_kg.sources.layout import Layout


def default_store_dir() -> Path:
    return Layout.default().build_dir / "store"


def load_store(store_dir: Path, layout: Layout | None = None) -> KnowledgeGraph:
    """The persistent store's dataset (guide and partners) as an in-memory KnowledgeGraph (e.g. for serve)."""
    from idais_kg.sources.queries import QueryRegistry
    from idais_kg.store import Store

    layout = layout or Layout.default()
    snapshot = Store()
    snapshot.add_all(open_read_only(store_dir).quads_for_pattern(None, None, None, None))
    return KnowledgeGraph(store=snapshot, layout=layout, queries=QueryRegistry(layout.queries_dir))


def serving_graph(store_dir: Path | None = None) -> KnowledgeGraph:
    """What ``serve`` serves: the persistent store (guide and partners) when there is one, else the guide. A
    ``store_dir`` given explicitly must hold a store (see :func:`require_store`)."""
    if store_dir is not None:
        return load_store(require_store(store_dir))
    store_dir = default_store_dir()
    return load_store(store_dir) if current(store_dir) else load()


def require_store(store_dir: Path) -> Path:
    """``store_dir``, if it holds a partner store (a ``current`` version); else a PartnerError naming it."""
    if current(store_dir) is None:
        if not store_dir.is_dir():
            raise PartnerError(f"no partner store at {store_dir}: no such folder")
        raise PartnerError(
            f"no partner store in {store_dir}: the folder has no `current` version (`partner add` makes one)"
        )
    return store_dir
