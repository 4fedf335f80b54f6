"""Query safety: what an ad-hoc query may ask, checked on its text before the engine ever sees it.

pyoxigraph evaluates ``SERVICE`` (outbound HTTP) with no switch to turn it off, and crashes the whole process on
deeply nested groups, so these checks run on a light tokenisation of the query, never on a parse by the engine.
The tokeniser knows strings, IRIs, comments, variables and prefixed names, so a keyword inside any of them (a
literal ``"SERVICE"``, a variable ``?load``, ``ex:insert``) is not mistaken for the keyword.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING"}
)
OPENERS, CLOSERS = "{([", "})]"

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
      |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7]+)
  | (?P<bnode>_:[\w.\-]+)
  | (?P<pname>(?:[^\W\d_][\w.\-]*)?:(?:[\w.:%\-]|\\.)*)
  | (?P<word>[^\W\d][\w]*)
  | (?P<bracket>[{}()\[\]])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class QueryRefused(ValueError):
    """A query the endpoint will not evaluate; the message says why and where (line:column)."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    offset: int


@dataclass
class Checked:
    """What the guard learnt about an accepted query."""

    form: str
    from_graphs: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)

    @property
    def has_dataset(self) -> bool:
        return bool(self.from_graphs or self.from_named)


def tokens(text: str) -> list[Token]:
    """The significant tokens of a SPARQL text (no spaces or comments).

    >>> [t.text for t in tokens('SELECT ?service { ?s ex:load "SERVICE" } # DROP')]
    ['SELECT', '?service', '{', '?s', 'ex:load', '"SERVICE"', '}']
    """
    out = []
    for match in TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            out.append(Token(kind, match.group(), match.start()))
    return out


def position(text: str, offset: int) -> str:
    """``line:column`` (both from 1) of a character offset.

    >>> position("ASK {\\n  }", 8)
    '2:3'
    """
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{column}"


def check(text: str, hosted_graphs: set[str], max_bytes: int, max_depth: int) -> Checked:
    """Accept a read-only query over our own graphs, or raise QueryRefused saying why and where."""
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise QueryRefused(f"query too long: {size} bytes (the limit is {max_bytes})")
    toks = tokens(text)
    depth = 0
    for tok in toks:
        if tok.kind != "bracket":
            continue
        if tok.text in OPENERS:
            depth += 1
            if depth > max_depth:
                where = position(text, tok.offset)
                raise QueryRefused(
                    f"error at {where}: query nested too deeply (the limit is {max_depth} levels)"
                )
        else:
            depth -= 1
    form = ""
    prefixes: dict[str, str] = {}
    base = ""
    checked = Checked(form="")
    for i, tok in enumerate(toks):
        if tok.kind != "word":
            continue
        word = tok.text.upper()
        where = position(text, tok.offset)
        if word == "SERVICE":
            raise QueryRefused(
                f"error at {where}: SERVICE is not allowed: this endpoint makes no outbound requests"
            )
        if word in UPDATE_WORDS:
            raise QueryRefused(f"error at {where}: {word} is an update: this endpoint is read-only")
        if word in FORMS and not form:
            form = word
        elif word == "PREFIX" and i + 2 < len(toks) and toks[i + 1].kind == "pname":
            prefixes[toks[i + 1].text[:-1]] = toks[i + 2].text[1:-1]
        elif word == "BASE" and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            base = toks[i + 1].text[1:-1]
        elif word == "FROM":
            named = i + 1 < len(toks) and toks[i + 1].text.upper() == "NAMED"
            target = (
                toks[i + 2] if named and i + 2 < len(toks) else toks[i + 1] if i + 1 < len(toks) else None
            )
            iri = resolve(target, prefixes, base) if target else None
            if iri is None or iri not in hosted_graphs:
                shown = target.text if target else "nothing"
                raise QueryRefused(
                    f"error at {where}: FROM {shown}: this endpoint only serves its own graphs"
                )
            (checked.from_named if named else checked.from_graphs).append(iri)
    if not form:
        raise QueryRefused("not a query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    checked.form = form
    return checked


def resolve(tok: Token, prefixes: dict[str, str], base: str) -> str | None:
    """The absolute IRI a FROM clause names (an IRI reference or a prefixed name), if it can be known."""
    if tok.kind == "iri":
        iri = tok.text[1:-1]
        return urljoin(base, iri) if base and ":" not in iri else iri
    if tok.kind == "pname":
        prefix, _, local = tok.text.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else None
    return None


def check_graph_params(names: list[str], hosted_graphs: set[str]) -> None:
    """Refuse a protocol dataset (default-graph-uri / named-graph-uri) naming a graph we do not host."""
    for name in names:
        if name not in hosted_graphs:
            raise QueryRefused(f"graph <{name}> is not served here: this endpoint only serves its own graphs")
