"""The SHACL engine as ``partner check`` runs it: over a pyoxigraph store that holds the guide and the partner's
graph (idais_kg.validation.shacl.data.StoreData: nothing is copied out of the store), one shape at a time (the
caller runs shapes in parallel), findings as plain strings.

It is the same engine as ``validate``'s (idais_kg.validation.shacl.engine, the same registry of components, the
same refusals at load); what is particular to a partner check is only that a SHACL-SPARQL constraint that
joins like pre-binding runs ONCE over the store for all focus nodes when there are more than ``SMALL`` of them
(so a partner check of a million triples is a few queries, not a query per node), and once per focus node, $this
pre-bound, when there are few.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from idais_kg.store import parse_file
from idais_kg.validation.shacl import engine
from idais_kg.validation.shacl import shapes as shacl_shapes
from idais_kg.validation.shacl.data import StoreData, Term
from idais_kg.validation.shacl.sparql import fill

__all__ = [
    "SMALL",
    "Finding",
    "Shape",
    "Shapes",
    "UnsupportedShape",
    "fill",
    "focus_nodes",
    "select",
    "validate",
]

UnsupportedShape = shacl_shapes.UnsupportedShapes
SMALL = (
    engine.SMALL
)  # focus nodes up to which a query runs once per node, $this pre-bound, rather than once for all


@dataclass
class Finding:
    """One result of a partner check, its terms as strings (``value`` is the focus node when the result has none)."""

    severity: str  # Violation, Warning or Info
    focus: str
    message: str
    shape: str
    value: str | None = None
    path: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Shape:
    """A targeted shape of the partner shapes; ``targets`` (kind, IRI) is what focus nodes are cached by."""

    iri: str
    targets: tuple[tuple[str, str], ...]
    node: Term = field(compare=False)
    graph: shacl_shapes.Shapes = field(compare=False, repr=False)


class Shapes(list[Shape]):
    """The targeted shapes of the partner shapes graph, sorted by IRI."""

    @classmethod
    def load(cls, folder: Path) -> Shapes:
        """The shapes of every Turtle file under ``folder``, read and checked by the engine's shapes reader."""
        quads: list[ox.Quad] = []
        for path in sorted(folder.rglob("*.ttl")):
            quads += parse_file(path)
        graph = shacl_shapes.Shapes(quads)
        out = cls()
        for node in graph.targeted:
            targets = tuple((p.value.rsplit("#", 1)[-1], v.value) for p, v in graph.targets(node))
            out.append(Shape(node.value, targets, node, graph))
        out.sort(key=lambda s: s.iri)
        return out


def focus_nodes(store: ox.Store, shape: Shape) -> set[Term]:
    """The focus nodes of a shape, read from the store's indexes (all graphs: SHACL's data graph is the union)."""
    return set(engine.Validator(StoreData(store), shape.graph).focus_nodes(shape.node))


def select(store: ox.Store, query: str, **bindings: Term) -> ox.QuerySolutions:
    """Run a SELECT over the union of the graphs, with bound variables (pyoxigraph wants them projected)."""
    subs: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
        ox.Variable(k): v for k, v in bindings.items()
    }
    answer = store.query(query, substitutions=subs or None, use_default_graph_as_union=True)
    if not isinstance(answer, ox.QuerySolutions):
        raise UnsupportedShape(f"not a SELECT query: {query[:60]!r}")
    return answer


def finding(result: engine.Result) -> Finding:
    return Finding(
        result.severity.rsplit("#", 1)[-1],
        result.focus.value,
        result.message,
        result.shape.value,
        (result.value or result.focus).value,
        result.path.value if isinstance(result.path, ox.NamedNode) else None,
    )


def validate(
    store: ox.Store, shapes: list[Shape], cache: dict[tuple[tuple[str, str], ...], set[Any]] | None = None
) -> list[Finding]:
    """The findings of the shapes on the store (focus nodes from ``cache`` when it has them)."""
    findings: list[Finding] = []
    for shape in shapes:
        if cache is None:
            focus = focus_nodes(store, shape)
        else:
            if shape.targets not in cache:
                cache[shape.targets] = focus_nodes(store, shape)
            focus = cache[shape.targets]
        if not focus:
            continue
        run = engine.Validator(StoreData(store), shape.graph, small=SMALL)
        results = run.run([shape.node], {shape.node: sorted(focus, key=str)})
        findings += [finding(r) for r in dict.fromkeys(results)]
    return findings
