"""HTML pages: the home page, one page per resource, the ontology's documentation, the query and API pages.

Pages are Jinja2 templates (``templates/``) with autoescaping on, so every literal of the dataset is escaped, and
every IRI becomes a link only through ``safe_href`` (the ``link`` macro of ``links.html``): a partner's IRI of a
scheme we do not vouch for is shown as text. Their script and style are files under ``static/``, as the
Content-Security-Policy (``responses.py``) allows no inline script or style.
The pages' own questions to the graph are files in ``sparql/``, run with bound parameters, never spliced.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from idais_kg.namespaces import (
    IDAIS,
    ONTOLOGY_IRI,
    PREFIXES,
)
from idais_kg.serve import i18n, ontology_docs
from idais_kg.serve import page_queries as queries
from idais_kg.serve.documents import SUFFIXES
from idais_kg.serve.linked_data import Describer
from idais_kg.serve.resource_page import ResourcePage
from idais_kg.serve.views import View, curie, safe_href, slug
from idais_kg.sources.queries import SavedQuery

if TYPE_CHECKING:
    from idais_kg.dataset.assemble import KnowledgeGraph
    from idais_kg.serve.settings import Settings

__all__ = ["STATIC", "TEMPLATES", "Pages", "View", "example_href", "safe_href"]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def example_href(saved: SavedQuery) -> str:
    """The API path of a saved query, with its header's example for each required parameter (without them, the
    link would answer 400)."""
    examples = {p.name: p.example for p in saved.params.values() if p.required and p.example is not None}
    return f"/api/queries/{saved.name}" + (f"?{urlencode(examples)}" if examples else "")


class Pages:
    """Renders the HTML pages from the graph; one instance per server."""

    def __init__(self, kg: KnowledgeGraph, describer: Describer, settings: Settings) -> None:
        self.kg = kg
        self.describer = describer
        self.settings = settings
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
        self.env.globals.update(
            safe_href=safe_href, curie=curie, slug=slug, label=self.label, formats=list(SUFFIXES.items())
        )
        self.env.globals.update(t=i18n.text, code=i18n.code, switch=i18n.switch, ui_lang=i18n.current)
        self.env.globals.update(known=i18n.known, link_to=i18n.link_to)
        self.yasgui_built = (STATIC / "vendor" / "yasgui.min.js").exists()
        self.labels: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self.kg.store.query(queries.LABELS):
            s, lit = row["s"], row["label"]
            if isinstance(s, ox.NamedNode) and isinstance(lit, ox.Literal):
                self.labels[s.value].setdefault(lit.language or "", lit.value)
        for row in self.kg.store.query(
            queries.FOOTNOTES_OF
        ):  # a footnote has no label: "Footnote 12", "脚注 12"
            note, number = row["footnote"], row["number"]
            if (
                isinstance(note, ox.NamedNode)
                and isinstance(number, ox.Literal)
                and note.value not in self.labels
            ):
                for lang in i18n.LANGUAGES:
                    self.labels[note.value][lang] = str(i18n.text("title.footnote", lang, n=number.value))

    def label(self, iri: str, lang: str | None = None) -> str:
        """The label of a resource in ``lang`` (by default the reader's; else the other, else a plain one), or its
        prefixed name."""
        found = self.labels.get(iri, {})
        lang = lang or i18n.current()
        for key in (lang, i18n.other(lang), ""):
            if key in found:
                return found[key]
        name = curie(iri)
        return str(i18n.text("term." + name, lang)) if i18n.known("term." + name) else name

    def view(self, term: Any) -> View:
        """A term as a template shows it: an IRI with its label where it has one, a blank node, or a literal
        with its language or its datatype as a prefixed name.
        """
        if isinstance(term, ox.NamedNode):
            name = self.label(term.value)
            return View(term.value, "iri", name if name != curie(term.value) else None)
        if isinstance(term, ox.BlankNode):
            return View(term.value, "bnode")
        if isinstance(term, ox.Literal):
            dt = term.datatype.value if term.datatype and not term.language else None
            return View(term.value, "literal", lang=term.language, datatype=curie(dt) if dt else None)
        return View(str(term), "other")

    def select(self, query: str, **bindings: ox.NamedNode) -> list[dict[str, Any]]:
        """The rows of a page query, with bound terms."""
        answer = self.kg.store.query(query, dict(bindings))
        names = [v.value for v in answer.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in answer]

    def page(self, template: str, **context: Any) -> bytes:
        """A template rendered in the reader's language (``ui``; ``other`` is the other one), as UTF-8."""
        ui = i18n.current()
        context |= {"ui": ui, "other": i18n.other(ui)}
        return self.env.get_template(template).render(context).encode("utf-8")

    def render(self, page: str, iri: str) -> bytes:
        """The HTML page of ``iri``: the ontology's documentation, or a resource's page."""
        if page == "ontology":
            return self.ontology()
        return ResourcePage(self).render(iri)

    def concepts(self) -> dict[str, tuple[str, str, set[str]]]:
        """The outside terms goals are mapped to (directly or through a policy): label, vocabulary, goals."""
        found: dict[str, tuple[str, str, set[str]]] = {}
        for row in self.select(queries.MAPPING_TARGETS):
            target = row["target"].value
            label = row["target_label"].value if "target_label" in row else target
            vocabulary = row["vocabulary_title"].value if "vocabulary_title" in row else ""
            found.setdefault(target, (label, vocabulary, set()))[2].add(row["goal"].value)
        return found

    def home(self, concept: str | None = None) -> bytes:
        """The home page: the goals by policy area, coloured by progress, and the published questions; with
        ``concept`` (an outside term of the mappings), only the goals mapped to it, or whose policies are."""
        concepts = self.concepts()
        if concept is not None and concept not in concepts:
            raise KeyError(concept)
        shown = concepts[concept][2] if concept else None
        areas: dict[str, list[str]] = {}
        for row in self.kg.query("goals-by-area").rows:
            if shown is None or row["goal"].value in shown:
                areas.setdefault(row["area"].value, []).append(row["goal"].value)
        levels = {r["goal"].value: r["level"].value for r in self.kg.query("goals-by-progress").rows}
        level_names = sorted(set(levels.values()), key=lambda lv: self.label(lv))
        questions = [(q, example_href(q)) for q in self.kg.queries.of_kind("question")]
        return self.page(
            "home.html",
            areas=areas,
            levels=levels,
            level_names=level_names,
            questions=questions,
            triples=len(self.kg.store),
            concepts=sorted(concepts.items(), key=lambda item: (item[1][1], item[1][0])),
            concepts_by_iri=concepts,
            concept=concept,
        )

    def ontology(self) -> bytes:
        """The ontology's documentation: ``ontology_docs`` gathers it, ``ontology.html`` shows it."""
        docs = ontology_docs.gather(self.kg)
        names = ontology_docs.METADATA_NAMES
        return self.page("ontology.html", docs=docs, names=names, ontology=ONTOLOGY_IRI, idais=IDAIS)

    def query_page(self, plain: bool = False) -> bytes:
        """The query page, with YASGUI when it is bundled (scripts/build-yasgui.sh) unless ``plain`` is asked for."""
        examples = [
            {"name": q.name, "summary": q.summary, "text": q.text}
            for q in self.kg.queries.of_kind("question")
        ]
        default = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("idais", "skos")) + queries.DEFAULT_QUERY
        return self.page(
            "query.html",
            examples=examples,
            examples_json=json.dumps(examples, ensure_ascii=False),
            default_query=default,
            default_query_json=json.dumps(default, ensure_ascii=False),
            yasgui=self.yasgui_built and not plain,
            yasgui_built=self.yasgui_built,
            row_cap=self.settings.row_cap,
            deadline=f"{self.settings.deadline:g}",
        )

    def results(self, name: str, summary: str, variables: list[str], rows: list[dict[str, Any]]) -> bytes:
        """The page of a saved query's answer (``/api/queries/{name}`` asked for HTML): its table of terms."""
        table = [[self.view(row[v]) if v in row else None for v in variables] for row in rows]
        return self.page("results.html", name=name, summary=summary, variables=variables, table=table)

    def listing(self, base: str, members: list[str]) -> bytes:
        """The page of a namespace: the resources whose IRIs start with ``base``, by label."""
        titled = [(iri, self.label(iri)) for iri in members]
        return self.page("listing.html", base=base, members=titled)

    def graph_page(self, iri: str, count: int) -> bytes:
        """The page of a named graph that the description does not describe."""
        return self.page("graph.html", iri=iri, count=count)

    def api_docs(self, openapi: dict[str, Any]) -> bytes:
        """The page that documents the HTTP API, from its OpenAPI description."""
        return self.page("api.html", spec=openapi)

    def error(
        self, status: int, reason: str, message: str, headers: dict[str, str] | None = None
    ) -> HTMLResponse:
        """An error page with ``status``, for a client that reads HTML."""
        body = self.page("error.html", status=status, reason=reason, message=message)
        return HTMLResponse(body, status_code=status, headers=headers)
