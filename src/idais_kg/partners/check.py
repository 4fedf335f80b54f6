"""Checking a partner file against the guide and shapes/partner/ (``partner check``, and the check inside ``add``).

The file is read once (:class:`PartnerFile`: bounded, scanned for hazards, hashed), parsed into a scratch in-memory
store that also holds the guide's rdf:type triples (:func:`guide_scratch`), and checked there: the partner shapes
(each ONE query, see validation.shacl.setwise), what the shapes cannot say (:func:`own_findings`) and the links
per goal. The checks are independent read-only queries, so they run on a small thread pool: pyoxigraph releases
the GIL while it evaluates (1M triples: 9.1 s -> 4.3 s on two cores).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.errors import EmptyInputError, PartnerError
from idais_kg.namespaces import PARTNER_GRAPH_BASE, RDF, SSSOM
from idais_kg.partners.questions import question
from idais_kg.progress import progress
from idais_kg.sources.sssom_rdf import derive_in
from idais_kg.sources.tables import is_table, read_table
from idais_kg.sources.untrusted import Limits, load_checked, read_bounded, safe_bytes
from idais_kg.store import format_of
from idais_kg.validation.shacl import setwise

TYPE = ox.NamedNode(RDF + "type")
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
TABLE = "table"


def graph_of(name: str) -> str:
    """The named graph of a partner.

    >>> graph_of("fictional-observatory")
    'https://w3id.org/idais-kg/id/graph/partner/fictional-observatory'
    """
    if not NAME.fullmatch(name):
        raise PartnerError(f"partner name {name!r}: use lower-case letters, digits and '-' (at most 63)")
    return PARTNER_GRAPH_BASE + name


@dataclass(frozen=True)
class PartnerFile:
    """A partner file read once (bounded): its bytes, format and sha256. The safety scan that must come before
    parsing (untrusted.safe_bytes) runs when the bytes are first parsed, or by :meth:`scan`, and only once."""

    path: Path
    fmt: str  # a format of store.FORMATS, or TABLE (SSSOM TSV, partner CSV)
    raw: bytes
    sha256: str
    limits: Limits

    @classmethod
    def read(cls, path: Path, limits: Limits | None = None) -> PartnerFile:
        """Read ``path`` within the size limit and tell its format from its suffix; an empty file raises
        EmptyInputError.
        """
        limits = limits or Limits()
        fmt = TABLE if is_table(path) else format_of(path)
        raw = read_bounded(path, limits.max_bytes)
        if not raw:
            raise EmptyInputError(
                path, "empty file (0 bytes): a partner file holds at least its dataset description"
            )
        return cls(path, fmt, raw, hashlib.sha256(raw).hexdigest(), limits)

    @cached_property
    def data(self) -> bytes:
        """The bytes to parse, once they passed the safety checks (raises UnsafeInputError otherwise)."""
        return self.raw if self.fmt == TABLE else safe_bytes(self.path, self.fmt, self.raw, self.limits)

    @property
    def verbatim(self) -> bool:
        """Whether the partner's graph is this file's N-Triples as they are (so the store may load its bytes): not
        for another syntax, nor for SSSOM's RDF form, to which the check adds triples (sources.sssom_rdf.derive_in)."""
        return self.fmt == "ntriples" and b"<" + SSSOM.encode() + b"MappingSet>" not in self.raw

    def scan(self) -> PartnerFile:
        """Run the safety scan now (raises UnsafeInputError), for a refusal before any other work."""
        self.data  # noqa: B018 (the property raises on unsafe input)
        return self

    def load_into(self, store: ox.Store, graph: str) -> int:
        """Parse into ``graph`` of a scratch store (nothing is fetched); the number of triples it holds then."""
        if self.fmt == TABLE:
            store.extend(read_table(self.path, graph, limits=self.limits, data=self.data))
        else:
            load_checked(self.path, self.fmt, self.data, store, graph)
            derive_in(store, graph)  # (SSSOM's RDF form: the direct triples of its reified mappings)
        rows = list(setwise.select(store, question("partner-size"), g=ox.NamedNode(graph)))
        if not rows:  # (the query groups by graph: a graph without triples gives no row)
            raise EmptyInputError(
                self.path, "no triples in the file: a partner file holds at least its dataset description"
            )
        return int(rows[0]["n"].value)


def read_partner(path: Path, graph: str, limits: Limits | None = None) -> list[ox.Quad]:
    """Any partner file (RDF by suffix, or a mapping table) as quads of ``graph``; nothing is fetched."""
    store = ox.Store()
    PartnerFile.read(path, limits).load_into(store, graph)
    return list(store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


@dataclass
class CheckReport:
    """The outcome of checking one partner file: its findings, its links per goal, the time of each step."""

    path: Path
    triples: int
    findings: list[setwise.Finding]
    links_per_goal: list[tuple[str, int]]
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # about the run, not the data (a verdict not kept)

    @property
    def conforms(self) -> bool:
        """Whether no finding is a violation (warnings and infos do not stop a file)."""
        return not any(f.severity == "Violation" for f in self.findings)

    @property
    def exit_code(self) -> int:
        """The exit status of ``partner check``: 0 when the file conforms, 1 otherwise."""
        return 0 if self.conforms else 1

    def render(self) -> str:
        """The report as the CLI prints it: the findings, the links per goal and the verdict."""
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


def guide_scratch(kg: KnowledgeGraph) -> ox.Store:
    """A scratch in-memory store holding what the partner checks read of the guide, its ``rdf:type`` triples
    (which of our resources exist, and of which class), where partner data is parsed and checked. Only those: the
    guide's own blank nodes (RDF lists of our resources) would otherwise be taken for the partner's, since a blank
    node, unlike an IRI, does not say whose it is; and the SHACL data graph is then the one that pySHACL and Jena
    are given in tests/test_partners.py."""
    store = ox.Store()
    store.bulk_extend(q for q in kg.store.quads() if q.predicate == TYPE)
    return store


def check(
    path: Path, kg: KnowledgeGraph | None = None, name: str = "check", limits: Limits | None = None
) -> CheckReport:
    """Read, parse and check a partner file (no store is touched)."""
    start = time.perf_counter()
    source = PartnerFile.read(path, limits)
    return check_file(source, kg, name, read_seconds=time.perf_counter() - start)


def check_file(
    source: PartnerFile,
    kg: KnowledgeGraph | None = None,
    name: str = "check",
    read_seconds: float = 0.0,
    scratch: ox.Store | None = None,
) -> CheckReport:
    """Parse and check a partner file already read (no store is touched). The file is parsed into ``scratch``
    when given (the caller's, to keep), else into a store of its own."""
    kg = kg or load(with_description=False)
    graph = graph_of(name)
    start = time.perf_counter()
    source.scan()
    scanned = time.perf_counter()
    store = scratch if scratch is not None else guide_scratch(kg)
    triples = source.load_into(store, graph)
    parsed = time.perf_counter()
    report = run_checks(store, graph, kg, source.path, triples)
    report.seconds.update(read=read_seconds, scan=scanned - start, parse=parsed - scanned)
    return report


def run_checks(
    store: ox.Store, graph: str, kg: KnowledgeGraph, path: Path, triples: int, threads: int | None = None
) -> CheckReport:
    """Check partner data already loaded into ``graph`` of a scratch ``store`` that holds the guide.

    Findings are kept for the partner's own nodes only (the store may hold other partners too).
    """
    start = time.perf_counter()
    shapes = setwise.Shapes.load(kg.layout.shapes_dir / "partner")
    focus_cache: dict[tuple[tuple[str, str], ...], set[Any]] = {}
    for shape in shapes:  # filled before the pool starts: the threads only read it
        if shape.targets not in focus_cache:
            focus_cache[shape.targets] = setwise.focus_nodes(store, shape)
    g = ox.NamedNode(graph)

    def shape_findings(shape: setwise.Shape) -> list[setwise.Finding]:
        return [
            f
            for f in setwise.validate(store, [shape], focus_cache)
            if next(iter(store.quads_for_pattern(node_of(f.focus), None, None, g)), None) is not None
        ]

    tasks: list[Callable[[], Any]] = [lambda s=s: shape_findings(s) for s in shapes]  # type: ignore[misc]
    tasks += [lambda: own_findings(store, graph), lambda: links_per_goal(store, graph)]
    results: dict[int, Any] = {}
    with ThreadPoolExecutor(threads or min(len(tasks), os.cpu_count() or 1)) as pool:
        futures = {pool.submit(task): i for i, task in enumerate(tasks)}
        for done in progress(
            as_completed(futures), f"checking {path.name}", total=len(tasks), show=triples > 100_000
        ):
            results[futures[done]] = done.result()
    findings = [f for i in range(len(tasks) - 1) for f in results[i]]
    nearest: dict[str, str | None] = {}
    for f in findings:
        if f.shape.endswith("PartnerLinkTargetExists") and f.value:
            f.hint = nearest.setdefault(f.value, kg.nearest(f.value))
    findings.sort(key=lambda f: (f.severity != "Violation", f.focus, f.message))
    seconds = {"check": time.perf_counter() - start}
    return CheckReport(path, triples, findings, results[len(tasks) - 1], seconds)


def node_of(focus: str) -> ox.NamedNode | ox.BlankNode:
    """The node a finding's focus names: an IRI, or a blank node's identifier (which never holds a ':').

    >>> node_of("https://example.org/x"), node_of("c0ffee")
    (<NamedNode value=https://example.org/x>, <BlankNode value=c0ffee>)
    """
    return ox.NamedNode(focus) if ":" in focus else ox.BlankNode(focus)


def own_findings(store: ox.Store, graph: str) -> list[setwise.Finding]:
    """What the shapes cannot say about one partner's graph: it describes a dataset, and none of our resources."""
    g = ox.NamedNode(graph)
    out: list[setwise.Finding] = []
    datasets = setwise.select(store, question("partner-dataset"), g=g)
    if not list(datasets):
        out.append(
            setwise.Finding(
                "Violation",
                "(file)",
                "no dataset description (a dcat:Dataset or void:Dataset)",
                "own:dataset",
            )
        )
    ours = setwise.select(store, question("partner-describes-ours"), g=g)
    out += [
        setwise.Finding(
            "Violation",
            row["s"].value,
            "a partner may not describe a resource of the IDAIS graph",
            "own:namespace",
        )
        for row in ours
    ]
    return out


def links_per_goal(store: ox.Store, graph: str) -> list[tuple[str, int]]:
    """Every goal with the number of the partner's triples that point at it (zero included)."""
    answer = setwise.select(store, question("partner-links-per-goal"), g=ox.NamedNode(graph))
    return [(row["goal"].value, int(row["n"].value)) for row in answer]
