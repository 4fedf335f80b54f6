"""Partner datasets: check them against the guide and shapes/partner/, and keep them in the persistent store.

The persistent store (default ``build/store/``) is a directory of versions with a ``current`` symlink::

    build/store/current -> v-<uuid>/     the pyoxigraph (RocksDB) store that readers open, read-only
    build/store/v-<uuid>/                 older versions are deleted after a successful swap
    build/store/.staging-*/              a change being made; left over only by a crash, removed next time
    build/store/.lock                    serialises writers (flock)

A change (add, replace, remove) never writes to the current version. It parses and checks the input first (any
error: nothing happened), copies the current version with RocksDB's checkpoint (``Store.backup``: hard links, so
the copy costs O(files), not O(data)), applies the change to the copy, flushes and closes it, and then swaps the
``current`` symlink with one ``rename`` (atomic on POSIX). A crash or a failure at any step before the rename
leaves ``current`` as it was; after it, the new version is complete. The named points of :func:`_step` let the
tests kill or fail the process at each step (``IDAIS_KG_TEST_STEP``, active only when that variable is set).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from idais_kg import sparql_shapes
from idais_kg.errors import IdaisError, PartnerError, PartnerRejected
from idais_kg.graph import KnowledgeGraph, load
from idais_kg.inputs import Limits, load_untrusted, parse_untrusted
from idais_kg.mappings import is_table, read_table
from idais_kg.namespaces import (
    BASE,
    DCAT,
    DCTERMS,
    IDAIS,
    KG,
    PARTNER_GRAPH_BASE,
    PARTNER_REGISTRY_GRAPH,
    PROV,
    RDF,
    RDFS,
    VOID,
    XSD,
)
from idais_kg.progress import progress
from idais_kg.project import Layout

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
CURRENT = "current"


def graph_of(name: str) -> str:
    """The named graph of a partner.

    >>> graph_of("fictional-observatory")
    'https://w3id.org/idais-kg/id/graph/partner/fictional-observatory'
    """
    if not NAME.fullmatch(name):
        raise PartnerError(f"partner name {name!r}: use lower-case letters, digits and '-' (at most 63)")
    return PARTNER_GRAPH_BASE + name


# ---------------------------------------------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class CheckReport:
    path: Path
    triples: int
    findings: list[sparql_shapes.Finding]
    links_per_goal: list[tuple[str, int]]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def conforms(self) -> bool:
        return not any(f.severity == "Violation" for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 0 if self.conforms else 1

    def render(self) -> str:
        out = [f"{self.path}: {self.triples} triples"]
        for f in self.findings:
            hint = f" (did you mean <{f.hint}>?)" if f.hint else ""
            out.append(f"  {f.severity}: <{f.focus}> {f.message}{hint}  [{f.shape.rsplit('#', 1)[-1]}]")
        out.append("links per goal:")
        out += [f"  {n:>7}  {goal}" for goal, n in self.links_per_goal]
        violations = sum(f.severity == "Violation" for f in self.findings)
        verdict = "conforms" if self.conforms else "does NOT conform"
        out.append(f"{verdict}: {violations} violations, {len(self.findings) - violations} warnings/infos")
        return "\n".join(out)


def read_partner(path: Path, graph: str, limits: Limits | None = None) -> list[ox.Quad]:
    """Any partner file (RDF by suffix, or a mapping table) as quads of ``graph``; nothing is fetched."""
    limits = limits or Limits()
    return (
        read_table(path, graph, limits=limits)
        if is_table(path)
        else parse_untrusted(path, graph, limits=limits)
    )


def load_partner(path: Path, store: ox.Store, graph: str, limits: Limits | None = None) -> int:
    """Load any partner file into ``graph`` of a scratch store (see inputs.load_untrusted); return its size."""
    limits = limits or Limits()
    if is_table(path):
        store.extend(read_table(path, graph, limits=limits))
    else:
        load_untrusted(path, store, graph, limits=limits)
    (row,) = sparql_shapes.select(
        store, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", g=ox.NamedNode(graph)
    )
    return int(row["n"].value)


def check(
    path: Path, kg: KnowledgeGraph | None = None, name: str = "check", limits: Limits | None = None
) -> CheckReport:
    """Parse a partner file and check it against the guide and the partner shapes (no store is touched)."""
    kg = kg or load(with_description=False)
    store = ox.Store()
    store.bulk_extend(kg.store.quads())
    return check_in(store, path, kg, graph_of(name), limits)


def check_in(
    store: ox.Store, path: Path, kg: KnowledgeGraph, graph: str, limits: Limits | None = None
) -> CheckReport:
    """Load a partner file into ``graph`` of a scratch ``store`` that holds the guide, and check it there.

    Findings are kept for the partner's own nodes only (the store may hold other partners too).
    """
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    triples = load_partner(path, store, graph, limits)
    seconds["parse"] = time.perf_counter() - start
    start = time.perf_counter()
    findings = own_findings(store, graph)
    shapes = sparql_shapes.Shapes.load(kg.layout.shapes_dir / "partner")
    focus_cache: dict[tuple[tuple[str, str], ...], set[Any]] = {}
    g = ox.NamedNode(graph)
    for shape in progress(shapes, f"checking {path.name}", total=len(shapes), show=triples > 100_000):
        findings += [
            f
            for f in sparql_shapes.validate(store, [shape], focus_cache)
            if next(iter(store.quads_for_pattern(ox.NamedNode(f.focus), None, None, g)), None) is not None
        ]
    nearest: dict[str, str | None] = {}
    for f in findings:
        if f.shape.endswith("PartnerLinkTargetExists") and f.value:
            f.hint = nearest.setdefault(f.value, kg.nearest(f.value))
    findings.sort(key=lambda f: (f.severity != "Violation", f.focus, f.message))
    seconds["check"] = time.perf_counter() - start
    return CheckReport(path, triples, findings, links_per_goal(store, graph), seconds)


def own_findings(store: ox.Store, graph: str) -> list[sparql_shapes.Finding]:
    """What the shapes cannot say about one partner's graph: it describes a dataset, and none of our resources."""
    g = ox.NamedNode(graph)
    out: list[sparql_shapes.Finding] = []
    datasets = sparql_shapes.select(
        store,
        "SELECT ?g ?d WHERE { GRAPH ?g { ?d a ?c } VALUES ?c { <"
        + DCAT
        + "Dataset> <"
        + VOID
        + "Dataset> } } LIMIT 1",
        g=g,
    )
    if not list(datasets):
        out.append(
            sparql_shapes.Finding(
                "Violation",
                "(file)",
                "no dataset description (a dcat:Dataset or void:Dataset)",
                "own:dataset",
            )
        )
    ours = sparql_shapes.select(
        store,
        "SELECT DISTINCT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } FILTER (isIRI(?s) && STRSTARTS(STR(?s), STR(<"
        + BASE
        + ">))) } ORDER BY ?s",
        g=g,
    )
    out += [
        sparql_shapes.Finding(
            "Violation",
            row["s"].value,
            "a partner may not describe a resource of the IDAIS graph",
            "own:namespace",
        )
        for row in ours
    ]
    return out


DATASET_CLASSES = {DCAT + "Dataset", VOID + "Dataset"}


def links_per_goal(store: ox.Store, graph: str) -> list[tuple[str, int]]:
    """Every goal with the number of the partner's triples that point at it (zero included)."""
    answer = sparql_shapes.select(
        store,
        "SELECT ?g ?goal (COUNT(?s) AS ?n) WHERE { ?goal a <" + IDAIS + "Goal> "
        "OPTIONAL { GRAPH ?g { ?s ?p ?goal } } } GROUP BY ?g ?goal ORDER BY ?goal",
        g=ox.NamedNode(graph),
    )
    return [(row["goal"].value, int(row["n"].value)) for row in answer]


# ---------------------------------------------------------------------------------------------------------------
# the persistent store
# ---------------------------------------------------------------------------------------------------------------


def default_store_dir() -> Path:
    return Layout.default().build_dir / "store"


def _step(point: str) -> None:
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
    exit_code = 3


@contextlib.contextmanager
def _writer_lock(store_dir: Path) -> Iterator[None]:
    store_dir.mkdir(parents=True, exist_ok=True)
    with (store_dir / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current(store_dir: Path) -> Path | None:
    link = store_dir / CURRENT
    return link if link.is_symlink() and link.resolve().is_dir() else None


def open_read_only(store_dir: Path) -> ox.Store:
    path = current(store_dir)
    if path is None:
        raise PartnerError(f"no partner store at {store_dir} (add a partner first)")
    return ox.Store.read_only(str(path))


def _cleanup(store_dir: Path) -> None:
    """Remove what a crash left: staging copies and versions that ``current`` does not point at."""
    live = current(store_dir)
    keep = live.resolve().name if live else None
    for entry in store_dir.iterdir():
        if entry.name.startswith((".staging-", "v-")) and entry.name != keep and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(".current-"):
            entry.unlink(missing_ok=True)


def _change(store_dir: Path, apply: object, kg: KnowledgeGraph | None) -> None:
    """Copy the current version, apply ``apply(store)`` to the copy, and swap it in with one rename."""
    staging = store_dir / f".staging-{uuid.uuid4().hex}"
    try:
        live = current(store_dir)
        if live is not None:
            ox.Store.read_only(str(live)).backup(str(staging))
        _step("copied")
        new = ox.Store(str(staging))
        if live is None:
            kg = kg or load()
            new.bulk_extend(kg.store.quads())
        apply(new)  # type: ignore[operator]
        _step("applied")
        new.flush()
        del new  # closes the RocksDB database
        _step("flushed")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # (a SIGKILL leaves it to _cleanup of the next command)
        raise
    version = store_dir / f"v-{uuid.uuid4().hex}"
    staging.rename(version)
    link = store_dir / f".current-{uuid.uuid4().hex}"
    link.symlink_to(version.name)
    _step("linked")
    os.replace(link, store_dir / CURRENT)  # the one atomic step
    _fsync_dir(store_dir)
    _step("swapped")
    _cleanup(store_dir)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shapes_sha256(layout: Layout) -> str:
    digest = hashlib.sha256()
    for path in sorted((layout.shapes_dir / "partner").rglob("*.ttl")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@dataclass
class AddResult:
    name: str
    status: str  # "added", "replaced" or "unchanged"
    triples: int
    report: CheckReport | None = None


def add(
    name: str,
    path: Path,
    store_dir: Path | None = None,
    *,
    replace: bool = False,
    kg: KnowledgeGraph | None = None,
    limits: Limits | None = None,
) -> AddResult:
    """Check ``path`` and put it in the store as partner ``name``'s graph, atomically; the same file twice is a no-op."""
    store_dir = store_dir or default_store_dir()
    graph = graph_of(name)
    kg = kg or load()
    sha, shapes_sha = file_sha256(path), shapes_sha256(kg.layout)
    with _writer_lock(store_dir):
        _cleanup(store_dir)
        known = {p.name: p for p in registered(store_dir)} if current(store_dir) else {}
        if name in known and known[name].sha256 == sha and known[name].shapes_sha256 == shapes_sha:
            return AddResult(name, "unchanged", known[name].triples)
        if name in known and not replace:
            raise PartnerError(f"partner {name!r} is already in the store; use --replace to replace its data")
        # The file is parsed once, into an in-memory copy of the guide where the check runs (measured 5-10x faster
        # than querying an on-disk copy); the staging copy then takes the checked quads from there, with the bulk
        # loader (no second scan or parse of the file).
        scratch = ox.Store()
        scratch.bulk_extend(kg.store.quads())
        report = check_in(scratch, path, kg, graph, limits)
        if not report.conforms:
            raise PartnerRejected(
                f"{path}: partner data does not conform; nothing was stored\n{report.render()}"
            )
        _step("checked")
        g = ox.NamedNode(graph)

        def apply(store: ox.Store) -> None:
            if store.contains_named_graph(g):
                store.remove_graph(g)
            _forget(store, name)
            store.bulk_extend(scratch.quads_for_pattern(None, None, None, g))
            store.extend(registry_quads(name, path.name, sha, shapes_sha, report.triples))

        _change(store_dir, apply, kg)
        return AddResult(name, "replaced" if name in known else "added", report.triples, report)


def remove(name: str, store_dir: Path | None = None) -> None:
    store_dir = store_dir or default_store_dir()
    graph = graph_of(name)
    with _writer_lock(store_dir):
        _cleanup(store_dir)
        if name not in {p.name for p in registered(store_dir)}:
            raise PartnerError(f"no partner {name!r} in the store")

        def apply(store: ox.Store) -> None:
            store.remove_graph(ox.NamedNode(graph))
            _forget(store, name)

        _change(store_dir, apply, None)


@dataclass(frozen=True)
class Partner:
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
    store = open_read_only(store_dir)
    answer = sparql_shapes.select(
        store,
        "SELECT ?reg ?name ?added ?file ?sha ?shapes ?triples WHERE { GRAPH ?reg { "
        "?g a <" + VOID + "Dataset> ; <" + DCTERMS + "identifier> ?name ; <" + VOID + "triples> ?triples ; "
        "<" + PROV + "wasGeneratedBy> ?act . ?act <" + PROV + "endedAtTime> ?added ; "
        "<" + PROV + "used> ?src , ?shp . ?src <" + RDFS + "label> ?file ; <" + IDAIS + "sha256> ?sha . "
        "?shp <" + IDAIS + "sha256> ?shapes ; a <" + PROV + "Plan> } } ORDER BY ?name",
        reg=ox.NamedNode(PARTNER_REGISTRY_GRAPH),
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


def fingerprint(store_dir: Path) -> str:
    """A hash of the current version's content (sorted N-Quads), to compare states of the store."""
    path = current(store_dir)
    if path is None:
        return "empty"
    store = ox.Store.read_only(str(path))
    lines = sorted(str(q) for q in store.quads_for_pattern(None, None, None, None))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def load_store(store_dir: Path, layout: Layout | None = None) -> KnowledgeGraph:
    """The persistent store's dataset (guide and partners) as an in-memory KnowledgeGraph (e.g. for serve)."""
    from idais_kg.queries import QueryRegistry
    from idais_kg.store import Store

    layout = layout or Layout.default()
    snapshot = Store()
    snapshot.add_all(open_read_only(store_dir).quads_for_pattern(None, None, None, None))
    return KnowledgeGraph(store=snapshot, layout=layout, queries=QueryRegistry(layout.queries_dir))


def serving_graph(store_dir: Path | None = None) -> KnowledgeGraph:
    """What ``serve`` serves: the persistent store (guide and partners) when there is one, else the guide."""
    store_dir = store_dir or default_store_dir()
    return load_store(store_dir) if current(store_dir) else load()
