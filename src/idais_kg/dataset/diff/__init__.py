"""``idais-kg diff OLD NEW``: what changed in the data between two versions, keyed by our stable IRIs.

A version is named by a release (``1.0.0``, from ``data/releases.ttl``), a commit (anything ``git rev-parse``
takes), a dump file (``.nq``, ``.trig``, ``.ttl``, ``.nt``, ``.jsonld``, ``.rdf``, optionally ``.gz``), a
project tree (a folder with ``ontology/`` and ``data/``), or the working tree (``HEAD``, ``.``, ``working``: what
``build`` builds now, uncommitted edits included; to compare git's HEAD commit itself, name it ``HEAD^{commit}``
or by its hash). A release or commit is read through git (its sources exported to a temporary folder) and built
with the current code, so that two versions differ only by their data.

The compared graphs are the content graphs: everything but what the build derives or counts (``derived``,
``description``, ``inferred``, ``store``, ``input``) and the partners' graphs. When one side has no named graphs (a ``.ttl`` or ``.nt``
dump), graphs are ignored on both. Modules: :mod:`.canonical` (blank nodes by content), :mod:`.compare` (the
changes), :mod:`.render` (table, Markdown, JSON, RDF).
"""

from __future__ import annotations

import gzip
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from idais_kg.dataset.assemble import load
from idais_kg.dataset.diff.canonical import Version, read_version
from idais_kg.dataset.diff.compare import Changes, compare
from idais_kg.dataset.releases import (
    ReleaseError,
    export_commit,
    find_release,
    releases,
    resolve_commit,
    version_iri,
)
from idais_kg.errors import RdfSyntaxError
from idais_kg.namespaces import (
    GRAPH_DERIVED,
    GRAPH_DESCRIPTION,
    GRAPH_INFERRED,
    GRAPH_INPUT,
    GRAPH_STORE,
    PARTNER_GRAPH_BASE,
    PARTNER_REGISTRY_GRAPH,
)
from idais_kg.sources.layout import Layout
from idais_kg.store import FORMATS, format_of

__all__ = ["Changes", "Diff", "Side", "diff", "diff_sides", "resolve"]

WORKING_TREE = ("HEAD", ".", "working")
NOT_CONTENT = frozenset({GRAPH_DERIVED, GRAPH_DESCRIPTION, GRAPH_INFERRED, GRAPH_STORE, GRAPH_INPUT})


@dataclass(frozen=True)
class Side:
    """One version to compare: how it was named, what it is, and its quads (content graphs only)."""

    name: str  # as the user gave it
    label: str  # in words: "release 1.0.0 (commit c3de134)", "working tree", "file x.nq"
    quads: tuple[ox.Quad, ...]
    commit: str | None = None
    release_iri: str | None = None  # the dataset's version IRI, for a release

    @property
    def has_graphs(self) -> bool:
        """Whether any of its quads is in a named graph."""
        return any(isinstance(q.graph_name, ox.NamedNode) for q in self.quads)


@dataclass(frozen=True)
class Diff:
    """The changes from ``old`` to ``new``, and both versions' indexes (for labels and the RDF output)."""

    old: Side
    new: Side
    changes: Changes
    before: Version
    after: Version


def content_quads(quads: list[ox.Quad] | tuple[ox.Quad, ...]) -> tuple[ox.Quad, ...]:
    """The quads of the content graphs (and of the default graph)."""
    return tuple(
        q for q in quads if not (isinstance(q.graph_name, ox.NamedNode) and not_content(q.graph_name.value))
    )


def not_content(graph: str) -> bool:
    """A graph the build derives or counts, or a partner's (not our data)."""
    return graph in NOT_CONTENT or graph.startswith(PARTNER_GRAPH_BASE) or graph == PARTNER_REGISTRY_GRAPH


def side_of_layout(layout: Layout, name: str, label: str, **extra: str | None) -> Side:
    """A version built from a tree of sources with the current code."""
    kg = load(layout, with_description=False)
    return Side(name, label, content_quads(list(kg.store.quads())), **extra)


def side_of_file(path: Path, name: str) -> Side:
    """A version read from a dump file (its graphs kept), gzipped or not."""
    inner = path.with_suffix("") if path.suffix == ".gz" else path
    fmt = FORMATS[format_of(inner)]
    try:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        quads = list(ox.parse(data, format=fmt))
    except SyntaxError as exc:
        raise RdfSyntaxError(path, exc.msg, exc.lineno) from None
    except OSError as exc:
        raise RdfSyntaxError(path, exc.strerror or str(exc)) from None
    return Side(name, f"file {path}", content_quads(quads))


def resolve(spec: str, layout: Layout | None = None) -> Side:
    """The version ``spec`` names (see the module's docstring); a ReleaseError when it names none."""
    layout = layout or Layout.default()
    if spec in WORKING_TREE:
        return side_of_layout(layout, spec, "working tree")
    path = Path(spec)
    if path.is_file():
        return side_of_file(path, spec)
    if path.is_dir():
        if not ((path / "ontology").is_dir() and (path / "data").is_dir()):
            raise ReleaseError(f"{spec}: a folder without ontology/ and data/ is no project tree")
        return side_of_layout(Layout(path), spec, f"tree {path}")
    release = find_release(layout, spec)
    commit = release.commit if release else spec
    try:
        full = resolve_commit(layout.root, commit)
    except ReleaseError as exc:
        if release is None:
            raise ReleaseError(
                f"{spec!r} is no release ({', '.join(r.version for r in releases(layout)) or 'none recorded'}),"
                f" dump file, project tree or working tree (HEAD, ., working); as a commit: {exc}"
            ) from None
        raise ReleaseError(f"release {release.version} (commit {release.commit[:12]}): {exc}") from None
    with tempfile.TemporaryDirectory(prefix="idais-kg-diff-") as tmp:
        tree = export_commit(layout.root, full, Path(tmp))
        if release:
            return side_of_layout(
                tree,
                spec,
                f"release {release.version} (commit {full[:7]})",
                commit=full,
                release_iri=version_iri(release.version),
            )
        return side_of_layout(tree, spec, f"commit {full[:7]}", commit=full)


def diff_sides(old: Side, new: Side) -> Diff:
    """The changes between two versions already read."""
    ignore = not (old.has_graphs and new.has_graphs)
    before, after = read_version(old.quads, ignore), read_version(new.quads, ignore)
    return Diff(old, new, compare(before, after), before, after)


def diff(old: str, new: str, layout: Layout | None = None) -> Diff:
    """The changes from version ``old`` to version ``new`` (each a release, commit, dump file or tree)."""
    layout = layout or Layout.default()
    return diff_sides(resolve(old, layout), resolve(new, layout))
