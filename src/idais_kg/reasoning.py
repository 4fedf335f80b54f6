"""OWL reasoning with owlready2 and HermiT, behind this one module.

owlready2 follows owl:imports over the network and imports any Python module an ontology names, so it is never
handed a file as such: it gets an N-Triples serialisation that we make from terms already parsed, with every
owl:imports and every owlready-specific annotation removed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

OWL_IMPORTS = "http://www.w3.org/2002/07/owl#imports"
OWLREADY = "http://www.lesfleursdunormal.fr/static/_downloads/owlready_ontology.owl#"


@dataclass
class ReasonerResult:
    status: str  # "consistent", "inconsistent", "skipped" or "error"
    seconds: float = 0.0
    detail: str = ""
    offending: list[str] = field(default_factory=list)


def safe_triples(quads: Iterable[ox.Quad]) -> bytes:
    """N-Triples of the quads, without the statements that would make owlready2 fetch or import anything."""
    triples = {
        ox.Triple(q.subject, q.predicate, q.object)
        for q in quads
        if q.predicate.value != OWL_IMPORTS and not q.predicate.value.startswith(OWLREADY)
    }
    return ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES) or b""


def check_consistency(quads: Iterable[ox.Quad]) -> ReasonerResult:
    """Run HermiT on the triples; the caller names the offending resources (see validate.disjointness_findings)."""
    if shutil.which("java") is None:
        return ReasonerResult(
            "error", detail="no java on PATH: HermiT needs a Java runtime (or use --no-reasoner)"
        )
    import owlready2  # imported here: it is slow to import and only this command needs it

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dataset.nt"
        path.write_bytes(safe_triples(quads))
        world = owlready2.World()
        try:
            world.get_ontology(path.as_uri()).load(format="ntriples")
            owlready2.sync_reasoner_hermit(
                world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True
            )
        except owlready2.OwlReadyInconsistentOntologyError:
            return ReasonerResult(
                "inconsistent", time.perf_counter() - start, "HermiT: the ontology and data are inconsistent"
            )
        except (owlready2.OwlReadyJavaError, OSError) as exc:
            return ReasonerResult(
                "error", time.perf_counter() - start, f"HermiT failed: {str(exc).splitlines()[0][:300]}"
            )
        finally:
            world.close()
    return ReasonerResult("consistent", time.perf_counter() - start)
