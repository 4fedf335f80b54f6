"""Assemble the dataset from the hand-edited sources and answer questions about it (the library's front door)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from idais_kg.dataset import description, entailment, mappings
from idais_kg.errors import ParameterError, QueryError
from idais_kg.namespaces import (
    GRAPH_DERIVED,
    GRAPH_EDITORIAL,
    GRAPH_GUIDE,
    GRAPH_ONTOLOGY,
    GRAPH_TRANSLATIONS,
    SERVICE_BASE,
    SKOS,
    is_ours,
)
from idais_kg.results import Result, Triples, answer_of
from idais_kg.sources.layout import Layout
from idais_kg.sources.queries import QueryRegistry, SavedQuery, package_query, prefix_block
from idais_kg.store import Store, parse_file

if TYPE_CHECKING:
    import rdflib

SPARQL = Path(__file__).parent / "sparql"  # this module's own questions to the store
_WHERE = re.compile(r"error at (\d+):(\d+): ")


def adhoc_text(text: str) -> str:
    """An ad-hoc query with the project prefixes declared before it (on lines of their own)."""
    return prefix_block() + text


def query_error(exc: QueryError) -> QueryError:
    """``exc`` with its ``line:column`` counted in the query as the user wrote it, not after the prefix block.

    >>> first = prefix_block().count(chr(10)) + 1
    >>> str(query_error(QueryError(f"SPARQL syntax error: error at {first}:9: expected x")))
    'SPARQL syntax error at line 1:9 of the query: expected x'
    """
    message = str(exc)
    found = _WHERE.search(message)
    if not found:
        return exc
    line = int(found[1]) - prefix_block().count("\n")
    head = message[: found.start()].removesuffix(": ")
    return QueryError(f"{head} at line {line}:{found[2]} of the query: {message[found.end() :]}")


def route_guide_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Put every ``skos:editorialNote`` of the guide data into the editorial graph and every other ``@en``
    literal into the translations graph: the guide states neither, all English in data/ is ours."""
    guide, translations = ox.NamedNode(GRAPH_GUIDE), ox.NamedNode(GRAPH_TRANSLATIONS)
    editorial, note = ox.NamedNode(GRAPH_EDITORIAL), ox.NamedNode(SKOS + "editorialNote")
    out = []
    for q in quads:
        is_en = isinstance(q.object, ox.Literal) and (q.object.language or "").lower().startswith("en")
        graph = editorial if q.predicate == note else translations if is_en else guide
        out.append(ox.Quad(q.subject, q.predicate, q.object, graph))
    return out


def editorial_files(layout: Layout) -> list[Path]:
    """The editors' statements (``data/editorial/*.ttl``): matches, classifications, notes the guide does not make."""
    return sorted((layout.data_dir / "editorial").glob("*.ttl"))


@dataclass
class KnowledgeGraph:
    """The built dataset in the embedded store, with the saved queries that ask it the recurring questions."""

    store: Store
    layout: Layout
    queries: QueryRegistry
    files: list[Path] = field(default_factory=list)

    def query(self, name: str, **params: str) -> Result:
        """Run a saved question by name, with parameters given as text (typed and bound, never spliced)."""
        saved = self.queries.get(name)
        return self.run(saved, params)

    def run(self, saved: SavedQuery, params: dict[str, str] | None = None) -> Result:
        """Run a saved query with ``params`` bound; an IRI parameter that must exist and names nothing
        in the graph raises ParameterError with the nearest IRI of ours as a hint.
        """
        bound = saved.bind(params or {})
        for pname, term in bound.items():
            param = saved.params[pname]
            if (
                param.type == "iri"
                and param.exists
                and isinstance(term, ox.NamedNode)
                and not self.knows(term)
            ):
                hint = self.nearest(term.value)
                raise ParameterError(
                    saved.name,
                    pname,
                    f"no resource <{term.value}> in the graph"
                    + (f"; did you mean <{hint}>?" if hint else ""),
                )
        return Result.from_oxigraph(self.store.query(saved.text, bound))

    def sparql(self, text: str) -> Result | bool | rdflib.Graph:
        """Run an ad-hoc query of any form; the project prefixes are predeclared, relative IRIs resolve against
        the endpoint's IRI (as at ``/sparql``).

        SELECT gives a Result (its table), ASK a bool, CONSTRUCT and DESCRIBE an ``rdflib.Graph`` with our
        prefixes bound: the graph type a notebook user already knows how to serialise, query again, iterate and
        hand to other tools, which a list of pyoxigraph triples is not (``answer()`` gives those, for code that
        wants the engine's terms). A syntax error raises QueryError naming the line:column of ``text``.
        """
        answer = self.answer(text)
        if isinstance(answer, Triples):
            return answer.to_rdflib()
        if answer.boolean is not None:
            return answer.boolean
        return answer

    def answer(self, text: str) -> Result | Triples:
        """An ad-hoc query's answer as the CLI renders it: a Result (SELECT, ASK) or Triples (CONSTRUCT, DESCRIBE)."""
        try:
            return answer_of(self.store.query(adhoc_text(text), base_iri=SERVICE_BASE))
        except QueryError as exc:
            raise query_error(exc) from None

    def knows(self, term: ox.NamedNode) -> bool:
        """Whether ``term`` occurs in the dataset (the check behind 'no resource' errors and 404s)."""
        return bool(self.store.query(package_query(SPARQL, "resource-known"), {"s": term}))

    def nearest(self, iri: str) -> str | None:
        """The IRI of ours closest in spelling to ``iri`` (for 'did you mean' hints)."""
        if not is_ours(iri):
            return None
        subjects = {q.subject.value for q in self.store.quads() if isinstance(q.subject, ox.NamedNode)}
        close = difflib.get_close_matches(iri, sorted(s for s in subjects if is_ours(s)), n=1, cutoff=0.6)
        return close[0] if close else None

    def stats(self) -> Result:
        """Instances per class (asserted types), most frequent first."""
        return Result.from_oxigraph(self.store.query(package_query(SPARQL, "class-counts")))


def load(layout: Layout | None = None, with_description: bool = True, infer: bool = True) -> KnowledgeGraph:
    """Build the dataset in memory from ontology/ and data/ (and the construct-*.rq queries) and return it.

    With ``infer`` (the default) the graph ``kg:graph/inferred`` holds what the ontology's inverses, sub-properties
    and chains entail (``hasPolicy``, ``ofGoal``, ``footnoteOf``, ``areaViaGoal``, ...; see
    idais_kg.dataset.entailment), so the documented properties answer; ``infer=False`` leaves it out. Every file
    is parsed completely before anything is stored, so a syntax error (RdfSyntaxError, with file and line) leaves
    nothing half-loaded.
    """
    layout = layout or Layout.default()
    files = layout.ontology_files() + layout.guide_files() + editorial_files(layout)
    quads: list[ox.Quad] = []
    for path in layout.ontology_files():
        quads += parse_file(path, GRAPH_ONTOLOGY)
    for path in layout.guide_files():
        quads += route_guide_quads(parse_file(path, GRAPH_GUIDE))
    for path in editorial_files(layout):
        quads += parse_file(path, GRAPH_EDITORIAL)
    quads += mappings.quads(layout.data_dir)  # our SSSOM mapping sets and the extract of their targets
    store = Store()
    store.add_all(quads)
    registry = QueryRegistry(layout.queries_dir)
    for construct in registry.of_kind("construct"):
        store.construct_into(construct.text, GRAPH_DERIVED)
    if infer:
        entailment.materialise(store)
    kg = KnowledgeGraph(store=store, layout=layout, queries=registry, files=files)
    if with_description:
        description.add_to(kg)
    return kg
