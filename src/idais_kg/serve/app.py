"""The app factory: a Starlette application over one KnowledgeGraph and one Settings value.

Nothing is read from the environment or the working directory: the caller hands over the dataset and settings.
Every route is read-only; the routes that answer ad-hoc SPARQL go through the worker pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.serve import api, documents, i18n, linked_data, ontology_diagram, protocol, releases
from idais_kg.serve.cache import Cached, ResponseCache, build_tag
from idais_kg.serve.front import FrontCache, ReplayStore
from idais_kg.serve.inproc import InProcess
from idais_kg.serve.linked_data import Describer, Dumps
from idais_kg.serve.negotiation import HTML
from idais_kg.serve.pages import STATIC, Pages
from idais_kg.serve.pool import WorkerPool
from idais_kg.serve.reload import StoreWatcher
from idais_kg.serve.responses import PAGE_POLICY, SecurityHeaders, cached, error, service_of
from idais_kg.serve.settings import Settings

EXPOSED_HEADERS = ["ETag", "X-Row-Cap", "X-Query-Deadline", "Retry-After", "X-Ignored-Parameters"]
EXPOSED_HEADERS += ["X-Format-Fallback", "Link"]


@dataclass
class Service:
    """Everything the routes share: the dataset, its build tag, the worker pool, the cache and the pages."""

    kg: KnowledgeGraph
    settings: Settings
    build: str
    hosted_graphs: set[str]
    describer: Describer
    pages: Pages
    pool: WorkerPool | InProcess  # query processes fed over pipes, or (pre-forked) this process itself
    cache: ResponseCache
    front: ReplayStore
    dumps: Dumps
    openapi: dict[str, Any]

    @classmethod
    def create(
        cls,
        kg: KnowledgeGraph,
        settings: Settings,
        front: ReplayStore | None = None,
        pool: InProcess | None = None,
    ) -> Service:
        """The service of one dataset; ``front``, the replay store the front cache middleware already holds;
        ``pool``, the in-process query runner of a pre-forked worker (else a pool of query processes)."""
        nquads = kg.store.serialize("nquads")
        describer = Describer(kg.store)
        return cls(
            kg=kg,
            settings=settings,
            build=build_tag(nquads),
            hosted_graphs=set(kg.store.graphs()),
            describer=describer,
            pages=Pages(kg, describer, settings),
            pool=pool or WorkerPool.from_settings(nquads, settings),
            cache=ResponseCache(settings.cache_entries, settings.cache_bytes),
            front=front or ReplayStore(settings.cache_entries, settings.cache_bytes),
            dumps=Dumps(settings.dumps_dir or kg.layout.build_dir / "dumps", kg.layout.root),
            openapi=api.openapi_document(kg.queries.of_kind("question")),
        )


async def home(request: Request) -> Response:
    """GET /: the home page, the goals by policy area with their progress, and the published questions;
    ``?concept=IRI`` keeps the goals mapped to that outside concept (the goal or one of its policies)."""
    pages = service_of(request).pages
    concept = request.query_params.get("concept") or None
    if concept is not None and concept not in await asyncio.to_thread(pages.concepts):
        return error(request, 404, f"no goal or potential policy of the guide is mapped to <{concept}>")

    async def produce() -> Cached:
        return Cached(await asyncio.to_thread(pages.home, concept), HTML + "; charset=utf-8")

    return await cached(request, "page|home", produce)


async def query_page(request: Request) -> Response:
    """The query page; ``?editor=plain`` gives the textarea editor even where YASGUI is bundled."""
    pages = service_of(request).pages
    plain = request.query_params.get("editor") == "plain"

    async def produce() -> Cached:
        return Cached(pages.query_page(plain), HTML + "; charset=utf-8")

    return await cached(request, f"page|query|{'plain' if plain else 'default'}", produce)


async def health(request: Request) -> Response:
    """GET /healthz: ``ok``, the build tag and the worker pool's figures, for a monitor or a load balancer."""
    service = service_of(request)
    return JSONResponse({"status": "ok", "build": service.build, **service.pool.stats()})


async def internal_error(request: Request, exc: Exception) -> Response:
    """A defect of ours: a plain 500 that says nothing of it (the log has the traceback), with the headers that
    every response carries (Starlette answers it outside the middleware that would add them)."""
    headers = {"Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff"}
    return Response("500 Internal Server Error\n", 500, media_type="text/plain", headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """A 404, 405 or other HTTP error of a route, as our error response (HTML, JSON or text)."""
    if not isinstance(exc, HTTPException):  # (registered for HTTPException only)
        raise TypeError(f"http_error handles HTTPException, not {type(exc).__name__}")
    messages = {404: f"nothing at {request.url.path}", 405: f"{request.method} is not allowed here"}
    return error(request, exc.status_code, messages.get(exc.status_code, exc.detail), dict(exc.headers or {}))


def create_app(
    kg: KnowledgeGraph,
    settings: Settings | None = None,
    watch: Path | None = None,
    pool: InProcess | None = None,
) -> Starlette:
    """The server for ``kg``; its query workers start with the app (lifespan) and stop with it. With ``watch`` (the
    partner store ``kg`` was loaded from), a new version of that store is served as soon as it appears. With
    ``pool`` (the pre-forked server), ad-hoc queries run in the serving process (see ``prefork``)."""
    settings = settings or Settings()
    service = Service.create(kg, settings, pool=pool)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.pool.start()
        watcher = StoreWatcher(app, watch, reload_service) if watch is not None else None
        if watcher is not None:
            watcher.start()
        try:
            yield
        finally:
            if watcher is not None:
                await watcher.stop()
            await service_of_app(app).pool.close()

    app = Starlette(
        routes=routes(),
        middleware=middleware(service.front),
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )
    app.state.service = service
    return app


def routes() -> list[BaseRoute]:
    """Every route of the server (read-only: GET and HEAD, and POST for the SPARQL protocol), most specific first."""
    read = ["GET", "HEAD"]
    table: list[BaseRoute] = [
        Route("/", home, methods=read),
        Route("/sparql", protocol.sparql, methods=["GET", "HEAD", "POST"]),
        Route("/query", query_page, methods=read),
        Route("/id/{path:path}.{suffix:rdf}", documents.resource_as, methods=read),
        Route("/id/graph/{name:path}", documents.graph, methods=read),
        Route("/id/", documents.namespace, methods=read),
        Route("/id/{prefix:path}/", documents.namespace, methods=read),
        Route("/id/{path:path}", linked_data.resource, methods=read),
        Route("/ontology", linked_data.ontology, methods=read),
        Route("/ontology/diagram.svg", ontology_diagram.diagram, methods=read),
        Route("/ontology/{version}", documents.ontology_version, methods=read),
        Route("/dataset", documents.dataset, methods=read),
        Route("/source/{name}", documents.source_text, methods=read),
        Route("/context.jsonld", documents.context, methods=read),
        Route("/.well-known/void", documents.well_known_void, methods=read),
        Route("/dumps/", linked_data.dump_index, methods=read),
        Route("/dumps/{name}", linked_data.dump, methods=read),
        Route("/api/queries", api.list_queries, methods=read),
        Route("/api/queries/{name}", api.run_query, methods=read),
        Route("/api/openapi.json", api.openapi, methods=read),
        Route("/api/docs", api.docs, methods=read),
        Route("/healthz", health, methods=read),
        Route("/releases/", releases.index, methods=read),
        Route("/releases/{version}", releases.page, methods=read),
    ]
    if STATIC.is_dir():
        table.append(Mount("/static", app=StaticFiles(directory=STATIC), name="static"))
    return table


def middleware(front: ReplayStore) -> list[Middleware]:
    """The middleware, outermost first; ``front`` is the replay store of the front cache (kept across reloads)."""
    return [
        Middleware(SecurityHeaders),  # outermost: on every response, the front cache's replays included
        Middleware(i18n.Language),  # the reader's language, before any cache keys on it
        Middleware(documents.AlternateLinks),  # Link headers to each format of a resource, replays included
        Middleware(FrontCache, store=front),  # outside CORS: it replays the CORS headers too
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["Accept", "Content-Type", "If-None-Match"],
            expose_headers=EXPOSED_HEADERS,
            max_age=3600,
        ),
    ]


def service_of_app(app: Starlette) -> Service:
    """The service the app serves now (a reload replaces it, see :func:`reload_service`)."""
    current: Service = app.state.service
    return current


async def reload_service(app: Starlette, kg: KnowledgeGraph) -> None:
    """Serve ``kg`` from now on: a new service (new ETags, workers that hold the new dataset) takes the old
    one's place once its workers run; the old one's workers go after the deadline (requests under way finish)."""
    old = service_of_app(app)
    new = await asyncio.to_thread(Service.create, kg, old.settings, old.front)
    await new.pool.start()
    app.state.service = new
    old.front.clear()

    async def retire() -> None:
        await asyncio.sleep(old.settings.deadline + 1)
        await old.pool.close()

    task = asyncio.get_running_loop().create_task(retire())
    RETIRING.add(task)
    task.add_done_callback(RETIRING.discard)


RETIRING: set[asyncio.Task[None]] = set()
