"""``idais-kg validate``: SHACL shapes, the *-violation.rq queries and OWL reasoning, in one report.

Exit codes: 0 conforms (warnings and infos allowed), 1 violations or an inconsistency, 2 unreadable input or a tool
failure. One inference mode, none: SHACL runs on the data as asserted (plus the ontology for class hierarchy), since
inference changes SHACL's results.

SHACL runs on ``idais_kg.validation.shacl.engine`` (pyoxigraph; ~0.3 s on the guide) by default; ``engine="pyshacl"``
runs the reference engine (~50 s), which the tests use for the shape cases and which must agree with it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

import pyoxigraph as ox
import rdflib

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.errors import IdaisError
from idais_kg.namespaces import GRAPH_INPUT, GRAPH_ONTOLOGY, SH
from idais_kg.sources.untrusted import parse_untrusted
from idais_kg.store import Store, parse_file
from idais_kg.validation import hermit
from idais_kg.validation.questions import question
from idais_kg.validation.report import RENDERERS, SEVERITIES, Finding, Report
from idais_kg.validation.shacl import engine, shapes
from idais_kg.validation.shacl.data import Index

__all__ = ["RENDERERS", "Finding", "Report", "ToolError", "validate"]
SHN = rdflib.Namespace(SH)


class ToolError(IdaisError):
    """A SHACL engine refused or failed on the shapes: one line for the CLI, exit code 2."""

    exit_code = 2


def load_shapes(shapes_dir: Path) -> rdflib.Graph:
    """All shapes files, recursively (partner shapes included), as one graph."""
    shapes = rdflib.Graph()
    for path in sorted(shapes_dir.rglob("*.ttl")):
        shapes.parse(path, format="turtle")
    return shapes


def to_rdflib(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    data = (
        ox.serialize(
            sorted({ox.Triple(q.subject, q.predicate, q.object) for q in quads}, key=str),
            format=ox.RdfFormat.N_TRIPLES,
        )
        or b""
    )
    graph = rdflib.Graph()
    graph.parse(data=data, format="nt")
    return graph


def locate(store: Store, focus: str) -> tuple[int, int] | None:
    """The source lines of a resource, or of the resource whose document it is part of (``…#c1`` -> ``…``)."""
    for iri in (focus, focus.split("#", 1)[0]):
        for row in store.query(question("source-lines"), {"r": ox.NamedNode(iri)}):
            return int(row["s"].value), int(row["e"].value)
    return None


def shape_triples(shapes_dir: Path) -> list[ox.Quad]:
    """All shapes files, recursively (partner shapes included), parsed by pyoxigraph."""
    quads: list[ox.Quad] = []
    for path in sorted(shapes_dir.rglob("*.ttl")):
        quads += parse_file(path)
    return quads


def read_shapes(shapes_dir: Path) -> shapes.Shapes:
    """The shapes of ``shapes_dir`` as the engine reads them (refusing what it does not implement)."""
    try:
        return shapes.Shapes(shape_triples(shapes_dir))
    except shapes.UnsupportedShapes as exc:
        raise ToolError(f"SHACL engine: {exc} (run with the pyshacl engine)") from None


def fast_shacl_findings(quads: list[ox.Quad], graph: shapes.Shapes) -> tuple[list[Finding], Index]:
    """SHACL on idais_kg.validation.shacl.engine; the data graph is the union of all graphs, the ontology included (the
    class hierarchy), as pySHACL's ``ont_graph`` mixes it in. Also the data graph as the engine read it."""
    run = engine.Validator(quads, graph)
    try:
        results = run.run()
    except shapes.UnsupportedShapes as exc:
        raise ToolError(f"SHACL engine: {exc} (run with the pyshacl engine)") from None
    findings = [
        Finding(
            severity=r.severity.rsplit("#", 1)[-1],
            focus=r.focus.value,
            message=r.message,
            source=r.shape.value,
            path=r.path.value if isinstance(r.path, ox.NamedNode) else None,
            value=r.value.value if r.value is not None else None,
            result=r,
        )
        for r in dict.fromkeys(results)  # a result reached twice is reported once
    ]
    return findings, cast(Index, run.data)


def shacl_findings(data: rdflib.Graph, ontology: rdflib.Graph, shapes: rdflib.Graph) -> list[Finding]:
    import pyshacl  # the reference engine, imported only when asked for (it costs 0.25 s to import)
    import pyshacl.errors

    try:
        _, results, _ = pyshacl.validate(
            data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True, allow_warnings=True
        )
    except pyshacl.errors.ReportableRuntimeError as exc:
        raise ToolError(f"SHACL engine failed on the shapes: {exc.message}") from None
    findings = []
    for result in results.subjects(rdflib.RDF.type, SHN.ValidationResult):
        severity = str(results.value(result, SHN.resultSeverity)).rsplit("#", 1)[-1]
        path = results.value(result, SHN.resultPath)
        value = results.value(result, SHN.value)
        findings.append(
            Finding(
                severity=severity,
                focus=str(results.value(result, SHN.focusNode)),
                message=str(results.value(result, SHN.resultMessage) or ""),
                source=str(results.value(result, SHN.sourceShape)),
                path=str(path) if isinstance(path, rdflib.URIRef) else None,
                value=str(value) if value is not None else None,
            )
        )
    return findings


def query_findings(kg: KnowledgeGraph, store: Store) -> list[Finding]:
    findings = []
    for saved in kg.queries.of_kind("violation"):
        answer = store.query(saved.text)
        has_message = "message" in {v.value for v in answer.variables}
        for row in answer:
            focus = row["focus"]
            message = row["message"].value if has_message and row["message"] else saved.summary
            findings.append(
                Finding(str(saved.severity or "Violation"), focus.value, message, f"queries/{saved.name}.rq")
            )
    return findings


def disjointness_findings(store: Store) -> list[Finding]:
    """Name the individuals that belong to two classes the ontology declares disjoint (what makes HermiT fail)."""
    return [
        Finding(
            "Violation",
            row["x"].value,
            f"typed both {row['a'].value} and {row['b'].value}, which are disjoint",
            "owl:reasoner",
        )
        for row in store.query(question("disjoint-individuals"))
    ]


def validate(
    kg: KnowledgeGraph, files: list[Path] | None = None, reasoner: bool = True, engine: str = "fast"
) -> Report:
    """Validate the built dataset, or the given files with the guide as the target of their references.

    ``engine`` is the SHACL engine: ``fast`` (idais_kg.validation.shacl.engine) or ``pyshacl`` (the reference, ~150x
    slower).
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    store = kg.store
    own_subjects: set[str] | None = None
    if files:
        store = Store()
        store.add_all(kg.store.quads())
        extra: list[ox.Quad] = []
        for path in files:
            extra += parse_untrusted(path, GRAPH_INPUT)
        store.add_all(extra)
        own_subjects = {q.subject.value for q in extra if isinstance(q.subject, ox.NamedNode)}
    all_quads = list(store.quads())
    timings["prepare"] = time.perf_counter() - start
    # HermiT runs in a JVM subprocess: start it first, so that SHACL and the queries run while it works
    pool = ThreadPoolExecutor(max_workers=1)
    pending = pool.submit(hermit.check_consistency, all_quads, GRAPH_ONTOLOGY) if reasoner else None
    start = time.perf_counter()
    shapes_graph, data_graph = None, None
    if engine == "pyshacl":
        data = to_rdflib(q for q in all_quads if q.graph_name != ox.NamedNode(GRAPH_ONTOLOGY))
        shapes = load_shapes(kg.layout.shapes_dir)
        findings = shacl_findings(data, to_rdflib(store.quads(GRAPH_ONTOLOGY)), shapes) if len(shapes) else []
    else:
        shapes_graph = read_shapes(kg.layout.shapes_dir)
        findings, data_graph = fast_shacl_findings(all_quads, shapes_graph)
    timings["shacl"] = time.perf_counter() - start
    start = time.perf_counter()
    findings += query_findings(kg, store)
    timings["queries"] = time.perf_counter() - start
    result = hermit.ReasonerResult("skipped")
    if pending is not None:
        result = pending.result()
        timings["reasoner"] = result.seconds
        if result.status == "inconsistent":
            findings += disjointness_findings(store)
    pool.shutdown()
    if own_subjects is not None:
        findings = [f for f in findings if f.focus.split("#")[0] in own_subjects or f.focus in own_subjects]
    for f in findings:
        f.lines = locate(store, f.focus)
    findings.sort(
        key=lambda f: (SEVERITIES.index(f.severity) if f.severity in SEVERITIES else 9, f.focus, f.message)
    )
    described = shapes_graph.graph if shapes_graph is not None else None
    return Report(findings, result, timings, described, data_graph)
