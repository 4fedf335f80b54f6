"""What a researcher reads on a page: labels rather than prefixed names, a breadcrumb, the guide's text before our
translation, printed URLs and DOIs as links."""

from __future__ import annotations

import re

GOAL = "/id/goal/post-deployment-monitoring"
POLICY = "/id/guide/2025-02/policy/broaden-model-registration-visibility"


def page(server, path: str) -> str:
    status, _, body = server.get(path, "text/html")
    assert status == 200
    return body.decode()


def test_property_names_are_labels(server) -> None:
    html = page(server, GOAL)
    headers = re.findall(r"<th scope=\"row\"><a href=\"[^\"]*\">([^<]*)</a></th>", html)
    assert headers and "idais:inArea" not in headers and "in area" in [h.lower() for h in headers]


def test_breadcrumbs_lead_from_the_area_to_the_page(server, kg) -> None:
    html = page(server, POLICY)
    trail = re.search(r'<nav class="trail"[^>]*>(.*?)</nav>', html, re.S)
    assert trail is not None
    links = re.findall(r'href="([^"]+)"', trail.group(1))
    goal = kg.sparql(
        "SELECT ?g WHERE { <https://w3id.org/idais-kg/id/guide/2025-02/policy/broaden-model-registration-visibility>"
        " idais:policyOf ?g }"
    ).values("g")[0]
    assert links == [
        "/id/area/domestic-governance",
        "/id/" + goal.removeprefix("https://w3id.org/idais-kg/id/"),
    ]


def test_the_original_comes_before_our_translation(server) -> None:
    html = page(server, GOAL)
    for block in re.findall(r"<blockquote>(.*?)</blockquote>", html, re.S):
        original, translation = block.find('class="original"'), block.find('class="translation"')
        assert 0 <= original < translation
        assert "原文" in block and "Our translation" in block


def test_printed_urls_and_dois_are_links(server) -> None:
    html = page(server, "/id/source/anderljung-2023-frontier-ai-regulation")
    assert '<a href="https://doi.org/10.48550/ARXIV.2307.03718">10.48550/ARXIV.2307.03718</a>' in html
    assert re.search(r'<a href="https://doi.org/10.48550/ARXIV.2307.03718">https://doi.org', html)


def test_a_page_without_a_label_is_titled_by_its_kind(server) -> None:
    html = page(server, "/id/guide/2025-02/footnote/12")
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert not title.startswith(("kg:", "ed:")) and title.endswith(" 12")
