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


# ---------------------------------------------------------------------------------------------------------------
# Names a reader copies from docs/modelling.md, and the generated reference (issue 14, point 10)
# ---------------------------------------------------------------------------------------------------------------

MODELLING = (ROOT / "docs" / "modelling.md").read_text(encoding="utf-8")
SPANS = sorted(set(re.findall(r"`([a-z][A-Za-z0-9]*):([^`\s{}…]+)`", MODELLING)))
# The docs name these as what does not work (a prefixed name with an unescaped slash).
COUNTER_EXAMPLES = {"kg:guide/2025-02", "ed:policy/tax-credits-for-safety-research"}
# Prefixes the docs print that are not for queries of the dataset: the shapes' namespace (in reports), the arXiv
# scheme inside a literal, a term compared in a table, and the change-set vocabulary of `idais-kg diff`.
NOT_FOR_QUERIES = {"ish", "arXiv", "foaf", "cs"}


def test_every_prefix_the_docs_use_is_predeclared() -> None:
    from idais_kg.namespaces import PREFIXES

    used = {prefix for prefix, _ in SPANS} | {
        m for _, block in BLOCKS for m in re.findall(r"(?<![\w<\"?:/])([a-z][A-Za-z0-9]*):[A-Za-z\\]", block)
    }
    used -= {"https", "http", "urn", "mailto"}
    assert "ed" in used
    assert used - set(PREFIXES) == NOT_FOR_QUERIES


def test_names_without_slashes_in_the_docs_are_valid_and_known(kg: KnowledgeGraph) -> None:
    """Every prefixed name the docs print whole (no slash in its local part, or an escaped one) parses as SPARQL
    and, if it is an IRI of ours, names something in the graph."""
    from idais_kg.namespaces import expand, is_ours

    checked = 0
    from idais_kg.namespaces import PREFIXES

    for prefix, local in SPANS:
        if prefix not in PREFIXES or "/" in local.replace("\\/", ""):
            continue
        name = f"{prefix}:{local}"
        assert isinstance(kg.sparql(f"ASK {{ VALUES ?x {{ {name} }} }}"), bool), name
        iri = expand(f"{prefix}:{local.replace(chr(92), '')}")
        if is_ours(iri) and not iri.startswith(expand("idais:")):
            assert kg.sparql(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}"), name
        checked += 1
    assert checked >= 30


def test_the_documented_counter_examples_fail(kg: KnowledgeGraph) -> None:
    from idais_kg.errors import QueryError

    for name in sorted(COUNTER_EXAMPLES):
        assert f"`{name}`" in MODELLING
        with pytest.raises(QueryError):
            kg.sparql(f"ASK {{ VALUES ?x {{ {name} }} }}")
        escaped = name.replace("/", "\\/")
        assert kg.sparql(f"ASK {{ {escaped} ?p ?o }}") is True, escaped


def test_the_reference_is_current(kg: KnowledgeGraph) -> None:
    """docs/reference.md is what ``python -m idais_kg.devtools.reference`` writes from the sources."""
    from idais_kg.devtools.reference import render

    assert (ROOT / "docs" / "reference.md").read_text(encoding="utf-8") == render(kg), (
        "docs/reference.md is stale: run python -m idais_kg.devtools.reference"
    )


def test_the_reference_has_every_term_of_ours(kg: KnowledgeGraph) -> None:
    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    terms = kg.sparql(
        "SELECT DISTINCT ?t WHERE { GRAPH kg:graph\\/ontology { ?t ?p ?o } "
        "FILTER (isIRI(?t) && STRSTARTS(STR(?t), STR(idais:))) } ORDER BY ?t"
    )
    names = [r["t"].value.removeprefix(expand_idais()) for r in terms.rows]  # type: ignore[union-attr]
    assert len(names) > 100
    missing = [n for n in names if f"### `idais:{n}`" not in reference]
    assert missing == []
    entry = reference.split("### `idais:hasPolicy`")[1].split("### ")[0]
    assert "- inverse of: `idais:policyOf`" in entry
    assert "- used by: `idais:Goal`" in entry
    assert (
        "- example: `goal:" in entry
        and "idais:hasPolicy ed:policy\\/" in entry
        and "(in kg:graph/inferred)" in entry
    )


def expand_idais() -> str:
    from idais_kg.namespaces import IDAIS

    return IDAIS
