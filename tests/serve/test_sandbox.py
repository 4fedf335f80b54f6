"""The query workers' sandbox: the operating system refuses them the network, even when asked directly.

A loopback listener stands in for every host the server could reach; it must never see a connection. Each test
that sandboxes does so in a process of its own (a seccomp filter cannot be removed, and the test process must keep
its network).
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from idais_kg.serve.pool import Job, WorkerPool
from idais_kg.serve.worker import ERROR, HEADER

JSON = "application/sparql-results+json"
# Run in a child process: sandbox itself, then try every way out it is asked to, and say what happened as JSON.
PROBE = textwrap.dedent(
    """
    import ctypes, errno, json, socket, subprocess, sys
    from idais_kg.serve.sandbox import deny_network

    port, unix_path = int(sys.argv[1]), sys.argv[2]
    deny_network()
    seen = {}

    def attempt(name, action):
        try:
            action()
            seen[name] = "ok"
        except OSError as exc:
            seen[name] = errno.errorcode.get(exc.errno, str(exc.errno))

    attempt("tcp", lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close())
    attempt("tcp6", lambda: socket.socket(socket.AF_INET6).close())
    attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", port)))
    attempt("raw", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close())

    def unix():
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(unix_path)
            client.sendall(b"hello")

    def pair():
        left, right = socket.socketpair()
        left.sendall(b"x")
        assert right.recv(1) == b"x"

    attempt("unix", unix)
    attempt("socketpair", pair)
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)  # struct io_uring_params, zeroed
    if libc.syscall(425, 8, params) < 0:  # io_uring_setup(8 entries) on x86_64 and aarch64
        seen["io_uring"] = errno.errorcode.get(ctypes.get_errno())
    else:
        seen["io_uring"] = "ok"
    child = "import socket; socket.create_connection(('127.0.0.1', %d), timeout=2)" % port
    seen["child"] = subprocess.run([sys.executable, "-c", child], capture_output=True).returncode
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    seen["seccomp"] = status["Seccomp"].strip()
    seen["no_new_privs"] = status["NoNewPrivs"].strip()
    print(json.dumps(seen))
    """
)
SERVICE = "SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/x> {{ ?s ?p ?o }} }}"
WITHOUT_LIBSECCOMP = textwrap.dedent(
    """
    import ctypes.util
    found = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None if name == "seccomp" else found(name)
    """
)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback TCP listener that records whether anyone connected (it must stay unconnected)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(0.3)
        yield server


def assert_no_connection(listener: socket.socket) -> None:
    with pytest.raises(TimeoutError):
        listener.accept()


def seccomp_mode(pid: int | None) -> str:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return status["Seccomp"].strip()


def test_a_sandboxed_process_cannot_connect_even_when_asked_directly(listener, tmp_path) -> None:
    unix_path = str(tmp_path / "unix.sock")
    with socket.socket(socket.AF_UNIX) as unix_server:
        unix_server.bind(unix_path)
        unix_server.listen(1)
        port = listener.getsockname()[1]
        probe = subprocess.run(
            [sys.executable, "-c", PROBE, str(port), unix_path], capture_output=True, text=True, timeout=60
        )
        assert probe.returncode == 0, probe.stderr
        seen = json.loads(probe.stdout)
        unix_server.settimeout(2)
        accepted, _ = unix_server.accept()
        with accepted:
            assert accepted.recv(5) == b"hello"
    assert seen["tcp"] == seen["tcp6"] == seen["udp"] == seen["raw"] == "EACCES"
    assert seen["io_uring"] == "EPERM"
    assert seen["unix"] == seen["socketpair"] == "ok"
    assert seen["child"] != 0  # what the sandboxed process starts is sandboxed too
    assert seen["seccomp"] == "2" and seen["no_new_privs"] == "1"
    assert_no_connection(listener)


def test_a_pool_worker_asked_for_service_gets_an_error_and_makes_no_connection(pool_nquads, listener) -> None:
    """The guard is bypassed: the job goes to the pool directly, as a query the guard misread would."""

    async def scenario() -> tuple[str, str | None, bytes]:
        pool = WorkerPool(pool_nquads, size=1, deadline=10, queue_wait=10)
        await pool.start()
        try:
            mode = seccomp_mode(pool.workers[0].pid)
            query = SERVICE.format(port=listener.getsockname()[1])
            refused = await pool.run(Job(query, JSON, 10))
            after = await pool.run(Job("ASK {}", JSON, 10))
            return mode, refused.error, after.body
        finally:
            await pool.close()

    mode, refused, after = asyncio.run(scenario())
    assert mode == "2"
    assert refused is not None and "Permission denied" in refused
    assert json.loads(after)["boolean"] is True  # the same worker goes on answering
    assert_no_connection(listener)


def test_workers_run_unsandboxed_only_when_told_so(pool_nquads) -> None:
    async def scenario() -> str:
        pool = WorkerPool(pool_nquads, size=1, deadline=10, queue_wait=10, sandbox=False)
        await pool.start()
        try:
            return seccomp_mode(pool.workers[0].pid)
        finally:
            await pool.close()

    assert asyncio.run(scenario()) == "0"


def test_without_libseccomp_the_pool_refuses_to_start_unless_opted_out() -> None:
    script = WITHOUT_LIBSECCOMP + textwrap.dedent(
        """
        from idais_kg.serve.sandbox import SandboxUnavailable
        from idais_kg.serve.pool import WorkerPool
        WorkerPool(b"", 1, 1.0, 1.0, sandbox=False)  # the explicit opt-out builds
        try:
            WorkerPool(b"", 1, 1.0, 1.0)
        except SandboxUnavailable as exc:
            print(exc)
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "cannot be denied the network: libseccomp cannot be loaded" in run.stdout
    assert "--no-sandbox" in run.stdout


def test_a_worker_that_cannot_sandbox_itself_says_why_instead_of_ready() -> None:
    script = WITHOUT_LIBSECCOMP + "from idais_kg.serve.worker import worker_main; worker_main()"
    run = subprocess.run(
        [sys.executable, "-c", script, "--memory", str(1 << 30)], capture_output=True, timeout=60, input=b""
    )
    (size,) = HEADER.unpack_from(run.stdout)
    reply = run.stdout[HEADER.size : HEADER.size + size]
    assert reply[:1] == ERROR and b"libseccomp cannot be loaded" in reply
    assert b"--no-sandbox" in reply


def test_serve_refuses_to_start_unsandboxed_in_one_line() -> None:
    script = WITHOUT_LIBSECCOMP + "from idais_kg.cli import main; main(['serve', '--port', '1'])"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("idais-kg: error: the query workers cannot be denied")


@pytest.fixture(scope="module")
def pool_nquads(kg) -> bytes:
    return kg.store.serialize("nquads")
