"""Terms as the pages show them: a link only where ``safe_href`` vouches for the IRI, a label where the dataset
has one, a prefixed name otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from idais_kg.namespaces import IDAIS, KG, ONTOLOGY_IRI, PREFIXES


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
    href: str | None = None  # where a literal that names a web page or a DOI links to (through safe_href)


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
    """The last segment of an IRI's path: a CSS class (of a progress level) or a short link text."""
    return iri.rstrip("/").rsplit("/", 1)[-1]
