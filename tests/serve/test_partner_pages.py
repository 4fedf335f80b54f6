"""A goal page served from the persistent store shows the links partners made to that goal, and a partner IRI
whose scheme we do not vouch for (``javascript:``, ``data:``, ``vbscript:``) only as text, never as a link."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from idais_kg.partners import registry as partners
from idais_kg.serve.pages import TEMPLATES, safe_href

FIXTURES = Path(__file__).resolve().parents[1] / "cases" / "partners"
HOSTILE_GOAL = "domestic-model-registration"
# Partner resources whose IRIs would run script on our origin if a page linked them: IRI -> label. Oxigraph refuses
# an IRI with a space or a tab in it, so those variants come as labels (text anyway) and as cases of safe_href.
HOSTILE = {
    "javascript:alert(document.domain)//": "Hostile script link",
    "JaVaScRiPt:alert(document.domain)//": "Hostile mixed-case script link",
    "data:text/html;base64,PHNjcmlwdD5hbGVydChkb2N1bWVudC5kb21haW4pPC9zY3JpcHQ+": "Hostile data link",
    "vbscript:msgbox(document.domain)": "Hostile vbscript link",
}
HOSTILE_LABELS = [" javascript:alert(document.domain)//", "\tjava\tscript:alert(document.domain)//"]


def hostile_partner(folder: Path) -> Path:
    """A partner file (Turtle) that passes the partner check and links the IRIs of HOSTILE to one goal."""
    lines = [
        "# FICTIONAL partner data for tests: a partner whose resources are script URLs.",
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .",
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix schema: <https://schema.org/> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "@prefix idais: <https://w3id.org/idais-kg/ontology#> .",
        "@prefix goal: <https://w3id.org/idais-kg/id/goal/> .",
        "@prefix ex: <https://example.org/fictional/hostile/> .",
        'ex:dataset a dcat:Dataset ; dcterms:title "Hostile tracker (fictional)"@en ;',
        "  dcterms:publisher ex:org ; dcterms:license <https://creativecommons.org/licenses/by/4.0/> ;",
        '  dcat:contactPoint ex:contact ; dcterms:issued "2025-03-01"^^xsd:date .',
    ]
    for iri, label in HOSTILE.items():
        lines.append(
            f'<{iri}> a schema:Project ; rdfs:label "{label}" ; idais:addressesGoal goal:{HOSTILE_GOAL} .'
        )
    for n, label in enumerate(HOSTILE_LABELS):
        text = label.replace("\t", "\\t")
        lines.append(
            f'ex:p{n} a schema:Project ; rdfs:label "{text}" ; idais:addressesGoal goal:{HOSTILE_GOAL} .'
        )
    path = folder / "hostile.ttl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Anchors(HTMLParser):
    """The href of every ``<a>`` of a page, and its text with the markup taken out."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value or "" for name, value in attrs if name == "href")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def partner_server(tmp_path_factory: pytest.TempPathFactory, start_server):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("partner-server")
    store = folder / "store"
    partners.add("fictional-observatory", FIXTURES / "clean.ttl", store)
    partners.add("fictional-hostile", hostile_partner(folder), store)
    with start_server(folder, "--workers", "1", "--store", str(store)) as server:
        yield server


def test_goal_page_lists_partner_links(partner_server) -> None:  # type: ignore[no-untyped-def]
    status, _, body = partner_server.get("/id/goal/domestic-model-registration", accept="text/html")
    page = body.decode()
    assert status == 200
    assert "Partner links" in page
    assert "Fictional model registry pilot" in page
    assert "fictional-observatory" in page


def test_goal_without_links_has_no_partner_section(partner_server) -> None:  # type: ignore[no-untyped-def]
    status, _, body = partner_server.get("/id/goal/ai-safety-as-global-public-good", accept="text/html")
    assert status == 200
    assert "Partner links" not in body.decode()


def test_script_iris_are_text_not_links(partner_server) -> None:  # type: ignore[no-untyped-def]
    status, _, body = partner_server.get(f"/id/goal/{HOSTILE_GOAL}", accept="text/html")
    assert status == 200
    page = Anchors(body.decode())
    text = "".join(page.text)
    assert page.hrefs and all(safe_href(h) == h for h in page.hrefs)  # only http(s) and our own paths
    for iri, label in HOSTILE.items():
        assert iri not in page.hrefs
        assert iri in text and label in text  # shown, as text (the partner links list and "Referred to by")
    for label in HOSTILE_LABELS:
        assert label in text
    schemes = ("javascript:", "data:", "vbscript:")
    assert not [h for h in page.hrefs if "".join(h.split()).lower().startswith(schemes)]
    assert "https://example.org/fictional/hostile/p0" in page.hrefs  # an https resource still links


def test_partner_graph_is_queryable_over_sparql(partner_server) -> None:  # type: ignore[no-untyped-def]
    query = (
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        "FILTER(STRSTARTS(STR(?g), 'https://w3id.org/idais-kg/id/graph/partner/')) } GROUP BY ?g"
    )
    status, _, body = partner_server.get(
        "/sparql?query=" + quote(query), accept="application/sparql-results+json"
    )
    assert status == 200
    assert "graph/partner/fictional-observatory" in body.decode()


NO_LINK = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "\x00\x01\x1f javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    "javascript\t:alert(1)",
    "javascript:alert(1) \n",
    "data:text/html,<script>alert(1)</script>",
    " DATA:text/html,x",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "file:///etc/passwd",
    "mailto:someone@example.org",
    "urn:isbn:9780000000000",
    "//evil.example/",
    " //evil.example/",
    "/\\evil.example/",
    "/\t/evil.example/",
    "evil.example/path",
    "javascript%3Aalert(1)",
    "java\u00adscript:alert(1)",
    "ht\x00tp://example.org/",
    "",
    " ",
]
LINK = {
    "https://example.org/a?b=c#d": "https://example.org/a?b=c#d",
    "http://example.org/": "http://example.org/",
    "HTTPS://example.org/": "HTTPS://example.org/",
    "HtTp://example.org/": "HtTp://example.org/",
    " https://example.org/\n": "https://example.org/",
    "ht\ttps://example.org/": "https://example.org/",  # what the browser would follow, and it is https
    "https://w3id.org/idais-kg/id/goal/x": "/id/goal/x",
    "https://w3id.org/idais-kg/ontology#Goal": "/ontology#Goal",
    "https://w3id.org/idais-kg/ontology": "/ontology",
    "/id/goal/x": "/id/goal/x",
    "/static/site.css": "/static/site.css",
}


@pytest.mark.parametrize("iri", NO_LINK, ids=[repr(s) for s in NO_LINK])
def test_safe_href_refuses(iri: str) -> None:
    assert safe_href(iri) is None


@pytest.mark.parametrize("iri", LINK, ids=list(LINK))
def test_safe_href_links(iri: str) -> None:
    assert safe_href(iri) == LINK[iri]


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_link_iris_only_through_safe_href(template: Path) -> None:
    """A template writes no computed href of its own: ``link`` (links.html) calls safe_href."""
    source = template.read_text(encoding="utf-8")
    if template.name != "links.html":
        assert 'href="{{' not in source and "href='{{" not in source
