"""Assemble the dataset from the hand-edited sources and answer questions about it (the library's front door)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from idais_kg.dataset import description
from idais_kg.errors import ParameterError
from idais_kg.namespaces import GRAPH_DERIVED, GRAPH_GUIDE, GRAPH_ONTOLOGY, GRAPH_TRANSLATIONS, is_ours
from idais_kg.results import Result
from idais_kg.sources.layout import Layout
from idais_kg.sources.queries import QueryRegistry, SavedQuery, prefix_block
from idais_kg.store import Store, parse_file


def route_guide_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Put every ``@en`` literal of the guide data into the translations graph: all English in data/ is ours."""
    guide, translations = ox.NamedNode(GRAPH_GUIDE), ox.NamedNode(GRAPH_TRANSLATIONS)
    out = []
    for q in quads:
        is_en = isinstance(q.object, ox.Literal) and (q.object.language or "").lower().startswith("en")
        out.append(ox.Quad(q.subject, q.predicate, q.object, translations if is_en else guide))
    return out


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

    def sparql(self, text: str) -> Result:
        """Run an ad-hoc SELECT or ASK; the project prefixes are predeclared."""
        return Result.from_oxigraph(self.store.query(prefix_block() + text))

    def knows(self, term: ox.NamedNode) -> bool:
        return bool(self.store.query("ASK { { ?s ?p ?o } UNION { ?o ?p ?s } }", {"s": term}))

    def nearest(self, iri: str) -> str | None:
        """The IRI of ours closest in spelling to ``iri`` (for 'did you mean' hints)."""
        if not is_ours(iri):
            return None
        subjects = {q.subject.value for q in self.store.quads() if isinstance(q.subject, ox.NamedNode)}
        close = difflib.get_close_matches(iri, sorted(s for s in subjects if is_ours(s)), n=1, cutoff=0.6)
        return close[0] if close else None

    def stats(self) -> Result:
        """Instances per class (asserted types), most frequent first."""
        return Result.from_oxigraph(
            self.store.query(
                "SELECT ?class (COUNT(DISTINCT ?s) AS ?instances) "
                "WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?instances) ?class"
            )
        )


def load(layout: Layout | None = None, with_description: bool = True) -> KnowledgeGraph:
    """Build the dataset in memory from ontology/ and data/ (and the construct-*.rq queries) and return it.

    Every file is parsed completely before anything is stored, so a syntax error (RdfSyntaxError, with file and
    line) leaves nothing half-loaded.
    """
    layout = layout or Layout.default()
    files = layout.ontology_files() + layout.guide_files()
    quads: list[ox.Quad] = []
    for path in layout.ontology_files():
        quads += parse_file(path, GRAPH_ONTOLOGY)
    for path in layout.guide_files():
        quads += route_guide_quads(parse_file(path, GRAPH_GUIDE))
    store = Store()
    store.add_all(quads)
    registry = QueryRegistry(layout.queries_dir)
    for construct in registry.of_kind("construct"):
        store.construct_into(construct.text, GRAPH_DERIVED)
    kg = KnowledgeGraph(store=store, layout=layout, queries=registry, files=files)
    if with_description:
        description.add_to(kg)
    return kg
