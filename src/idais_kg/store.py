"""The embedded store: the one module that talks to pyoxigraph (see README for why pyoxigraph)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from idais_kg.errors import QueryError, RdfSyntaxError

FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}

SUFFIX_FORMATS = {
    ".ttl": "turtle",
    ".nt": "ntriples",
    ".nq": "nquads",
    ".trig": "trig",
    ".rdf": "rdfxml",
    ".owl": "rdfxml",
    ".xml": "rdfxml",
    ".jsonld": "jsonld",
    ".json": "jsonld",
}

Term = ox.NamedNode | ox.BlankNode | ox.Literal


def format_of(path: Path) -> str:
    try:
        return SUFFIX_FORMATS[path.suffix.lower()]
    except KeyError:
        raise RdfSyntaxError(path, f"unknown RDF file type {path.suffix!r}") from None


def parse_file(path: Path, graph: str | None = None) -> list[ox.Quad]:
    """Parse one RDF file fully (so that an error leaves nothing half-loaded) into quads of ``graph``."""
    fmt = FORMATS[format_of(path)]
    to_graph = ox.NamedNode(graph) if graph else ox.DefaultGraph()
    try:
        with path.open("rb") as handle:
            return [ox.Quad(q.subject, q.predicate, q.object, to_graph) for q in ox.parse(handle, format=fmt)]
    except SyntaxError as exc:
        raise RdfSyntaxError(path, exc.msg, exc.lineno) from None
    except OSError as exc:
        raise RdfSyntaxError(path, exc.strerror or str(exc)) from None


def parse_bytes(path: Path, data: bytes, fmt: str) -> list[ox.Quad]:
    """Parse a whole serialisation held in memory (read from ``path``, named in errors) into its quads."""
    try:
        return list(ox.parse(data, format=FORMATS[fmt]))
    except SyntaxError as exc:
        raise RdfSyntaxError(path, exc.msg, exc.lineno) from None


class Store:
    """An in-memory (or on-disk) quad store; the default graph of queries is the union of all graphs."""

    def __init__(self, path: Path | None = None) -> None:
        self._store = ox.Store(str(path)) if path else ox.Store()

    def add_all(self, quads: Iterable[ox.Quad]) -> None:
        self._store.extend(quads)

    def __len__(self) -> int:
        return len(self._store)

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        g = ox.NamedNode(graph) if graph else None
        return iter(self._store.quads_for_pattern(None, None, None, g))

    def quads_about(self, subject: ox.NamedNode | ox.BlankNode) -> Iterator[ox.Quad]:
        """Every quad (in any graph) whose subject is ``subject``."""
        return iter(self._store.quads_for_pattern(subject, None, None, None))

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def clear_graph(self, graph: str) -> None:
        self._store.remove_graph(ox.NamedNode(graph))

    def load_nquads(self, data: bytes) -> None:
        """Add a whole N-Quads serialisation (as made by ``serialize("nquads")``), e.g. in a query worker."""
        self._store.load(data, format=ox.RdfFormat.N_QUADS)

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Term] | None = None,
        *,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        query_dataset: bool = False,
        base_iri: str | None = None,
    ) -> Any:
        """Evaluate a query; by default the default graph is the union of all graphs.

        ``default_graph``/``named_graphs`` set the dataset as the SPARQL protocol's ``default-graph-uri`` and
        ``named-graph-uri`` do; ``query_dataset`` lets the query's own FROM / FROM NAMED clauses apply.
        """
        subs: dict[ox.Variable, Any] = {ox.Variable(k): v for k, v in (bindings or {}).items()}
        dataset: dict[str, Any] = {}
        if default_graph is not None or named_graphs is not None:
            if default_graph is not None:
                dataset["default_graph"] = [ox.NamedNode(g) for g in default_graph]
            if named_graphs is not None:
                dataset["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        elif not query_dataset:
            dataset["use_default_graph_as_union"] = True
        try:
            return self._store.query(sparql, substitutions=subs or None, base_iri=base_iri, **dataset)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from None
        except (ValueError, OSError, RuntimeError) as exc:
            raise QueryError(f"SPARQL evaluation failed: {exc}") from None

    def construct_into(self, sparql: str, graph: str) -> int:
        """Run a CONSTRUCT and add its triples to ``graph``; return how many were added."""
        target = ox.NamedNode(graph)
        triples = list(self.query(sparql))
        self._store.extend(ox.Quad(t.subject, t.predicate, t.object, target) for t in triples)
        return len(triples)

    def serialize(self, fmt: str, graph: str | None = None, prefixes: dict[str, str] | None = None) -> bytes:
        """Serialise the whole dataset (quad formats) or one graph / the union (triple formats)."""
        rdf_format = FORMATS[fmt]
        if rdf_format.supports_datasets:
            data = self._store.dump(format=rdf_format, prefixes=prefixes)
        elif graph:
            data = self._store.dump(format=rdf_format, from_graph=ox.NamedNode(graph), prefixes=prefixes)
        else:
            triples = {ox.Triple(q.subject, q.predicate, q.object) for q in self._store}
            data = ox.serialize(sorted(triples, key=str), format=rdf_format, prefixes=prefixes)
        assert data is not None  # serialising without an output always returns bytes
        return data
