"""The lexer's fast token regex and canonical() against the plain grammar and a walk over every token.

``lexer.TOKEN`` reorders and rewrites ``lexer.GRAMMAR`` for speed, and ``canonical()`` visits only the tokens it
may rewrite or refuse. Both are a security boundary (see the docstrings of ``lexer`` and ``guard``), so they are
held to the plain forms here: on generated SPARQL-ish texts, the same tokens, the same canonical text, starts and
IRIs, and the same LexError (message and offset). The corpus is derandomised, so CI runs the same texts every time.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idais_kg.serve.lexer import (
    GRAMMAR,
    Canonical,
    LexError,
    Token,
    canonical,
    expand,
    resolve,
    tokens,
    unescape_iri,
    write,
    write_iri,
)

BASE = "https://w3id.org/idais-kg/sparql"


def apart(spaced: str) -> list[str]:
    """The fragments of a line, which are written apart by spaces (backslashes in them are the text's own)."""
    return spaced.split()


FRAGMENTS = [
    # words: keywords, functions, the forbidden ones glued to others, ASCII only or not
    *apart(
        "SELECT select ASK CONSTRUCT WHERE FILTER OPTIONAL GROUP_CONCAT CONCAT COUNT a A _ _x x_1 NOT EXISTS"
    ),
    *apart(
        "NOTEXISTS SERVICE SERVICEex FROM NAMED LIMIT PREFIX prefix Prefix BASE base BY lang STR true ASKé Aé x·"
    ),
    # variables
    *apart("?x $y ?goal ?é ?1a ?x·y ?x‿ ? $ ?-"),
    # IRIs, with escapes that decode to anything (forbidden characters, surrogates)
    *apart(
        r"<http://x/> <http://e/ns#> <h\u0074tp://x> <\U00000068ttp://x/> <> <#> <id/g> <\u0020> <\u003E>"
    ),
    *apart(r"<\uD800> <\U00110000> <\u00> <a\> <é> <{>"),
    "<a b>",
    # prefixed names: empty parts, dots, dashes, escapes, percent, non-ASCII, glued keywords
    *apart(
        r"ex: ex:a ex:a.b ex:a.b. ex:a-b ex:-a ex:a\-b ex:\.a ex:%41 ex:%4 ex::a : :x :x. a.:b a-:b é:x ex:é"
    ),
    *apart(r"ex:a· SERVICEex:x FROMex:y x-y:z a.b:c ex:1 ex:a:b ex:a\ ex:a% _:b _:b.c _:b. _: _:1 _:-"),
    # strings of the four quote kinds, escapes right and wrong, unterminated, line ends
    *apart(
        r"""'a' "a" 'a\'b' "a\"b" "\u0041\U0001F600" '\n\t\r\b\f' "\q" "\uD800" ' " '' "SERVICE" '\\' "a\ """
    ),
    *["'''a'''", '"""a"""', "'''a''b'''", '"""a""b"""', "'''''''", '""""', '"""', "'''a\nb'''"],
    *['"a\nb"', '"a\rb"', '"a b"'],
    # numbers, language tags, operators, brackets
    *apart("1 42 1.5 .5 1. 1e3 1.e3 .5E-2 +1 -1 +.5 - + 1e @en @en-GB @ @1"),
    *apart("&& || != <= >= ^^ * . , ; = ! / | ^ < > & { } ( ) [ ]"),
    # comments ending at LF, CR or the end of the text
    *["# c\n", "# c\r", "#", "#SERVICE\r", "# <x> 'y'\n"],
    # whole declarations, so that canonical() gets past them and on to the rest
    *[
        "PREFIX ex: <http://e/ns#>",
        "PREFIX : <id/>",
        "prefix é: <http://é/>",
        "BASE <http://b/>",
        "BASE <sub/>",
    ],
    *["PREFIX ex: ex:", "PREFIX ex <x>", "PREFIX ex: <\\u0020>"],
    # odd characters
    *[
        "\\",
        "%",
        "`",
        "~",
        "\x00",
        "\t",
        "中",
        "·",
        "\u0300",
        "\u203f",
        "\ufffd",
        "\U0001f600",
        "\ud800",
        "\u200c",
    ],
]
SEPARATORS = ["", "", " ", "\n", "\r", "\t", "\r\n", "# comment\n"]

fragment_texts = st.lists(
    st.tuples(st.sampled_from(FRAGMENTS), st.sampled_from(SEPARATORS)), max_size=14
).map(lambda pairs: "".join(fragment + sep for fragment, sep in pairs))
random_texts = st.text(
    st.one_of(
        st.sampled_from(list("aZ_:.-?$<>\"'\\#%@{}()[]0123456789eE+ \n\r\tuU·é中")),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
)
TEXTS = st.one_of(fragment_texts, fragment_texts, random_texts)
SETTINGS = settings(
    max_examples=4000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def grammar_tokens(text: str) -> list[Token]:
    """The tokens by the plain grammar regex: every match that is not a space or a comment."""
    return [
        Token(match.lastgroup or "other", match.group(), match.start())
        for match in GRAMMAR.finditer(text)
        if match.lastgroup not in ("space", "comment")
    ]


def walked_canonical(text: str, base: str = "") -> Canonical:
    """canonical() as a walk over every token of the plain grammar, each handled in turn."""
    toks = grammar_tokens(text)
    prefixes: dict[str, str] = {}
    kept: list[Token] = []
    parts: list[str] = []
    iris: list[str | None] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.kind == "other":
            raise LexError(f"unexpected character {tok.text!r}", tok.offset)
        if tok.kind == "word" and tok.text.upper() == "PREFIX":
            if i + 2 >= len(toks) or toks[i + 1].kind != "pname" or not toks[i + 1].text.endswith(":"):
                raise LexError("PREFIX must be followed by a prefix name and an IRI", tok.offset)
            if toks[i + 2].kind != "iri":
                raise LexError("PREFIX must be followed by a prefix name and an IRI", toks[i + 2].offset)
            prefixes[toks[i + 1].text[:-1]] = resolve(base, unescape_iri(toks[i + 2]))
            i += 3
            continue
        if (
            tok.kind == "word"
            and tok.text.upper() == "BASE"
            and i + 1 < len(toks)
            and toks[i + 1].kind == "iri"
        ):
            base = resolve(base, unescape_iri(toks[i + 1]))
        iri = (
            unescape_iri(tok) if tok.kind == "iri" else expand(tok, prefixes) if tok.kind == "pname" else None
        )
        kept.append(tok)
        iris.append(iri)
        parts.append(write_iri(iri) if iri is not None else write(tok))
        i += 1
    text_out = ""
    starts = []
    for n, (tok, part) in enumerate(zip(kept, parts, strict=True)):
        if n and not (tok.text == "(" and kept[n - 1].kind == "word"):
            text_out += " "
        starts.append(len(text_out))
        text_out += part
    return Canonical(tuple(kept), text_out, tuple(starts), tuple(iris))


def outcome(fn: object, text: str, base: str) -> tuple[object, ...]:
    """What a canonical function gives for a text: its fields, or the error's type, message and offset."""
    try:
        result = fn(text, base)  # type: ignore[operator]
    except LexError as exc:
        return ("LexError", str(exc), exc.offset)
    except ValueError as exc:  # urljoin's, on a base it cannot split: the same either way
        return (type(exc).__name__, str(exc))
    return (result.tokens, result.text, result.starts, result.iris)


@SETTINGS
@given(text=TEXTS)
def test_the_token_regex_gives_the_grammars_tokens(text: str) -> None:
    assert tokens(text) == grammar_tokens(text)


@SETTINGS
@given(text=TEXTS, base=st.sampled_from(["", BASE, "http://[x/"]))
def test_canonical_is_the_walk_over_every_token(text: str, base: str) -> None:
    assert outcome(canonical, text, base) == outcome(walked_canonical, text, base)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SERVICEex:x", [("pname", "SERVICEex:x")]),
        ("SERVICE ex:x", [("word", "SERVICE"), ("pname", "ex:x")]),
        ("a.:b", [("word", "a"), ("operator", "."), ("pname", ":b")]),
        ("_:b", [("bnode", "_:b")]),
        ("_:b.", [("bnode", "_:b"), ("operator", ".")]),
        ("_x:y", [("word", "_x"), ("pname", ":y")]),
        ("ex:a.b.", [("pname", "ex:a.b"), ("operator", ".")]),
        ("ex:a.b .", [("pname", "ex:a.b"), ("operator", ".")]),
        ("skos:prefLabel ?l .", [("pname", "skos:prefLabel"), ("var", "?l"), ("operator", ".")]),
        ("x-y:z-", [("pname", "x-y:z-")]),
        ("ex:a\\-b%41", [("pname", "ex:a\\-b%41")]),
        ("ex:-a", [("pname", "ex:"), ("operator", "-"), ("word", "a")]),
        ("GROUP_CONCAT(?x)", [("word", "GROUP_CONCAT"), ("bracket", "("), ("var", "?x"), ("bracket", ")")]),
        ("FILTER-1", [("word", "FILTER"), ("number", "-1")]),
        ("FILTER-a", [("word", "FILTER"), ("operator", "-"), ("word", "a")]),
        ("ASKé", [("word", "ASK"), ("other", "é")]),
        ("ASKé:x", [("pname", "ASKé:x")]),
        ("a·b", [("word", "a"), ("other", "·"), ("word", "b")]),
        ("NOTEXISTS{", [("word", "NOTEXISTS"), ("bracket", "{")]),
        ("1.e3.5", [("number", "1.e3"), ("number", ".5")]),
        ("<a b>", [("operator", "<"), ("word", "a"), ("word", "b"), ("operator", ">")]),
        ("<h\\u0074tp://x>", [("iri", "<h\\u0074tp://x>")]),
        ("<a\\u00>", [("operator", "<"), ("word", "a"), ("other", "\\"), ("word", "u00"), ("operator", ">")]),
        ("'a\\'b'\"c\"", [("string", "'a\\'b'"), ("string", '"c"')]),
        ("'''a''b'''", [("string", "'''a''b'''")]),
        ('"a\nb"', [("other", '"'), ("word", "a"), ("word", "b"), ("other", '"')]),
        ("ASK#\rSERVICE", [("word", "ASK"), ("word", "SERVICE")]),
        ("@en-GB", [("langtag", "@en-GB")]),
    ],
)
def test_tricky_tokens(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(tok.kind, tok.text) for tok in tokens(text)] == expected
    assert tokens(text) == grammar_tokens(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "PREFIX ex: <http://e/> ASK { ex:a ex:b ex:c }",
            "ASK { <\\u0068ttp://e/a> <\\u0068ttp://e/b> <\\u0068ttp://e/c> }",
        ),
        ("SELECT (COUNT (?x) AS ?n) {}", "SELECT( COUNT( ?x ) AS ?n ) { }"),
        ("SELECT PREFIX ex: <http://e/> (?x) {}", "SELECT( ?x ) { }"),
        (
            "BASE <http://b/> PREFIX ex: <c/> ASK { ex:d ?p 'x\\'y' }",
            'BASE <\\u0068ttp://b/> ASK { <\\u0068ttp://b/c/d> ?p "x\'y" }',
        ),
    ],
)
def test_canonical_examples(text: str, expected: str) -> None:
    assert canonical(text).text == expected
    assert outcome(canonical, text, "") == outcome(walked_canonical, text, "")


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("ASK { ex:a }", "prefix ex: is not declared", 6),
        ("ASK { ex:a } PREFIX ex: <http://e/>", "prefix ex: is not declared", 6),
        ("PREFIX ex: <http://e/> PREFIX", "PREFIX must be followed by a prefix name and an IRI", 23),
        ("PREFIX ex: ?x", "PREFIX must be followed by a prefix name and an IRI", 11),
        ("ASK { `", "unexpected character '`'", 6),
        ("ASK { ` ex:a }", "unexpected character '`'", 6),
        ("ASK { ex:a ` }", "prefix ex: is not declared", 6),
        ("ASK { '\\q' ` }", "\\q is not an escape SPARQL knows", 6),
        ("BASE <\\u0020> ASK {}", "an escape in this IRI stands for a character that IRIs may not hold", 5),
        ("ASK { <\\uD800> }", "\\uD800 is not a Unicode character", 6),
    ],
)
def test_canonical_errors(text: str, message: str, offset: int) -> None:
    with pytest.raises(LexError) as caught:
        canonical(text)
    assert (str(caught.value), caught.value.offset) == (message, offset)
    assert outcome(canonical, text, "") == outcome(walked_canonical, text, "")
