"""Linked data: every IRI of ``kg:`` dereferences (at /id/...), negotiated between HTML and the RDF formats.

A resource's description is every triple whose subject is the resource or one of its hash IRIs
(``footnote/8#c1`` is described on ``footnote/8``), with the blank nodes they lead to. The ontology, the dataset
description and the dumps are served the same way.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from idais_kg.namespaces import GRAPH_DESCRIPTION, GRAPH_ONTOLOGY, KG, ONTOLOGY_IRI, PREFIXES
from idais_kg.serve.cache import Cached
from idais_kg.serve.negotiation import HTML, JSONLD, NTRIPLES, PAGE_OFFER, RDF_FORMATS, RDFXML, TURTLE, choose
from idais_kg.serve.responses import cached, error, service_of
from idais_kg.store import Store, serialize_plain

Triple = ox.Triple
INBOUND = 500  # triples pointing at a resource that its description includes (its page lists as many)


class Describer:
    """Which of our IRIs the dataset describes, and the triples that describe each."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.documents: dict[str, set[str]] = defaultdict(
            set
        )  # document IRI -> its subjects (itself, hash IRIs)
        for quad in store.quads():
            subject = quad.subject
            if isinstance(subject, ox.NamedNode) and subject.value.startswith(KG):
                self.documents[subject.value.partition("#")[0]].add(subject.value)

    def knows(self, iri: str) -> bool:
        """Whether ``iri`` is a document of ours that the dataset describes (else it answers 404)."""
        return iri in self.documents

    def describe(self, iri: str) -> list[Triple]:
        """The triples of the document ``iri``, as its page shows them: a symmetric concise bounded description.
        Its own triples and its hash IRIs' (with the blank nodes they reach), and every triple that points at
        one of them (``?policy idais:policyOf <goal>``), at most INBOUND of those (the page shows as many)."""
        subjects = [ox.NamedNode(s) for s in sorted(self.documents.get(iri, ()))]
        inbound: set[Triple] = set()
        for subject in subjects:
            for quad in self.store.quads_pointing_at(subject):
                if len(inbound) >= INBOUND:
                    break
                inbound.add(Triple(quad.subject, quad.predicate, quad.object))
        return sorted(set(self.closure(list(subjects))) | inbound, key=str)

    def graph(self, graph: str) -> list[Triple]:
        """The triples of one named graph, in a fixed order."""
        return sorted({Triple(q.subject, q.predicate, q.object) for q in self.store.quads(graph)}, key=str)

    def closure(self, subjects: list[ox.NamedNode | ox.BlankNode]) -> list[Triple]:
        """The triples about ``subjects`` and about every blank node they lead to, in a fixed order."""
        seen: set[ox.NamedNode | ox.BlankNode] = set()
        triples: set[Triple] = set()
        todo = list(subjects)
        while todo:
            subject = todo.pop()
            if subject in seen:
                continue
            seen.add(subject)
            for quad in self.store.quads_about(subject):
                triples.add(Triple(quad.subject, quad.predicate, quad.object))
                if isinstance(quad.object, ox.BlankNode):
                    todo.append(quad.object)
        return sorted(triples, key=str)


def serialise(triples: list[Triple], media_type: str) -> bytes:
    """Triples in one of the RDF formats we offer, with the project's prefixes (in Turtle, only where the local
    name needs no escape: see ``serialize_plain``)."""
    return serialize_plain(triples, RDF_FORMATS[media_type], dict(PREFIXES))


def not_found_body(media_type: str, iri: str) -> bytes:
    """An empty document in the negotiated format, saying (where the format allows) what was not found."""
    if media_type in (TURTLE, NTRIPLES):
        return f"# no resource <{iri}> in this dataset\n".encode()
    if media_type == JSONLD:
        return b'{"@graph": []}\n'
    if media_type == RDFXML:
        return serialise([], RDFXML)
    return b""


async def negotiated(request: Request, iri: str, triples_of: str, page: str) -> Response:
    """Serve one resource (``iri``) negotiated between its HTML page and its RDF description."""
    service = service_of(request)
    media = choose(request.headers.get("accept"), PAGE_OFFER)
    if media is None:
        return error(None, 406, "offered: " + ", ".join(PAGE_OFFER))

    async def produce() -> Cached:
        if triples_of == "resource" and not service.describer.knows(iri):
            if media == HTML:
                response = service.pages.error(
                    404, "Not Found", f"There is no resource <{iri}> in this dataset."
                )
                return Cached(bytes(response.body), HTML + "; charset=utf-8", 404)
            return Cached(not_found_body(media, iri), media, 404)
        if media == HTML:
            return Cached(await asyncio.to_thread(service.pages.render, page, iri), HTML + "; charset=utf-8")
        if triples_of == "ontology" and media == TURTLE:
            return Cached(service.kg.layout.ontology_dir.joinpath("idais.ttl").read_bytes(), TURTLE)
        triples = await asyncio.to_thread(triples_for, service.describer, triples_of, iri)
        return Cached(serialise(triples, media), media)

    return await cached(request, f"ld|{triples_of}|{iri}|{media}", produce)


def triples_for(describer: Describer, what: str, iri: str) -> list[Triple]:
    """The RDF answer of :func:`negotiated`: the ontology graph, the description graph, or a resource's
    description (``what`` is ``ontology``, ``dataset`` or ``resource``).
    """
    if what == "ontology":
        return describer.graph(GRAPH_ONTOLOGY)
    if what == "dataset":
        return describer.graph(GRAPH_DESCRIPTION)
    return describer.describe(iri)


async def resource(request: Request) -> Response:
    """GET /id/{path}: a resource of ours, as its HTML page or its RDF description."""
    path = request.path_params["path"]
    return await negotiated(request, KG + path, "resource", "resource")


async def ontology(request: Request) -> Response:
    """GET /ontology: the ontology, as its documentation page or in RDF (Turtle: the source file itself)."""
    return await negotiated(request, ONTOLOGY_IRI, "ontology", "ontology")


async def dataset(request: Request) -> Response:
    """The dataset description graph (VoID/DCAT), negotiated like any resource (GET /dataset calls it)."""
    return await negotiated(request, GRAPH_DESCRIPTION, "dataset", "dataset")


DUMP_TYPES = {
    ".ttl": TURTLE,
    ".nt": NTRIPLES,
    ".rdf": RDFXML,
    ".trig": "application/trig",
    ".nq": "application/n-quads",
    ".jsonld": JSONLD,
    ".gz": "application/gzip",
    ".tsv": "text/tab-separated-values",  # the SSSOM mapping sets
    "": "text/plain",  # SHA256SUMS
}


class Dumps:
    """The build's dump files, as ``idais-kg build`` (or ``serve``, before it starts) wrote them: the server only
    reads them, and never writes a file."""

    def __init__(self, folder: Path, layout_root: Path) -> None:
        from idais_kg.dataset.dumps import DUMP_NAME, DUMPS, MAPPINGS_NAME, SIZES_NAME

        self.folder = folder
        self.layout_root = layout_root
        dumps = {DUMP_NAME + s for s in DUMPS} | {DUMP_NAME + ".jsonld"}
        extras = {"context.jsonld", "void.ttl", "SHA256SUMS", SIZES_NAME, MAPPINGS_NAME}
        self.names = sorted(dumps | {name + ".gz" for name in dumps} | extras)

    def path(self, name: str) -> Path | None:
        """The file of a dump; None for a name that is no dump, or one that was not built."""
        if name not in self.names:
            return None
        target = self.folder / name
        return target if target.is_file() else None

    def missing(self) -> list[str]:
        """The dumps not in the folder (``serve`` builds them before it starts)."""
        return [name for name in self.names if not (self.folder / name).is_file()]


async def dump(request: Request) -> Response:
    """GET /dumps/{name}: a dump file as built, with its media type; 404 for one not built or not a dump."""
    service = service_of(request)
    name = request.path_params["name"]
    path = await asyncio.to_thread(service.dumps.path, name)
    if path is None:
        if name in service.dumps.names:
            return error(request, 404, f"the dump {name} was not built: run `idais-kg build`")
        return error(request, 404, f"no dump named {name!r}; dumps: {', '.join(service.dumps.names)}")
    media = DUMP_TYPES.get(path.suffix, "application/octet-stream")

    async def produce() -> Cached:
        return Cached(await asyncio.to_thread(path.read_bytes), media)

    return await cached(request, f"dump|{name}", produce, vary="Accept-Encoding")


async def dump_index(request: Request) -> Response:
    """GET /dumps/: sent on (303) to /dataset, the description of the dataset and its dumps."""
    return RedirectResponse("/dataset", status_code=303)
