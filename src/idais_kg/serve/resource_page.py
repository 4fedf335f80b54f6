"""The page of one resource: its properties (blank nodes nested), its parts (hash IRIs), what links to it, and
for a goal or a policy area what the guide says of it."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from idais_kg.namespaces import DATASET_IRI, DOI_RESOLVER, FABIO, IDAIS, PRISM, RDF
from idais_kg.results import term_text
from idais_kg.serve import page_queries as queries
from idais_kg.serve.views import View, curie

if TYPE_CHECKING:
    from idais_kg.serve.pages import Pages


class ResourcePage:
    """Builds the page of one resource, from the pages' labels, queries and templates."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.view = pages.view
        self.label = pages.label

    def _select(self, query: str, **bindings: ox.NamedNode) -> list[dict[str, Any]]:
        return self.pages.select(query, **bindings)

    def title(self, iri: str, types: set[str], lang: str) -> str:
        """The resource's label; without one, its type's label and the last part of its IRI ("Footnote 12")."""
        label = self.label(iri, lang)
        if label != curie(iri) or not types:
            return label
        kind = min(self.label(t, lang) for t in types)
        return f"{kind} {iri.rstrip('/').rsplit('/', 1)[-1]}"

    def trail(self, node: ox.NamedNode) -> list[tuple[str, str]]:
        """The breadcrumb of a resource: its area, then its goal, then itself (IRI and label), where they exist."""
        rows = self._select(queries.BREADCRUMB, r=node)
        if not rows:
            return []
        row = rows[0]
        crumbs = [(row[k].value, self.label(row[k].value)) for k in ("area", "goal") if k in row]
        return [c for c in crumbs if c[0] != node.value]

    def _props(
        self, subject: ox.NamedNode | ox.BlankNode, by_subject: dict[Any, list[ox.Triple]]
    ) -> list[tuple[View, list[View]]]:
        grouped: dict[str, list[Any]] = defaultdict(list)
        for triple in by_subject.get(subject, []):
            grouped[triple.predicate.value].append(triple.object)
        out = []
        for pred in sorted(grouped, key=lambda p: (p != RDF + "type", curie(p))):
            values = []
            for obj in sorted(grouped[pred], key=lambda o: (getattr(o, "language", "") or "", str(o))):
                view = self.view(obj)
                view.href = literal_href(pred, obj)
                if isinstance(obj, ox.BlankNode):
                    view.props = self._props(obj, by_subject)
                values.append(view)
            out.append((View(pred, "iri", self.label(pred)), values))
        return out

    def render(self, iri: str) -> bytes:
        """The HTML of the resource ``iri``."""
        triples = self.pages.describer.describe(iri)
        by_subject: dict[Any, list[ox.Triple]] = defaultdict(list)
        for triple in triples:
            by_subject[triple.subject].append(triple)
        node = ox.NamedNode(iri)
        types = {
            t.object.value
            for t in by_subject.get(node, [])
            if t.predicate.value == RDF + "type" and isinstance(t.object, ox.NamedNode)
        }
        parts = [
            (s.value.partition("#")[2], s.value, self._props(s, by_subject))
            for s in sorted(by_subject, key=str)
            if isinstance(s, ox.NamedNode) and s.value != iri
        ]
        incoming = [
            (self.view(r["s"]), View(r["p"].value, "iri", self.label(r["p"].value)))
            for r in self._select(queries.INCOMING, o=node)
        ]
        context: dict[str, Any] = {"iri": iri, "types": sorted(types), "props": self._props(node, by_subject)}
        context |= {
            "parts": parts,
            "incoming": incoming,
            "title_en": self.title(iri, types, "en"),
            "title_zh": self.title(iri, types, "zh"),
            "trail": self.trail(node),
        }
        if IDAIS + "Goal" in types:
            context["goal"] = self.goal(node)
        if IDAIS + "PolicyArea" in types:
            context["area_goals"] = [
                (r["goal"].value, r["level"].value if "level" in r else None)
                for r in self._select(queries.AREA_GOALS, area=node)
            ]
        context["is_dataset"] = iri == DATASET_IRI
        return self.pages.env.get_template("resource.html").render(context).encode("utf-8")

    def goal(self, goal: ox.NamedNode) -> dict[str, Any]:
        """What a goal's page shows besides its triples: its assessments, quotes, policies (with their
        footnotes and sources) and the partners' links to it.
        """
        policies: dict[str, dict[str, Any]] = {}
        for row in self._select(queries.POLICIES, goal=goal):
            entry = policies.setdefault(row["policy"].value, {"footnotes": {}, "sources": []})
            if "footnote" in row:
                entry["footnotes"][row["footnote"].value] = term_text(row["number"])
            if "source" in row and row["source"].value not in entry["sources"]:
                entry["sources"].append(row["source"].value)
        return {
            "assessments": [
                {k: term_text(v) for k, v in r.items()} for r in self._select(queries.ASSESSMENTS, goal=goal)
            ],
            "quotes": [
                {k: term_text(v) for k, v in r.items()} for r in self._select(queries.QUOTES, goal=goal)
            ],
            "policies": policies,
            "partner_links": [
                {k: term_text(v) for k, v in r.items()}
                for r in self._select(queries.PARTNER_LINKS, goal=goal)
            ],
        }


def literal_href(predicate: str, term: object) -> str | None:
    """Where a literal links to: a printed URL (``fabio:hasURL``) to itself, a DOI to its resolver.

    >>> literal_href(PRISM + "doi", ox.Literal("10.48550/ARXIV.2310.00374"))
    'https://doi.org/10.48550/ARXIV.2310.00374'
    """
    if not isinstance(term, ox.Literal):
        return None
    if predicate == FABIO + "hasURL":
        return term.value
    if predicate == PRISM + "doi":
        return DOI_RESOLVER + term.value
    return None
