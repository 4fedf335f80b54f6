"""Every link resolves: a crawl from / follows each link of every page and each IRI of ours in every Turtle
answer, and requires each to answer 200 (after the documented 303s); then the documents that were dead links."""

from __future__ import annotations

import html.parser
import re
import urllib.error
import urllib.request
from collections import deque
from urllib.parse import urljoin

from idais_kg.namespaces import BASE

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"
OUR_IRI = re.compile(r"<(" + re.escape(BASE) + r"[^>\s]*)>")


class Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("href", "src") and value]


def fetch(url: str, accept: str) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # follows the 303s
            media = response.headers.get("content-type", "")
            body = response.read()
            # (a gzipped dump is followed to see that it answers, not read for links)
            return response.status, media, "" if media == "application/gzip" else body.decode()
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""


def local(link: str, page: str, site: str) -> str | None:
    """The path on our site that a link or an IRI of ours names, without its fragment; None if elsewhere."""
    if link.startswith(BASE):
        link = "/" + link[len(BASE) :]
    link = urljoin(page, link)
    if link.startswith(site):
        link = link[len(site) :]
    if not link.startswith("/") or link.startswith("//"):
        return None
    return link.split("#")[0] or None


def test_the_crawl_finds_no_dead_link(server) -> None:
    seen: set[str] = set()
    todo = deque(["/"])
    dead: dict[str, int] = {}
    while todo:
        path = todo.popleft()
        if path in seen:
            continue
        seen.add(path)
        found: list[str] = []
        status, media, body = fetch(server.url + path, BROWSER)
        if status != 200:
            dead[path] = status
            continue
        if media.startswith("text/html"):
            parser = Links()
            parser.feed(body)
            found += parser.found
        if path.startswith(("/id/", "/ontology", "/dataset")):
            status, _, turtle = fetch(server.url + path, "text/turtle")
            if status != 200:
                dead[path + " (Turtle)"] = status
            found += OUR_IRI.findall(turtle)
        found += OUR_IRI.findall(body)
        todo.extend(p for p in (local(link, path, server.url) for link in found) if p and p not in seen)
    assert dead == {}
    assert len(seen) > 600  # every goal, policy, footnote, source, ... and the pages between them


def test_the_source_text_is_served_at_its_iri(server, kg) -> None:
    path = "/" + kg.layout.source_text.relative_to(kg.layout.root / "data").as_posix()
    status, headers, body = server.get(path, "text/plain")
    assert status == 200 and headers["content-type"] == "text/plain; charset=utf-8"
    assert body.decode() == kg.layout.source_text.read_text(encoding="utf-8")
    status, _, page = server.get(path, "text/html")
    first = body.decode().split("\n")[0]
    assert status == 200 and b'<tr id="L1">' in page and first.encode() in page
    assert b'src="/static/source-lines.js"' in page
    assert server.get("/source/other.txt")[0] == 404


def test_the_documents_that_were_dead_links(server) -> None:
    assert server.get("/context.jsonld", "application/ld+json")[0] == 200
    assert server.get("/ontology/2.0.0", "text/turtle")[0] == 200
    assert server.get("/ontology/0.9.0", "text/turtle")[0] == 404
    assert server.get("/id/graph/description", "text/turtle")[0] == 200
    status, _, page = server.get("/id/goal/", "text/html")
    assert status == 200 and b'href="/id/goal/post-deployment-monitoring"' in page
    status, _, turtle = server.get("/id/goal/", "text/turtle")
    assert status == 200 and b"post-deployment-monitoring" in turtle


def test_redirects_say_where(server) -> None:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(server.url)
    for path, accept, target in [
        ("/.well-known/void", "text/turtle", "/dataset"),
        ("/dataset", "text/html", "/id/dataset"),
        ("/ontology/1.0.0", "text/turtle", "/releases/1.0.0"),  # a prior version: the release that holds it
    ]:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", path, headers={"Accept": accept})
        response = conn.getresponse()
        assert (response.status, response.getheader("location")) == (303, target)
        conn.close()


def test_every_format_has_its_url_and_is_announced(server) -> None:
    goal = "/id/goal/post-deployment-monitoring"
    status, headers, page = server.get(goal, "text/html")
    assert status == 200
    links = headers["link"].split(", ")
    expected = [("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("nt", "application/n-triples")]
    expected += [("rdf", "application/rdf+xml")]
    assert links == [f'<{goal}.{s}>; rel="alternate"; type="{m}"' for s, m in expected]
    for suffix, media in expected:
        assert f'<link rel="alternate" type="{media}" href="{goal}.{suffix}">'.encode() in page
        status, headers, body = server.get(f"{goal}.{suffix}", "text/html")  # the suffix decides, not Accept
        assert status == 200 and headers["content-type"].startswith(media)
        assert body == server.get(goal, media)[2]
    assert server.head(goal, "text/turtle")[1]["link"] == ", ".join(links)
    assert server.get("/id/goal/no-such-goal.ttl")[0] == 404
