"""What the tools read: the persistent store (guide and partners) when there is one, else the guide assembled
in memory. ``serve``, ``publish`` and the CLI's queries make that choice here, and only here.

The store holds a copy of the guide beside the partners' graphs, so it records which build of the sources that
copy is (their fingerprint, in the graph ``id/graph/store``). A store whose copy is older than the sources is
refused, saying to run ``idais-kg build``, which replaces the guide's graphs in one atomic change and keeps the
partners: an edit of ``data/guide/`` can no longer be silently missing from what is served.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.dataset.versioned import change, current, open_read_only, writer_lock
from idais_kg.errors import PartnerError
from idais_kg.namespaces import GRAPH_STORE, IDAIS, PARTNER_GRAPH_BASE, PARTNER_REGISTRY_GRAPH
from idais_kg.sources.layout import Layout

SOURCES_SHA256 = ox.NamedNode(IDAIS + "sourcesSha256")
STORE_GRAPH = ox.NamedNode(GRAPH_STORE)


class StaleStore(PartnerError):
    """The store's copy of the guide was built from other sources than the ones here."""


def default_store_dir() -> Path:
    """Where the persistent store lives when no folder is given: ``store/`` in the default build folder."""
    return Layout.default().build_dir / "store"


def load_store(store_dir: Path, layout: Layout | None = None) -> KnowledgeGraph:
    """The persistent store's dataset (guide and partners) as an in-memory KnowledgeGraph (e.g. for serve)."""
    from idais_kg.sources.queries import QueryRegistry
    from idais_kg.store import Store

    layout = layout or Layout.default()
    snapshot = Store()
    # (the store's record of its guide's sources is the store's own business, not part of the dataset served)
    quads = open_read_only(store_dir).quads_for_pattern(None, None, None, None)
    snapshot.add_all(q for q in quads if q.graph_name != STORE_GRAPH)
    return KnowledgeGraph(store=snapshot, layout=layout, queries=QueryRegistry(layout.queries_dir))


def serving_graph(store_dir: Path | None = None, layout: Layout | None = None) -> KnowledgeGraph:
    """What ``serve`` serves: the persistent store (guide and partners) when there is one, else the guide. A
    ``store_dir`` given explicitly must hold a store (see :func:`require_store`); a store whose guide is older
    than the sources is refused (StaleStore)."""
    layout = layout or Layout.default()
    if store_dir is None:
        store_dir = layout.build_dir / "store"
        if current(store_dir) is None:
            return load(layout)
    require_fresh(require_store(store_dir), layout)
    return load_store(store_dir, layout)


def guide_fingerprint(store_dir: Path) -> str | None:
    """The fingerprint of the sources the store's guide graphs were built from (None if it says none)."""
    quads = open_read_only(store_dir).quads_for_pattern(None, SOURCES_SHA256, None, STORE_GRAPH)
    values = [q.object.value for q in quads if isinstance(q.object, ox.Literal)]
    return values[0] if values else None


def require_fresh(store_dir: Path, layout: Layout) -> None:
    """Refuse a store whose guide graphs hold another build of the sources than ``layout``'s."""
    if guide_fingerprint(store_dir) != layout.fingerprint():
        raise StaleStore(
            f"the partner store {store_dir} holds the guide as built from other sources than those in "
            f"{layout.root}: run `idais-kg build` to bring its guide up to date (the partners are kept)"
        )


def fingerprint_quads(layout: Layout) -> list[ox.Quad]:
    """The record of which sources a store's guide graphs come from (added wherever they are written)."""
    literal = ox.Literal(layout.fingerprint())
    return [ox.Quad(STORE_GRAPH, SOURCES_SHA256, literal, STORE_GRAPH)]


def kept(graph: str) -> bool:
    """Whether a graph of the store survives a new build of the guide: the partners' graphs and their registry."""
    return graph.startswith(PARTNER_GRAPH_BASE) or graph == PARTNER_REGISTRY_GRAPH


def refresh_guide(store_dir: Path, layout: Layout | None = None) -> int:
    """Replace the guide's graphs of the store with a new build of the sources, in one atomic change; the
    partners' graphs and their registry are kept. Returns the number of partner graphs kept."""
    layout = layout or Layout.default()
    guide = load(layout)
    partner_graphs: list[str] = []

    def apply(store: ox.Store) -> None:
        for graph in list(store.named_graphs()):
            if isinstance(graph, ox.NamedNode) and kept(graph.value):
                partner_graphs.append(graph.value)
            else:
                store.remove_graph(graph)
        store.bulk_extend([*guide.store.quads(), *fingerprint_quads(layout)])

    with writer_lock(store_dir):
        change(store_dir, apply, lambda: ())
    return len([g for g in partner_graphs if g.startswith(PARTNER_GRAPH_BASE)])


def require_store(store_dir: Path) -> Path:
    """``store_dir``, if it holds a partner store (a ``current`` version); else a PartnerError naming it."""
    if current(store_dir) is None:
        if not store_dir.is_dir():
            raise PartnerError(f"no partner store at {store_dir}: no such folder")
        raise PartnerError(
            f"no partner store in {store_dir}: the folder has no `current` version (`partner add` makes one)"
        )
    return store_dir
