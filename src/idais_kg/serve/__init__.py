"""``idais-kg serve``: the dataset over HTTP (SPARQL protocol, linked data, pages, the saved-query API).

Build the app with :func:`create_app` (a KnowledgeGraph and Settings in, a Starlette app out), or run it with
:func:`run`, which loads the dataset and serves it with uvicorn.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from idais_kg.errors import ServeError, reason_of
from idais_kg.serve.app import create_app
from idais_kg.serve.settings import Settings

__all__ = ["Settings", "create_app", "listen", "run"]

_log = logging.getLogger("uvicorn.error")  # where uvicorn says what it does


def run(settings: Settings) -> None:
    """Load the dataset and serve it until interrupted (loopback by default: see Settings.host).

    What can be refused is refused first, each as one error naming what was given (ServeError, PartnerError): a
    port out of range, a ``store_dir`` that holds no store, an address that cannot be listened on (taken, not
    this machine's). The socket is bound here, before the dataset is loaded, and handed to uvicorn, so a taken
    port is found in a moment, not after the workers started, and nobody can take it in between.
    """
    import uvicorn

    from idais_kg.dataset.dumps import build
    from idais_kg.dataset.serving import default_store_dir, require_store, serving_graph
    from idais_kg.dataset.versioned import current
    from idais_kg.serve.linked_data import Dumps

    if settings.store_dir is not None:
        require_store(settings.store_dir)
    sock = listen(settings.host, settings.port)
    try:
        kg = serving_graph(settings.store_dir)
        dumps_dir = settings.dumps_dir or kg.layout.build_dir / "dumps"
        if Dumps(
            dumps_dir, kg.layout.root
        ).missing():  # written here, before serving: the server writes nothing
            build(kg.layout, out_dir=dumps_dir)
        store_dir = settings.store_dir or default_store_dir()
        app = create_app(kg, settings, watch=store_dir if current(store_dir) else None)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="info",
            access_log=settings.access_log,
            server_header=False,
            proxy_headers=False,
        )
        _server_class()(config).run(sockets=[sock])
    finally:
        sock.close()


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (not yet listening), or a ServeError that says why not."""
    if not 1 <= port <= 65535:
        raise ServeError(f"port {port} is not a TCP port: give a number from 1 to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # (as uvicorn chooses)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {reason_of(exc)}") from None
    return sock


def _server_class() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, saying where it listens (it says nothing when it is handed a bound socket)."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and sockets:
                host, port = sockets[0].getsockname()[:2]
                address = f"[{host}]" if ":" in host else host
                _log.info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", address, port)

    return Server
