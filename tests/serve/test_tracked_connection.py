"""What a worker knows of each connection, to hand it over whole: the bytes of its unanswered requests, whether a
response has started, and the bytes another worker read before it (fed to the parser before anything else)."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from idais_kg.serve.forked import Draining, tracked

REQUEST = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
SECOND = b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"


class Sock:
    """The socket a transport names: its descriptor and its two ends."""

    def fileno(self) -> int:
        return 42

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8000)

    def getpeername(self) -> tuple[str, int]:
        return ("127.0.0.1", 5000)


class Transport(asyncio.Transport):
    """A transport that keeps what is written, and can say it has bytes left to send."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.backlog = 0
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "socket":
            return Sock()
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: Any) -> None:
        self.written += bytes(data)

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Worker:
    """What the protocol needs of its worker."""

    def __init__(self) -> None:
        self.connections: dict[int, Any] = {}
        self.lane = None  # (no fast lane: every request goes through uvicorn's cycle)

    def maybe_done(self) -> None:
        pass


class Runner:
    draining = False


async def settle(rounds: int = 20) -> None:
    """Let the event loop run the tasks the protocol started (the app's answers)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def scenario() -> dict[str, Any]:
    release = asyncio.Event()
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/b":
            await release.wait()  # answered only once the test has looked
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    config = uvicorn.Config(Draining(app, Runner()), http="httptools", lifespan="off", log_level="warning")
    config.load()
    protocol_class = tracked(config.http_protocol_class)
    worker = Worker()
    transport = Transport()
    loop = asyncio.get_running_loop()
    conn = protocol_class(
        config=config, server_state=ServerState(), app_state={}, _loop=loop, worker=worker, preload=REQUEST
    )
    conn.connection_made(transport)
    seen["registered"] = worker.connections.get(42) is conn
    await settle()  # the preloaded request is parsed and answered without any read
    seen["first answer"] = transport.written.endswith(b"ok")
    seen["after the first"] = (bytes(conn.pending), conn.open, conn.movable())
    conn.data_received(SECOND[:10])
    seen["half a request"] = (bytes(conn.pending), conn.open, conn.movable())
    conn.data_received(SECOND[10:])
    await settle(5)
    seen["waiting for its answer"] = (bytes(conn.pending), conn.open, conn.movable())
    transport.backlog = 10
    seen["bytes left to send"] = conn.movable()
    transport.backlog = 0
    release.set()
    await settle()
    seen["after the second"] = (
        bytes(conn.pending),
        conn.open,
        conn.movable(),
        transport.written.count(b"ok"),
    )
    release.clear()
    conn.data_received(REQUEST + SECOND)  # pipelined: /a is answered while /b waits, in one read
    await settle()
    seen["pipelined, one answered"] = (conn.open, conn.movable())  # pending holds /a's bytes too: it stays
    release.set()
    await settle()
    seen["pipelined, both answered"] = (
        bytes(conn.pending),
        conn.open,
        conn.movable(),
        transport.written.count(b"ok"),
    )
    conn.gone = True
    conn.data_received(REQUEST)
    seen["once handed over"] = (bytes(conn.pending), conn.movable())
    return seen


def test_a_connection_carries_exactly_its_unanswered_bytes() -> None:
    seen = asyncio.run(scenario())
    assert seen["registered"]
    assert seen["first answer"]
    assert seen["after the first"] == (b"", 0, True)
    assert seen["half a request"] == (SECOND[:10], 1, True)
    assert seen["waiting for its answer"] == (SECOND, 1, True)
    assert seen["bytes left to send"] is False
    assert seen["after the second"] == (b"", 0, True, 2)
    assert seen["pipelined, one answered"] == (1, False)
    assert seen["pipelined, both answered"] == (b"", 0, True, 4)
    assert seen["once handed over"] == (b"", False)  # nothing read from it here any more
