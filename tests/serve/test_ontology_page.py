"""The ontology's documentation at /ontology and its diagram at /ontology/diagram.svg, as the real server serves
them: the metadata the ontology states, a table of contents whose anchors resolve, each term of ours in both
languages with its domain, range, inverse and a triple of the data, borrowed terms apart, and a diagram without
script."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.collection
from markupsafe import escape
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from idais_kg.namespaces import GRAPH_GUIDE, GRAPH_ONTOLOGY, IDAIS, KG
from idais_kg.serve import ontology_diagram, ontology_docs
from idais_kg.serve.ontology_diagram import without_script

ONTOLOGY = rdflib.URIRef("https://w3id.org/idais-kg/ontology")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
SVG = "{http://www.w3.org/2000/svg}"
NO_DOT = "Graphviz dot is not installed (Debian's graphviz; scripts/setup.sh installs it as root)"


@pytest.fixture(scope="module")
def page(server) -> str:
    status, headers, body = server.get("/ontology", "text/html")
    assert status == 200 and headers["content-type"].startswith("text/html")
    return body.decode("utf-8")


@pytest.fixture(scope="module")
def ontology(kg) -> rdflib.Graph:
    return rdflib.Graph().parse(kg.layout.ontology_dir / "idais.ttl", format="turtle")


def ours(graph: rdflib.Graph) -> set[str]:
    """The terms of our namespace that the ontology gives a type."""
    return {str(s) for s in graph.subjects(RDF.type, None) if str(s).startswith(IDAIS) and str(s) != IDAIS}


def section(page: str, anchor: str) -> str:
    """The HTML of one term's block (``<section class="term" id=...>``)."""
    found = re.search(rf'<section class="term" id="{re.escape(anchor)}">(.*?)</section>', page, re.S)
    assert found, f"no section for {anchor}"
    return found.group(1)


def part(page: str, anchor: str) -> str:
    """The HTML inside the ``<section id=anchor>`` of the page, sections nested in it included."""
    start = page.index(f'<section id="{anchor}"')
    depth, at = 0, start
    for tag in re.finditer(r"<(/?)section\b", page[start:]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            at = start + tag.start()
            break
    return page[page.index(">", start) + 1 : at]


def test_metadata_as_the_ontology_states_it(page, ontology) -> None:
    metadata = part(page, "sec-metadata")
    for prop, name in [
        (OWL.versionInfo, "version"),
        (OWL.versionIRI, "version IRI"),
        (DCTERMS.license, "licence"),
        (DCTERMS.creator, "creator"),
        (DCTERMS.created, "created"),
        (DCTERMS.modified, "modified"),
        (DCTERMS.title, "title"),
        (rdflib.URIRef("http://purl.org/vocab/vann/preferredNamespaceUri"), "namespace"),
        (rdflib.URIRef("http://purl.org/vocab/vann/preferredNamespacePrefix"), "prefix"),
    ]:
        values = list(ontology.objects(ONTOLOGY, prop))
        assert values, f"the ontology states no {prop}"
        assert f"<dt>{name} " in metadata
        for value in values:
            assert escape(str(value)) in metadata, (prop, value)
    stated = {p for p in ontology.predicates(ONTOLOGY, None) if p != RDF.type}
    assert metadata.count("<dt>") == len(stated)  # what it states, and nothing it does not
    titles = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert titles is not None
    assert (
        titles.group(1) == '<span lang="en">idais-kg ontology</span> · <span lang="zh">idais-kg 本体</span>'
    )


def test_contents_anchors_resolve(page, ontology) -> None:
    toc = re.search(r'<nav class="toc" id="toc"[^>]*>(.*?)</nav>', page, re.S)
    assert toc is not None
    targets = re.findall(r'href="#([^"]+)"', toc.group(1))
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    assert targets and [t for t in targets if t not in ids] == []
    assert {IDAIS + t for t in targets if not t.startswith("sec-")} == ours(ontology)
    assert {"sec-metadata", "sec-diagram", "sec-classes", "sec-object-properties", "sec-borrowed"} <= set(
        targets
    )


def test_policy_of_has_domain_range_inverse_and_an_example(page, kg) -> None:
    block = section(page, "policyOf")
    assert re.search(
        r'<dd class="domain"><a href="/ontology#PotentialPolicy">potential policy</a></dd>', block
    )
    assert re.search(r'<dd class="range"><a href="/ontology#Goal">goal</a></dd>', block)
    assert re.search(r'<dd class="inverse"><a href="/ontology#hasPolicy">has policy</a></dd>', block)
    assert re.search(r'<dd class="parents"><a href="/ontology#ofGoal">of goal</a></dd>', block)
    assert '<p lang="en">The goal a potential policy serves.</p>' in block
    assert '<p lang="zh">潜在政策所服务的目标。</p>' in block
    example = re.search(
        r'<dd class="example"><span class="triple"><a href="/id/([^"]+)">[^<]+</a> '
        r'<a href="/ontology#policyOf">policy of</a> <a href="/id/([^"]+)">[^<]+</a></span></dd>',
        block,
    )
    assert example, block
    subject, goal = (ox.NamedNode(KG + p) for p in example.groups())
    policy_of = ox.NamedNode(IDAIS + "policyOf")
    using = [
        q
        for q in kg.store.quads()
        if q.predicate == policy_of and q.graph_name != ox.NamedNode(GRAPH_ONTOLOGY)
    ]
    assert [q.graph_name for q in using if (q.subject, q.object) == (subject, goal)] == [
        ox.NamedNode(GRAPH_GUIDE)
    ]
    uses = len(using)
    assert uses > 1 and {q.graph_name for q in using} == {ox.NamedNode(GRAPH_GUIDE)}
    assert f'<dd class="uses">{uses} triples: <a href="/id/graph/guide">guide</a> {uses}</dd>' in block
    # the inverse is documented both ways
    assert '<dd class="inverse"><a href="/ontology#policyOf">policy of</a></dd>' in section(page, "hasPolicy")


def test_sub_and_super_terms(page) -> None:
    assert '<dd class="children"><a href="/ontology#BackReference">back-reference</a>, ' in section(
        page, "Footnote"
    )
    assert '<dd class="parents"><a href="/ontology#Footnote">footnote</a></dd>' in section(
        page, "ExplanatoryNote"
    )
    assert '<a href="http://purl.org/spar/doco/Footnote">doco:Footnote</a>' in section(page, "Footnote")


def test_axioms_stated_in_lists(page, ontology) -> None:
    chain = '<a href="/ontology#ofGoal">of goal</a> ∘ <a href="/ontology#inArea">in area</a>'
    assert f'<dd class="chain">{chain}</dd>' in section(page, "areaViaGoal")
    note = section(page, "ExplanatoryNote")
    assert '<dd class="disjoint"><a href="/ontology#BackReference">back-reference</a></dd>' in note
    # a class of both lists of disjoint classes: every other member of either, once
    disjoint = re.search(r'<dd class="disjoint">(.*?)</dd>', section(page, "Goal"))
    assert disjoint is not None
    named = re.findall(r'href="/ontology#([^"]+)"', disjoint.group(1))
    members: set[str] = set()
    for group in ontology.subjects(RDF.type, OWL.AllDisjointClasses):
        listed = [str(m) for m in rdflib.collection.Collection(ontology, ontology.value(group, OWL.members))]
        if IDAIS + "Goal" in listed:
            members |= {m[len(IDAIS) :] for m in listed}
    assert named == sorted(members - {"Goal"})


def test_borrowed_terms_are_listed_apart(page, ontology) -> None:
    anchors = re.findall(r'<section id="(sec-[^"]+)" class="ours">', page)
    sections = [(a, part(page, a)) for a in anchors]
    assert [s for s, _ in sections] == [
        "sec-classes",
        "sec-object-properties",
        "sec-datatype-properties",
        "sec-annotation-properties",
        "sec-other-terms",  # the value qualifiers (idais:Approximately, ...): individuals
    ]
    documented = {
        IDAIS + a for _, body in sections for a in re.findall(r'<section class="term" id="([^"]+)">', body)
    }
    assert documented == ours(ontology)
    for _, body in sections:
        assert re.findall(r"<code>([a-z]+):", body) == ["idais"] * body.count('<section class="term"')
    borrowed = part(page, "sec-borrowed")
    for curie in ("skos:Concept", "prov:Entity", "fabio:Expression", "dcterms:title", "doco:Footnote"):
        assert f">{curie}</a></td>" in borrowed, curie
    assert "idais:" not in borrowed and 'href="/ontology#' not in borrowed
    assert ">rdf:type</a>" not in borrowed and ">owl:Class</a>" not in borrowed  # the languages, not borrowed


def test_every_term_has_labels_and_definitions_in_both_languages(page, ontology) -> None:
    terms = ours(ontology)
    assert len(terms) >= 85
    for iri in sorted(terms):
        term = rdflib.URIRef(iri)
        for prop in (RDFS.label, SKOS.definition):
            langs = sorted(o.language for o in ontology.objects(term, prop) if isinstance(o, rdflib.Literal))
            assert langs == ["en", "zh"], (iri, prop, langs)
        block = section(page, iri[len(IDAIS) :])
        for prop, tag in ((RDFS.label, "span"), (SKOS.definition, "p")):
            for text in ontology.objects(term, prop):
                assert f'<{tag} lang="{text.language}">{escape(str(text))}</{tag}>' in block, (iri, text)


def test_the_page_shows_the_diagram(page) -> None:
    figure = part(page, "sec-diagram")
    if shutil.which("dot") is None:
        assert "no Graphviz <code>dot</code>" in figure
        pytest.skip(NO_DOT)
    assert '<img src="/ontology/diagram.svg" alt="' in figure
    assert '<a href="/ontology/diagram.svg">' in figure


def test_diagram_is_svg_with_a_node_per_class_and_no_script(server, ontology) -> None:
    if shutil.which("dot") is None:
        assert server.get("/ontology/diagram.svg")[0] == 503
        pytest.skip(NO_DOT)
    status, headers, body = server.get("/ontology/diagram.svg")
    assert status == 200 and headers["content-type"] == "image/svg+xml"
    assert b"<script" not in body.lower() and b"javascript:" not in body.lower()
    root = ET.fromstring(body)
    assert root.tag == SVG + "svg"
    nodes = {g.findtext(SVG + "title") for g in root.iter(SVG + "g") if g.get("class") == "node"}
    classes = {str(s) for s in ontology.subjects(RDF.type, OWL.Class) if str(s).startswith(IDAIS)}
    assert len(classes) >= 28 and classes <= nodes
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    goal = next(g for g in root.iter(SVG + "g") if g.findtext(SVG + "title") == IDAIS + "Goal")
    lines = [(t.text, t.get(xml_lang)) for t in goal.iter(SVG + "text")]
    assert root.get(xml_lang) == "en" and lines == [("goal", None), ("目标", "zh")]
    edges = {g.findtext(SVG + "title") for g in root.iter(SVG + "g") if g.get("class") == "edge"}
    assert f"{IDAIS}PotentialPolicy->{IDAIS}Goal" in edges  # policyOf, domain to range
    assert f"{IDAIS}ExplanatoryNote->{IDAIS}Footnote" in edges
    assert server.get("/ontology/2.0.0", "text/turtle")[0] == 200  # the version route still answers


def test_script_is_stripped_from_svg() -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="x()">'
        b'<script>alert(1)</script><g onclick="y()"><a xlink:href="javascript:z()"><text>t</text></a>'
        b'<a xlink:href="/ontology#Goal"><text>goal</text></a></g>'
        b"<foreignObject><div>f</div></foreignObject></svg>"
    )
    root = ET.fromstring(without_script(svg))
    tags = [e.tag.rsplit("}", 1)[-1] for e in root.iter()]
    assert tags == ["svg", "g", "a", "text", "a", "text"]
    assert [dict(e.attrib) for e in root.iter()] == [
        {},
        {},
        {},
        {},
        {"{http://www.w3.org/1999/xlink}href": "/ontology#Goal"},
        {},
    ]


def test_without_dot_there_is_no_diagram(kg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ontology_docs.shutil, "which", lambda name: None)
    monkeypatch.setattr(ontology_diagram.shutil, "which", lambda name: None)
    assert ontology_diagram.diagram_svg(kg) is None
    assert ontology_docs.gather(kg).diagram is False
