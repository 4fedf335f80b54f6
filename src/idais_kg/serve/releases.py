"""The release pages: ``/releases/`` (every release of the data) and ``/releases/{version}`` (one, with its changes).

A release's changes are the diff from the release before it (``idais_kg.dataset.diff``, the same lists as its
CHANGELOG section); ``/releases/unreleased`` compares the latest release with the dataset being served. The
sources of a release are read through git (``git archive`` into a temporary folder that is removed at once: the
server writes nothing that outlives the request), so where there is no git history (an installed wheel) the page
says so and shows the release without its change list. A change list is computed once per server (it does not
change: releases are immutable) and only when a page asks for it.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from idais_kg.dataset.diff import Diff, Side, content_quads, diff_sides, resolve
from idais_kg.dataset.diff.render import lines_of, summary
from idais_kg.dataset.releases import Release, ReleaseError, built_version, releases
from idais_kg.serve.cache import Cached
from idais_kg.serve.negotiation import HTML
from idais_kg.serve.responses import cached, error, service_of

if TYPE_CHECKING:
    from idais_kg.dataset.assemble import KnowledgeGraph

UNRELEASED = "unreleased"
ROWS_SHOWN = 500  # per kind of change; the CLI (`idais-kg diff`) lists them all


@dataclass(frozen=True)
class Changes:
    """What a release page shows of a diff: its summary and its sections, or why there is none."""

    summary: str
    sections: list[tuple[str, list[list[str]], list[str], int]]  # heading, rows shown, columns, all rows
    reason: str | None = None


_LOCK = threading.Lock()
_CHANGES: dict[tuple[str, str], Changes] = {}


def shown(d: Diff) -> Changes:
    """The sections of a diff, each cut at ROWS_SHOWN rows."""
    sections = [(h, rows[:ROWS_SHOWN], cols, len(rows)) for h, rows, cols in lines_of(d) if rows]
    return Changes(summary(d), sections)


def changes_of(kg: KnowledgeGraph, version: str) -> Changes:
    """The changes of release ``version`` (from the release before it) or of the unreleased data being served."""
    key = (str(kg.layout.root), version)
    with _LOCK:
        if key in _CHANGES and version != UNRELEASED:
            return _CHANGES[key]
    known = releases(kg.layout)
    try:
        if version == UNRELEASED:
            served = Side("served", "the data served here", content_quads(tuple(kg.store.quads())))
            result = shown(diff_sides(resolve(known[-1].version, kg.layout), served))
        else:
            release = next(r for r in known if r.version == version)
            previous = next((r for r in known if r.iri == release.previous), None)
            if previous is None:
                return Changes("The first release: there is no earlier release to compare it with.", [])
            result = shown(diff_sides(resolve(previous.version, kg.layout), resolve(version, kg.layout)))
    except ReleaseError as exc:
        return Changes("", [], reason=f"The change list needs the git history of idais-kg: {exc}.")
    with _LOCK:
        _CHANGES[key] = result
    return result


def render(kg: KnowledgeGraph, pages: object, version: str | None) -> bytes:
    """The page of one release (or of the unreleased changes), or with ``version`` None the list of releases."""
    known = releases(kg.layout)
    built = built_version(kg.layout)
    release: Release | None = next((r for r in known if r.version == version), None)
    changes = changes_of(kg, version) if version else None
    previous = next((r for r in known if release and r.iri == release.previous), None)
    return pages.page(  # type: ignore[attr-defined, no-any-return]
        "release.html",
        releases=list(reversed(known)),
        version=version,
        release=release,
        previous=previous,
        built=built,
        unreleased=not known or built.split(" ")[0] != known[-1].version,
        changes=changes,
    )


async def index(request: Request) -> Response:
    """GET /releases/: every release, newest first, and which one is served."""
    service = service_of(request)

    async def produce() -> Cached:
        body = await asyncio.to_thread(render, service.kg, service.pages, None)
        return Cached(body, HTML + "; charset=utf-8")

    return await cached(request, "page|releases", produce)


async def page(request: Request) -> Response:
    """GET /releases/{version}: one release and its changes; ``unreleased`` for the changes since the latest."""
    service = service_of(request)
    version = request.path_params["version"]
    known = releases(service.kg.layout)
    if version != UNRELEASED and all(r.version != version for r in known):
        names = ", ".join(r.version for r in known) or "none"
        return error(request, 404, f"no release {version} (releases: {names}; or {UNRELEASED})")
    if version == UNRELEASED and not known:
        return error(request, 404, "no release is recorded, so nothing is unreleased")

    async def produce() -> Cached:
        body = await asyncio.to_thread(render, service.kg, service.pages, version)
        return Cached(body, HTML + "; charset=utf-8")

    return await cached(request, f"page|release|{version}", produce)
