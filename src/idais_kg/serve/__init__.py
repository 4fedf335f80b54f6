"""``idais-kg serve``: the dataset over HTTP (SPARQL protocol, linked data, pages, the saved-query API).

Build the app with :func:`create_app` (a KnowledgeGraph and Settings in, a Starlette app out), or run it with
:func:`run`, which loads the dataset and serves it with uvicorn.
"""

from __future__ import annotations

from idais_kg.serve.app import create_app
from idais_kg.serve.settings import Settings

__all__ = ["Settings", "create_app", "run"]


def run(settings: Settings) -> None:
    """Load the dataset and serve it until interrupted (loopback by default: see Settings.host)."""
    import uvicorn

    from idais_kg.partners import serving_graph

    app = create_app(serving_graph(settings.store_dir), settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=settings.access_log,
        server_header=False,
        proxy_headers=False,
    )
