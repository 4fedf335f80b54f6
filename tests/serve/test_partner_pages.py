"""A goal page served from the persistent store shows the links partners made to that goal."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from idais_kg import partners

FIXTURES = Path(__file__).resolve().parents[1] / "cases" / "partners"


@pytest.fixture(scope="module")
def partner_server(tmp_path_factory: pytest.TempPathFactory, start_server):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("partner-server")
    store = folder / "store"
    partners.add("fictional-observatory", FIXTURES / "clean.ttl", store)
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
