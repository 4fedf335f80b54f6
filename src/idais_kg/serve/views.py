"""Terms as the pages show them: a link only where ``safe_href`` vouches for the IRI, a label where the dataset
has one, a prefixed name otherwise."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
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
    segments: list[Segment] | None = None  # a text whose printed URLs and footnote markers are links


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


SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
# In the guide's text: a printed URL (http or https, up to a space, a bracket or a quote), a run of superscript
# digits (one footnote marker or several run together: ⁵⁶ is 56, or 5 and 6), or ^{12 13 14} as printed once.
MARKED = re.compile(
    r"(?P<url>https?://[^\s<>\"'，。；）】]+)|(?P<sup>[" + SUPERSCRIPTS + r"]+)|\^\{(?P<list>\d+(?: \d+)*)\}"
)
URL_TAIL = ".,;:!?)]'\""


@dataclass
class Segment:
    """A piece of a text as a page shows it: plain text, a printed URL (``href``), or a footnote marker (its
    ``number``, the footnote's IRI as ``href``, and the ``anchor`` id of its first place on the page)."""

    text: str
    href: str | None = None
    number: int | None = None
    anchor: str | None = None


def split_marker(digits: str, numbers: Collection[int]) -> list[int] | None:
    """The footnote numbers a run of marker digits stands for, each one of ``numbers`` (the footnotes the text
    cites), the longest first where two readings fit; None if no reading fits.

    >>> split_marker("56", {5, 6}), split_marker("56", {56}), split_marker("2345", {23, 4, 5}), split_marker("7", {8})
    ([5, 6], [56], [23, 4, 5], None)
    """
    if not digits:
        return []
    for cut in range(len(digits), 0, -1):
        head = digits[:cut]
        if head[0] != "0" and int(head) in numbers:
            rest = split_marker(digits[cut:], numbers)
            if rest is not None:
                return [int(head), *rest]
    return None


def segments(text: str, footnotes: Mapping[int, str], anchored: set[int] | None = None) -> list[Segment]:
    """``text`` cut into plain text, links for its printed URLs, and links for its footnote markers (read with
    ``footnotes``, the numbers and IRIs of the footnotes it cites; a marker that fits none stays text); the pieces'
    texts, joined, are ``text`` as it is. With
    ``anchored`` (the numbers already given an anchor on the page), each footnote's first marker gets the anchor
    ``fnref-N`` that its footnote's page links back to.

    >>> [(s.text, s.href, s.anchor) for s in segments("见：<https://a.example/x>。⁴³", {43: "F43"}, set())]
    [('见：<', None, None), ('https://a.example/x', 'https://a.example/x', None), ('>。', None, None), ('⁴³', 'F43', 'fnref-43')]
    >>> [(s.text, s.number) for s in segments("a²³ b^{12 13}", {2: "F2", 3: "F3", 12: "F12", 13: "F13"})]
    [('a', None), ('²', 2), ('³', 3), (' b^{', None), ('12', 12), (' ', None), ('13', 13), ('}', None)]
    >>> [(s.text, s.href) for s in segments("javascript:x https://b.example/y). ⁹", {})]
    [('javascript:x ', None), ('https://b.example/y', 'https://b.example/y'), ('). ⁹', None)]
    """
    out: list[Segment] = []

    def plain(piece: str) -> None:
        if not piece:
            return
        if out and out[-1].href is None:
            out[-1].text += piece
        else:
            out.append(Segment(piece))

    at = 0
    for match in MARKED.finditer(text):
        plain(text[at : match.start()])
        at = match.end()
        if match.group("url"):
            url = match.group("url").rstrip(URL_TAIL)
            out.append(Segment(url, href=url))
            at = match.start() + len(url)
            continue
        listed = match.group("list")
        if listed is None:
            digits = "".join(str(SUPERSCRIPTS.index(c)) for c in match.group("sup"))
            numbers = split_marker(digits, footnotes)
        else:
            numbers = [int(n) for n in listed.split()]
            numbers = numbers if all(n in footnotes for n in numbers) else None
        if numbers is None:
            plain(match.group(0))
            continue
        if listed is not None:  # as printed: ^{, the numbers with a space between, }
            plain("^{")
        for k, n in enumerate(numbers):
            anchor = None
            if anchored is not None and n not in anchored:
                anchored.add(n)
                anchor = f"fnref-{n}"
            if listed is not None and k:
                plain(" ")
            mark = str(n) if listed is not None else "".join(SUPERSCRIPTS[int(d)] for d in str(n))
            out.append(Segment(mark, href=footnotes[n], number=n, anchor=anchor))
        if listed is not None:
            plain("}")
    plain(text[at:])
    return out
