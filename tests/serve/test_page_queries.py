"""Every page query file is used by the pages and answers on the guide graph."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.serve import page_queries as pages

FILES = sorted(pages.SPARQL.glob("*.rq"))


def test_every_page_query_file_is_used() -> None:
    source = (pages.SPARQL.parent / "page_queries.py").read_text(encoding="utf-8")
    used = {
        f.stem for f in FILES if f'page_query("{f.stem}")' in source or f'page_text("{f.stem}")' in source
    }
    assert used == {f.stem for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_page_query_answers(kg: KnowledgeGraph, path) -> None:  # type: ignore[no-untyped-def]
    text = pages.page_query(path.stem)
    if path.stem == "default-query":
        text = pages.prefix_block() + pages.DEFAULT_QUERY
    rows = list(
        kg.store.query(
            text,
            {"o": ox.NamedNode("https://w3id.org/idais-kg/id/goal/post-deployment-monitoring")}
            if path.stem == "incoming"
            else None,
        )
    )
    if path.stem == "partner-links":
        assert rows == []  # the built guide has no partner graphs
    else:
        assert rows
