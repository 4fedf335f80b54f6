"""Answers written by the engine, cut at the row cap exactly: ``serve.worker.evaluate`` on small tables, tables past
the cap, rows with no bindings, values that look like row marks, and graphs with IRIs no prefix can abbreviate."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from idais_kg.serve.worker import Job, Rows, evaluate
from idais_kg.store import Store

ESCAPED = "https://w3id.org/idais-kg/id/guide/2025-02/policy/x"  # ed:policy\/x, were it abbreviated
GOAL = "https://w3id.org/idais-kg/id/goal/y"  # goal:y
FORMATS = {
    "application/sparql-results+json": lambda body: len(json.loads(body)["results"]["bindings"]),
    "application/sparql-results+xml": lambda body: body.count(b"<result>"),
    "text/csv": lambda body: body.count(b"\r\n") - 1,
    "text/tab-separated-values": lambda body: body.count(b"\n") - 1,
}


@pytest.fixture(scope="module")
def store() -> Store:
    data = "".join(f"<http://x/s{n}> <http://x/p> <http://x/o{n}> <http://x/g> .\n" for n in range(30))
    data += f'<{ESCAPED}> <{GOAL}> "lit" <http://x/g> .\n'
    loaded = Store()
    loaded.load_nquads(data.encode())
    return loaded


@pytest.mark.parametrize("media", sorted(FORMATS))
@pytest.mark.parametrize(
    ("cap", "rows", "truncated"), [(1, 1, True), (29, 29, True), (31, 31, False), (99, 31, False)]
)
def test_a_table_is_cut_at_the_cap_and_says_so(store, media, cap, rows, truncated) -> None:
    answer = evaluate(store, Job("SELECT ?s ?o WHERE { ?s ?p ?o }", media, cap))
    assert (FORMATS[media](answer.body), answer.truncated) == (rows, truncated)


@pytest.mark.parametrize("media", sorted(FORMATS))
def test_rows_without_bindings_count_as_rows(store, media) -> None:
    answer = evaluate(store, Job("SELECT ?z WHERE { VALUES ?z { UNDEF UNDEF 1 } }", media, 2))
    assert (FORMATS[media](answer.body), answer.truncated) == (2, True)


def test_a_value_that_looks_like_a_row_mark_does_not_cut_the_answer(store) -> None:
    query = 'SELECT ?z WHERE { VALUES ?z { "a,{b" "c,{d" } }'
    answer = evaluate(store, Job(query, "application/sparql-results+json", 2))
    values = [row["z"]["value"] for row in json.loads(answer.body)["results"]["bindings"]]
    assert (values, answer.truncated) == (["a,{b", "c,{d"], False)


def test_row_marks_are_counted_across_writes() -> None:
    rows = Rows(b",{", 1)
    rows.write(b'[{"a":1},')
    with pytest.raises(BufferError):
        rows.write(b'{"a":2},{"a":3}]')
    assert rows.count == 2 and rows.over


def test_a_graph_is_cut_at_the_cap_and_never_has_an_escaped_name(store) -> None:
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    cut = evaluate(store, Job(query, "application/n-triples", 10))
    assert (cut.body.count(b"\n"), cut.truncated) == (10, True)
    whole = evaluate(store, Job(query, "text/turtle", 100))
    assert not whole.truncated and b"\\" not in whole.body
    assert f"<{ESCAPED}> goal:y".encode() in whole.body  # written in full; the other prefixes still serve
    assert len(list(ox.parse(whole.body, format=ox.RdfFormat.TURTLE))) == 31
