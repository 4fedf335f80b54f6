"""The embedded store: the one module that talks to pyoxigraph (see README for why pyoxigraph)."""

from __future__ import annotations

import re
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
DEFAULT = ox.DefaultGraph()
# A local name every Turtle parser reads as it is: no escape (``ed:section\\/x``), which OWL API's parser (Protégé)
# refuses, and nothing at either end that some parsers misread (a leading digit or ``-``, a trailing ``.``).
PLAIN_LOCAL = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_-]*)?")


def format_of(path: Path) -> str:
    """The store format of an RDF file, by its suffix; an unknown suffix raises RdfSyntaxError."""
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


def prefix_of(iri: str, namespaces: list[str]) -> str | None:
    """The namespace pyoxigraph abbreviates ``iri`` with: the longest one it starts with (``namespaces`` sorted
    longest first).

    >>> prefix_of("http://e/a/b/c", ["http://e/a/b/", "http://e/a/"])
    'http://e/a/b/'
    """
    return next((ns for ns in namespaces if iri.startswith(ns)), None)


def iris_of(term: object) -> Iterator[str]:
    """Every IRI in a term, a literal's datatype included (in a triple or quad: in each of its parts)."""
    if isinstance(term, ox.NamedNode):
        yield term.value
    elif isinstance(term, ox.Literal):
        yield term.datatype.value
    elif isinstance(term, (ox.Triple, ox.Quad)):
        for part in (term.subject, term.predicate, term.object):
            yield from iris_of(part)
        if isinstance(term, ox.Quad):
            yield from iris_of(term.graph_name)


def needs_escape(iris: Iterable[str], prefixes: dict[str, str]) -> set[str]:
    """The names of ``prefixes`` under which one of ``iris`` would be written with an escaped local name.

    >>> sorted(needs_escape(["http://e/a/x/y", "http://e/b/z"], {"a": "http://e/a/", "b": "http://e/b/"}))
    ['a']
    """
    by_length = sorted(prefixes.values(), key=len, reverse=True)
    names = {ns: name for name, ns in prefixes.items()}
    bad = set()
    for iri in iris:
        ns = prefix_of(iri, by_length)
        if ns is not None and not PLAIN_LOCAL.fullmatch(iri[len(ns) :]):
            bad.add(names[ns])
    return bad


Statement = ox.Triple | ox.Quad


def serialize_plain(
    statements: Iterable[Statement], fmt: ox.RdfFormat, prefixes: dict[str, str] | None
) -> bytes:
    """Triples or quads in ``fmt``; in Turtle and TriG no prefixed name has an escaped local name.

    The statements whose IRIs all abbreviate to plain local names are written with every prefix; the others after
    them, with only the prefixes that abbreviate none of their IRIs into an escape (so those IRIs are written in
    full). Two Turtle (or TriG) documents one after the other are one document.
    """
    items: list[Any] = list(statements)  # all triples or all quads, as ox.serialize takes them
    if not prefixes or fmt not in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):
        return ox.serialize(items, format=fmt, prefixes=prefixes) or b""
    dirty = {i for i in {i for item in items for i in iris_of(item)} if needs_escape([i], prefixes)}
    if not dirty:
        return ox.serialize(items, format=fmt, prefixes=prefixes) or b""
    plain: list[Any] = []
    rest: list[Any] = []
    for item in items:
        (rest if any(i in dirty for i in iris_of(item)) else plain).append(item)
    kept = dict(prefixes)
    while bad := needs_escape({i for item in rest for i in iris_of(item)}, kept):
        kept = {n: ns for n, ns in kept.items() if n not in bad}
    head = ox.serialize(plain, format=fmt, prefixes=prefixes) or b""
    # the tail declares again the prefixes it keeps (the same IRI for the same name, which Turtle allows)
    tail = ox.serialize(rest, format=fmt, prefixes=kept) or b""
    return head + b"\n" + tail.lstrip(b"\n")


class Store:
    """An in-memory (or on-disk) quad store of named graphs; the default graph of queries is their RDF merge.

    The SPARQL default graph is one RDF graph, a set: a triple that two named graphs hold is in it once. The
    engine's union default graph would repeat it (``COUNT(*)`` over ``?s ?p ?o`` counted 7,071 rows for 7,061
    triples), so the store keeps the merge itself, in its real default graph, and queries read that. Everything
    here but ``query`` sees the named graphs only; quads given for the default graph go into the merge alone.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._store = ox.Store(str(path)) if path else ox.Store()

    def add_all(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads to their named graphs and their triples to the merged default graph."""
        quads = list(quads)
        self._store.extend(quads)
        self._store.extend(
            ox.Quad(q.subject, q.predicate, q.object) for q in quads if q.graph_name != DEFAULT
        )

    def _merge_again(self) -> None:
        """Rebuild the default graph from the named graphs (after a graph was removed)."""
        self._store.clear_graph(DEFAULT)
        self._store.extend([ox.Quad(q.subject, q.predicate, q.object) for q in self.quads()])

    def __len__(self) -> int:
        """The number of quads in the named graphs."""
        return sum(1 for _ in self.quads())

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """The quads of one named graph, or of all of them (never the merged default graph)."""
        if graph:
            return iter(self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        return (q for q in self._store.quads_for_pattern(None, None, None, None) if q.graph_name != DEFAULT)

    def quads_pointing_at(self, term: ox.NamedNode) -> Iterator[ox.Quad]:
        """Every quad (in any named graph) whose object is ``term``."""
        quads = self._store.quads_for_pattern(None, None, term, None)
        return (q for q in quads if q.graph_name != DEFAULT)

    def quads_about(self, subject: ox.NamedNode | ox.BlankNode) -> Iterator[ox.Quad]:
        """Every quad (in any named graph) whose subject is ``subject``."""
        quads = self._store.quads_for_pattern(subject, None, None, None)
        return (q for q in quads if q.graph_name != DEFAULT)

    def graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted."""
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def clear_graph(self, graph: str) -> None:
        """Remove one named graph, and its triples from the merge (unless another graph holds them)."""
        self._store.remove_graph(ox.NamedNode(graph))
        self._merge_again()

    def load_nquads(self, data: bytes) -> None:
        """Add a whole N-Quads serialisation (as made by ``serialize("nquads")``), e.g. in a query worker."""
        self._store.load(data, format=ox.RdfFormat.N_QUADS)
        self._merge_again()

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
        """Evaluate a query; by default the default graph is the merge of all graphs (each triple once).

        ``default_graph``/``named_graphs`` set the dataset as the SPARQL protocol's ``default-graph-uri`` and
        ``named-graph-uri`` do. Without them the query's own FROM / FROM NAMED clauses apply, where it has them
        (``query_dataset`` says so; the engine reads them from the query itself), else the merged default graph
        and every named graph.
        """
        subs: dict[ox.Variable, Any] = {ox.Variable(k): v for k, v in (bindings or {}).items()}
        dataset: dict[str, Any] = {}
        if default_graph is not None or named_graphs is not None:
            if default_graph is not None:
                dataset["default_graph"] = [ox.NamedNode(g) for g in default_graph]
            if named_graphs is not None:
                dataset["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
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
        self.add_all([ox.Quad(t.subject, t.predicate, t.object, target) for t in triples])
        return len(triples)

    def serialize(self, fmt: str, graph: str | None = None, prefixes: dict[str, str] | None = None) -> bytes:
        """Serialise the whole dataset (quad formats) or one graph / the union (triple formats)."""
        rdf_format = FORMATS[fmt]
        if rdf_format.supports_datasets:
            return serialize_plain(self.quads(), rdf_format, prefixes)
        if graph:
            triples = [ox.Triple(q.subject, q.predicate, q.object) for q in self.quads(graph)]
        else:
            triples = sorted(
                (q.triple for q in self._store.quads_for_pattern(None, None, None, DEFAULT)), key=str
            )
        return serialize_plain(triples, rdf_format, prefixes)
