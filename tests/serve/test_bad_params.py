"""Bad parameters of the saved-query API: a 400 that names the query and the parameter, never a 500.

Each value is sent percent-encoded, as a client sends it; the IRI parameter ``goal`` of ``policies-of-goal`` is
the case the audit found (``goal=goal:a%00b`` answered 500). The command line's side of the same values is in
tests/test_bad_inputs.py.
"""

from __future__ import annotations

import html

import pytest
from conftest import Server

QUERY = "/api/queries/policies-of-goal"
NAMED = "query 'policies-of-goal', parameter 'goal'"

BAD_VALUES = {
    "nul": ("goal:a%00b", "control character U+0000"),
    "c0-control": ("goal:a%01b", "control character U+0001"),
    "line-feed": ("goal:a%0Ab", "control character U+000A"),
    "delete": ("goal:a%7Fb", "control character U+007F"),
    "c1-control": ("goal:a%C2%85b", "control character U+0085"),
    "replacement-character": ("goal:a%EF%BF%BDb", "U+FFFD"),
    "not-utf-8": ("goal:a%FFb", "not UTF-8 once percent-decoded"),
    "truncated-utf-8": ("goal:a%E5%AEb", "not UTF-8 once percent-decoded"),
    "full-iri-with-nul": (
        "https%3A%2F%2Fw3id.org%2Fidais-kg%2Fid%2Fgoal%2Fa%00b",
        "control character U+0000",
    ),
}


@pytest.mark.parametrize("case_id", sorted(BAD_VALUES))
def test_bad_iri_parameter_is_a_400_naming_it(server: Server, case_id: str) -> None:
    value, problem = BAD_VALUES[case_id]
    status, _, body = server.get(f"{QUERY}?goal={value}", accept="text/plain")
    assert status == 400, body
    text = body.decode()
    assert text.startswith("400 Bad Request: ") and NAMED in text and problem in text
    assert text.count("\n") == 1  # one line


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_the_400_comes_in_the_form_the_client_reads(server: Server, accept: str) -> None:
    status, headers, body = server.get(f"{QUERY}?goal=goal:a%00b", accept=accept)
    assert status == 400
    assert headers["content-type"].startswith(accept)
    assert NAMED in html.unescape(body.decode())


def test_a_parameter_name_that_is_not_utf_8(server: Server) -> None:
    status, _, body = server.get(f"{QUERY}?go%FFal=goal:x", accept="text/plain")
    assert status == 400 and b"not UTF-8" in body


def test_a_good_value_still_answers(server: Server) -> None:
    """The strict decoding keeps what was right: a prefixed name, and the same IRI percent-encoded in full."""
    for goal in (
        "goal:ai-safety-rd-resources",
        "https%3A%2F%2Fw3id.org%2Fidais-kg%2Fid%2Fgoal%2Fai-safety-rd-resources",
    ):
        status, _, body = server.get(f"{QUERY}?goal={goal}", accept="application/sparql-results+json")
        assert status == 200, body
        assert b'"bindings"' in body


def test_a_parameter_given_twice_is_still_a_400(server: Server) -> None:
    status, _, body = server.get(f"{QUERY}?goal=goal:x&goal=goal:y", accept="text/plain")
    assert status == 400 and b"given more than once" in body
