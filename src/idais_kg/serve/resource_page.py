"""The page of one resource: the guide's text of it (the original, then our translation, footnote markers linked),
its properties (blank nodes nested), its parts (hash IRIs), what links to it, for a footnote the places that cite
it, and for a goal or a policy area what the guide says of it."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyoxigraph as ox

from idais_kg.namespaces import DATASET_IRI, DOI_RESOLVER, FABIO, IDAIS, PRISM, RDF
from idais_kg.results import term_text
from idais_kg.serve import i18n
from idais_kg.serve import page_queries as queries
from idais_kg.serve.views import Segment, View, curie, safe_href, segments

VERBATIM = IDAIS + "verbatimText"
TRANSLATION = IDAIS + "translation"
# The properties whose text is the guide's as printed (or our translation of it): where a superscript is a marker.
PRINTED = frozenset({VERBATIM, TRANSLATION, IDAIS + "textAsWritten", IDAIS + "leadPhrase"})
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")

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
        return f"{kind[:1].upper()}{kind[1:]} {iri.rstrip('/').rsplit('/', 1)[-1]}"

    def trail(self, node: ox.NamedNode) -> list[tuple[str, str]]:
        """The breadcrumb of a resource: its area, then its goal, then itself (IRI and label), where they exist."""
        rows = self._select(queries.BREADCRUMB, r=node)
        if not rows:
            return []
        row = rows[0]
        crumbs = [(row[k].value, self.label(row[k].value)) for k in ("area", "goal") if k in row]
        return [c for c in crumbs if c[0] != node.value]

    def footnotes(self, node: ox.NamedNode) -> dict[int, str]:
        """The footnotes ``node`` cites, by number: where its markers link to."""
        found: dict[int, str] = {}
        for row in self._select(queries.FOOTNOTES_OF, r=node):
            href = safe_href(row["footnote"].value)
            if href is not None and row["number"].value.isdigit():
                found.setdefault(int(row["number"].value), href)
        return found

    def marked(self, view: View, footnotes: dict[int, str]) -> View:
        """A literal with its printed URLs and footnote markers as links (no anchors: those are the text's)."""
        if view.kind == "literal" and view.href is None:
            pieces = segments(view.text, footnotes)
            if any(p.href for p in pieces):
                view.segments = pieces
        return view

    def _props(
        self,
        subject: ox.NamedNode | ox.BlankNode,
        by_subject: dict[Any, list[ox.Triple]],
        footnotes: dict[int, str],
        skip: frozenset[str] = frozenset(),
    ) -> list[tuple[View, list[View]]]:
        grouped: dict[str, list[Any]] = defaultdict(list)
        for triple in by_subject.get(subject, []):
            if triple.predicate.value not in skip:
                grouped[triple.predicate.value].append(triple.object)
        out = []
        for pred in sorted(grouped, key=lambda p: (p != RDF + "type", self.label(p).lower(), p)):
            values = []
            for obj in sorted(grouped[pred], key=original_first):
                view = self.view(obj)
                view.href = literal_href(pred, obj)
                if isinstance(obj, ox.BlankNode):
                    view.props = self._props(obj, by_subject, footnotes)
                values.append(self.marked(view, footnotes if pred in PRINTED else {}))
            out.append((View(pred, "iri", self.label(pred)), values))
        return out

    def text(
        self, node: ox.NamedNode, by_subject: dict[Any, list[ox.Triple]], footnotes: dict[int, str]
    ) -> dict[str, Any]:
        """The guide's text of the resource (``idais:verbatimText``, markers and URLs linked, each footnote's first
        marker its anchor) and our translation (URLs linked), then a link to each footnote it cites, so a reader
        of the translation (which carries no markers) reaches them too; a footnote whose marker the original does
        not show gets its anchor there."""
        originals = [t.object for t in by_subject.get(node, []) if t.predicate.value == VERBATIM]
        translations = [t.object for t in by_subject.get(node, []) if t.predicate.value == TRANSLATION]
        anchored: set[int] = set()
        shown = [
            (text_lang(o), segments(o.value, footnotes, anchored))
            for o in sorted(originals, key=original_first)
            if isinstance(o, ox.Literal)
        ]
        ours = [(text_lang(o), segments(o.value, {})) for o in translations if isinstance(o, ox.Literal)]
        notes = []
        for n, href in sorted(footnotes.items()):
            anchor = None if n in anchored else f"fnref-{n}"
            anchored.add(n)
            notes.append(Segment(f"[{n}]", href=href, number=n, anchor=anchor))
        return {"originals": shown, "translations": ours, "notes": notes}

    def cited_by(self, node: ox.NamedNode) -> list[tuple[str, str]]:
        """For a footnote: each place that cites it, as (the link to its marker on the citing page, label)."""
        out = []
        for row in self._select(queries.CITED_BY, footnote=node):
            href = safe_href(row["citing"].value)
            if href is not None:
                out.append((f"{href}#fnref-{row['number'].value}", self.label(row["citing"].value)))
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
        footnotes = self.footnotes(node)
        text = self.text(node, by_subject, footnotes)
        skip = (
            frozenset({VERBATIM, TRANSLATION}) if text["originals"] or text["translations"] else frozenset()
        )
        parts = [
            (s.value.partition("#")[2], s.value, self._props(s, by_subject, footnotes))
            for s in sorted(by_subject, key=str)
            if isinstance(s, ox.NamedNode) and s.value.startswith(iri + "#")
        ]
        incoming = [
            (self.view(r["s"]), View(r["p"].value, "iri", self.label(r["p"].value)))
            for r in self._select(queries.INCOMING, o=node)
        ]
        ui = i18n.current()
        context: dict[str, Any] = {
            "iri": iri,
            "types": sorted(types),
            "props": self._props(node, by_subject, footnotes, skip),
        }
        context |= {
            "parts": parts,
            "incoming": incoming,
            "title": self.title(iri, types, ui),
            "title_other": self.title(iri, types, i18n.other(ui)),
            "trail": self.trail(node),
            "text": text,
            "cited_by": self.cited_by(node) if IDAIS + "Footnote" in types else [],
        }
        if IDAIS + "Goal" in types:
            context["goal"] = self.goal(node)
        if IDAIS + "PolicyArea" in types:
            context["area_goals"] = [
                (r["goal"].value, r["level"].value if "level" in r else None)
                for r in self._select(queries.AREA_GOALS, area=node)
            ]
        context["mappings"] = [
            {k: term_text(v) for k, v in r.items()} for r in self._select(queries.MAPPINGS_OF, r=node)
        ]
        context["is_dataset"] = iri == DATASET_IRI
        return self.pages.page("resource.html", **context)

    def assessment(self, row: dict[str, Any]) -> dict[str, Any]:
        """An assessment as a goal's page shows it: its text with the markers linked, and its footnotes (for our
        translation, which has no markers)."""
        footnotes = self.footnotes(row["assessment"])
        shown: dict[str, Any] = {k: term_text(v) for k, v in row.items()}
        shown["segments"] = segments(shown["text"], footnotes) if "text" in shown else []
        shown["notes"] = sorted(footnotes.items())
        return shown

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
            "assessments": [self.assessment(r) for r in self._select(queries.ASSESSMENTS, goal=goal)],
            "quotes": [
                {k: term_text(v) for k, v in r.items()} for r in self._select(queries.QUOTES, goal=goal)
            ],
            "policies": policies,
            "partner_links": [
                {k: term_text(v) for k, v in r.items()}
                for r in self._select(queries.PARTNER_LINKS, goal=goal)
            ],
        }


def original_first(term: object) -> tuple[int, str]:
    """The order of a property's values on a page: the guide's Chinese first, then untagged, then English."""
    lang = getattr(term, "language", None) or ""
    return ({"zh": 0, "": 1}.get(lang, 2), str(term))


def text_lang(term: ox.Literal) -> str:
    """The language of a text, as its ``lang`` attribute says: its tag, or for an untagged one (as a footnote's
    text is) zh if it has Chinese characters, else en.

    >>> text_lang(ox.Literal("见")), text_lang(ox.Literal("Alaga, Jide")), text_lang(ox.Literal("x", language="en"))
    ('zh', 'en', 'en')
    """
    return term.language or ("zh" if CJK.search(term.value) else "en")


URL_PROPERTIES = frozenset({FABIO + "hasURL", IDAIS + "urlAsWritten"})
DOI_PROPERTIES = frozenset({PRISM + "doi", IDAIS + "doiAsWritten"})


def literal_href(predicate: str, term: object) -> str | None:
    """Where a literal links to: a printed URL (``fabio:hasURL``, ``idais:urlAsWritten``) to itself if it is http
    or https, a DOI to its resolver.

    >>> literal_href(PRISM + "doi", ox.Literal("10.48550/ARXIV.2310.00374"))
    'https://doi.org/10.48550/ARXIV.2310.00374'
    >>> literal_href(IDAIS + "urlAsWritten", ox.Literal("javascript:alert(1)")) is None
    True
    """
    if not isinstance(term, ox.Literal):
        return None
    if predicate in URL_PROPERTIES:
        href = safe_href(term.value)
        return href if href and not href.startswith("/") else None
    if predicate in DOI_PROPERTIES:
        return DOI_RESOLVER + quote(term.value, safe="/:;()._-")
    return None
