"""Plain texts skip the lexer (``guard.plain``), and only where that cannot let anything through that the lexer
would stop: a text the plain path accepts is one the lexer accepts too, with the same form, or refuses only for
what the engine refuses as well (an undeclared prefix, a character outside SPARQL); never for SERVICE, FROM, an
update or the nesting bound.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_lexer_equivalence import FRAGMENTS, SETTINGS

from idais_kg.serve.guard import QueryRefused, checked_query, plain

BASE = "https://w3id.org/idais-kg/sparql"
GRAPHS = {"https://w3id.org/idais-kg/id/graph/guide"}
PROLOGUES = [
    "",
    "PREFIX ex: <http://x/> ",
    "BASE <http://b/> ",
    "prefix a.b-c: <y> base <z>\n",
    "PREFIX : <q>",
]
FORMS = [
    "SELECT",
    "select",
    "ASK",
    "Construct",
    "DESCRIBE",
    "SELECT*",
    "ASKSELECT",
    "SELECTDISTINCT",
    "CONSTRUCTWHERE",
]
SECURITY = ("SERVICE is not allowed", "is an update", "FROM", "nested too deeply")

texts = st.builds(
    lambda prologue, form, parts: prologue + form + "".join(parts),
    st.sampled_from(PROLOGUES),
    st.sampled_from(FORMS),
    st.lists(st.sampled_from([*FRAGMENTS, " ", "\n", "{", "}", "(", ")"]), max_size=16),
)


@given(text=texts)
@SETTINGS
def test_what_the_plain_path_accepts_the_lexer_accepts(text: str) -> None:
    accepted = plain(text, 32_768, 40)
    if accepted is None:
        return
    assert accepted.text == text and accepted.canonical is None
    try:
        lexed = checked_query(text, GRAPHS, 32_768, 40, BASE)
    except QueryRefused as exc:
        assert not any(reason in str(exc) for reason in SECURITY), (text, str(exc))
        return
    except ValueError:  # (urljoin's, on a BASE it cannot split: the engine refuses that IRI too)
        return
    assert lexed.form == accepted.form, text
    assert not lexed.has_dataset


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * WHERE { servicE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * FROM <urn:g> WHERE { ?s ?p ?o }",
        "SELECT ?from WHERE { ?from ?p ?o }",  # (a variable: the lexer accepts it, after lexing it)
        "ASK { <http://x/\\u0053ERVICE> ?p ?o }",
        "ASK { ?s ?p ?o } # SERVICE",
        "ASK { ?s ?p ?o }\u00a0",
        "ASK {" + "{" * 40 + "}" * 40 + "}",
        "ASK { ?s ?p 'ſervice' }",
        "INSERT DATA { <a:b> <a:c> <a:d> }",
        "SELEC ?s { ?s ?p ?o }",
        "",
    ],
)
def test_these_take_the_lexer(text: str) -> None:
    assert plain(text, 32_768, 40) is None


@pytest.mark.parametrize(
    ("text", "form"),
    [
        (
            "SELECT ?goal (COUNT(?p) AS ?n) WHERE { ?p <urn:x:policyOf> ?goal } GROUP BY ?goal LIMIT 1001",
            "SELECT",
        ),
        ("PREFIX i: <https://w3id.org/idais-kg/ontology#>\nASK { ?g a i:Goal }", "ASK"),
        ("  base <http://b/> construct { ?s ?p ?o } where { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <https://w3id.org/idais-kg/id/goal/x>", "DESCRIBE"),
        ("SELECT* { ?s ?p ?o }", "SELECT"),
        ("SELECT ?d WHERE { ?s <http://purl.org/dc/terms/created> ?d }", "SELECT"),  # (an update word inside)
    ],
)
def test_these_do_not(text: str, form: str) -> None:
    accepted = plain(text, 32_768, 40)
    assert accepted is not None and accepted.form == form and accepted.text == text
