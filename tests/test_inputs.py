"""Untrusted RDF input: one case file per hazard in tests/cases/inputs/, expected outcomes in its expected.yaml.

Each case is copied to tmp_path with ``127.0.0.1:PORT`` pointing at a loopback listener, parsed with
``inputs.parse_untrusted``, and must give exactly the expected error (class, line, message fragment) or the
expected number of quads; the listener must see no connection (no remote context, DTD or owl:imports is fetched).
"""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from idais_kg import errors
from idais_kg.sources.untrusted import Limits, parse_untrusted

CASES_DIR = Path(__file__).parent / "cases" / "inputs"
EXPECTED: dict[str, dict[str, object]] = yaml.safe_load((CASES_DIR / "expected.yaml").read_text())


class Listener:
    """A loopback TCP listener that records whether anything connected to it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]

    def connections(self) -> int:
        count = 0
        while select.select([self.sock], [], [], 0.05)[0]:
            conn, _ = self.sock.accept()
            conn.close()
            count += 1
        return count


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.sock.close()


def test_every_case_file_has_an_expectation() -> None:
    files = {p.name for p in CASES_DIR.iterdir() if p.name != "expected.yaml"}
    assert files == set(EXPECTED)


def test_the_listener_would_see_a_connection(listener: Listener) -> None:
    """The no-connection checks below are only meaningful if the listener notices one."""
    with socket.create_connection(("127.0.0.1", listener.port)):
        pass
    assert listener.connections() == 1


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_input_case(name: str, tmp_path: Path, listener: Listener, no_network: list[object]) -> None:
    case = EXPECTED[name]
    path = tmp_path / name
    path.write_bytes(
        (CASES_DIR / name).read_bytes().replace(b"127.0.0.1:PORT", b"127.0.0.1:%d" % listener.port)
    )
    limits = replace(Limits(), **case.get("limits", {}))  # type: ignore[arg-type]
    graph = case.get("graph")
    if case["error"] == "ok":
        quads = parse_untrusted(path, graph, limits=limits)  # type: ignore[arg-type]
        assert len(quads) == case["quads"]
        if graph:
            assert {q.graph_name.value for q in quads} == {graph}  # type: ignore[union-attr]
    else:
        expected_type = getattr(errors, str(case["error"]))
        with pytest.raises(expected_type) as info:
            parse_untrusted(path, graph, limits=limits)  # type: ignore[arg-type]
        assert type(info.value) is expected_type
        assert str(case["message"]) in str(info.value)
        assert str(path) in str(info.value)
        if "line" in case:
            assert info.value.line == case["line"]
    assert listener.connections() == 0
    assert no_network == []


def test_our_context_is_mapped_to_the_shipped_one(tmp_path: Path) -> None:
    quads = parse_untrusted(CASES_DIR / "jsonld-our-context.jsonld")
    (quad,) = quads
    assert quad.predicate.value == "http://www.w3.org/2004/02/skos/core#closeMatch"
    assert quad.object.value == "https://w3id.org/idais-kg/id/goal/post-deployment-monitoring"


def test_unsafe_input_is_an_input_error() -> None:
    assert issubclass(errors.UnsafeInputError, errors.InputError)
    assert errors.UnsafeInputError("f.ttl", "x", 3).exit_code == 2
