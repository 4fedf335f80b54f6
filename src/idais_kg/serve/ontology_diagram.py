"""The ontology's diagram: our classes and object properties drawn by Graphviz ``dot`` (Debian's ``graphviz``)
from a source built here, through pipes, in memory (the server writes no file), with every script stripped.
Where ``dot`` is not installed, ``/ontology/diagram.svg`` answers 503 and the page says so.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from idais_kg.serve.cache import Cached
from idais_kg.serve.ontology_docs import OWL, Term, terms
from idais_kg.serve.responses import cached, error, service_of
from idais_kg.serve.views import curie

if TYPE_CHECKING:
    from idais_kg.dataset.assemble import KnowledgeGraph

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DOT_TIMEOUT = 30.0


# The diagram


def quoted(text: str) -> str:
    """A DOT string: ``text`` in double quotes, with its backslashes and quotes escaped.

    >>> quoted('a "b" \\\\ c')
    '"a \\\\"b\\\\" \\\\\\\\ c"'
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(found: dict[str, Term]) -> str:
    """The Graphviz source of the diagram: our classes as boxes (borrowed super-classes dashed), an edge with a
    hollow arrowhead from each class to its super-class, and each object property whose domain and range are both
    stated as an edge from domain to range, labelled with its English and Chinese labels (one line each)."""
    classes = sorted(t.iri for t in found.values() if OWL + "Class" in t.kinds)
    lines = [
        "digraph ontology {",
        '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.3, ranksep=0.5];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    outside: set[str] = set()
    for iri in classes:
        term = found[iri]
        text = term.labels.get("en", term.name) + "\n" + term.labels.get("zh", "")
        lines.append(
            f"  {quoted(iri)} [label={quoted(text.strip())}, URL={quoted('/ontology#' + term.name)}];"
        )
    for iri in classes:
        for parent in found[iri].parents:
            if parent not in found:
                outside.add(parent)
            lines.append(f"  {quoted(iri)} -> {quoted(parent)} [arrowhead=empty];")
    for parent in sorted(outside):
        lines.append(
            f'  {quoted(parent)} [label={quoted(curie(parent))}, style="dashed", fillcolor="white", fontcolor="#555555"];'
        )
    properties = sorted(t.iri for t in found.values() if OWL + "ObjectProperty" in t.kinds)
    for iri in properties:
        term = found[iri]
        for domain in term.domain:
            for range_ in term.range:
                if domain in found and range_ in found:
                    label = quoted(
                        (term.labels.get("en", term.name) + "\n" + term.labels.get("zh", "")).strip()
                    )
                    lines.append(
                        f'  {quoted(domain)} -> {quoted(range_)} [label={label}, color="#2b6cb0", '
                        f'fontcolor="#2b6cb0"];'
                    )
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_dot(source: str) -> bytes | None:
    """``source`` drawn as SVG by Graphviz ``dot``, through pipes (no file); None where ``dot`` is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    done = subprocess.run(  # noqa: S603 (dot from PATH, fixed arguments; the source goes in on stdin)
        [dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=DOT_TIMEOUT, check=True
    )
    return done.stdout


def without_script(svg: bytes) -> bytes:
    """The SVG with any ``<script>`` or ``<foreignObject>`` element, event handler attribute (``on…``) and link
    that is not to a path of ours removed: it is served from our origin, where script would run as ours."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)  # noqa: S314 (dot's output from our ontology; expat expands no external entity)
    for parent in root.iter():
        for child in list(parent):
            if child.tag.rsplit("}", 1)[-1] in ("script", "foreignObject"):
                parent.remove(child)
    for element in root.iter():
        for name in list(element.attrib):
            local = name.rsplit("}", 1)[-1]
            target = element.attrib[name]
            if local.lower().startswith("on") or (local == "href" and not target.startswith("/ontology")):
                del element.attrib[name]
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def has_han(text: str) -> bool:
    """Whether ``text`` holds a Chinese character (CJK Unified Ideographs).

    >>> has_han("goal"), has_han("目标")
    (False, True)
    """
    return any("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" for c in text)


def marked_languages(svg: bytes) -> bytes:
    """The SVG with its language said: English for the whole, Chinese for each text line in Chinese (Graphviz
    draws each line of a label as its own ``<text>``, so the two languages are never one element)."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)  # noqa: S314 (without_script's output, from dot's)
    root.set(XML_LANG, "en")
    for text in root.iter(f"{{{SVG_NS}}}text"):
        if has_han("".join(text.itertext())):
            text.set(XML_LANG, "zh")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def diagram_svg(kg: KnowledgeGraph) -> bytes | None:
    """The diagram of the ontology of ``kg`` as SVG without script, or None where ``dot`` is not installed."""
    found = terms(kg)
    svg = run_dot(dot_source(found))
    return None if svg is None else marked_languages(without_script(svg))


async def diagram(request: Request) -> Response:
    """GET /ontology/diagram.svg: the diagram of the classes and properties, drawn at its first request for the
    dataset served and kept in the response cache (in memory, as every page is)."""
    service = service_of(request)
    if shutil.which("dot") is None:
        return error(request, 503, "this server has no Graphviz dot to draw the ontology's diagram with")

    async def produce() -> Cached:
        svg = await asyncio.to_thread(diagram_svg, service.kg)
        if svg is None:
            return Cached(b"no Graphviz dot\n", "text/plain", 503)
        return Cached(svg, "image/svg+xml")

    return await cached(request, "page|ontology-diagram", produce)
