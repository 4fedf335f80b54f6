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
from idais_kg.serve import ontology_docs
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
        self.yasgui_built = (STATIC / "vendor" / "yasgui.min.js").exists()
        self.labels: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self.kg.store.query(queries.LABELS):
            s, lit = row["s"], row["label"]
            if isinstance(s, ox.NamedNode) and isinstance(lit, ox.Literal):
                self.labels[s.value].setdefault(lit.language or "", lit.value)

    def label(self, iri: str, lang: str = "en") -> str:
        """The label of a resource in ``lang`` (else zh, else a plain one), or its prefixed name."""
        found = self.labels.get(iri, {})
        for key in (lang, "en", "zh", ""):
            if key in found:
                return found[key]
        return curie(iri)

    def view(self, term: Any) -> View:
        """A term as a template shows it: an IRI with its label where it has one, a blank node, or a literal
        with its language or its datatype as a prefixed name.
        """
        if isinstance(term, ox.NamedNode):
            return View(term.value, "iri", self.label(term.value) if term.value in self.labels else None)
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

    def render(self, page: str, iri: str) -> bytes:
        """The HTML page of ``iri``: the ontology's documentation, or a resource's page."""
        if page == "ontology":
            return self.ontology()
        return ResourcePage(self).render(iri)

    def home(self) -> bytes:
        """The home page: the goals by policy area, coloured by progress, and the published questions."""
        areas: dict[str, list[str]] = {}
        for row in self.kg.query("goals-by-area").rows:
            areas.setdefault(row["area"].value, []).append(row["goal"].value)
        levels = {r["goal"].value: r["level"].value for r in self.kg.query("goals-by-progress").rows}
        level_names = sorted(set(levels.values()), key=lambda lv: self.label(lv))
        questions = [(q, example_href(q)) for q in self.kg.queries.of_kind("question")]
        return (
            self.env.get_template("home.html")
            .render(
                areas=areas,
                levels=levels,
                level_names=level_names,
                questions=questions,
                triples=len(self.kg.store),
            )
            .encode("utf-8")
        )

    def ontology(self) -> bytes:
        """The ontology's documentation: ``ontology_docs`` gathers it, ``ontology.html`` shows it."""
        docs = ontology_docs.gather(self.kg)
        names = ontology_docs.METADATA_NAMES
        return (
            self.env.get_template("ontology.html")
            .render(docs=docs, names=names, ontology=ONTOLOGY_IRI, idais=IDAIS)
            .encode("utf-8")
        )

    def query_page(self, plain: bool = False) -> bytes:
        """The query page, with YASGUI when it is bundled (scripts/build-yasgui.sh) unless ``plain`` is asked for."""
        examples = [
            {"name": q.name, "summary": q.summary, "text": q.text}
            for q in self.kg.queries.of_kind("question")
        ]
        default = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("idais", "skos")) + queries.DEFAULT_QUERY
        return (
            self.env.get_template("query.html")
            .render(
                examples=examples,
                examples_json=json.dumps(examples, ensure_ascii=False),
                default_query=default,
                default_query_json=json.dumps(default, ensure_ascii=False),
                yasgui=self.yasgui_built and not plain,
                yasgui_built=self.yasgui_built,
                row_cap=self.settings.row_cap,
                deadline=f"{self.settings.deadline:g}",
            )
            .encode("utf-8")
        )

    def results(self, name: str, summary: str, variables: list[str], rows: list[dict[str, Any]]) -> bytes:
        """The page of a saved query's answer (``/api/queries/{name}`` asked for HTML): its table of terms."""
        table = [[self.view(row[v]) if v in row else None for v in variables] for row in rows]
        return (
            self.env.get_template("results.html")
            .render(name=name, summary=summary, variables=variables, table=table)
            .encode("utf-8")
        )

    def listing(self, base: str, members: list[str]) -> bytes:
        """The page of a namespace: the resources whose IRIs start with ``base``, by label."""
        titled = [(iri, self.label(iri)) for iri in members]
        return self.env.get_template("listing.html").render(base=base, members=titled).encode("utf-8")

    def graph_page(self, iri: str, count: int) -> bytes:
        """The page of a named graph that the description does not describe."""
        return self.env.get_template("graph.html").render(iri=iri, count=count).encode("utf-8")

    def api_docs(self, openapi: dict[str, Any]) -> bytes:
        """The page that documents the HTTP API, from its OpenAPI description."""
        return self.env.get_template("api.html").render(spec=openapi).encode("utf-8")

    def error(
        self, status: int, reason: str, message: str, headers: dict[str, str] | None = None
    ) -> HTMLResponse:
        """An error page with ``status``, for a client that reads HTML."""
        body = self.env.get_template("error.html").render(status=status, reason=reason, message=message)
        return HTMLResponse(body, status_code=status, headers=headers)
