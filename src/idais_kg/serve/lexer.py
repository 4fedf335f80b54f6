"""The SPARQL 1.1 terminals, and the canonical text of a query that the engine reads exactly as we do.

A guard that tokenises a query with rules of its own and hands the engine the original text is only as safe as the
two readings agree, and they do not: pyoxigraph's parser has no word boundaries (``SERVICEex:x`` is ``SERVICE
ex:x`` to it, ``NOTEXISTS`` is ``NOT EXISTS``), ends comments at CR as well as LF, and decodes ``\\uXXXX`` escapes
inside IRIs. So the guard never hands over the original text. It lexes the query by the grammar's terminals
(SPARQL 1.1 §19.8) and writes :func:`canonical` text from its own tokens, built so that the engine cannot read it
any other way:

- tokens are separated by one space and comments are dropped, so no engine token can span two of ours;
- every prefixed name is written as the full IRI it stands for, and ``PREFIX`` declarations are dropped, so no
  keyword can hide in a prefix (``PREFIX SERVICEex: …``);
- every IRI is written ``<\\uXXXX…>``, its first character escaped, so that ``<`` cannot be read as "less than"
  with the rest of the IRI as an expression or a comment: a backslash is valid nowhere else;
- every string is written ``"…"`` with only ``\\\\ \\" \\n \\r`` escaped, its content decoded by the grammar's rules.

What remains is words (keywords, function names), which the guard inspects as substrings (see ``guard``).
Anything this lexer cannot read is refused, never passed on.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, islice, pairwise, product
from operator import add
from typing import NamedTuple
from urllib.parse import urljoin

# The grammar's character classes (SPARQL 1.1 §19.8), spelt out so that our tokens are the grammar's tokens.
PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
    "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
PN_CHARS_U = PN_CHARS_BASE + "_"
PN_CHARS = PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
VARNAME = f"[{PN_CHARS_U}0-9][{PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"
PN_PREFIX = f"[{PN_CHARS_BASE}](?:[{PN_CHARS}.]*[{PN_CHARS}])?"
PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
PN_LOCAL = f"(?:[{PN_CHARS_U}:0-9]|{PLX})(?:(?:[{PN_CHARS}.:]|{PLX})*(?:[{PN_CHARS}:]|{PLX}))?"
UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
EXPONENT = r"[eE][+-]?[0-9]+"

# The grammar's terminals as one alternation, in the order that settles their overlaps (``<`` is an IRI before it
# is "less than", ``_:`` a blank node before ``_`` is a word): the reference that ``TOKEN`` must agree with.
GRAMMAR = re.compile(
    rf"""
    (?P<space>[\x20\t\r\n]+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''|\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
      |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{UCHAR})*>)
  | (?P<var>[?$]{VARNAME})
  | (?P<bnode>_:[{PN_CHARS_U}0-9](?:[{PN_CHARS}.]*[{PN_CHARS}])?)
  | (?P<pname>(?:{PN_PREFIX})?:(?:{PN_LOCAL})?)
  | (?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
  | (?P<number>[+-]?(?:[0-9]+\.[0-9]*{EXPONENT}|\.[0-9]+{EXPONENT}|[0-9]+{EXPONENT}|[0-9]*\.[0-9]+|[0-9]+))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<bracket>[{{}}()\[\]])
  | (?P<operator>&&|\|\||!=|<=|>=|\^\^|[*.,;=!/|^+\-<>?])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

# GRAMMAR's tokens, found sooner: this runs on every ad-hoc query. Why each change keeps every token the same:
# - An alternation takes the first alternative that matches, so two alternatives may trade places if no character
#   can start both. First characters: space [ \t\r\n], comment #, string ' ", IRI <, var ? $, bnode _, pname
#   PN_CHARS_BASE or :, langtag @, number + - . 0-9, word A-Za-z_, bracket {}()[], operator & | ! < > ^ * . , ; =
#   / + - ?. Var, bracket and IRI move up past alternatives that share none of theirs; every pair that shares one
#   (IRI and var before operator, bnode and pname before word, number before operator) keeps its order, and
#   ``other`` stays last.
# - The first word alternative takes a run [A-Za-z_][A-Za-z0-9_]* only if the character after it cannot continue a
#   prefixed name (it is not PN_CHARS, "." or ":"; a shorter run is followed by a run character, which is PN_CHARS,
#   so only the whole run can pass). GRAMMAR gives that same run as a word: space to var cannot start with a
#   letter or _; bnode needs ":" as second character, which is neither a run character nor the one after the
#   run; a pname needs a ":" right after a run of PN_CHARS and "." from here, which is our run (the character
#   after it is neither), holding no ":" and not followed by one; langtag and number cannot start with a letter
#   or _; GRAMMAR's word, greedy, takes the whole run. Otherwise this alternative fails and GRAMMAR's order decides.
# - The first pname alternative takes P:L, P a run of [A-Za-z0-9_-] starting with a letter and L one of
#   [A-Za-z0-9_:-] not starting with "-" (or nothing), only if the character after L is not PN_CHARS, ".", ":",
#   "%" or "\" (the runs are possessive, so nothing shorter is tried). GRAMMAR's alternatives before its pname
#   cannot start with a letter, and its pname takes the same text: P is a PN_PREFIX and the only one before a ":"
#   (no PN_PREFIX holds one); PN_LOCAL's loop of PN_CHARS, ".", ":" and PLX (which starts with % or \) stops at
#   the end of L, and steps back one for its last character, which L's last character is.
# - In an IRI or a short string, each character is either a backslash, which only the escape branch takes, or not,
#   which only the other takes; so the text splits into iterations one way only, and every boundary but the last
#   is followed by a character that an iteration took, never the closing > or quote. The possessive loops (*+, ++)
#   go to that last boundary without trying the others.
# - Each alternative starts with a literal or a character class and names its kind by an empty group at its end
#   (the last group closed), so the regex engine skips an alternative on its first character without entering it.
#   For that, ``'''a'''|'a'`` is written ``'(?:''a'''|a')`` and ``(?:P)?:`` is written ``(?:P:|:)``: the same
#   choices, tried in the same order.
TOKEN = re.compile(
    rf"""
    [\x20\t\r\n]+(?P<space>)
  | \#[^\r\n]*(?P<comment>)
  | [A-Za-z_][A-Za-z0-9_]*+(?![{PN_CHARS}.:])(?P<word>)
  | [A-Za-z][A-Za-z0-9_\-]*+:(?:[A-Za-z0-9_:][A-Za-z0-9_\-:]*+)?(?![{PN_CHARS}.:%\\])(?P<pname_>)
  | [?$]{VARNAME}(?P<var>)
  | [{{}}()\[\]](?P<bracket>)
  | <(?:[^<>"{{}}|^`\\\x00-\x20]++|{UCHAR})*+>(?P<iri>)
  | (?:'(?:''(?:(?:'|'')?(?:[^'\\]|\\.))*'''|(?:[^'\\\n\r]++|\\.)*+')
      |"(?:""(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"|(?:[^"\\\n\r]++|\\.)*+"))(?P<string>)
  | _:[{PN_CHARS_U}0-9](?:[{PN_CHARS}.]*[{PN_CHARS}])?(?P<bnode>)
  | (?:[{PN_CHARS_BASE}](?:[{PN_CHARS}.]*[{PN_CHARS}])?:|:)(?:{PN_LOCAL})?(?P<pname>)
  | @[a-zA-Z]+(?:-[a-zA-Z0-9]+)*(?P<langtag>)
  | [+-]?(?:[0-9]+\.[0-9]*{EXPONENT}|\.[0-9]+{EXPONENT}|[0-9]+{EXPONENT}|[0-9]*\.[0-9]+|[0-9]+)(?P<number>)
  | [A-Za-z_][A-Za-z0-9_]*(?P<word_>)
  | (?:&&|\|\||!=|<=|>=|\^\^|[*.,;=!/|^+\-<>?])(?P<operator>)
  | .(?P<other>)
    """,
    re.VERBOSE | re.DOTALL,
)
# The kind of TOKEN's group of each number (``word_`` is a word too); groups 1 and 2 are space and comment.
KIND = ("", *(name.rstrip("_") for name in sorted(TOKEN.groupindex, key=TOKEN.groupindex.__getitem__)))
ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
ESCAPE = re.compile(UCHAR + r"|\\(.)", re.DOTALL)
IRI_FORBIDDEN = re.compile(r'[<>"{}|^`\\\x00-\x20]')
PN_LOCAL_ESC = re.compile(r"\\(.)")
# What canonical() must look at: tokens written otherwise than as they came or refused, the declarations, and "(".
MARKED_KINDS = frozenset({"iri", "pname", "string", "other"})
MARKED_TEXTS = frozenset(
    {
        "(",
        *(
            "".join(spelling)
            for word in ("PREFIX", "BASE")
            for spelling in product(*zip(word, word.lower(), strict=True))
        ),
    }
)
new_tuple = tuple.__new__
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


class LexError(ValueError):
    """Text that is not made of SPARQL terminals we can read; ``offset`` is where (in characters)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class Token(NamedTuple):
    """One significant token: its kind (a group name of ``GRAMMAR``), its text as written, and where it starts.

    A named tuple, not a dataclass: a query has dozens of tokens, and this sits on every ad-hoc query's path.
    """

    kind: str
    text: str
    offset: int


@dataclass(frozen=True)
class Canonical:
    """The tokens of a query, the text the engine will be given, and where each of its tokens came from."""

    tokens: tuple[Token, ...]
    text: str
    starts: tuple[int, ...]  # the offset in ``text`` of each token's canonical form
    iris: tuple[
        str | None, ...
    ]  # the IRI each IRI or prefixed-name token stands for, as written (not resolved)


def tokens(text: str) -> list[Token]:
    """The significant tokens of a SPARQL text (no spaces or comments); a comment ends at CR or LF.

    >>> [t.text for t in tokens('SELECT ?service { ?s ex:load "SERVICE" } # DROP')]
    ['SELECT', '?service', '{', '?s', 'ex:load', '"SERVICE"', '}']
    >>> [t.kind for t in tokens('ASK { #\\rSERVICE }')]
    ['word', 'bracket', 'word', 'bracket']
    """
    # tuple.__new__ makes the very Token that Token(...) makes, without the named tuple's __new__ written in Python.
    return [
        new_tuple(Token, (KIND[kind], match[0], match.start()))
        for match in TOKEN.finditer(text)
        if (kind := match.lastindex or 0) > 2
    ]


def position(text: str, offset: int) -> str:
    """``line:column`` (both from 1) of a character offset; a line ends at LF, CR or CRLF, as SPARQL's do.

    >>> position("ASK {\\n  }", 8)
    '2:3'
    >>> position("ASK {\\r  }", 8)
    '2:3'
    """
    before = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
    line = before.count("\n") + 1
    return f"{line}:{len(before) - (before.rfind(chr(10)) + 1) + 1}"


def unescape_string(token: Token) -> str:
    """The value of a string token: ECHAR and UCHAR escapes decoded, as the engine decodes them.

    >>> unescape_string(Token("string", r'"a\\"b\\u0041"', 0))
    'a"bA'
    """
    quote = 3 if token.text[:3] in ('"""', "'''") else 1
    body = token.text[quote:-quote]
    if "\\" not in body:
        return body

    def decode(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return codepoint(match.group(), token.offset)
        if match.group(1) not in ECHAR:
            raise LexError(f"\\{match.group(1)} is not an escape SPARQL knows", token.offset)
        return ECHAR[match.group(1)]

    return ESCAPE.sub(decode, body)


def unescape_iri(token: Token) -> str:
    """The IRI of an IRI token, ``\\u`` escapes decoded; refused if the result holds a character IRIs may not."""
    iri = token.text[1:-1]
    if "\\" not in iri:
        return iri  # the token's pattern already excludes every character an IRI may not hold
    iri = re.sub(UCHAR, lambda m: codepoint(m.group(), token.offset), iri)
    if IRI_FORBIDDEN.search(iri):
        raise LexError("an escape in this IRI stands for a character that IRIs may not hold", token.offset)
    return iri


def codepoint(escape: str, offset: int) -> str:
    """The character of a ``\\u`` or ``\\U`` escape; a surrogate or a value past U+10FFFF is a LexError."""
    value = int(escape[2:], 16)
    if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
        raise LexError(f"{escape} is not a Unicode character", offset)
    return chr(value)


def resolve(base: str, iri: str) -> str:
    """``iri`` resolved against ``base``; an absolute IRI is kept exactly (urljoin would drop an empty ``#``).

    >>> resolve("https://w3id.org/idais-kg/sparql", "https://w3id.org/idais-kg/ontology#")
    'https://w3id.org/idais-kg/ontology#'
    >>> resolve("https://w3id.org/idais-kg/sparql", "id/goal/x#")
    'https://w3id.org/idais-kg/id/goal/x#'
    """
    if not base or SCHEME.match(iri):
        return iri
    return urljoin(base, iri) + ("#" if iri.endswith("#") else "")


def write_iri(iri: str) -> str:
    """An IRI as the engine can read only as an IRI: its first character escaped.

    >>> write_iri("http://x/#y")
    '<\\\\u0068ttp://x/#y>'
    >>> write_iri("")
    '<>'
    """
    if not iri:
        return "<>"
    first = ord(iri[0])
    escaped = f"\\u{first:04X}" if first <= 0xFFFF else f"\\U{first:08X}"
    return f"<{escaped}{iri[1:]}>"


def write_string(value: str) -> str:
    """A string value as a short SPARQL string.

    >>> write_string('a"b\\\\c\\nd')
    '"a\\\\"b\\\\\\\\c\\\\nd"'
    """
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


@lru_cache(maxsize=4096)
def canonical(text: str, base: str = "") -> Canonical:
    """The canonical text of a query (see the module's docstring); raises LexError on what it cannot read.

    ``base`` is the service's base IRI, against which relative prefix IRIs are resolved (as the engine resolves
    them: the canonical text keeps any ``BASE`` declaration, and the engine is handed the same base).

    >>> canonical('PREFIX ex: <http://x/> SELECT ?s { ?s ex:p "a" } # SERVICE').text
    'SELECT ?s { ?s <\\\\u0068ttp://x/p> "a" }'
    """
    toks = tokens(text)
    parts = [tok[1] for tok in toks]  # each token's canonical form: its text, unless it is one of `marked`
    iris: list[str | None] = [None] * len(toks)
    prefixes: dict[str, str] = {}
    declarations: list[int] = []  # where each PREFIX declaration starts; its three tokens are dropped
    opens: list[int] = []
    # Only these tokens are written otherwise than as they came, or can be refused; visited in order, they raise
    # the error that a walk over every token would raise first.
    marked = [i for i, tok in enumerate(toks) if tok[0] in MARKED_KINDS or tok[1] in MARKED_TEXTS]
    declared = -1  # the last token of the latest PREFIX declaration
    for i in marked:
        if i <= declared:
            continue
        tok = toks[i]
        kind = tok[0]
        if kind == "iri":
            iri = unescape_iri(tok)
            if i and toks[i - 1][0] == "word" and toks[i - 1][1].upper() == "BASE":
                base = resolve(base, iri)
            iris[i] = iri
            parts[i] = write_iri(iri)
        elif kind == "pname":
            iri = expand(tok, prefixes)
            iris[i] = iri
            parts[i] = write_iri(iri)
        elif kind == "string":
            parts[i] = write_string(unescape_string(tok))
        elif kind == "other":
            raise LexError(f"unexpected character {tok.text!r}", tok.offset)
        elif kind == "word" and tok.text.upper() == "PREFIX":
            if i + 2 >= len(toks) or toks[i + 1].kind != "pname" or not toks[i + 1].text.endswith(":"):
                raise LexError("PREFIX must be followed by a prefix name and an IRI", tok.offset)
            if toks[i + 2].kind != "iri":
                raise LexError("PREFIX must be followed by a prefix name and an IRI", toks[i + 2].offset)
            prefixes[toks[i + 1].text[:-1]] = resolve(base, unescape_iri(toks[i + 2]))
            declarations.append(i)
            declared = i + 2
        elif tok.text == "(":
            opens.append(i)
    for i in reversed(declarations):
        del toks[i : i + 3], parts[i : i + 3], iris[i : i + 3]
    if not toks:
        return Canonical((), "", (), ())
    # One space between tokens, except between a word and its "(": the engine takes ``CONCAT (`` and
    # ``COALESCE (`` for errors, and a "(" can never become part of a word.
    spaces = [1] * len(toks)  # the number of spaces before each token (the first's is not written)
    glued = [0]  # where the text breaks into runs of tokens written one space apart
    for i in opens:
        i -= 3 * bisect_left(declarations, i)  # its place among the tokens kept
        if i and toks[i - 1].kind == "word":
            spaces[i] = 0
            glued.append(i)
    glued.append(len(toks))
    text_out = "".join([" ".join(parts[start:end]) for start, end in pairwise(glued)])
    # A token starts where the tokens before it, and the spaces before each of them and before it, end.
    starts = tuple(accumulate(map(add, map(len, parts), islice(spaces, 1, None)), initial=0))
    return Canonical(tuple(toks), text_out, starts, tuple(iris))


def write(tok: Token) -> str:
    """The canonical form of a token that is not an IRI."""
    if tok.kind == "string":
        return write_string(unescape_string(tok))
    return tok.text


def expand(tok: Token, prefixes: dict[str, str]) -> str:
    """The IRI a prefixed name stands for (PN_LOCAL escapes decoded, ``%HH`` kept as written)."""
    prefix, _, local = tok.text.partition(":")
    if prefix not in prefixes:
        raise LexError(f"prefix {prefix}: is not declared", tok.offset)
    return prefixes[prefix] + (PN_LOCAL_ESC.sub(r"\1", local) if "\\" in local else local)
