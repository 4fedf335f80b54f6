"""HTML pages: the home page, one page per resource, the ontology's documentation, the query and API pages.

Pages are Jinja2 templates (``templates/``) with autoescaping on, so every literal of the dataset is escaped, and
every IRI becomes a link only through ``safe_href`` (the ``link`` macro of ``links.html``): a partner's IRI of a
scheme we do not vouch for is shown as text. Their script and style are files under ``static/``, as the
Content-Security-Policy (``responses.py``) allows no inline script or style.
The pages' own questions to the graph are files in ``sparql/``, run with bound parameters, never spliced.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from idais_kg.namespaces import (
    DATASET_IRI,
    GRAPH_ONTOLOGY,
    IDAIS,
    KG,
    ONTOLOGY_IRI,
    PREFIXES,
    RDF,
)
from idais_kg.results import term_text
from idais_kg.serve.linked_data import Describer
from idais_kg.sources.queries import prefix_block

if TYPE_CHECKING:
    from idais_kg.dataset.assemble import KnowledgeGraph
    from idais_kg.serve.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
SPARQL = Path(__file__).parent / "sparql"


def page_query(name: str) -> str:
    """A page's own question to the graph, from ``sparql/NAME.rq``, with the project prefixes declared."""
    return prefix_block() + (SPARQL / f"{name}.rq").read_text(encoding="utf-8")


STATIC = Path(__file__).parent / "static"
LABEL_QUERY = page_query("labels")
DEFAULT_QUERY = """SELECT ?goal ?title WHERE {
  ?goal a idais:Goal ; skos:prefLabel ?title . FILTER (LANG(?title) = "en")
} ORDER BY ?title
"""
INCOMING = "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p ?s LIMIT 500"
ASSESSMENTS = page_query("assessments")
QUOTES = page_query("quotes")
POLICIES = page_query("policies")
PARTNER_LINKS = page_query("partner-links")
AREA_GOALS = page_query("area-goals")
ONTOLOGY_TERMS = page_query("ontology-terms")


@dataclass
class View:
    """A term as a page shows it: text (an IRI's own text, which the templates link through ``safe_href``), label,
    language."""

    text: str
    kind: str
    label: str | None = None
    lang: str | None = None
    datatype: str | None = None
    props: list[tuple[View, list[View]]] = field(default_factory=list)


LINKED_SCHEMES = frozenset({"http", "https"})
SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
EDGES = "".join(map(chr, range(0x21)))  # C0 controls and space: a browser strips them at both ends of an href
INSIDE = str.maketrans("", "", "\t\n\r")  # and removes tabs and newlines anywhere in it


def safe_href(iri: str) -> str | None:
    """Where a page may link an IRI to, or None: then the page shows the IRI as text, never as a link.

    Our resources and ontology terms link to their local paths. Any other IRI links only if its scheme is http or
    https as a browser reads the href (ends stripped of spaces and control characters, tabs and newlines removed,
    case ignored): a partner's ``javascript:``, ``data:`` or ``vbscript:`` IRI would run script on our origin.
    A path of our own (one ``/``, not ``//host``) is kept; anything else, a relative reference included, is no link.

    >>> safe_href("https://w3id.org/idais-kg/id/goal/x"), safe_href("https://w3id.org/idais-kg/ontology#Goal")
    ('/id/goal/x', '/ontology#Goal')
    >>> safe_href("HTTPS://example.org/a?b#c"), safe_href("/id/goal/x")
    ('HTTPS://example.org/a?b#c', '/id/goal/x')
    >>> [safe_href(s) for s in ("javascript:alert(1)//", "JaVaScRiPt:x", " \\tjava\\nscript:x", "data:,x", "VBScript:x")]
    [None, None, None, None, None]
    >>> [safe_href(s) for s in ("//evil.example/", "/\\\\evil.example/", "mailto:a@b.example", "evil.example/x", "")]
    [None, None, None, None, None]
    """
    if iri.startswith(KG):
        return "/id/" + iri[len(KG) :]
    if iri.startswith(IDAIS):
        return "/ontology#" + iri[len(IDAIS) :]
    if iri == ONTOLOGY_IRI:
        return "/ontology"
    target = iri.strip(EDGES).translate(INSIDE)
    if target.startswith("/"):
        return target if target[1:2] not in ("/", "\\") else None
    scheme = SCHEME.match(target)
    return target if scheme and scheme.group(1).lower() in LINKED_SCHEMES else None


def curie(iri: str) -> str:
    """The shortest prefixed name for an IRI, or the IRI itself.

    >>> curie("http://www.w3.org/2004/02/skos/core#prefLabel")
    'skos:prefLabel'
    """
    best = iri
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) - len(ns) + len(prefix) + 1 < len(best):
            best = f"{prefix}:{iri[len(ns) :]}"
    return best


def slug(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


class Pages:
    """Renders the HTML pages from the graph; one instance per server."""

    def __init__(self, kg: KnowledgeGraph, describer: Describer, settings: Settings) -> None:
        self.kg = kg
        self.describer = describer
        self.settings = settings
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
        self.env.globals.update(safe_href=safe_href, curie=curie, slug=slug, label=self.label)
        self.yasgui_built = (STATIC / "vendor" / "yasgui.min.js").exists()
        self.labels: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self.kg.store.query(LABEL_QUERY):
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
        if isinstance(term, ox.NamedNode):
            return View(term.value, "iri", self.label(term.value) if term.value in self.labels else None)
        if isinstance(term, ox.BlankNode):
            return View(term.value, "bnode")
        if isinstance(term, ox.Literal):
            dt = term.datatype.value if term.datatype and not term.language else None
            return View(term.value, "literal", lang=term.language, datatype=curie(dt) if dt else None)
        return View(str(term), "other")

    def _select(self, query: str, **bindings: ox.NamedNode) -> list[dict[str, Any]]:
        answer = self.kg.store.query(query, dict(bindings))
        names = [v.value for v in answer.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in answer]

    def render(self, page: str, iri: str) -> bytes:
        if page == "ontology":
            return self.ontology()
        return self.resource(iri)

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
                if isinstance(obj, ox.BlankNode):
                    view.props = self._props(obj, by_subject)
                values.append(view)
            out.append((View(pred, "iri", curie(pred)), values))
        return out

    def resource(self, iri: str) -> bytes:
        triples = self.describer.describe(iri)
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
            (self.view(r["s"]), View(r["p"].value, "iri", curie(r["p"].value)))
            for r in self._select(INCOMING, o=node)
        ]
        context: dict[str, Any] = {"iri": iri, "types": sorted(types), "props": self._props(node, by_subject)}
        context |= {
            "parts": parts,
            "incoming": incoming,
            "title_en": self.label(iri),
            "title_zh": self.label(iri, "zh"),
        }
        if IDAIS + "Goal" in types:
            context["goal"] = self.goal(node)
        if IDAIS + "PolicyArea" in types:
            context["area_goals"] = [
                (r["goal"].value, r["level"].value if "level" in r else None)
                for r in self._select(AREA_GOALS, area=node)
            ]
        context["is_dataset"] = iri == DATASET_IRI
        return self.env.get_template("resource.html").render(context).encode("utf-8")

    def goal(self, goal: ox.NamedNode) -> dict[str, Any]:
        policies: dict[str, dict[str, Any]] = {}
        for row in self._select(POLICIES, goal=goal):
            entry = policies.setdefault(row["policy"].value, {"footnotes": {}, "sources": []})
            if "footnote" in row:
                entry["footnotes"][row["footnote"].value] = term_text(row["number"])
            if "source" in row and row["source"].value not in entry["sources"]:
                entry["sources"].append(row["source"].value)
        return {
            "assessments": [
                {k: term_text(v) for k, v in r.items()} for r in self._select(ASSESSMENTS, goal=goal)
            ],
            "quotes": [{k: term_text(v) for k, v in r.items()} for r in self._select(QUOTES, goal=goal)],
            "policies": policies,
            "partner_links": [
                {k: term_text(v) for k, v in r.items()} for r in self._select(PARTNER_LINKS, goal=goal)
            ],
        }

    def home(self) -> bytes:
        areas: dict[str, list[str]] = {}
        for row in self.kg.query("goals-by-area").rows:
            areas.setdefault(row["area"].value, []).append(row["goal"].value)
        levels = {r["goal"].value: r["level"].value for r in self.kg.query("goals-by-progress").rows}
        level_names = sorted(set(levels.values()), key=lambda lv: self.label(lv))
        questions = self.kg.queries.of_kind("question")
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
        terms: dict[str, dict[str, Any]] = {}
        for row in self._select(ONTOLOGY_TERMS, graph=ox.NamedNode(GRAPH_ONTOLOGY)):
            term = terms.setdefault(row["term"].value, {"types": set(), "definition": "", "parents": set()})
            term["types"].add(curie(row["type"].value))
            if "definition" in row:
                term["definition"] = row["definition"].value
            if "parent" in row:
                term["parents"].add(row["parent"].value)
        classes = {k: v for k, v in terms.items() if "owl:Class" in v["types"]}
        properties = {k: v for k, v in terms.items() if "owl:Class" not in v["types"]}
        return (
            self.env.get_template("ontology.html")
            .render(classes=classes, properties=properties, ontology=ONTOLOGY_IRI, idais=IDAIS)
            .encode("utf-8")
        )

    def query_page(self, plain: bool = False) -> bytes:
        """The query page, with YASGUI when it is bundled (scripts/build-yasgui.sh) unless ``plain`` is asked for."""
        examples = [
            {"name": q.name, "summary": q.summary, "text": q.text}
            for q in self.kg.queries.of_kind("question")
        ]
        default = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("idais", "skos")) + DEFAULT_QUERY
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
        table = [[self.view(row[v]) if v in row else None for v in variables] for row in rows]
        return (
            self.env.get_template("results.html")
            .render(name=name, summary=summary, variables=variables, table=table)
            .encode("utf-8")
        )

    def api_docs(self, openapi: dict[str, Any]) -> bytes:
        return self.env.get_template("api.html").render(spec=openapi).encode("utf-8")

    def error(
        self, status: int, reason: str, message: str, headers: dict[str, str] | None = None
    ) -> HTMLResponse:
        body = self.env.get_template("error.html").render(status=status, reason=reason, message=message)
        return HTMLResponse(body, status_code=status, headers=headers)
