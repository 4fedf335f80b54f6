"""Query safety: what an ad-hoc query may ask, decided on the very text the engine will evaluate.

pyoxigraph evaluates ``SERVICE`` (outbound HTTP) with no switch to turn it off, and crashes its process on deeply
nested groups, so a query is checked before the engine sees it. The check is made on the query's canonical text
(see ``lexer``), and that canonical text, not what the client sent, is what the worker evaluates: whatever the
guard did not see, the engine is never given.

The engine's parser has no word boundaries, so a word token is inspected for the forbidden keywords as a
substring (``SERVICESILENT``, ``FROMNAMED``), not as a whole; every other token (variables, IRIs, strings, numbers,
blank nodes) is one the engine cannot read as a keyword. The operating-system sandbox of the query workers is the
second line, for the day this one is wrong.

**Plain texts.** Most queries are ASCII text with no backslash, in which neither ``service`` nor ``from`` occurs
anywhere, in any case, not even inside a name, a string or a comment, with fewer brackets in all than the nesting
bound, and whose first word after ``BASE`` and ``PREFIX`` declarations is a query form. Whatever tokens any
parser makes of such a text, wherever it ends its comments, none can be ``SERVICE`` or ``FROM`` (a keyword is a
run of those letters, and without a backslash no escape can make one of other characters; without non-ASCII
characters no case folding can), and no nesting can pass the bound; so that text is handed to the engine as it is,
after one scan (:func:`plain`), with no lexing. The update keywords need no such test: the engine's query parser
reads no update, and a text that does not begin as a query takes the lexer, which says that it is an update. Any
other text takes the lexer and its canonical text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from idais_kg.serve.lexer import Canonical, LexError, canonical, position, resolve

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING"}
)
OPENERS, CLOSERS = "{([", "})]"
# In a plain text (see the module's docstring): either of these, anywhere, in any case, sends it to the lexer.
PLAIN_REFUSED = re.compile("service|from")
PLAIN_FORM = re.compile(
    r"[ \t\r\n]*(?:(?:base[ \t\r\n]*<[^<>]*>|prefix[ \t\r\n]*[a-z0-9_.-]*:[ \t\r\n]*<[^<>]*>)[ \t\r\n]*)*"
    r"(select|ask|construct|describe)(?![a-z0-9_])"
)
ENGINE_POSITION = re.compile(r"error at (\d+):(\d+)")


class QueryRefused(ValueError):
    """A query the endpoint will not evaluate; the message says why and where (line:column)."""


@dataclass
class Checked:
    """An accepted query: its form, the text to evaluate, and the graphs its dataset clauses name."""

    form: str
    text: str = ""
    original: str = ""
    canonical: Canonical | None = None
    from_graphs: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)

    @property
    def has_dataset(self) -> bool:
        """True if the query names its own dataset (``FROM``, ``FROM NAMED``), which the engine then reads."""
        return bool(self.from_graphs or self.from_named)

    def engine_message(self, message: str) -> str:
        """An engine error about the canonical text, its position turned back into the client's line:column.

        >>> c = check("SELECT ?s # é: not plain, lexed\\nWHERE { ?s ?p ?o . ? }", {""}, 1000, 10)
        >>> c.engine_message("error at 1:30: expected a variable")
        'error at 2:20: expected a variable'
        """
        match = ENGINE_POSITION.search(message)
        if match is None or self.canonical is None or match.group(1) != "1":
            return message
        column = int(match.group(2)) - 1
        starts = self.canonical.starts
        index = max((i for i, start in enumerate(starts) if start <= column), default=0)
        if not starts:
            return message
        where = position(self.original, self.canonical.tokens[index].offset)
        return message[: match.start()] + f"error at {where}" + message[match.end() :]


def check(text: str, hosted_graphs: set[str], max_bytes: int, max_depth: int, base: str = "") -> Checked:
    """Accept a read-only query over our own graphs, or raise QueryRefused saying why and where.

    >>> check("BASE <http://[x/> PREFIX ex: <y> ASK {} # é: not plain, lexed", set(), 1000, 10)
    Traceback (most recent call last):
    ...
    idais_kg.serve.guard.QueryRefused: an IRI of the query cannot be resolved: Invalid IPv6 URL
    """
    accepted = plain(text, max_bytes, max_depth)
    if accepted is not None:
        return accepted
    try:
        return checked_query(text, hosted_graphs, max_bytes, max_depth, base)
    except QueryRefused:
        raise
    except ValueError as exc:  # (urljoin's, on an IRI it cannot split: a BASE of ``<http://[x/>``)
        raise QueryRefused(f"an IRI of the query cannot be resolved: {exc}") from None


def plain(text: str, max_bytes: int, max_depth: int) -> Checked | None:
    """A plain text accepted as it is (see the module's docstring), or None: then the lexer decides.

    >>> plain("PREFIX ex: <http://x/> SELECT ?s { ?s ex:p 1 }", 1000, 10).form
    'SELECT'
    >>> plain("SELECT ?s FROM <g> { ?s ?p ?o }", 1000, 10), plain("ASK { ?s ?p ?serviced }", 1000, 10)
    (None, None)
    >>> plain("ASK { # from\\n ?s ?p ?o }", 1000, 10), plain("ASK { <\\\\u0041> ?p ?o }", 1000, 10)
    (None, None)
    """
    if len(text) > max_bytes or not text.isascii() or "\\" in text:
        return None
    lowered = text.lower()
    if PLAIN_REFUSED.search(lowered) or text.count("{") + text.count("(") + text.count("[") > max_depth:
        return None
    form = PLAIN_FORM.match(lowered)
    if form is None:
        return None
    return Checked(form=form.group(1).upper(), text=text, original=text)


def checked_query(text: str, hosted_graphs: set[str], max_bytes: int, max_depth: int, base: str) -> Checked:
    """:func:`check`, where any error but QueryRefused is a ValueError of the IRI resolution."""
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise QueryRefused(f"query too long: {size} bytes (the limit is {max_bytes})")
    try:
        canon = canonical(text, base)
    except LexError as exc:
        raise QueryRefused(f"error at {position(text, exc.offset)}: {exc}") from None
    toks = canon.tokens
    depth = 0
    for tok in [tok for tok in toks if tok[0] == "bracket"]:
        if tok.text in OPENERS:
            depth += 1
            if depth > max_depth:
                where = position(text, tok.offset)
                raise QueryRefused(
                    f"error at {where}: query nested too deeply (the limit is {max_depth} levels)"
                )
        else:
            depth -= 1
    checked = Checked(form=query_form(canon, text), text=canon.text, original=text, canonical=canon)
    # All the words at once first: most queries hold none of those looked for below (words hold no spaces, so no
    # match spans two of them), and then the walk over the tokens would find nothing.
    words = " ".join([tok[1] for tok in toks if tok[0] == "word"]).upper()
    if "SERVICE" not in words and "FROM" not in words and UPDATE_WORDS.isdisjoint(words.split()):
        return checked
    for i, tok in enumerate(toks):
        if tok.kind != "word":
            continue
        word = tok.text.upper()
        if not ("SERVICE" in word or "FROM" in word or word in UPDATE_WORDS):
            continue
        where = position(text, tok.offset)
        if "SERVICE" in word:
            raise QueryRefused(
                f"error at {where}: SERVICE is not allowed: this endpoint makes no outbound requests"
            )
        if word in UPDATE_WORDS:
            raise QueryRefused(f"error at {where}: {word} is an update: this endpoint is read-only")
        if "FROM" in word:
            if word != "FROM":
                raise QueryRefused(f"error at {where}: write FROM apart from the words around it")
            named = i + 1 < len(toks) and toks[i + 1].text.upper() == "NAMED"
            target = i + 2 if named else i + 1
            iri = graph_name(canon, target, base)
            if iri is None or iri not in hosted_graphs:
                shown = toks[target].text if target < len(toks) else "nothing"
                raise QueryRefused(
                    f"error at {where}: FROM {shown}: this endpoint only serves its own graphs"
                )
            (checked.from_named if named else checked.from_graphs).append(iri)
    return checked


def query_form(canon: Canonical, text: str) -> str:
    """The form of the query: the first word after the prologue, which must be exactly a form's keyword."""
    toks = canon.tokens
    i = 0
    while i + 1 < len(toks) and toks[i].kind == "word" and toks[i].text.upper() == "BASE":
        i += 2
    if i < len(toks) and toks[i].kind == "word" and toks[i].text.upper() in FORMS:
        return toks[i].text.upper()
    where = f"error at {position(text, toks[i].offset)}: " if i < len(toks) else ""
    raise QueryRefused(f"{where}not a query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")


def graph_name(canon: Canonical, index: int, base: str) -> str | None:
    """The absolute IRI that the token at ``index`` names (resolved against the service base and every
    ``BASE`` declared before it, as the engine resolves it), or None if that token is no IRI."""
    iri = canon.iris[index] if index < len(canon.tokens) else None
    if iri is None:
        return None
    toks = canon.tokens
    for i in range(index - 1):
        if toks[i].kind == "word" and toks[i].text.upper() == "BASE" and canon.iris[i + 1] is not None:
            base = resolve(base, canon.iris[i + 1] or "")
    return resolve(base, iri)


def check_graph_params(names: list[str], hosted_graphs: set[str]) -> None:
    """Refuse a protocol dataset (default-graph-uri / named-graph-uri) naming a graph we do not host."""
    for name in names:
        if name not in hosted_graphs:
            raise QueryRefused(f"graph <{name}> is not served here: this endpoint only serves its own graphs")
