"""Linked data: our IRIs dereference at /id/..., negotiated; RDF answers parse back to the resource's description.

The expected description is computed here independently, with rdflib over the dataset's N-Quads: every triple whose
subject is the resource or one of its hash IRIs, and the blank nodes they lead to.
"""

from __future__ import annotations

import re

import pytest
import rdflib
from markupsafe import escape
from rdflib.compare import isomorphic

KG = "https://w3id.org/idais-kg/id/"
RESOURCES = {
    "area": "area/safety-research",
    "goal": "goal/ai-safety-rd-resources",
    "policy": None,  # found in the graph below
    "source": None,
    "footnote-with-citations": "guide/2025-02/footnote/8",
    "dialogue": "dialogue/oxford-2023",
    "organisation": None,
    "progress-level": "progress-level/limited",
}
CLASSES = {
    "policy": "PotentialPolicy",
    "source": "Source",
    "organisation": "Organisation",
}
RDF_TYPES = [
    ("text/turtle", "turtle"),
    ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "xml"),
]


@pytest.fixture(scope="module")
def union(kg) -> rdflib.Graph:
    data = kg.store.serialize("nquads")
    dataset = rdflib.Dataset()
    dataset.parse(data=data, format="nquads")
    graph = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def path_of(kind: str, union: rdflib.Graph) -> str:
    if RESOURCES[kind]:
        return str(RESOURCES[kind])
    cls = rdflib.URIRef("https://w3id.org/idais-kg/ontology#" + CLASSES[kind])
    first = sorted(str(s) for s in union.subjects(rdflib.RDF.type, cls))[0]
    return first[len(KG) :]


def description(union: rdflib.Graph, iri: str) -> rdflib.Graph:
    """The symmetric concise bounded description of a document: the triples of its subjects (itself and its hash
    IRIs) with the blank nodes they reach, and the triples that point at those subjects."""
    out = rdflib.Graph()
    todo = [s for s in set(union.subjects()) if str(s) == iri or str(s).startswith(iri + "#")]
    for node in list(todo):
        for s, p, _ in union.triples((None, None, node)):
            out.add((s, p, node))
    seen = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for _, p, o in union.triples((node, None, None)):
            out.add((node, p, o))
            if isinstance(o, rdflib.BNode):
                todo.append(o)
    return out


@pytest.mark.parametrize("kind", list(RESOURCES))
@pytest.mark.parametrize(("accept", "fmt"), RDF_TYPES, ids=[f for _, f in RDF_TYPES])
def test_resource_rdf_is_its_description(server, union, kind: str, accept: str, fmt: str) -> None:
    path = path_of(kind, union)
    status, headers, body = server.get("/id/" + path, accept)
    assert status == 200
    assert headers["content-type"].startswith(accept)
    assert "Accept" in headers["vary"]
    got = rdflib.Graph().parse(data=body, format=fmt)
    expected = description(union, KG + path)
    assert len(expected) > 0
    assert isomorphic(got, expected)


def test_hash_iris_are_described_on_their_document(server, union) -> None:
    status, _, body = server.get("/id/guide/2025-02/footnote/8", "text/turtle")
    got = rdflib.Graph().parse(data=body, format="turtle")
    assert any(str(s).startswith(KG + "guide/2025-02/footnote/8#c") for s in got.subjects())
    status, _, page = server.get("/id/guide/2025-02/footnote/8", "text/html")
    assert status == 200 and b'id="c1"' in page


@pytest.mark.parametrize("kind", list(RESOURCES))
def test_resource_pages(server, union, kind: str) -> None:
    path = path_of(kind, union)
    status, headers, body = server.get("/id/" + path, "text/html,application/xhtml+xml,*/*;q=0.8")
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode()
    # every literal of the description appears, escaped (as the page's text: its URLs and footnote markers are links)
    text = re.sub(r"<[^>]+>", "", page)
    for _, _, o in description(union, KG + path):
        if isinstance(o, rdflib.Literal) and len(str(o)) < 200:
            assert str(escape(str(o))) in text


def test_goal_page_has_progress_quotes_and_policies(server) -> None:
    page = server.get("/id/goal/ai-safety-rd-resources", "text/html")[2].decode()
    assert "保证人工智能安全研发的必要资源" in page and "Ensure the necessary resources" in page
    assert "/id/progress-level/limited" in page
    assert "/id/dialogue/oxford-2023" in page
    assert "/id/guide/2025-02/policy/" in page
    assert "/id/source/" in page


def test_home_page_overview(server, kg) -> None:
    page = server.get("/", "text/html")[2].decode()
    for goal in kg.query("goals-by-progress").rows:
        assert goal["goal"].value[len(KG) :] in page
    assert "level-limited" in page and "level-moderate" in page


def test_unknown_iri_is_404_in_the_negotiated_form(server) -> None:
    status, headers, body = server.get("/id/goal/no-such-goal", "text/turtle")
    assert status == 404 and headers["content-type"].startswith("text/turtle")
    assert len(rdflib.Graph().parse(data=body, format="turtle")) == 0
    status, headers, _ = server.get("/id/goal/no-such-goal", "text/html")
    assert status == 404 and headers["content-type"].startswith("text/html")
    status, headers, _ = server.get("/id/goal/no-such-goal", "application/ld+json")
    assert status == 404 and headers["content-type"].startswith("application/ld+json")


def test_not_acceptable(server) -> None:
    assert server.get("/id/goal/ai-safety-rd-resources", "image/png")[0] == 406


def test_ontology_negotiated(server, kg) -> None:
    status, _, body = server.get("/ontology", "text/turtle")
    assert status == 200
    served = rdflib.Graph().parse(data=body, format="turtle")
    source = rdflib.Graph().parse(kg.layout.ontology_dir / "idais.ttl", format="turtle")
    assert isomorphic(served, source)
    status, _, body = server.get("/ontology", "application/ld+json")
    assert status == 200 and len(rdflib.Graph().parse(data=body, format="json-ld")) == len(source)
    status, _, page = server.get("/ontology", "text/html")
    assert status == 200 and b"idais:Goal" in page and b"idais:inArea" in page


def test_dataset_description(server, kg) -> None:
    status, _, body = server.get("/dataset", "text/turtle")
    assert status == 200
    graph = rdflib.Graph().parse(data=body, format="turtle")
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    assert (rdflib.URIRef(KG + "dataset"), void.triples, None) in graph


def test_dumps(server) -> None:
    status, headers, body = server.get("/dumps/idais-kg.nq")
    assert status == 200 and headers["content-type"].startswith("application/n-quads")
    assert len(body.splitlines()) > 1000
    assert server.get("/dumps/..%2Fsecret")[0] == 404
    assert server.get("/dumps/nothing.ttl")[0] == 404


def test_pages_are_cached_with_etag(server) -> None:
    status, headers, _ = server.get("/id/area/safety-research", "text/html")
    assert status == 200
    assert server.get("/id/area/safety-research", "text/html", If_None_Match=headers["etag"])[0] == 304


def test_resource_turtle_has_no_escaped_prefixed_names(server, union) -> None:
    """OWL API 5.1.9 (Protégé) stops at ``ed:section\\/…``: a local name that would need an escape is written as
    the full IRI, and the prefixes are still used for the rest."""
    goal = "https://w3id.org/idais-kg/id/goal/ai-safety-rd-resources"
    status, _, body = server.get("/id/goal/ai-safety-rd-resources", "text/turtle")
    assert status == 200 and b"\\" not in body
    full = b"<https://w3id.org/idais-kg/id/guide/2025-02/section/"
    assert b"goal:ai-safety-rd-resources idais:describedIn " + full in body
    assert isomorphic(rdflib.Graph().parse(data=body, format="turtle"), description(union, goal))


def test_a_goals_rdf_holds_what_points_at_it(server) -> None:
    """The Turtle of a goal has its policies' ``policyOf`` links, as its page lists them under "Referred to by"."""
    status, _, body = server.get("/id/goal/post-deployment-monitoring", "text/turtle")
    got = rdflib.Graph().parse(data=body, format="turtle")
    goal = rdflib.URIRef(KG + "goal/post-deployment-monitoring")
    policies = {
        str(p) for p in got.subjects(rdflib.URIRef("https://w3id.org/idais-kg/ontology#policyOf"), goal)
    }
    # the four potential policies the guide lists under this goal
    assert status == 200 and {p.rsplit("/", 1)[-1] for p in policies} == {
        "critical-infrastructure-ai-usage-data",
        "interconnected-post-deployment-monitoring-data",
        "runtime-feature-monitoring-for-automatic-shutdown",
        "technical-governance-for-ai-agent-visibility",
    }
