"""The real server, started once for the serve tests: ``idais-kg serve`` in a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from processes import free_port, healthy, stop, wait_until

DEADLINE = 2.0
ROW_CAP = 1000


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    row_cap: int = ROW_CAP
    deadline: float = DEADLINE

    def get(self, path: str, accept: str | None = None, **headers: str) -> tuple[int, dict[str, str], bytes]:
        return request(self.url + path, accept=accept, headers=headers)

    def head(self, path: str, accept: str | None = None) -> tuple[int, dict[str, str], bytes]:
        return request(self.url + path, accept=accept, method="HEAD")

    def post(
        self, path: str, body: bytes, content_type: str | None, accept: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": content_type} if content_type else {}
        return request(self.url + path, data=body, accept=accept, headers=headers, method="POST")


def request(
    url: str,
    data: bytes | None = None,
    accept: str | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request with urllib; returns status, headers (lower-case names) and body, errors included."""
    req = urllib.request.Request(url, data=data, method=method)
    for name, value in (headers or {}).items():
        req.add_header(name.replace("_", "-"), value)
    if accept is not None:
        req.add_header("Accept", accept)
    if data is not None and not (headers or {}).get("Content-Type"):
        req.add_header("Content-Type", "")  # urllib would otherwise claim a form
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@contextlib.contextmanager
def running_server(folder: Path, *options: str) -> Iterator[Server]:
    """``idais-kg serve`` in a subprocess on a free loopback port, with its log and dumps in ``folder``."""
    port = free_port()
    cmd = [sys.executable, "-m", "idais_kg.cli", "serve", "--port", str(port), *options]
    cmd += ["--dumps-dir", str(folder / "dumps")]
    log = open(folder / "server.log", "wb")  # noqa: SIM115 (closed at the end)
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(url), process, 60, f"idais-kg serve (log: {log.name})")
        yield Server(url, process)
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    options = ["--workers", "3", "--deadline", str(DEADLINE), "--row-cap", str(ROW_CAP)]
    with running_server(tmp_path_factory.mktemp("server"), *options) as running:
        yield running


@pytest.fixture(scope="session")
def start_server() -> Callable[..., contextlib.AbstractContextManager[Server]]:
    """``running_server``, for a test module that needs a server with settings of its own."""
    return running_server


@pytest.fixture(scope="session")
def w3c_dir() -> Path:
    return Path(__file__).parent / "w3c"
