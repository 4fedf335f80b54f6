"""What ``validate`` reports, and how: the findings (SHACL results, violation queries, the reasoner's verdict) and
their renderings as text, JSON and a standard SHACL validation report (``sh:ValidationReport`` in Turtle).

In the Turtle report a finding of the SHACL engine is written as the engine gave it: ``sh:focusNode`` and
``sh:value`` as the RDF terms they are, ``sh:sourceShape`` (an IRI, or a blank node for an unnamed shape),
``sh:sourceConstraintComponent``, ``sh:resultPath`` as a SHACL path, and ``sh:resultMessage``. A finding of a
violation query or of the reasoner has no SHACL shape: its ``sh:sourceShape`` is the query's name, as a literal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyoxigraph as ox

from idais_kg.namespaces import RDF, SH, XSD
from idais_kg.validation import hermit
from idais_kg.validation.shacl import paths
from idais_kg.validation.shacl.data import Data, Index, Term
from idais_kg.validation.shacl.engine import Result

SEVERITIES = ("Violation", "Warning", "Info")


@dataclass
class Finding:
    """One finding of ``validate``: a SHACL result, a row of a violation query, or the reasoner's verdict."""

    severity: str
    focus: str
    message: str
    source: str  # the shape, or the query, or "owl:reasoner"
    path: str | None = None
    value: str | None = None
    lines: tuple[int, int] | None = None
    result: Result | None = field(default=None, repr=False, compare=False)  # the SHACL engine's own result


@dataclass
class Report:
    """Everything ``validate`` found in one run, with the reasoner's verdict and the time of each step."""

    findings: list[Finding]
    reasoner: hermit.ReasonerResult
    timings: dict[str, float] = field(default_factory=dict)
    shapes: Index | None = None  # the shapes graph: its blank shapes and constraints are described
    data: Data | None = None  # the data graph: its blank focus nodes and values are described

    @property
    def conforms(self) -> bool:
        """No violation and no inconsistency (warnings and infos do not count against it)."""
        return (
            not any(f.severity == "Violation" for f in self.findings)
            and self.reasoner.status != "inconsistent"
        )

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 0 conforms, 1 does not, 2 the reasoner could not run."""
        if self.reasoner.status == "error":
            return 2
        return 0 if self.conforms else 1

    def count(self, severity: str) -> int:
        """How many findings have this severity."""
        return sum(1 for f in self.findings if f.severity == severity)


def render_text(report: Report) -> str:
    """The report for a reader: findings grouped by severity, then focus node, then the verdict."""
    out = []
    for severity in SEVERITIES:
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        out.append(f"== {severity}: {len(group)}")
        focus = None
        for f in group:
            if f.focus != focus:
                focus = f.focus
                where = f" (source lines {f.lines[0]}-{f.lines[1]})" if f.lines else ""
                out.append(f"  {focus}{where}")
            path = f" [{f.path.rsplit('#', 1)[-1].rsplit('/', 1)[-1]}]" if f.path else ""
            out.append(f"    - {f.message}{path}  <{f.source.rsplit('/', 1)[-1]}>")
    r = report.reasoner
    out.append(
        f"OWL reasoner (HermiT): {r.status}"
        + (f": {r.detail}" if r.detail else "")
        + (f" in {r.seconds:.1f} s" if r.seconds else "")
    )
    verdict = "conforms" if report.conforms else "does NOT conform"
    out.append(
        f"{verdict}: {report.count('Violation')} violations, {report.count('Warning')} warnings, {report.count('Info')} infos"
    )
    return "\n".join(out)


def render_json(report: Report) -> str:
    """The report as JSON: verdict, reasoner, counts per severity and every finding."""
    return json.dumps(
        {
            "conforms": report.conforms,
            "reasoner": {"status": report.reasoner.status, "detail": report.reasoner.detail},
            "counts": {s: report.count(s) for s in SEVERITIES},
            "findings": [
                {k: v for k, v in f.__dict__.items() if k != "result"}
                | {"lines": list(f.lines) if f.lines else None}
                for f in report.findings
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def sh(name: str) -> ox.NamedNode:
    """The IRI of a term of the SHACL vocabulary."""
    return ox.NamedNode(SH + name)


def result_triples(node: ox.BlankNode, f: Finding) -> list[ox.Triple]:
    """The triples of one sh:ValidationResult."""
    out = [
        ox.Triple(node, ox.NamedNode(RDF + "type"), sh("ValidationResult")),
        ox.Triple(node, sh("resultSeverity"), sh(f.severity)),
        ox.Triple(node, sh("resultMessage"), ox.Literal(f.message)),
    ]
    r = f.result
    if r is None:  # a violation query or the reasoner: no shape, no component
        out.append(ox.Triple(node, sh("focusNode"), ox.NamedNode(f.focus)))
        out.append(ox.Triple(node, sh("sourceShape"), ox.Literal(f.source)))
        return out
    out.append(ox.Triple(node, sh("focusNode"), r.focus))
    out.append(ox.Triple(node, sh("sourceShape"), r.shape))
    if r.component is not None:
        out.append(ox.Triple(node, sh("sourceConstraintComponent"), r.component))
    if r.constraint is not None:
        out.append(ox.Triple(node, sh("sourceConstraint"), r.constraint))
    if r.path is not None:
        out.append(ox.Triple(node, sh("resultPath"), paths.to_rdf(r.path, out)))
    if r.value is not None:
        out.append(ox.Triple(node, sh("value"), r.value))
    for detail in r.details:
        inner = ox.BlankNode()
        out.append(ox.Triple(node, sh("detail"), inner))
        out += result_triples(
            inner, Finding(detail.severity.rsplit("#", 1)[-1], "", detail.message, "", result=detail)
        )
    return out


def described(graph: Data, node: Term, out: list[ox.Triple], seen: set[Term]) -> None:
    """The triples of a blank node of the shapes graph and of the blank nodes it reaches (its bounded description)."""
    if not isinstance(node, ox.BlankNode) or node in seen:
        return
    seen.add(node)
    for p, o in graph.edges(node):
        out.append(ox.Triple(node, p, o))
        described(graph, o, out, seen)


def shacl_report(
    results: list[Result], shapes: Index | None = None, data: Data | None = None
) -> list[ox.Triple]:
    """The SHACL engine's results as a standard sh:ValidationReport (``sh:conforms`` as ``validate`` and pySHACL's
    ``allow_warnings`` say: no violation; warnings and infos allowed)."""
    findings = [
        Finding(r.severity.rsplit("#", 1)[-1], r.focus.value, r.message, r.shape.value, result=r)
        for r in results
    ]
    return report_triples(Report(findings, hermit.ReasonerResult("skipped"), shapes=shapes, data=data))


def report_triples(report: Report, conforms: bool | None = None) -> list[ox.Triple]:
    """The standard SHACL validation report, the reasoner's and the queries' findings included as results."""
    node = ox.BlankNode()
    verdict = report.conforms if conforms is None else conforms
    literal = ox.Literal("true" if verdict else "false", datatype=ox.NamedNode(XSD + "boolean"))
    out = [
        ox.Triple(node, ox.NamedNode(RDF + "type"), sh("ValidationReport")),
        ox.Triple(node, sh("conforms"), literal),
    ]
    seen: set[Term] = set()
    for f in report.findings:
        result = ox.BlankNode()
        out.append(ox.Triple(node, sh("result"), result))
        out += result_triples(result, f)
        if report.shapes is not None and f.result is not None:
            for term in (f.result.shape, f.result.constraint):
                if term is not None:
                    described(report.shapes, term, out, seen)
        if report.data is not None and f.result is not None:
            for term in (f.result.focus, f.result.value):
                if term is not None:
                    described(report.data, term, out, seen)
    return out


def render_turtle(report: Report) -> str:
    """The report as a standard sh:ValidationReport in Turtle."""
    data = ox.serialize(report_triples(report), format=ox.RdfFormat.TURTLE, prefixes={"sh": SH})
    return (data or b"").decode()


RENDERERS = {"text": render_text, "json": render_json, "turtle": render_turtle}
