"""The servers the tests start in subprocesses (``idais-kg serve``, Oxigraph's server, Virtuoso): a free port,
waiting until one answers, stopping it. One place, so that every fixture waits and stops alike."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    """Whether something accepts connections on the loopback ``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def oxigraph_server() -> Iterator[str]:
    """Oxigraph's own server (from the ``oxigraph`` package) on a free loopback port, union default graph; its base
    URL. Skips when it is not installed."""
    if not Path(OXIGRAPH).exists():
        pytest.skip("the oxigraph server (pip install oxigraph) is not installed")
    port = free_port()
    process = subprocess.Popen(
        [OXIGRAPH, "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: listening(port), process, 20, "oxigraph serve")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def healthy(url: str, timeout: float = 2) -> bool:
    """Whether ``idais-kg serve`` at ``url`` says it is ready (``/healthz``); False while it does not answer."""
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=timeout) as response:
            return bool(json.load(response)["status"] == "ok")
    except OSError:
        return False


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], seconds: float, why: str) -> None:
    """Poll ``ready()`` until it is true; RuntimeError with ``why`` if ``process`` exits or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{why}: the process exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{why}: no answer within {seconds:.0f} s")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], grace: float = 10) -> None:
    """SIGTERM, then SIGKILL if it is still running after ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
