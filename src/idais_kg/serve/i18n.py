"""The interface's two languages, zh and en: which one a request gets, and the strings of each.

The language is chosen once per request, before any route or cache sees it, by :class:`Language` (ASGI
middleware): ``?lang=zh`` or ``?lang=en`` chooses it and sets a cookie (``SameSite=Lax``, ``Path=/``), so that the
choice sticks without script; else the cookie decides; else ``Accept-Language`` (by its q-values); else English.
The middleware takes ``lang`` out of the query string (a route never sees it, so a saved query does not reject it
as an unknown parameter), keeps the choice in the scope (:data:`SCOPE_KEY`, on which the front cache and the
response cache key) and in a context variable (:func:`current`, which the pages read), and adds
``Vary: Accept-Language, Cookie`` to every HTML answer.

The strings are in one catalogue file, ``messages.toml`` (one table per message, an ``en`` and a ``zh`` string
each); the templates ask for them by key through :func:`text`.
"""

from __future__ import annotations

import contextvars
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from markupsafe import Markup, escape
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LANGUAGES = ("en", "zh")
DEFAULT = "en"
COOKIE = "idais_lang"
PARAM = "lang"
SCOPE_KEY = "idais_kg.lang"
CATALOGUE = Path(__file__).parent / "messages.toml"
COOKIE_AGE = 365 * 24 * 3600
VARY = ("Accept-Language", "Cookie")
PROTOCOL_PATHS = frozenset(
    {"/sparql"}
)  # the SPARQL protocol's parameters are its own: ``lang`` is left to it

_current: contextvars.ContextVar[str] = contextvars.ContextVar("idais_kg_lang", default=DEFAULT)
_here: contextvars.ContextVar[tuple[str, bytes]] = contextvars.ContextVar("idais_kg_here", default=("/", b""))
RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+)\s*)?$")


def current() -> str:
    """The interface language of the request being answered (``en`` outside one)."""
    return _current.get()


def switch(lang: str) -> str:
    """The link that shows the page being rendered in ``lang`` (its path and parameters, and ``lang``)."""
    path, query = _here.get()
    return switch_href(path, query, lang)


def other(lang: str) -> str:
    """The other of the two languages.

    >>> other("zh"), other("en")
    ('en', 'zh')
    """
    return "en" if lang == "zh" else "zh"


def from_accept_language(header: str | None) -> str | None:
    """The language of ours an ``Accept-Language`` header prefers most (by q-value, the first listed on a tie), or
    None if it accepts neither; ``*`` and q=0 choose nothing.

    >>> from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), from_accept_language("en-GB;q=0.4, zh-TW;q=0.7")
    ('zh', 'zh')
    >>> from_accept_language("fr, en;q=0.5, zh;q=0.6"), from_accept_language("zh;q=0, en;q=0.1")
    ('zh', 'en')
    >>> from_accept_language("fr, *;q=0.5"), from_accept_language("zh;q=abc"), from_accept_language(None)
    (None, None, None)
    """
    best: tuple[float, int, str] | None = None
    for n, item in enumerate((header or "").split(",")):
        match = RANGE.match(item)
        if match is None:
            continue
        tag, q = match.group(1).lower(), match.group(2)
        try:
            weight = float(q) if q is not None else 1.0
        except ValueError:
            continue
        primary = tag.split("-", 1)[0]
        if primary in LANGUAGES and weight > 0 and (best is None or (-weight, n) < (-best[0], best[1])):
            best = (weight, n, primary)
    return best[2] if best else None


def choose(param: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The request's language: the query parameter, else the cookie, else Accept-Language, else English.

    >>> choose("zh", "en", "en"), choose(None, "zh", "en"), choose(None, None, "zh"), choose("xx", "yy", None)
    ('zh', 'zh', 'zh', 'en')
    """
    for given in (param, cookie):
        if given in LANGUAGES:
            return given
    return from_accept_language(accept_language) or DEFAULT


def header(scope: Scope, name: bytes) -> str | None:
    """One request header of an ASGI scope, as text (repeated headers joined by commas), or None."""
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == name]
    return ",".join(values) if values else None


def split_query(query: bytes) -> tuple[str | None, bytes]:
    """The ``lang`` parameter of a raw query string (if given and one of ours), and the query string without any
    ``lang`` parameter (the other pairs byte for byte, in their order).

    >>> split_query(b"lang=zh"), split_query(b"goal=a%20b&lang=en&n=1"), split_query(b"lang=fr&x=1")
    (('zh', b''), ('en', b'goal=a%20b&n=1'), (None, b'x=1'))
    """
    kept, chosen = [], None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == PARAM.encode():
            text = value.decode("latin-1")
            chosen = text if text in LANGUAGES else chosen
        elif pair:
            kept.append(pair)
    return chosen, b"&".join(kept)


def switch_href(path: str, query: bytes, lang: str) -> str:
    """The link that switches a page to ``lang``: the same path and parameters, with ``lang`` added.

    >>> switch_href("/id/goal/x", b"", "zh"), switch_href("/api/queries/q", b"goal=a%26b", "en")
    ('/id/goal/x?lang=zh', '/api/queries/q?goal=a%26b&lang=en')
    """
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return quote(path, safe="/:@!$'()*+,;=-._~") + "?" + urlencode([*pairs, (PARAM, lang)])


class Language:
    """ASGI middleware: choose the request's language, take ``lang`` out of the query string, set the cookie when
    ``lang`` was given, and say on every HTML answer that it varies by language."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request in its language."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        param, query = None, scope.get("query_string", b"")
        if scope["method"] in ("GET", "HEAD") and scope["path"] not in PROTOCOL_PATHS:
            param, query = split_query(query)
        cookies = cookie_parser(header(scope, b"cookie") or "")
        lang = choose(param, cookies.get(COOKIE), header(scope, b"accept-language"))
        scope = {**scope, "query_string": query, SCOPE_KEY: lang}
        token, here = _current.set(lang), _here.set((scope["path"], query))

        async def with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if param is not None:
                    cookie = f"{COOKIE}={param}; Path=/; Max-Age={COOKIE_AGE}; SameSite=Lax"
                    headers.append((b"set-cookie", cookie.encode()))
                if any(k == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    headers = vary_on_language(headers)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, with_language)
        finally:
            _current.reset(token)
            _here.reset(here)


def vary_on_language(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``Accept-Language`` and ``Cookie`` added to their ``Vary`` (one header, no repeats).

    >>> vary_on_language([(b"vary", b"Accept"), (b"etag", b'"x"')])
    [(b'etag', b'"x"'), (b'vary', b'Accept, Accept-Language, Cookie')]
    """
    names: list[str] = []
    rest = []
    for key, value in headers:
        if key == b"vary":
            names += [n.strip() for n in value.decode("latin-1").split(",") if n.strip()]
        else:
            rest.append((key, value))
    for name in VARY:
        if name.lower() not in (n.lower() for n in names):
            names.append(name)
    return [*rest, (b"vary", ", ".join(names).encode("latin-1"))]


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """The messages by key (``nav.overview``), each with its ``en`` and ``zh`` string."""
    found: dict[str, dict[str, str]] = {}

    def walk(prefix: str, table: dict[str, Any]) -> None:
        for key, value in table.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and "en" in value:
                found[name] = {lang: str(value[lang]) for lang in LANGUAGES if lang in value}
            elif isinstance(value, dict):
                walk(name, value)

    walk("", tomllib.loads(CATALOGUE.read_text(encoding="utf-8")))
    return found


def text(key: str, lang: str | None = None, **values: Any) -> Markup:
    """The message ``key`` in ``lang`` (default: the request's), with ``{name}`` placeholders filled; the message
    and each value are escaped, unless a value is already markup (a link, a ``<code>``)."""
    entry = catalogue()[key]
    return escape(entry[lang or current()]).format(**values)


def code(value: object) -> Markup:
    """A value set in ``<code>``, to fill a placeholder of a message."""
    return Markup("<code>{}</code>").format(value)


def known(key: str) -> bool:
    """Whether the catalogue has the message ``key``."""
    return key in catalogue()


def link_to(href: str, label: object) -> Markup:
    """A link to a path of ours (``href`` is the code's, never the data's), to fill a placeholder of a message."""
    return Markup('<a href="{}">{}</a>').format(href, label)
