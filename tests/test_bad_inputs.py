"""Bad inputs a user can give the command line: each one gets ONE line on stderr that names what was given, and
exit code 2 (never a traceback, never a hang), and the store stays exactly as it was.

The cases are a table (:data:`CASES`): how to make the input in tmp_path, the command, and the fragment the one
line must hold. Each runs the real ``idais-kg`` in a subprocess with a timeout, so a FIFO that blocks, or a
traceback, fails the case instead of hanging the suite. The store cases that need an operating-system condition
(a read-only file system, a file-size limit, a full disk) make it for real where that works as root as well:

- read-only: a store path under a regular file (``ENOTDIR``: any user), a read-only bind mount in a private mount
  namespace (``unshare -m``: ``EROFS``, skipped where unshare is not allowed), and ``chmod`` (skipped as root,
  where it stops nothing);
- file-size limit: ``RLIMIT_FSIZE`` in the child, SIGXFSZ ignored, so writes fail with ``EFBIG``;
- disk full: ``ENOSPC`` raised at the write steps by monkeypatching (no full file system is made).
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from idais_kg.cli import main
from idais_kg.dataset import versioned as versions
from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.errors import EmptyInputError, TableError, UnsafeInputError
from idais_kg.namespaces import RDF, RDFS
from idais_kg.partners import registry as partners
from idais_kg.partners.check import PartnerFile
from idais_kg.sources.tables import read_table
from idais_kg.sources.untrusted import Limits, parse_untrusted

PARTNER_CASES = Path(__file__).parent / "cases" / "partners"
INPUT_CASES = Path(__file__).parent / "cases" / "inputs"
TIMEOUT = 120  # seconds: a command that blocks (a FIFO opened for reading) fails instead of hanging the suite
HEADER = "subject_id,subject_label,predicate_id,object_id\n"
LIMITS = Limits()


def idais_kg(
    *args: str | bytes, cwd: Path, prelude: str = "", timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh process (``prelude``: Python run before it, e.g. to set a resource limit)."""
    script = f"{prelude}\nimport sys\nfrom idais_kg.cli import main\nsys.argv[0] = 'idais-kg'\nmain()"
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
    )


def one_error_line(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Assert exit code 2 and a single ``idais-kg: error:`` line on stderr holding every fragment."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("idais-kg: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# ----------------------------------------------------------------------------------------------------------------
# inputs, made in tmp_path
# ----------------------------------------------------------------------------------------------------------------


def text(name: str, content: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_text(content, encoding="utf-8")
        return path

    return make


def fifo(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        os.mkfifo(path)  # nobody ever writes to it: opening it for reading would block for ever
        return path

    return make


def device(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.symlink_to("/dev/zero")  # endless: would be read up to the size bound
        return path

    return make


def sparse(name: str, size: int) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        with path.open("wb") as handle:
            handle.truncate(size)  # no block written: only a read would cost anything
        return path

    return make


def long_cell(name: str, delimiter: str) -> Callable[[Path], Path]:
    """A table whose third line has a label one character over the literal bound (and over csv's own limit)."""
    cell = "x" * (LIMITS.max_literal + 1)
    rows = [
        ["subject_id", "subject_label", "predicate_id", "object_id"],
        ["https://example.org/fictional/a", "a", "skos:exactMatch", "goal:post-deployment-monitoring"],
        ["https://example.org/fictional/b", cell, "skos:exactMatch", "goal:post-deployment-monitoring"],
    ]
    return text(name, "".join(delimiter.join(row) + "\n" for row in rows))


def long_cell_error(name: str) -> tuple[str, ...]:
    return (f"{name}:3: ", f"a cell longer than the limit of {LIMITS.max_literal} characters")


CHECK = ("partner", "check", "{file}", "--store", "{store}")
ADD = ("partner", "add", "someone", "{file}", "--store", "{store}")
VALIDATE = ("validate", "--no-reasoner", "{file}")
TOO_LARGE = LIMITS.max_bytes + 1


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], Path]
    command: tuple[str, ...]
    fragment: str | tuple[str, ...]  # what the one line must hold


CASES = {
    "empty-turtle-check": Case(text("empty.ttl", ""), CHECK, "empty file (0 bytes)"),
    "empty-turtle-add": Case(text("empty.ttl", ""), ADD, "empty file (0 bytes)"),
    "empty-csv-check": Case(text("empty.csv", ""), CHECK, "empty file (0 bytes)"),
    "empty-csv-add": Case(text("empty.csv", ""), ADD, "empty file (0 bytes)"),
    "empty-sssom-check": Case(text("empty.sssom.tsv", ""), CHECK, "empty file (0 bytes)"),
    "empty-sssom-add": Case(text("empty.sssom.tsv", ""), ADD, "empty file (0 bytes)"),
    "no-triples-turtle-check": Case(
        text("prefixes.ttl", "@prefix ex: <https://example.org/> .\n# nothing else\n"), CHECK, "no triples"
    ),
    "no-triples-turtle-add": Case(
        text("prefixes.ttl", "@prefix ex: <https://example.org/> .\n"), ADD, "no triples"
    ),
    "header-only-csv-check": Case(text("header.csv", HEADER), CHECK, "no triples"),
    "long-cell-csv-check": Case(long_cell("long.csv", ","), CHECK, long_cell_error("long.csv")),
    "long-cell-csv-add": Case(long_cell("long.csv", ","), ADD, long_cell_error("long.csv")),
    "long-cell-sssom-check": Case(
        long_cell("long.sssom.tsv", "\t"), CHECK, long_cell_error("long.sssom.tsv")
    ),
    "fifo-check": Case(fifo("pipe.ttl"), CHECK, "pipe.ttl: refused: a FIFO (named pipe), not a regular file"),
    "fifo-add": Case(fifo("pipe.ttl"), ADD, "pipe.ttl: refused: a FIFO"),
    "fifo-csv-check": Case(fifo("pipe.csv"), CHECK, "pipe.csv: refused: a FIFO"),
    "fifo-validate": Case(fifo("pipe.ttl"), VALIDATE, "pipe.ttl: refused: a FIFO"),
    "device-check": Case(device("zero.ttl"), CHECK, "zero.ttl: refused: a character device"),
    "device-validate": Case(device("zero.nt"), VALIDATE, "zero.nt: refused: a character device"),
    "oversize-check": Case(
        sparse("huge.nt", TOO_LARGE), CHECK, "huge.nt: refused: file larger than the limit"
    ),
    "oversize-add": Case(sparse("huge.ttl", TOO_LARGE), ADD, "huge.ttl: refused: file larger than the limit"),
    "oversize-csv-check": Case(sparse("huge.csv", TOO_LARGE), CHECK, "huge.csv: refused: file larger"),
    "oversize-validate": Case(sparse("huge.ttl", TOO_LARGE), VALIDATE, "huge.ttl: refused: file larger"),
}


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_bad_partner_input(case_id: str, tmp_path: Path) -> None:
    case = CASES[case_id]
    path = case.make(tmp_path)
    store = tmp_path / "store"
    args = [a.format(file=path.name, store=store) for a in case.command]
    fragments = (case.fragment,) if isinstance(case.fragment, str) else case.fragment
    one_error_line(idais_kg(*args, cwd=tmp_path), *fragments)
    assert not (store / "current").exists()  # nothing stored, nothing remembered
    assert not (store / ".checks").exists() or not any((store / ".checks").iterdir())


def test_an_oversize_file_is_refused_by_stat_before_it_is_read(tmp_path: Path) -> None:
    """1 GiB + 1 byte, sparse: the refusal allocates nothing like the file (it used to read 1 GiB to say so)."""
    path = sparse("huge.ttl", TOO_LARGE)(tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeInputError, match="larger than the limit") as partner:
            PartnerFile.read(path)
        with pytest.raises(UnsafeInputError, match="larger than the limit") as untrusted:
            parse_untrusted(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert f"it has {TOO_LARGE} bytes" in str(partner.value) and str(path) in str(untrusted.value)


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = fifo("pipe.nt")(tmp_path)
    opened: list[object] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    with pytest.raises(UnsafeInputError, match="FIFO"):
        parse_untrusted(path)
    assert opened == []


def test_a_table_cell_over_the_literal_bound_names_its_column_and_line(tmp_path: Path) -> None:
    """Below csv's own limit, the input bound still holds; over it, csv's error becomes the same message."""
    path = text(
        "cells.csv", HEADER + "https://example.org/fictional/a," + "y" * 2000 + ",skos:exactMatch,goal:x\n"
    )
    with pytest.raises(TableError, match=r"cells.csv:2: subject_label: a cell longer than the limit of 1000"):
        read_table(path(tmp_path), partners.graph_of("x"), limits=Limits(max_literal=1000))
    with pytest.raises(TableError, match=r"long.csv:3: .*a cell longer than the limit of 1048576 characters"):
        read_table(long_cell("long.csv", ",")(tmp_path), partners.graph_of("x"))


@pytest.mark.parametrize(
    "cell", ["https://example.org/a\x00b", "https://example.org/a\x85b", "https://e.org/\ufffd"]
)
def test_a_table_iri_cell_with_a_control_character_is_a_table_error(tmp_path: Path, cell: str) -> None:
    path = text("iri.csv", HEADER + f"{cell},label,skos:exactMatch,goal:x\n")(tmp_path)
    with pytest.raises(TableError, match=r"iri.csv:2: subject_id: (control character|U\+FFFD)"):
        read_table(path, partners.graph_of("x"))


def test_an_empty_file_is_an_empty_input_error_in_the_library(tmp_path: Path, kg: KnowledgeGraph) -> None:
    with pytest.raises(EmptyInputError, match="empty file"):
        partners.check(text("empty.ttl", "")(tmp_path), kg)
    with pytest.raises(EmptyInputError, match="no triples"):
        partners.check(text("comments.nt", "# nothing\n")(tmp_path), kg)


# ----------------------------------------------------------------------------------------------------------------
# IRI parameters on the command line (HTTP: tests/serve/test_bad_params.py)
# ----------------------------------------------------------------------------------------------------------------

BAD_IRIS: dict[str, str | bytes] = {
    "c0-control": "goal:a\x01b",
    "tab-inside": "goal:a\tb",
    "delete": "goal:a\x7fb",
    "c1-control": "goal:a\x85b",
    "replacement-character": "goal:a\ufffdb",
    "not-utf-8": b"goal:a\xffb",  # what a shell passes for a byte that is not UTF-8
}


@pytest.mark.parametrize("case_id", sorted(BAD_IRIS))
def test_bad_iri_parameter_on_the_command_line(case_id: str, tmp_path: Path) -> None:
    value = BAD_IRIS[case_id]
    param = b"goal=" + value if isinstance(value, bytes) else "goal=" + value
    result = idais_kg("query", "policies-of-goal", "--param", param, cwd=tmp_path)  # type: ignore[arg-type]
    one_error_line(result, "query 'policies-of-goal', parameter 'goal'")


# ----------------------------------------------------------------------------------------------------------------
# the store: read-only, file-size limit, disk full
# ----------------------------------------------------------------------------------------------------------------


def state(store: Path) -> tuple[str, list[str], list[str]]:
    """What must not change: the content hash, the partner list, and the names in the store folder."""
    listed = [f"{p.name} {p.sha256} {p.triples}" for p in partners.registered(store)]
    names = sorted(p.name for p in store.iterdir()) if store.is_dir() else []
    return partners.fingerprint(store), listed, names


def read_only_by_unshare(store: Path) -> str:
    """A prelude that is not Python: the command runs in a private mount namespace where ``store`` is a
    read-only bind mount (EROFS for root too). Skips the test where that is not allowed."""
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{store}' '{store}' && ! touch '{store}/.probe'"],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.skip(
            f"no read-only bind mount here (unshare -m): {probe.stderr.decode(errors='replace')[:200]}"
        )
    return f"mount --bind -o ro '{store}' '{store}'"


def run_in_read_only(store: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    mount = read_only_by_unshare(store)
    script = "import sys\nfrom idais_kg.cli import main\nsys.argv[0] = 'idais-kg'\nmain()"
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", f'{mount} && exec "$@"', "sh", sys.executable, "-c", script, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_check_needs_no_writable_store_but_add_says_it_cannot_write(store: Path, tmp_path: Path) -> None:
    """A read-only bind mount: ``partner check`` works (its verdict is not kept, and it says so on stderr),
    ``partner add`` is one line, ``partner list`` works, and nothing changed."""
    before = state(store)
    links = str(PARTNER_CASES / "links.csv")
    checked = run_in_read_only(store, "partner", "check", links, "--store", str(store), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "conforms" in checked.stdout
    assert checked.stderr.splitlines() == [
        f"idais-kg: note: the verdict was not remembered in {store} (Read-only file system): "
        "`partner add` will check the file again"
    ]
    added = run_in_read_only(store, "partner", "add", "meadow", links, "--store", str(store), cwd=tmp_path)
    one_error_line(
        added, f"cannot write the partner store {store}: Read-only file system; nothing was changed"
    )
    listed = run_in_read_only(store, "partner", "list", "--store", str(store), cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.split()[0] == "lumen", listed.stderr
    assert state(store) == before


def test_a_store_path_under_a_file_cannot_be_written(tmp_path: Path) -> None:
    """Works for any user, root included: the store's parent is a regular file (ENOTDIR)."""
    (tmp_path / "a-file").write_text("not a folder\n")
    store = tmp_path / "a-file" / "store"
    clean = str(PARTNER_CASES / "clean.ttl")
    checked = idais_kg("partner", "check", clean, "--store", str(store), cwd=tmp_path)
    assert checked.returncode == 0 and "conforms" in checked.stdout, checked.stderr
    (note,) = checked.stderr.splitlines()
    assert note.startswith(f"idais-kg: note: the verdict was not remembered in {store} (Not a directory)")
    added = idais_kg("partner", "add", "lumen", clean, "--store", str(store), cwd=tmp_path)
    one_error_line(added, f"cannot write the partner store {store}: Not a directory; nothing was changed")


@pytest.mark.skipif(os.geteuid() == 0, reason="as root, chmod stops no write (see the unshare test)")
def test_a_store_folder_chmod_read_only(store: Path, tmp_path: Path) -> None:
    before = state(store)
    store.chmod(0o555)
    try:
        clean = str(PARTNER_CASES / "links.csv")
        checked = idais_kg("partner", "check", clean, "--store", str(store), cwd=tmp_path)
        assert checked.returncode == 0 and "Permission denied" in checked.stderr
        added = idais_kg("partner", "add", "meadow", clean, "--store", str(store), cwd=tmp_path)
        one_error_line(added, f"cannot write the partner store {store}: Permission denied")
    finally:
        store.chmod(0o755)
    assert state(store) == before


def big_partner_file(path: Path, extra: int = 20_000) -> Path:
    """The clean fixture plus ``extra`` labelled projects of its own, as N-Triples (N-Triples is also Turtle)."""
    quads = ox.parse(path=str(PARTNER_CASES / "clean.ttl"), format=ox.RdfFormat.TURTLE)
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    base = "https://example.org/fictional/lumen-observatory/extra-"
    a, label = ox.NamedNode(RDF + "type"), ox.NamedNode(RDFS + "label")
    project = ox.NamedNode("https://schema.org/Project")
    for i in range(extra):
        node = ox.NamedNode(f"{base}{i}")
        triples += [ox.Triple(node, a, project), ox.Triple(node, label, ox.Literal(f"Fictional project {i}"))]
    path.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
    return path


def file_size_limit(size: int) -> str:
    """A prelude: writes past ``size`` bytes fail with EFBIG (SIGXFSZ, which would kill, is ignored)."""
    return (
        "import resource, signal\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({size}, {size}))"
    )


@pytest.mark.parametrize("suffix", [".nt", ".ttl"])
def test_file_size_limit_during_add(store: Path, tmp_path: Path, suffix: str) -> None:
    """RLIMIT_FSIZE in the child: the store's writes fail with EFBIG; one line, and the store as it was."""
    limit = 512 * 1024
    path = big_partner_file(tmp_path / f"big{suffix}")
    assert path.stat().st_size > 4 * limit
    before = state(store)
    prelude = file_size_limit(limit)
    result = idais_kg(
        "partner", "add", "big", str(path), "--store", str(store), cwd=tmp_path, prelude=prelude
    )
    one_error_line(
        result, f"cannot write the partner store {store}:", "File too large", "nothing was changed"
    )
    assert state(store) == before
    listed = idais_kg("partner", "list", "--store", str(store), cwd=tmp_path)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["lumen"]


def test_file_size_limit_on_a_new_store(tmp_path: Path) -> None:
    """The first add seeds the store with the guide: that write fails too, and no version is left."""
    store = tmp_path / "store"
    clean = str(PARTNER_CASES / "clean.ttl")
    prelude = file_size_limit(128 * 1024)  # (the guide's own files are ~200 kB each)
    result = idais_kg("partner", "add", "lumen", clean, "--store", str(store), cwd=tmp_path, prelude=prelude)
    one_error_line(result, "File too large", "nothing was changed")
    assert sorted(p.name for p in store.iterdir()) == [".lock"]
    assert partners.registered(store) == []


def no_space(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["loading", "remembered-loading", "swap"])
def test_disk_full_during_add(where: str, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC at a write step: while the triples go into the staging copy (checked now, or as checked before by
    ``partner check``), or at the swap of ``current``. One line, exit 2, the store as it was, no leftovers."""
    links = str(PARTNER_CASES / "links.csv")
    runner = CliRunner()
    if where == "remembered-loading":
        assert runner.invoke(main, ["partner", "check", links, "--store", str(store)]).exit_code == 0
    before = state(store)
    if where == "swap":
        real_replace = os.replace

        def replace(src: object, dst: object, *args: object, **kwargs: object) -> None:
            if Path(str(dst)).name == versions.CURRENT:
                no_space()
            real_replace(src, dst, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(versions.os, "replace", replace)
    else:
        monkeypatch.setattr(partners.loader, "load_ntriples", no_space)
    result = runner.invoke(main, ["partner", "add", "meadow", links, "--store", str(store)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"idais-kg: error: cannot write the partner store {store}: No space left on device; nothing was changed"
    ]
    monkeypatch.undo()
    assert state(store) == before


# ----------------------------------------------------------------------------------------------------------------
# serve: port and store, refused before anything is loaded
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "-1", "0", "65536"])
def test_serve_port_out_of_range(port: str, tmp_path: Path) -> None:
    one_error_line(idais_kg("serve", "--port", port, cwd=tmp_path), f"port {port} is not a TCP port")


def test_serve_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = idais_kg("serve", "--port", str(port), cwd=tmp_path, timeout=60)
    one_error_line(result, f"cannot listen on 127.0.0.1:{port}: Address already in use")


@pytest.mark.parametrize("kind", ["empty-folder", "checks-only", "missing-folder"])
def test_serve_store_that_holds_no_store(kind: str, tmp_path: Path) -> None:
    folder = tmp_path / "not-a-store"
    if kind != "missing-folder":
        folder.mkdir()
    if kind == "checks-only":  # what `partner check` leaves: verdicts, but no version
        (folder / ".checks").mkdir()
    with socket.socket() as probe:  # a free port: were the store not refused first, the server would start
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    result = idais_kg("serve", "--store", str(folder), "--port", port, cwd=tmp_path, timeout=60)
    one_error_line(result, f"no partner store {'at' if kind == 'missing-folder' else 'in'} {folder}")
