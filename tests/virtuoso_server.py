"""A fresh Virtuoso (Debian's virtuoso-t) on loopback ports, for the tests that publish to it or federate from
it; its configuration is ``virtuoso/virtuoso.ini``, with the folder and ports filled in."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from processes import stop

VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")  # Debian's name for Virtuoso's isql
INI = (Path(__file__).parent / "virtuoso" / "virtuoso.ini").read_text(encoding="utf-8")
NOT_INSTALLED = "Virtuoso is not installed (no virtuoso-t or isql-vt on PATH; scripts/setup.sh installs them)"


class Server(NamedTuple):
    url: str  # HTTP base: /sparql (query and update), /sparql-graph-crud (Graph Store Protocol)
    sql: int  # the SQL port, for isql-vt


def free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports (all held open while choosing, so none repeats)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def isql(port: int, statement: str) -> str:
    """Run one SQL statement as dba; raise if it failed (isql-vt exits 0 even then: read what it printed)."""
    if ISQL is None:
        raise RuntimeError(NOT_INSTALLED)
    done = subprocess.run(
        [ISQL, f"127.0.0.1:{port}", "dba", "dba", f"EXEC={statement}"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "*** Error" in done.stdout + done.stderr:
        raise RuntimeError(f"isql-vt {statement!r}: {done.stdout}{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def running_virtuoso(folder: Path, grants: list[str]) -> Iterator[Server]:
    """Virtuoso in ``folder`` until the block ends, with ``grants`` given to its anonymous SPARQL user."""
    if not VIRTUOSO or not ISQL:
        pytest.skip(NOT_INSTALLED)
    sql, http = free_ports(2)
    (folder / "virtuoso.ini").write_text(INI.format(d=folder, sql=sql, http=http), encoding="utf-8")
    proc = subprocess.Popen(
        [VIRTUOSO, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{http}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                log = (folder / "virtuoso.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"virtuoso-t exited with {proc.returncode}:\n{log}")
            try:
                with urllib.request.urlopen(base + "/sparql?query=ASK%7B%7D", timeout=2) as response:
                    response.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("Virtuoso did not answer within 90 s")
                time.sleep(0.2)
        for grant in grants:
            isql(sql, f'GRANT {grant} TO "SPARQL";')
        yield Server(base, sql)
    finally:
        stop(proc, grace=30)
