"""The documents our IRIs point at besides resources: the source text, the JSON-LD context, the ontology's version
IRI, the well-known VoID address, namespace listings (``/id/goal/``) and named graphs (``/id/graph/…``).

Each was a dead link once: every resource's ``idais:sourceLocation`` points into the source text, every Turtle
file declares the namespaces as prefixes, and the description names the graphs. ``tests/serve/test_crawl.py``
follows every link and every IRI of ours that the site serves, and requires each to answer.
"""

from __future__ import annotations

import asyncio
import html
import json

import pyoxigraph as ox
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idais_kg.namespaces import (
    DATASET_IRI,
    DCAT,
    DCTERMS,
    KG,
    ONTOLOGY_IRI,
    OWL,
    RDF,
    SOURCE_TEXT_IRI,
    jsonld_context,
)
from idais_kg.serve import linked_data
from idais_kg.serve.cache import Cached
from idais_kg.serve.linked_data import serialise
from idais_kg.serve.negotiation import HTML, JSONLD, NTRIPLES, PAGE_OFFER, RDFXML, TURTLE, choose
from idais_kg.serve.responses import cached, error, service_of

TEXT = "text/plain; charset=utf-8"


async def source_text(request: Request) -> Response:
    """GET /source/{name}: the guide's text as converted (plain text), or as numbered lines for a browser, where
    ``#line=a,b`` (the fragment of every ``idais:sourceLocation``) highlights lines a to b."""
    service = service_of(request)
    path = service.kg.layout.source_text
    if request.path_params["name"] != path.name:
        return error(request, 404, f"no source text named {request.path_params['name']!r}")
    media = choose(request.headers.get("accept"), [TEXT.split(";")[0], HTML]) or "text/plain"

    async def produce() -> Cached:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        if media != HTML:
            return Cached(text.encode("utf-8"), TEXT)
        return Cached(numbered(text, path.name), HTML + "; charset=utf-8")

    return await cached(request, f"source|{media}", produce)


def numbered(text: str, name: str) -> bytes:
    """The text as an HTML page of numbered lines, each with the id ``L<n>`` (no inline script: CSP).

    >>> b'id="L2"' in numbered("a\\nb", "x.txt")
    True
    """
    rows = "".join(
        f'<tr id="L{n}"><td class="n"><a href="#line={n},{n}">{n}</a></td><td>{html.escape(line)}</td></tr>'
        for n, line in enumerate(text.split("\n"), start=1)
    )
    page = (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(name)}</title>"
        '<link rel="stylesheet" href="/static/site.css"><script src="/static/source-lines.js" defer></script>'
        f'</head><body><main><h1>{html.escape(name)}</h1><p lang="en">{html.escape(SOURCE_TEXT_IRI)}: the guide '
        "as converted from its PDF, the lines every <code>idais:sourceLocation</code> points at.</p>"
        f'<table class="source">{rows}</table></main></body></html>'
    )
    return page.encode("utf-8")


async def context(request: Request) -> Response:
    """GET /context.jsonld: the JSON-LD context of our dumps (our prefixes)."""

    async def produce() -> Cached:
        return Cached(json.dumps(jsonld_context(), indent=2).encode("utf-8"), JSONLD)

    return await cached(request, "context", produce)


async def well_known_void(request: Request) -> Response:
    """GET /.well-known/void: where the VoID description is (RFC 8615, VoID §7.2)."""
    return RedirectResponse("/dataset", status_code=303)


async def dataset(request: Request) -> Response:
    """GET /dataset: the VoID/DCAT description graph in RDF; a browser is sent to the dataset's own page."""
    if choose(request.headers.get("accept"), PAGE_OFFER) == HTML:
        return RedirectResponse("/id/" + DATASET_IRI.removeprefix(KG), status_code=303)
    return await linked_data.dataset(request)


async def ontology_version(request: Request) -> Response:
    """GET /ontology/{version}: the ontology, at the version IRI it states. A prior version (``owl:priorVersion``)
    is not served as a document: 303 to the page of the data release that conforms to it, which names the commit
    whose ``ontology/`` holds it."""
    service = service_of(request)
    version_iri = f"{ONTOLOGY_IRI}/{request.path_params['version']}"
    about = list(service.kg.store.quads_about(ox.NamedNode(ONTOLOGY_IRI)))
    stated = {str(q.object) for q in about if q.predicate.value == OWL + "versionIRI"}
    if f"<{version_iri}>" in stated:
        return await linked_data.ontology(request)
    prior = {str(q.object) for q in about if q.predicate.value == OWL + "priorVersion"}
    store = service.kg.store
    releases = {
        q.subject
        for q in store.quads_pointing_at(ox.NamedNode(version_iri))
        if q.predicate.value == DCTERMS + "conformsTo" and isinstance(q.subject, ox.NamedNode)
    }
    conforming = sorted(
        v.object.value
        for r in releases
        for v in store.quads_about(r)
        if v.predicate.value == DCAT + "version" and isinstance(v.object, ox.Literal)
    )
    if f"<{version_iri}>" in prior and conforming:
        return RedirectResponse(f"/releases/{conforming[0]}", status_code=303)
    return error(request, 404, f"no ontology version <{version_iri}> is served here")


async def namespace(request: Request) -> Response:
    """GET /id/{prefix}/: the resources whose IRIs start with this namespace (every Turtle file of ours declares
    it as a prefix), each with its types; HTML for a browser, RDF (the ``rdf:type`` triples) otherwise."""
    service = service_of(request)
    prefix = request.path_params.get("prefix")
    base = KG + prefix + "/" if prefix else KG
    members = sorted(iri for iri in service.describer.documents if iri.startswith(base))
    media = choose(request.headers.get("accept"), PAGE_OFFER)
    if media is None:
        return error(None, 406, "offered: " + ", ".join(PAGE_OFFER), {"Vary": "Accept"})
    if not members:
        return error(request, 404, f"no resource of ours has an IRI that starts with <{base}>")

    async def produce() -> Cached:
        if media == HTML:
            return Cached(service.pages.listing(base, members), HTML + "; charset=utf-8")
        typed = [
            ox.Triple(q.subject, q.predicate, q.object)
            for iri in members
            for q in service.kg.store.quads_about(ox.NamedNode(iri))
            if q.predicate.value == RDF + "type"
        ]
        return Cached(serialise(sorted(set(typed), key=str), media), media)

    return await cached(request, f"ns|{base}|{media}", produce)


async def graph(request: Request) -> Response:
    """GET /id/graph/{name}: a named graph. Where the description describes it, its description (as any resource);
    else, for a graph the dataset holds, its triples in RDF or a page saying what it is."""
    service = service_of(request)
    iri = KG + "graph/" + request.path_params["name"]
    if service.describer.knows(iri) or iri not in service.hosted_graphs:
        return await linked_data.negotiated(request, iri, "resource", "resource")
    media = choose(request.headers.get("accept"), PAGE_OFFER)
    if media is None:
        return error(None, 406, "offered: " + ", ".join(PAGE_OFFER), {"Vary": "Accept"})

    async def produce() -> Cached:
        if media == HTML:
            count = await asyncio.to_thread(lambda: sum(1 for _ in service.kg.store.quads(iri)))
            return Cached(service.pages.graph_page(iri, count), HTML + "; charset=utf-8")
        return Cached(serialise(await asyncio.to_thread(service.describer.graph, iri), media), media)

    return await cached(request, f"graph|{iri}|{media}", produce)


# The URL of each format of a resource: /id/goal/x.ttl and so on, offered in Link headers and <link> elements.
SUFFIXES = {"ttl": TURTLE, "jsonld": JSONLD, "nt": NTRIPLES, "rdf": RDFXML}


class RdfSuffix(Convertor[str]):
    """The path convertor of ``{suffix:rdf}``: one of the suffixes of SUFFIXES."""

    regex = "|".join(SUFFIXES)

    def convert(self, value: str) -> str:
        """The suffix as matched (the regex admits only those of SUFFIXES)."""
        return value

    def to_string(self, value: str) -> str:
        """The suffix as it goes into a URL."""
        return value


register_url_convertor("rdf", RdfSuffix())


async def resource_as(request: Request) -> Response:
    """GET /id/{path}.{suffix}: a resource's description in the format its suffix names, whatever ``Accept``."""
    service = service_of(request)
    iri = KG + request.path_params["path"]
    media = SUFFIXES[request.path_params["suffix"]]
    if not service.describer.knows(iri):
        return error(request, 404, f"There is no resource <{iri}> in this dataset.")

    async def produce() -> Cached:
        triples = await asyncio.to_thread(service.describer.describe, iri)
        return Cached(serialise(triples, media), media)

    return await cached(request, f"as|{iri}|{media}", produce, vary="")


def alternates(path: str) -> str:
    """The ``Link`` header of a resource page: each format at its own URL.

    >>> alternates("/id/goal/x").split(", ")[0]
    '</id/goal/x.ttl>; rel="alternate"; type="text/turtle"'
    """
    return ", ".join(
        f'<{path}.{suffix}>; rel="alternate"; type="{media}"' for suffix, media in SUFFIXES.items()
    )


class AlternateLinks:
    """ASGI middleware: a resource's answers (under /id/, any format) carry ``Link`` headers to each format's URL,
    replays of the front cache included (so it stands outside it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the ``Link`` header to a 200 under /id/ (not to a listing, nor to a format's own URL)."""
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/id/") or path.endswith("/") or path.rpartition(".")[2] in SUFFIXES:
            await self.app(scope, receive, send)
            return
        header = (b"link", alternates(path).encode("latin-1", "replace"))

        async def with_links(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        await self.app(scope, receive, with_links)
