"""Content negotiation: the media types we offer for each kind of answer, and choosing one from ``Accept``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

HTML = "text/html"
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"
JSONLD = "application/ld+json"
RDFXML = "application/rdf+xml"
JSON = "application/json"
CSV = "text/csv"
TSV = "text/tab-separated-values"
RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    TURTLE: ox.RdfFormat.TURTLE,
    NTRIPLES: ox.RdfFormat.N_TRIPLES,
    JSONLD: ox.RdfFormat.JSON_LD,
    RDFXML: ox.RdfFormat.RDF_XML,
}
RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    RESULTS_JSON: ox.QueryResultsFormat.JSON,
    RESULTS_XML: ox.QueryResultsFormat.XML,
    CSV: ox.QueryResultsFormat.CSV,
    TSV: ox.QueryResultsFormat.TSV,
}
# The RDF format a graph is sent in when a results format was asked for, as Fuseki chooses: JSON for JSON,
# XML for XML, and its default, Turtle, for the tables.
FALLBACKS = {RESULTS_JSON: JSONLD, RESULTS_XML: RDFXML, CSV: TURTLE, TSV: TURTLE}
# Other names clients use for the same formats.
ALIASES = {
    JSON: "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "application/x-turtle": TURTLE,
    "application/turtle": TURTLE,
    "text/plain": NTRIPLES,
    "application/x-json+ld": JSONLD,
}

RDF_OFFER = [TURTLE, JSONLD, NTRIPLES, RDFXML]
PAGE_OFFER = [HTML, *RDF_OFFER]
RESULTS_OFFER = list(RESULT_FORMATS)


def rdf_fallback(results_media: str) -> str:
    """The RDF format for a CONSTRUCT or DESCRIBE asked for in the results format ``results_media``.

    >>> rdf_fallback("application/sparql-results+json"), rdf_fallback("text/csv")
    ('application/ld+json', 'text/turtle')
    """
    return FALLBACKS.get(results_media, TURTLE)


@dataclass(frozen=True)
class Range:
    """One media range of an ``Accept`` header: its type and subtype (``*`` for any), its q-value, and its
    position in the header (the tie-break between equal q-values).
    """

    type: str
    subtype: str
    q: float
    order: int

    def matches(self, media: str) -> int:
        """How specifically this range matches ``media`` (0: not at all)."""
        main, _, sub = media.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type == main and self.subtype == "*":
            return 2
        return 3 if (self.type, self.subtype) == (main, sub) else 0


def parse_accept(header: str | None) -> list[Range]:
    """The media ranges of an Accept header (a missing or empty header accepts anything).

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/html;q=0.5, */*;q=0.1")]
    [('text', 'html', 0.5), ('*', '*', 0.1)]
    """
    if not header or not header.strip():
        return [Range("*", "*", 1.0, 0)]
    ranges = []
    for order, part in enumerate(header.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        main, _, sub = media.lower().partition("/")
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        if main:
            ranges.append(Range(main, sub or "*", q, order))
    return ranges


def choose(header: str | None, offered: list[str]) -> str | None:
    """The offered media type the client prefers most (ties: the client's order, then ours); None if none.

    Remembered for the last 1,024 headers and offers: a client sends the same ``Accept`` with every request.

    >>> choose("application/json", ["application/sparql-results+json", "text/csv"])
    'application/sparql-results+json'
    >>> choose("text/html,*/*;q=0.8", ["text/turtle", "text/html"])
    'text/html'
    >>> choose("image/png", ["text/turtle"]) is None
    True
    >>> choose("application/*", RDF_OFFER), choose("text/*", RESULTS_OFFER)
    ('application/ld+json', 'text/csv')
    >>> choose("application/sparql-results+json;q=0, */*", RESULTS_OFFER)
    'application/sparql-results+xml'
    """
    return chosen_media(header, tuple(offered))


@lru_cache(maxsize=1024)
def chosen_media(header: str | None, offered: tuple[str, ...]) -> str | None:
    """:func:`choose`, for an offer given as a tuple (what the cache keys on)."""
    ranges = parse_accept(header)
    best: tuple[float, int, int, int] | None = None
    chosen = None
    for rank, media in enumerate(offered):
        # The most specific range decides (RFC 9110 §12.5.1); an alias counts only where a range names it
        # exactly, so that text/* does not pick XML through text/xml, nor */* undo a q=0 through an alias.
        aliases = [alias for alias, target in ALIASES.items() if target == media]
        fits = [(r.matches(media), r) for r in ranges]
        fits += [(3, r) for r in ranges for alias in aliases if r.matches(alias) == 3]
        fits = [(spec, r) for spec, r in fits if spec]
        if not fits:
            continue
        spec, r = max(fits, key=lambda f: (f[0], -f[1].order))
        if r.q <= 0:
            continue
        key = (r.q, spec if spec == 3 else 0, -r.order if spec == 3 else 0, -rank)
        if best is None or key > best:
            best, chosen = key, media
    return chosen
