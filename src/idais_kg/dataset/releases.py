"""Releases of the dataset: named in ``data/releases.ttl``, each with the commit and the sources it was made from.

A release is a ``dcat:Dataset`` version of ``kg:dataset`` (``dcat:version``, ``dcterms:issued``,
``dcat:previousVersion`` and ``owl:priorVersion``, ``dcterms:conformsTo`` the ontology's ``owl:versionIRI``,
``idais:madeFromCommit`` the commit's hex name, ``idais:sourcesSha256`` the :func:`data_fingerprint` of the tree at
that commit). Nothing here reads git tags: a clone without tags, or a wheel without any git history, still knows
its releases and which one it is (:func:`built_version`). Git is needed only to get the sources *of* an earlier
release (:func:`export_commit`, for ``idais-kg diff``), and a clear error says so when it is missing.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from idais_kg.errors import InputError
from idais_kg.namespaces import DATASET_IRI, DCAT, DCTERMS, IDAIS, OWL
from idais_kg.sources.layout import SOURCE_FOLDERS, Layout
from idais_kg.store import parse_file

RELEASES_FILE = Path("data") / "releases.ttl"
DEV_SUFFIX = "+dev"


class ReleaseError(InputError):
    """A release, commit or tree that cannot be resolved: unknown name, no git, a commit not in the history."""


@dataclass(frozen=True)
class Release:
    """One release of the data, as ``data/releases.ttl`` records it."""

    version: str
    iri: str
    issued: str
    commit: str
    sources_sha256: str
    previous: str | None = None  # the version IRI of the release before it
    ontology_version: str | None = None  # the ontology's owl:versionIRI it conforms to


def version_iri(version: str) -> str:
    """The version IRI of the dataset in one release.

    >>> version_iri("1.0.0")
    'https://w3id.org/idais-kg/id/dataset/1.0.0'
    """
    return f"{DATASET_IRI}/{version}"


def releases(layout: Layout) -> list[Release]:
    """The releases recorded in ``data/releases.ttl``, oldest first (none when the file is absent)."""
    path = layout.root / RELEASES_FILE
    if not path.is_file():
        return []
    props: dict[str, dict[str, str]] = {}
    for q in parse_file(path):
        if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, (ox.NamedNode, ox.Literal)):
            props.setdefault(q.subject.value, {})[q.predicate.value] = q.object.value
    found = [
        Release(
            version=p[DCAT + "version"],
            iri=iri,
            issued=p.get(DCTERMS + "issued", ""),
            commit=p.get(IDAIS + "madeFromCommit", ""),
            sources_sha256=p.get(IDAIS + "sourcesSha256", ""),
            previous=p.get(DCAT + "previousVersion") or p.get(OWL + "priorVersion"),
            ontology_version=p.get(DCTERMS + "conformsTo"),
        )
        for iri, p in props.items()
        if DCAT + "version" in p and iri != DATASET_IRI
    ]
    return sorted(found, key=lambda r: (r.issued, tuple(int(x) for x in r.version.split(".") if x.isdigit())))


def find_release(layout: Layout, version: str) -> Release | None:
    """The release named ``version`` (``1.0.0``; a leading ``v`` is allowed), or None."""
    wanted = version.removeprefix("v")
    return next((r for r in releases(layout) if r.version == wanted), None)


def data_files(root: Path) -> list[Path]:
    """The files the data is built from: ``ontology/``, ``data/`` (without ``data/releases.ttl``, which names
    releases and so cannot be part of what it names) and the ``construct-*.rq`` queries that feed the build."""
    files = [p for name in ("ontology", "data") for p in (root / name).rglob("*") if p.is_file()]
    files += (root / "queries").glob("construct-*.rq")
    return sorted(p for p in files if p.relative_to(root) != RELEASES_FILE)


def data_fingerprint(root: Path) -> str:
    """A sha256 over the paths and bytes of :func:`data_files`: equal for two trees that build the same data."""
    digest = hashlib.sha256()
    for path in data_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def built_version(layout: Layout) -> str:
    """Which release these sources are: the version whose recorded ``idais:sourcesSha256`` equals theirs, else
    ``{latest}+dev (unreleased changes)`` (edits since the latest release), else ``unreleased``."""
    known = releases(layout)
    mine = data_fingerprint(layout.root)
    for release in reversed(known):
        if release.sources_sha256 == mine:
            return release.version
    return f"{known[-1].version}{DEV_SUFFIX} (unreleased changes)" if known else "unreleased"


def description_quads(layout: Layout, graph: ox.NamedNode) -> list[ox.Quad]:
    """The releases for the dataset description: the file's statements, and the version this build is."""
    path = layout.root / RELEASES_FILE
    if not path.is_file():
        return []
    out = [ox.Quad(q.subject, q.predicate, q.object, graph) for q in parse_file(path)]
    built = built_version(layout).split(" ")[0]
    out.append(ox.Quad(ox.NamedNode(DATASET_IRI), ox.NamedNode(DCAT + "version"), ox.Literal(built), graph))
    return out


# --- git: only to read the sources of a commit, never its tags ---


def git(root: Path, *args: str) -> bytes:
    """Run ``git -C root ARGS`` and return its output; a ReleaseError when git or the repository is missing."""
    exe = shutil.which("git")
    if exe is None:
        raise ReleaseError("git is not installed: a release or commit can be read only from a git checkout")
    done = subprocess.run([exe, "-C", str(root), *args], capture_output=True, check=False)  # noqa: S603
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise ReleaseError(f"git {' '.join(args)}: {reason[-1] if reason else 'failed'}")
    return done.stdout


def resolve_commit(root: Path, name: str) -> str:
    """The full hex name of commit ``name`` in the repository at ``root``, or a ReleaseError saying why not."""
    if shutil.which("git") is not None:
        try:
            git(root, "rev-parse", "--git-dir")
        except ReleaseError:
            raise ReleaseError(
                f"{root} is not a git checkout: commit {name} cannot be read (no history here)"
            ) from None
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}").decode().strip()
    except ReleaseError:
        raise ReleaseError(
            f"no commit {name!r} in the git history of {root} (a shallow clone may lack it: git fetch --unshallow)"
        ) from None


def export_commit(root: Path, commit: str, dest: Path) -> Layout:
    """Write the sources (ontology/, data/, shapes/, queries/) of ``commit`` into ``dest``; their Layout."""
    full = resolve_commit(root, commit)
    listed = git(root, "ls-tree", "--name-only", full).decode().split("\n")
    folders = [name for name in SOURCE_FOLDERS if name in listed]
    if not folders:
        raise ReleaseError(f"commit {commit} has none of the source folders {', '.join(SOURCE_FOLDERS)}")
    archive = git(root, "archive", "--format=tar", full, *folders)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    for name in SOURCE_FOLDERS:  # a Layout expects every folder, even one the commit did not have yet
        (dest / name).mkdir(exist_ok=True)
    return Layout(dest)
