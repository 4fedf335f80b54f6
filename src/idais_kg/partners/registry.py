"""Partner datasets in the persistent store: add (or replace), remove and list them, each as a named graph of its
own with PROV records, and nothing stored unless it passed the check (partners.check) in full.

The store is a directory of versions changed by copy and atomic swap (dataset.versioned). An add parses and checks the
file in a scratch in-memory store while the same triples go into the staging copy on disk, on the other cores
(loader.py); the copy is swapped in only if the check passed, and thrown away otherwise. A verdict that ``partner
check`` remembered for the same bytes, shapes and guide (verdicts.py) spares the re-check and, for a
file that is not N-Triples, the parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.dataset.serving import default_store_dir, fingerprint_quads
from idais_kg.dataset.versioned import (
    InjectedFault,
    change,
    cleanup,
    current,
    fingerprint,
    open_read_only,
    step,
    writer_lock,
)
from idais_kg.errors import PartnerError, PartnerRejected, reason_of
from idais_kg.namespaces import DCTERMS, IDAIS, KG, PARTNER_REGISTRY_GRAPH, PROV, RDF, RDFS, VOID, XSD
from idais_kg.partners import loader, verdicts
from idais_kg.partners.check import (
    CheckReport,
    PartnerFile,
    check,
    check_file,
    graph_of,
    guide_scratch,
    read_partner,
    run_checks,
)
from idais_kg.partners.questions import question
from idais_kg.progress import phase
from idais_kg.sources.layout import Layout
from idais_kg.sources.untrusted import Limits
from idais_kg.validation.shacl import setwise

__all__ = [
    "AddResult",
    "CheckReport",
    "InjectedFault",
    "Partner",
    "add",
    "check",
    "check_and_remember",
    "fingerprint",
    "graph_of",
    "read_partner",
    "registered",
    "remove",
]


def shapes_sha256(layout: Layout) -> str:
    digest = hashlib.sha256()
    for path in sorted((layout.shapes_dir / "partner").rglob("*.ttl")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def check_and_remember(
    path: Path,
    store_dir: Path | None = None,
    kg: KnowledgeGraph | None = None,
    name: str = "check",
    limits: Limits | None = None,
) -> CheckReport:
    """``partner check``: check a file and, when it passes, remember the verdict in the store directory.

    The check never needs to write: where the verdict cannot be kept (a read-only store, a full disk), the report
    says so in a note, and ``partner add`` will check the file again."""
    graph = graph_of(name)
    source = PartnerFile.read(path, limits)  # (refusals first: before the guide is loaded)
    kg = kg or load(with_description=False)
    scratch = guide_scratch(kg)
    report = check_file(source, kg, name, scratch=scratch)
    if report.conforms:
        store_dir = store_dir or default_store_dir()
        ntriples = None if source.verbatim else _ntriples(scratch, ox.NamedNode(graph))
        key = verdicts.key(source, graph, kg.layout)
        try:
            verdicts.remember(store_dir, key, report, ntriples)
        except OSError as exc:
            with contextlib.suppress(OSError):
                verdicts.forget(store_dir, key)  # (never half a verdict)
            report.notes.append(
                f"the verdict was not remembered in {store_dir} ({reason_of(exc)}): "
                "`partner add` will check the file again"
            )
    return report


@dataclass
class AddResult:
    """What one ``partner add`` did to the store, and the check report it rests on (if it checked)."""

    name: str
    status: str  # "added", "replaced" or "unchanged"
    triples: int
    report: CheckReport | None = None  # None when a remembered verdict was used
    rechecked: bool = True


def add(
    name: str,
    path: Path,
    store_dir: Path | None = None,
    *,
    replace: bool = False,
    kg: KnowledgeGraph | None = None,
    limits: Limits | None = None,
    recheck: bool = False,
) -> AddResult:
    """Check ``path`` and put it in the store as partner ``name``'s graph, atomically; the same file twice is a
    no-op. A verdict remembered by ``partner check`` for the same bytes spares the check, unless ``recheck``."""
    store_dir = store_dir or default_store_dir()
    graph = graph_of(name)
    source = PartnerFile.read(path, limits)  # (refusals first: before the guide is loaded)
    kg = kg or load()
    shapes_sha = shapes_sha256(kg.layout)
    with writer_lock(store_dir):
        cleanup(store_dir)
        known = {p.name: p for p in registered(store_dir)} if current(store_dir) else {}
        if name in known and known[name].sha256 == source.sha256 and known[name].shapes_sha256 == shapes_sha:
            return AddResult(name, "unchanged", known[name].triples, rechecked=False)
        if name in known and not replace:
            raise PartnerError(f"partner {name!r} is already in the store; use --replace to replace its data")
        key = verdicts.key(source, graph, kg.layout)
        remembered = None if recheck else verdicts.recall(store_dir, key)
        if remembered is not None and remembered.ntriples is None and not source.verbatim:
            remembered = None  # a record without the checked graph: only the file itself could be loaded
        if remembered is None or remembered.ntriples is None:
            source.scan()  # refuse an unsafe file before anything is copied
        done: list[tuple[int, CheckReport | None]] = []

        def apply(store: ox.Store) -> None:
            g = ox.NamedNode(graph)
            if store.contains_named_graph(g):
                store.remove_graph(g)
            _forget(store, name)
            report: CheckReport | None = None
            big = len(source.raw) > 10_000_000
            if remembered is None:
                with phase(f"parsing and checking {path.name}, and writing it to the store", big):
                    report = _load_checked(source, store, graph, kg)
                triples = report.triples
            else:
                with phase(f"writing {path.name} to the store (as checked before)", big):
                    _load_remembered(source, remembered, store, graph)
                triples = remembered.triples
                step("checked")
            store.extend(registry_quads(name, path.name, source.sha256, shapes_sha, triples))
            done.append((triples, report))

        change(store_dir, apply, lambda: [*kg.store.quads(), *fingerprint_quads(kg.layout)])
        verdicts.forget(store_dir, key)
        ((triples, report),) = done
        return AddResult(name, "replaced" if name in known else "added", triples, report, remembered is None)


def _load_checked(source: PartnerFile, staging: ox.Store, graph: str, kg: KnowledgeGraph) -> CheckReport:
    """Parse and check the file in memory while its triples go into the staging copy on the other cores; raise
    PartnerRejected (the caller throws the copy away) unless it conforms.

    N-Triples goes to disk straight from the file's bytes, from the start; other formats once parsed, as the
    N-Triples of the parsed graph (so a format's own rules, e.g. the graphs a TriG file may name, apply first).
    """
    g = ox.NamedNode(graph)
    scratch = guide_scratch(kg)
    writer: threading.Thread | None = None
    failures: list[BaseException] = []

    def write(data: bytes | Callable[[], bytes]) -> None:
        try:
            loader.load_ntriples(staging, data if isinstance(data, bytes) else data(), g)
        except BaseException as exc:  # re-raised below, in this thread
            failures.append(exc)

    def start(data: bytes | Callable[[], bytes]) -> threading.Thread:
        thread = threading.Thread(target=write, args=(data,), name="staging-writer")
        thread.start()
        return thread

    try:
        if source.verbatim:
            writer = start(source.data)
        triples = source.load_into(scratch, graph)
        if writer is None:
            writer = start(lambda: _ntriples(scratch, g))
        step("loading")  # the staging copy is being written, on another thread
        report = run_checks(scratch, graph, kg, source.path, triples)
    finally:
        if writer is not None:
            writer.join()
    if not report.conforms:
        raise PartnerRejected(
            f"{source.path}: partner data does not conform; nothing was stored\n{report.render()}"
        )
    if failures:
        raise failures[0]
    step("checked")
    return report


def _load_remembered(source: PartnerFile, verdict: verdicts.Verdict, staging: ox.Store, graph: str) -> None:
    """Load a file whose check passed before (same bytes, shapes and guide) into the staging copy: any syntax but
    N-Triples from the N-Triples that the check kept, N-Triples from the file's own bytes."""
    data = verdict.ntriples.read_bytes() if verdict.ntriples is not None else source.data
    loader.load_ntriples(staging, data, ox.NamedNode(graph))


def _ntriples(store: ox.Store, graph: ox.NamedNode) -> bytes:
    """One graph of an in-memory store as N-Triples (1M triples: 1.7 s)."""
    return store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph) or b""  # (bytes: no output was given)


def remove(name: str, store_dir: Path | None = None) -> None:
    """Take partner ``name``'s graph and registry records out of the store, in one atomic swap."""
    store_dir = store_dir or default_store_dir()
    graph = graph_of(name)
    with writer_lock(store_dir):
        cleanup(store_dir)
        if name not in {p.name for p in registered(store_dir)}:
            raise PartnerError(f"no partner {name!r} in the store")

        def apply(store: ox.Store) -> None:
            store.remove_graph(ox.NamedNode(graph))
            _forget(store, name)

        change(store_dir, apply, lambda: ())  # (a partner is registered: there is a version to copy)


@dataclass(frozen=True)
class Partner:
    """One partner as the registry graph records it: when its file was added, the hashes of the file and the
    shapes it passed, and its size.
    """

    name: str
    added: str
    file: str
    sha256: str
    shapes_sha256: str
    triples: int


def registered(store_dir: Path | None = None) -> list[Partner]:
    """The partners of the store, from its registry graph, by name."""
    store_dir = store_dir or default_store_dir()
    if current(store_dir) is None:
        return []
    answer = setwise.select(
        open_read_only(store_dir), question("partner-registry"), reg=ox.NamedNode(PARTNER_REGISTRY_GRAPH)
    )
    return [
        Partner(
            r["name"].value,
            r["added"].value,
            r["file"].value,
            r["sha"].value,
            r["shapes"].value,
            int(r["triples"].value),
        )
        for r in answer
    ]


def registry_quads(name: str, file: str, sha: str, shapes_sha: str, count: int) -> list[ox.Quad]:
    """PROV: the partner's graph was generated by a load activity, by the partner, using the file and the shapes."""
    g = ox.NamedNode(PARTNER_REGISTRY_GRAPH)
    node = ox.NamedNode(graph_of(name))
    base = KG + f"partner/{name}/"
    act, src, shp, agent = (ox.NamedNode(base + n) for n in ("load", "file", "shapes", "agent"))
    now = ox.Literal(datetime.now(UTC).isoformat(timespec="seconds"), datatype=ox.NamedNode(XSD + "dateTime"))
    a, n = ox.NamedNode(RDF + "type"), ox.NamedNode

    def lit(v: str | int) -> ox.Literal:
        return (
            ox.Literal(str(v)) if not isinstance(v, int) else ox.Literal(str(v), datatype=n(XSD + "integer"))
        )

    triples: list[tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal]] = [
        (node, a, n(VOID + "Dataset")), (node, a, n(PROV + "Entity")), (node, n(DCTERMS + "identifier"), lit(name)),
        (node, n(VOID + "triples"), lit(count)), (node, n(PROV + "wasGeneratedBy"), act),
        (node, n(PROV + "wasAttributedTo"), agent), (agent, a, n(PROV + "Agent")), (agent, n(RDFS + "label"), lit(name)),
        (act, a, n(PROV + "Activity")), (act, n(PROV + "endedAtTime"), now), (act, n(PROV + "wasAssociatedWith"), agent),
        (act, n(PROV + "used"), src), (act, n(PROV + "used"), shp),
        (src, a, n(PROV + "Entity")), (src, n(RDFS + "label"), lit(file)), (src, n(IDAIS + "sha256"), lit(sha)),
        (shp, a, n(PROV + "Plan")), (shp, n(IDAIS + "sha256"), lit(shapes_sha)),
    ]  # fmt: skip
    return [ox.Quad(s, p, o, g) for s, p, o in triples]


def _forget(store: ox.Store, name: str) -> None:
    """Remove a partner's records from the registry graph (all their subjects are under .../partner/{name}/)."""
    g = ox.NamedNode(PARTNER_REGISTRY_GRAPH)
    prefix = KG + f"partner/{name}/"
    subjects = {ox.NamedNode(graph_of(name))}
    subjects |= {
        q.subject
        for q in store.quads_for_pattern(None, None, None, g)
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(prefix)
    }
    for s in subjects:
        for q in list(store.quads_for_pattern(s, None, None, g)):
            store.remove(q)


def recheck(store_dir: Path, kg: KnowledgeGraph | None = None) -> list[tuple[Partner, CheckReport]]:
    """Each stored partner graph checked again against today's shapes and guide, as ``partner check`` checks a
    file: in a scratch store of its own beside the guide's types, so that the guide's own blank nodes are never
    taken for the partner's (``validate`` over a store calls this)."""
    kg = kg or load(with_description=False)
    reports = []
    snapshot = open_read_only(store_dir)
    for partner in registered(store_dir):
        graph = graph_of(partner.name)
        scratch = guide_scratch(kg)
        scratch.bulk_extend(snapshot.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        reports.append((partner, run_checks(scratch, graph, kg, Path(partner.file), partner.triples)))
    return reports
