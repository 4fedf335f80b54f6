"""Every page query file is used by the pages and answers on the guide graph."""

from __future__ import annotations

import pytest

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.serve import pages

FILES = sorted(pages.SPARQL.glob("*.rq"))


def test_every_page_query_file_is_used() -> None:
    source = (pages.SPARQL.parent / "pages.py").read_text(encoding="utf-8")
    assert {f.stem for f in FILES} == {
        name for name in (f.stem for f in FILES) if f'page_query("{name}")' in source
    }


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_page_query_answers(kg: KnowledgeGraph, path) -> None:  # type: ignore[no-untyped-def]
    rows = list(kg.store.query(pages.page_query(path.stem)))
    if path.stem == "partner-links":
        assert rows == []  # the built guide has no partner graphs
    else:
        assert rows
