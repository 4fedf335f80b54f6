"""Parse RDF files that come from outside the project (partner data) safely: the one door for untrusted input.

Every check that protects the process runs *before* the parser sees the data, on the raw bytes, in linear time:

- only regular files: a FIFO, a device or a socket is refused by ``stat`` before it is opened (never block);
- a size bound (bytes), checked by ``stat`` before reading, then read with a cap, so a growing file cannot exceed
  it;
- a nesting bound: brackets, braces and parentheses (and RDF-star ``<< >>``) are counted outside strings, IRIs
  and comments; XML elements are counted for RDF/XML. pyoxigraph 0.5.13 aborts the whole process (stack
  overflow, not an exception) on JSON-LD nested ~4,000 deep, and deep Turtle nesting costs stack too;
- a literal-length bound (string tokens, XML text and attribute values);
- RDF/XML: any DTD or entity declaration is refused (a few hundred bytes of nested entities cost rdflib 52 s
  here, and an external DTD would be fetched by some parsers);
- JSON-LD: only inline contexts, or our own context document by its IRI (:data:`CONTEXT_IRI`), which is mapped
  to the context the build writes (``namespaces.jsonld_context``). Any other context reference (remote, ``file:``,
  relative, ``@import``) is refused; nothing is ever fetched;
- ``owl:imports`` is data, never followed: pyoxigraph has no import mechanism (it only parses the bytes it is
  given), and this module never resolves any IRI it reads (``tests/test_inputs.py`` checks it with a listener);
- when a target ``graph`` is given, a quad format may only use the default graph or that graph.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pyoxigraph as ox

from idais_kg.errors import RdfSyntaxError, UnreadableFileError, UnsafeInputError, reason_of
from idais_kg.namespaces import JSONLD_CONTEXT_IRI
from idais_kg.store import FORMATS, format_of, parse_bytes

CONTEXT_IRI = JSONLD_CONTEXT_IRI


@dataclass(frozen=True)
class Limits:
    """Bounds on untrusted input; the defaults allow a partner file of a few million triples."""

    max_bytes: int = 1 << 30
    max_depth: int = 64
    max_literal: int = 1 << 20


# Tokens of the Turtle family (also N-Triples, N-Quads, TriG): long strings, short strings, IRIs and comments are
# skipped whole (their length is checked); only the bracket tokens change the depth.
_TURTLE_TOKENS = re.compile(
    rb'"""(?:[^"\\]|\\.|"(?!""))*"""'
    rb"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    rb'|"(?:[^"\\\n\r]|\\.)*"'
    rb"|'(?:[^'\\\n\r]|\\.)*'"
    rb"|<<|>>"
    rb"|<[^<>\"{}|^`\\\s]*>"
    rb"|#[^\n\r]*"
    rb"|[\[\](){}]",
    re.DOTALL,
)
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_XML_TOKENS = re.compile(
    rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!(?:DOCTYPE|ENTITY)|</[^>]*>|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>",
    re.DOTALL | re.IGNORECASE,
)
_XML_ATTRIBUTE = re.compile(rb"\"[^\"]*\"|'[^']*'")
_OPEN = frozenset(b"[({")
_CLOSE = frozenset(b"])}")
QUAD_FORMATS = frozenset({"nquads", "trig", "jsonld"})  # JSON-LD too: a document may name graphs


def parse_untrusted(path: Path, graph: str | None = None, *, limits: Limits = Limits()) -> list[ox.Quad]:
    """Parse a partner's RDF file (format by suffix) into quads of ``graph`` (or their own graphs), safely.

    Raises UnsafeInputError (with file and line) for input refused by a bound or a rule above, and RdfSyntaxError
    (with file and line) for input that does not parse. Nothing is fetched, whatever the file says.
    """
    fmt, data = checked_bytes(path, limits)
    quads = parse_bytes(path, data, fmt)
    return confine_graphs(path, quads, graph) if fmt in QUAD_FORMATS else retarget(quads, graph)


def load_untrusted(path: Path, store: ox.Store, graph: str, *, limits: Limits = Limits()) -> None:
    """Like :func:`parse_untrusted`, but straight into ``graph`` of a scratch ``store`` (no Python quad objects:
    ~3x faster on a million triples). Not atomic: on an error the store holds part of the file; use a store
    that is thrown away on errors (a check, or the staging copy of a change)."""
    fmt, data = checked_bytes(path, limits)
    load_checked(path, fmt, data, store, graph)


def load_checked(path: Path, fmt: str, data: bytes, store: ox.Store, graph: str) -> None:
    """Load bytes that passed :func:`safe_bytes` into ``graph`` of ``store`` (errors name ``path``)."""
    if fmt in QUAD_FORMATS:
        store.extend(confine_graphs(path, parse_bytes(path, data, fmt), graph))
        return
    try:
        store.bulk_load(data, format=FORMATS[fmt], to_graph=ox.NamedNode(graph))
    except SyntaxError as exc:
        raise RdfSyntaxError(path, exc.msg, exc.lineno) from None


def checked_bytes(path: Path, limits: Limits) -> tuple[str, bytes]:
    """The format and the bytes of a file that passed every check that runs before parsing."""
    fmt = format_of(path)
    return fmt, safe_bytes(path, fmt, read_bounded(path, limits.max_bytes), limits)


def safe_bytes(path: Path, fmt: str, data: bytes, limits: Limits) -> bytes:
    """Run every check that comes before parsing on ``data`` (read from ``path``, in ``fmt``); the bytes to parse
    (the same bytes, but for a JSON-LD reference to our context, which is inlined)."""
    if fmt == "rdfxml":
        scan_xml(path, data, limits)
    elif fmt == "jsonld":
        scan_brackets(path, data, _JSON_TOKENS, limits)
        data = confine_contexts(path, data)
    elif not flat_text(data, fmt, limits):
        scan_brackets(path, data, _TURTLE_TOKENS, limits)
    return data


# What may nest or run across lines in each syntax of the Turtle family: if none of it occurs anywhere in a file,
# its depth is zero and each literal lies within one line.
_NESTING = {
    "ntriples": (b"<<",),  # RDF 1.2 triple terms only
    "nquads": (b"<<",),
}
_NESTING_DEFAULT = (b"<<", b"[", b"(", b"{", b'"""', b"'''")  # Turtle, TriG, N3: also long strings


def flat_text(data: bytes, fmt: str, limits: Limits) -> bool:
    r"""A file of the Turtle family that is safe without the token scan: none of its syntax's nesting or
    multi-line tokens occur anywhere (not even inside strings), and no line is longer than the literal bound. Short
    strings cannot span lines (pyoxigraph refuses line breaks in them), so then no literal is longer than its line.
    Sufficient, not necessary: ``False`` sends the file to the exact scan. In C: ~0.3 s for a million N-Triples,
    against ~5 s for the token scan.

    >>> flat_text(b'<a> <b> "c" .\n<a> <b> <d> .\n', "ntriples", Limits())
    True
    >>> flat_text(b'<< <a> <b> <c> >> <b> <d> .\n', "ntriples", Limits())
    False
    >>> flat_text(b'<a> <b> "' + b"x" * 40 + b'" .\n', "ntriples", Limits(max_literal=16))
    False
    >>> flat_text(b'<a> <b> "(c)" .\n', "ntriples", Limits()), flat_text(b'<a> <b> "(c)" .\n', "turtle", Limits())
    (True, False)
    """
    if any(marker in data for marker in _NESTING.get(fmt, _NESTING_DEFAULT)):
        return False
    # Jump from line start to line start, a window of max_literal + 1 bytes at a time: no newline in a full window
    # means a longer line.
    window, start = limits.max_literal + 1, 0
    while len(data) - start >= window:
        last = data.rfind(b"\n", start, start + window)
        if last < 0:
            return False
        start = last + 1
    return True


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """Read a regular file of at most ``max_bytes``; refuse anything else before reading a byte of it.

    ``stat`` comes first: a FIFO, a device, a socket or a directory is refused without being opened (opening a
    FIFO blocks until a writer comes; a device may have effects), and a file larger than the bound is refused
    without being read. The file is then opened non-blocking and checked again on the open descriptor (the path
    may have been swapped in between), and read with a cap, in case it grows.
    """
    try:
        refuse_unreadable(path, os.stat(path), max_bytes)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            refuse_unreadable(path, os.fstat(handle.fileno()), max_bytes)
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableFileError(path, reason_of(exc)) from None
    if len(data) > max_bytes:
        raise UnsafeInputError(path, f"file larger than the limit of {max_bytes} bytes")
    return data


_FILE_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def refuse_unreadable(path: Path, info: os.stat_result, max_bytes: int) -> None:
    """Refuse what ``stat`` already shows: not a regular file, or larger than ``max_bytes``."""
    if not stat.S_ISREG(info.st_mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "a special file")
        raise UnsafeInputError(path, f"{kind}, not a regular file: give the path of a file")
    if info.st_size > max_bytes:
        raise UnsafeInputError(
            path, f"file larger than the limit of {max_bytes} bytes (it has {info.st_size} bytes)"
        )


IRI_SYNTAX = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]+")
_NOT_IN_AN_IRI = re.compile("[\x00-\x1f\x7f-\x9f\ufffd\ud800-\udfff]")


def iri_flaw(value: str) -> str | None:
    r"""Why ``value`` (an IRI given by a user: a parameter, a table cell) cannot be an IRI term, or None.

    Control characters (C0, DEL, C1), U+FFFD (what a decoder puts for bytes that were not UTF-8) and lone
    surrogates (what Python makes of such bytes in a command line) are named; pyoxigraph's own IRI parser has the
    last word, so that nothing it refuses gets past as an error of another kind.

    >>> iri_flaw("https://w3id.org/idais-kg/id/goal/x") is None
    True
    >>> iri_flaw("https://example.org/a\x00b")
    'control character U+0000'
    >>> iri_flaw("https://example.org/a\ufffdb")
    'U+FFFD (a replacement for bytes that were not UTF-8)'
    >>> iri_flaw("goal x")
    'not an IRI or known prefixed name'
    """
    bad = _NOT_IN_AN_IRI.search(value)
    if bad is not None:
        char = bad.group()
        if char == "\ufffd":
            return "U+FFFD (a replacement for bytes that were not UTF-8)"
        if "\ud800" <= char <= "\udfff":
            return "bytes that are not UTF-8"
        return f"control character U+{ord(char):04X}"
    if not IRI_SYNTAX.fullmatch(value):
        return "not an IRI or known prefixed name"
    try:
        ox.NamedNode(value)
    except ValueError as exc:
        return str(exc)
    return None


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line number of a byte offset.

    >>> line_of(b"a\\nb\\nc", 4)
    3
    """
    return data.count(b"\n", 0, offset) + 1


def scan_brackets(path: Path, data: bytes, tokens: re.Pattern[bytes], limits: Limits) -> None:
    """Refuse nesting deeper than ``limits.max_depth`` and string tokens longer than ``limits.max_literal``."""
    depth = 0
    for match in tokens.finditer(data):
        start, end = match.span()
        if end - start == 1:
            char = data[start]
            if char in _OPEN:
                depth += 1
                if depth > limits.max_depth:
                    raise UnsafeInputError(
                        path, f"nesting deeper than {limits.max_depth} levels", line_of(data, start)
                    )
            elif char in _CLOSE:
                depth -= 1
        elif match.group() == b"<<":
            depth += 1
            if depth > limits.max_depth:
                raise UnsafeInputError(
                    path, f"nesting deeper than {limits.max_depth} levels", line_of(data, start)
                )
        elif match.group() == b">>":
            depth -= 1
        elif end - start > limits.max_literal and data[start] in b"\"'":
            raise UnsafeInputError(
                path, f"literal longer than {limits.max_literal} bytes", line_of(data, start)
            )


def scan_xml(path: Path, data: bytes, limits: Limits) -> None:
    """Refuse DTDs and entity declarations, element nesting beyond the bound and over-long text or attributes."""
    depth = 0
    last_end = 0
    for match in _XML_TOKENS.finditer(data):
        start, end = match.span()
        if start - last_end > limits.max_literal:
            raise UnsafeInputError(
                path, f"text longer than {limits.max_literal} bytes", line_of(data, last_end)
            )
        last_end = end
        token = match.group()
        if token[:2] == b"<!" and token[2:3] != b"-" and token[2:3] != b"[":
            raise UnsafeInputError(
                path, "RDF/XML with a DTD or entity declarations is refused", line_of(data, start)
            )
        if token[:4] == b"<!--" or token[:2] == b"<?":
            continue
        if token[:9] == b"<![CDATA[":
            if end - start > limits.max_literal:
                raise UnsafeInputError(
                    path, f"text longer than {limits.max_literal} bytes", line_of(data, start)
                )
            continue
        if token[:2] == b"</":
            depth -= 1
            continue
        if end - start > limits.max_literal and any(
            len(a) > limits.max_literal for a in _XML_ATTRIBUTE.findall(token)
        ):
            raise UnsafeInputError(
                path, f"attribute longer than {limits.max_literal} bytes", line_of(data, start)
            )
        if not token.endswith(b"/>"):
            depth += 1
            if depth > limits.max_depth:
                raise UnsafeInputError(
                    path, f"nesting deeper than {limits.max_depth} levels", line_of(data, start)
                )
    if len(data) - last_end > limits.max_literal:
        raise UnsafeInputError(path, f"text longer than {limits.max_literal} bytes", line_of(data, last_end))


def confine_contexts(path: Path, data: bytes) -> bytes:
    """Replace our context IRI by the inline context; refuse every other non-inline context.

    The bytes are returned unchanged (so that parser errors keep their line numbers) unless a context was mapped.
    """
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise RdfSyntaxError(path, exc.msg, exc.lineno) from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise RdfSyntaxError(path, str(exc)) from None
    mapped = False
    for holder in _context_holders(document):
        value = holder["@context"]
        items = value if isinstance(value, list) else [value]
        out: list[Any] = []
        for item in items:
            if item == CONTEXT_IRI:
                out.append(_our_context())
                mapped = True
            elif isinstance(item, str):
                raise UnsafeInputError(
                    path, f"JSON-LD context {item!r} is not inline; only {CONTEXT_IRI} may be referenced"
                )
            elif isinstance(item, dict) and "@import" in item:
                raise UnsafeInputError(path, "JSON-LD @import of a context is refused; inline it")
            else:
                out.append(item)
        holder["@context"] = out if isinstance(value, list) else out[0]
    return json.dumps(document).encode() if mapped else data


def _context_holders(document: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object of the document that has an ``@context`` key (iteratively: no recursion on input)."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "@context" in node:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _our_context() -> dict[str, object]:
    from idais_kg.namespaces import jsonld_context

    return cast(dict[str, object], jsonld_context()["@context"])


def retarget(quads: list[ox.Quad], graph: str | None) -> list[ox.Quad]:
    """The quads of a triple format, all moved into ``graph`` (unchanged when no graph is given)."""
    if graph is None:
        return quads
    target = ox.NamedNode(graph)
    return [ox.Quad(q.subject, q.predicate, q.object, target) for q in quads]


def confine_graphs(path: Path, quads: list[ox.Quad], graph: str | None) -> list[ox.Quad]:
    """Put default-graph quads into ``graph``; refuse quads that name any other graph."""
    if graph is None:
        return quads
    target = ox.NamedNode(graph)
    out = []
    for q in quads:
        if isinstance(q.graph_name, ox.DefaultGraph) or q.graph_name == target:
            out.append(ox.Quad(q.subject, q.predicate, q.object, target))
        else:
            raise UnsafeInputError(
                path, f"quad in graph {q.graph_name} but this file may only write <{graph}>"
            )
    return out
