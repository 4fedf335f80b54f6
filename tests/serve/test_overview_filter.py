"""The home page's filter by an outside concept (issue 15, point 6): ``/?concept=IRI`` keeps the goals that the
reviewed mappings link to that concept, directly or through one of their potential policies; no script needed.

data/mappings/dpv-eu-aiact.sssom.tsv maps goal:post-deployment-monitoring (closeMatch) and its policy
interconnected-post-deployment-monitoring-data (relatedMatch) to the AI Act's post-market monitoring system.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from idais_kg.dataset.assemble import load
from idais_kg.namespaces import KG

PMM = "https://w3id.org/dpv/legal/eu/aiact#PostMarketMonitoringSystem"
GOAL_LINK = re.compile(r'<div class="goal-cell[^"]*"><a href="(/id/goal/[^"]+)"')


@pytest.fixture(scope="module")
def client() -> TestClient:
    from idais_kg.serve.app import create_app

    return TestClient(create_app(load()))  # no lifespan: the home page needs no query worker


def goals_on(html: str) -> list[str]:
    return GOAL_LINK.findall(html)


def test_without_a_concept_every_goal_is_shown_and_the_form_lists_the_concepts(client: TestClient) -> None:
    page = client.get("/", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert len(goals_on(page.text)) == 15
    assert '<form method="get" action="/" class="concept-filter">' in page.text
    assert (
        f'<option value="{PMM}">Post-Market Monitoring System (EU Artificial Intelligence Act (AI Act), 1)</option>'
        in page.text
    )


def test_a_concept_keeps_the_goals_mapped_to_it(client: TestClient) -> None:
    page = client.get("/?concept=" + quote(PMM, safe=""), headers={"accept": "text/html"})
    assert page.status_code == 200
    assert goals_on(page.text) == ["/id/goal/post-deployment-monitoring"]
    assert f'<option value="{PMM}" selected>' in page.text
    assert "Goals mapped to Post-Market Monitoring System: 1" in page.text


def test_the_filter_speaks_the_readers_language(client: TestClient) -> None:
    page = client.get("/?lang=zh&concept=" + quote(PMM, safe=""), headers={"accept": "text/html"})
    assert "映射到 Post-Market Monitoring System 的目标：1 个" in page.text


def test_an_unmapped_concept_is_a_404_that_names_it(client: TestClient) -> None:
    missing = KG + "goal/post-deployment-monitoring"
    page = client.get("/?concept=" + quote(missing, safe=""), headers={"accept": "text/plain"})
    assert page.status_code == 404 and missing in page.text
