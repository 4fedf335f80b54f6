"""Remembered verdicts of partner checks, so that ``partner add`` does not re-check what ``partner check`` passed.

A maintainer checks a file, reads the report, then adds it: checking the same bytes twice against the same shapes
and guide is the slowest part of an add (a million triples: parse into memory and ~5 s of queries). A passing
check writes a small JSON file into the store directory's ``.checks/``, named by a key over everything the verdict
depends on: the file's bytes (sha256), its format, the target graph (quad formats may name it), the partner
shapes, the guide's ontology and data, the checking code, the input limits and the package version. ``add``
recalls it by the same key; a changed byte anywhere gives another key and a full check. Only passing verdicts are
kept, with the checked graph as N-Triples when the file is in another syntax: ``add`` then loads those (our own
serialisation) and never parses the file again; an N-Triples file is loaded from its own bytes, after the safety
scan (sources/untrusted.py). ``--recheck`` ignores the verdicts.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idais_kg import store
from idais_kg.partners import check
from idais_kg.partners.check import CheckReport, PartnerFile
from idais_kg.partners.questions import SPARQL
from idais_kg.sources import sssom_rdf, tables, untrusted
from idais_kg.sources.layout import Layout
from idais_kg.sources.untrusted import QUAD_FORMATS
from idais_kg.validation.shacl import (
    components,
    data,
    engine,
    literals,
    paths,
    registry,
    setwise,
    shapes,
    sparql,
)
from idais_kg.version import __version__

FOLDER = ".checks"


def inputs_sha256(layout: Layout) -> str:
    """A hash of what a check reads besides the file: the partner shapes, the ontology, the guide, the
    construct queries that derive part of it, and the checking code itself."""
    digest = hashlib.sha256()
    files = sorted((layout.shapes_dir / "partner").rglob("*.ttl"))
    files += (
        layout.ontology_files() + layout.guide_files() + sorted(layout.queries_dir.glob("construct-*.rq"))
    )
    for path in files:
        digest.update(str(path.relative_to(layout.root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for path in CHECKING_CODE:  # the code that reaches the verdict, so that a fix to it is not bypassed
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# The code that reaches a verdict, named by module (not by path), so that a move cannot drop one unnoticed.
CHECKING_CODE = sorted(
    [Path(m.__file__ or "") for m in (check, untrusted, tables, sssom_rdf, store)]
    + [
        Path(m.__file__ or "")
        for m in (setwise, engine, shapes, registry, components, sparql, data, paths, literals)
    ]
    + list(SPARQL.glob("partner-*.rq"))
)


def key(source: PartnerFile, graph: str, layout: Layout) -> str:
    """The name a verdict is kept under: a hash over the file, its format and graph, what the check reads,
    the input limits and the package version (a change to any of them gives another key)."""
    parts = [
        source.sha256,
        source.fmt,
        graph if source.fmt in QUAD_FORMATS else "",
        inputs_sha256(layout),
        repr(source.limits),
        __version__,
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


KEEP = 8  # verdicts kept at most (with their N-Triples, each as large as the partner's graph)


def remember(store_dir: Path, verdict_key: str, report: CheckReport, ntriples: bytes | None = None) -> None:
    """Keep a passing verdict and, for a file that is not N-Triples, its graph as N-Triples (so that ``add`` need
    not parse it again). Each file is written to a temporary name, then renamed (the record last): never half a
    verdict. The oldest verdicts beyond :data:`KEEP` are dropped."""
    if not report.conforms:
        return
    folder = store_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {
        "file": report.path.name,
        "triples": report.triples,
        "checked": datetime.now(UTC).isoformat(timespec="seconds"),
        "findings": [asdict(f) for f in report.findings],  # warnings and infos only: it passed
    }
    if ntriples is not None:
        _write(folder / f"{verdict_key}.nt", ntriples)
        record["ntriples"] = f"{verdict_key}.nt"
    _write(folder / f"{verdict_key}.json", json.dumps(record, ensure_ascii=False, indent=1).encode())
    for old in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]:
        forget(store_dir, old.stem)


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


@dataclass(frozen=True)
class Verdict:
    """A passing check recalled from ``.checks/``: its key, its triple count, its N-Triples if kept."""

    key: str
    triples: int
    ntriples: Path | None  # the checked graph as N-Triples, for a file that is not N-Triples itself


def recall(store_dir: Path, verdict_key: str) -> Verdict | None:
    """The passing verdict kept under ``verdict_key``, or None (also for a record that is unreadable, or whose
    N-Triples are missing)."""
    folder = store_dir / FOLDER
    try:
        record = json.loads((folder / f"{verdict_key}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("triples"), int):
        return None
    ntriples = folder / record["ntriples"] if isinstance(record.get("ntriples"), str) else None
    if ntriples is not None and (ntriples.name != f"{verdict_key}.nt" or not ntriples.is_file()):
        return None
    return Verdict(verdict_key, record["triples"], ntriples)


def forget(store_dir: Path, verdict_key: str) -> None:
    """Drop a verdict (``add`` drops the one it used: the registry remembers the file from then on)."""
    for suffix in (".json", ".nt"):
        (store_dir / FOLDER / f"{verdict_key}{suffix}").unlink(missing_ok=True)
