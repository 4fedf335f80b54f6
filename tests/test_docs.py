"""The SPARQL examples in the documentation run and answer something (so the docs cannot drift from the data)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from idais_kg.dataset.assemble import KnowledgeGraph

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [
    (f"{path.name}:{text[: m.start()].count(chr(10)) + 2}", m.group(1))
    for path in DOCS
    for text in [path.read_text(encoding="utf-8")]
    for m in re.finditer(r"```sparql\n(.*?)```", text, re.S)
]


def test_docs_have_examples() -> None:
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize(("where", "sparql"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_documented_query_answers(kg: KnowledgeGraph, where: str, sparql: str) -> None:
    assert kg.sparql(sparql).rows, where
