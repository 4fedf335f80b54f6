"""OWL reasoning with HermiT (the copy that owlready2 ships), behind this one module.

HermiT (through the OWL API) and owlready2 follow owl:imports over the network, and owlready2 imports any Python
module an ontology names, so neither is ever handed a file as such: HermiT gets an N-Triples serialisation that we
make from terms already parsed, with every owl:imports and every owlready-specific annotation removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from idais_kg.namespaces import OWL, OWLREADY, RDF, RDFS, SKOS

OWL_IMPORTS = OWL + "imports"
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
RDF_TYPE = RDF + "type"
DOCUMENTATION = {RDFS + "label", RDFS + "comment", SKOS + "definition"}


@dataclass
class ReasonerResult:
    """HermiT's verdict on the ontology with its data, how long it took, and a line of detail."""

    status: str  # "consistent", "inconsistent", "skipped" or "error"
    seconds: float = 0.0
    detail: str = ""
    offending: list[str] = field(default_factory=list)


def inert_predicates(ontology: Iterable[ox.Quad]) -> set[str]:
    """Datatype and annotation properties about which the ontology says nothing but their declaration and labels.

    An assertion of such a property has no consequence beyond itself (no domain, range, characteristic or place in
    another axiom), so removing it cannot change whether the ontology and data are consistent; it only saves the
    reasoner the text of the guide (about 30% of the triples, 0.5 s of HermiT's time).
    """
    axioms = [(iri(q.subject), q.predicate.value, iri(q.object)) for q in ontology]
    kinds = (OWL + "DatatypeProperty", OWL + "AnnotationProperty")
    declared = {s for s, p, o in axioms if p == RDF_TYPE and o in kinds}
    described = {s for s, p, _ in axioms if p not in DOCUMENTATION and p != RDF_TYPE}
    typed_otherwise = {s for s, p, o in axioms if p == RDF_TYPE and o not in kinds}
    mentioned = {o for _, _, o in axioms}
    return declared - described - typed_otherwise - mentioned


def iri(term: object) -> str:
    """The IRI of a named node, or "" for anything else."""
    return term.value if isinstance(term, ox.NamedNode) else ""


def safe_triples(quads: Iterable[ox.Quad], skip: set[str] | frozenset[str] = frozenset()) -> bytes:
    """N-Triples of the quads, without the statements that would make owlready2 fetch or import anything.

    ``skip`` names predicates to leave out (see inert_predicates).
    """
    triples = {
        ox.Triple(q.subject, q.predicate, q.object)
        for q in quads
        if q.predicate.value != OWL_IMPORTS
        and not q.predicate.value.startswith(OWLREADY)
        and q.predicate.value not in skip
    }
    return ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES) or b""


def hermit_command(path: Path) -> list[str]:
    """HermiT's own command line, from the copy that owlready2 ships, asked one question: is the ontology with
    its data consistent (``-k``: is owl:Thing satisfiable)? owlready2's ``sync_reasoner_hermit`` classifies
    instead (``-c``) and first loads the file into its quadstore and writes it out again: 0.7 s more, measured,
    for an answer we do not use (validate names the offending resources itself)."""
    import owlready2  # imported here: only this command needs it

    hermit = Path(owlready2.__file__).parent / "hermit"
    classpath = os.pathsep.join([str(hermit), str(hermit / "HermiT.jar")])
    return [
        owlready2.JAVA_EXE,
        f"-Xmx{owlready2.reasoning.JAVA_MEMORY}M",
        "-cp",
        classpath,
        "org.semanticweb.HermiT.cli.CommandLine",
        "-k",
        path.as_uri(),
    ]


def hermit_environment() -> dict[str, str]:
    """The environment for HermiT's JVM: ours, with options that start a short run sooner."""
    # A consistency check is one short JVM run: the client compiler and the serial collector start it ~0.7 s faster.
    return {**os.environ, "JAVA_TOOL_OPTIONS": JVM_OPTIONS}


def check_consistency(quads: Iterable[ox.Quad], ontology_graph: str | None = None) -> ReasonerResult:
    """Run HermiT on the triples; the caller names the offending resources (see validate.disjointness_findings).

    With ``ontology_graph``, the assertions of inert properties (see inert_predicates) are left out.
    """
    quads = list(quads)
    skip: set[str] = set()
    if ontology_graph:
        skip = inert_predicates(q for q in quads if q.graph_name == ox.NamedNode(ontology_graph))
    if shutil.which("java") is None:
        return ReasonerResult(
            "error", detail="no java on PATH: HermiT needs a Java runtime (or use --no-reasoner)"
        )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dataset.nt"
        path.write_bytes(safe_triples(quads, skip))
        try:
            run = subprocess.run(  # noqa: S603 (our own java and HermiT jar, on a file we wrote: no user input)
                hermit_command(path), capture_output=True, text=True, timeout=300, env=hermit_environment()
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return ReasonerResult("error", time.perf_counter() - start, f"HermiT failed: {exc}")
    seconds = time.perf_counter() - start
    if run.returncode != 0 and "InconsistentOntologyException" in run.stdout + run.stderr:
        return ReasonerResult("inconsistent", seconds, "HermiT: the ontology and data are inconsistent")
    if run.returncode != 0 or "is satisfiable" not in run.stdout:
        detail = (run.stderr.strip() or run.stdout.strip() or f"exit code {run.returncode}").splitlines()[-1]
        return ReasonerResult("error", seconds, f"HermiT failed: {detail[:300]}")
    return ReasonerResult("consistent", seconds)
