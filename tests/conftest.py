"""Shared fixtures: the knowledge graph loaded once, a copy of the project tree to break, and no network."""

from __future__ import annotations

import ipaddress
import shutil
import socket
from pathlib import Path

import pytest

from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.sources.layout import Layout

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).parent / "cases"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite expected query results from the graph"
    )


class NetworkRefused(OSError):
    pass


def _is_loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str | bytes) and not isinstance(address, tuple):
        return True  # a Unix socket path
    if host in ("localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(host if isinstance(host, str) else host.decode()).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Refuse every connection that does not stay on this machine; record the attempts."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guard(real):  # type: ignore[no-untyped-def]
        def connect(self, address):  # type: ignore[no-untyped-def]
            if not _is_loopback(address):
                attempts.append(address)
                raise NetworkRefused(f"tests may not reach the network: {address!r}")
            return real(self, address)

        return connect

    monkeypatch.setattr(socket.socket, "connect", guard(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard(real_connect_ex))
    monkeypatch.setattr(socket, "getaddrinfo", _refuse_remote_lookup(socket.getaddrinfo, attempts))
    return attempts


def _refuse_remote_lookup(real, attempts):  # type: ignore[no-untyped-def]
    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host not in (None, "localhost", "127.0.0.1", "::1") and not str(host).startswith("127."):
            attempts.append(host)
            raise NetworkRefused(f"tests may not resolve remote names: {host!r}")
        return real(host, *args, **kwargs)

    return getaddrinfo


@pytest.fixture(scope="session")
def kg() -> KnowledgeGraph:
    return load()


@pytest.fixture(scope="session")
def source_lines() -> list[str]:
    return Layout.default().source_text.read_text(encoding="utf-8").split("\n")


@pytest.fixture
def project_copy(tmp_path: Path) -> Layout:
    """A copy of the hand-edited sources, safe to break."""
    for folder in ("ontology", "data", "queries", "shapes"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, tmp_path / folder)
    return Layout(tmp_path)


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A partner store with the guide and the clean partner (a fictional organisation), made once a module."""
    from idais_kg.partners import registry

    store = tmp_path_factory.mktemp("base") / "store"
    registry.add("lumen", CASES / "partners" / "clean.ttl", store, kg=load())
    return store


@pytest.fixture
def store(base_store: Path, tmp_path: Path) -> Path:
    """A copy of ``base_store`` for one test to change."""
    copy = tmp_path / "store"
    shutil.copytree(base_store, copy, symlinks=True)
    return copy
