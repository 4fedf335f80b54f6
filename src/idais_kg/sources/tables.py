"""Mapping tables of partners: SSSOM TSV and the partner CSV layout, read into RDF quads.

Why a minimal reader and not sssom-py: ``pip install sssom`` pulls ~98 packages here (pandas, linkml, sphinx,
sqlalchemy, ...), and its reader resolves remote prefix maps; this reads the SSSOM TSV standard's part that a
partner table needs: the ``#``-prefixed YAML metadata header (``curie_map``, ``mapping_set_id``, ``license``,
``creator_id``, ``publication_date``, ``mapping_set_title``), then a tab-separated table with the columns
``subject_id``, ``subject_label``, ``predicate_id``, ``object_id`` (and optionally ``subject_type``, ``comment``).
The partner CSV layout is the same table, comma-separated, with the same optional ``#`` YAML header (README).

Every cell is a value, never a formula: labels and comments become plain literals exactly as written (a cell that
starts with ``=`` stays that text). Identifier cells must be an IRI or a CURIE of the header's ``curie_map`` or our
prefixes; anything else is a TableError with its line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from idais_kg.errors import TableError
from idais_kg.namespaces import DCAT, DCTERMS, OWL, PREFIXES, RDF, RDFS, SKOS, VOID, XSD, is_ours
from idais_kg.sources.untrusted import Limits, iri_flaw, read_bounded

REQUIRED = ("subject_id", "subject_label", "predicate_id", "object_id")
# SSSOM's entity_type values (subject_type column) and the class each stands for; a CURIE or IRI also works.
ENTITY_TYPES = {
    "owl class": OWL + "Class",
    "owl named individual": OWL + "NamedIndividual",
    "skos concept": SKOS + "Concept",
    "rdfs resource": RDFS + "Resource",
    "rdfs class": RDFS + "Class",
}
SUFFIXES = {".tsv": "\t", ".csv": ","}


def is_table(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def read_table(
    path: Path, graph: str, *, limits: Limits | None = None, data: bytes | None = None
) -> list[ox.Quad]:
    """Read a SSSOM TSV (``.tsv``) or partner CSV (``.csv``) file (or its ``data``, already read) into quads of
    ``graph``."""
    limits = limits or Limits()
    data = read_bounded(path, limits.max_bytes) if data is None else data
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(path, f"not UTF-8 text: {exc.reason}") from None
    lines = text.splitlines(keepends=True)
    header_lines = 0
    while header_lines < len(lines) and lines[header_lines].startswith("#"):
        header_lines += 1
    meta = _metadata(path, "".join(line[1:] for line in lines[:header_lines]))
    prefixes = dict(PREFIXES)
    curie_map = meta.get("curie_map") or {}
    if not isinstance(curie_map, dict):
        raise TableError(path, "curie_map must map prefixes to IRIs", 1)
    prefixes.update({str(k): str(v) for k, v in curie_map.items()})
    target = ox.NamedNode(graph)
    quads = [ox.Quad(s, p, o, target) for s, p, o in _dataset_triples(path, meta, prefixes)]
    _allow_cells_of(limits.max_literal)
    rows = csv.DictReader(io.StringIO("".join(lines[header_lines:])), delimiter=SUFFIXES[path.suffix.lower()])
    done = 0  # the lines of the table read so far (a quoted cell may span lines)
    try:
        missing = [c for c in REQUIRED if c not in (rows.fieldnames or [])]
        if missing:
            raise TableError(path, f"missing column(s): {', '.join(missing)}", header_lines + 1)
        done = rows.line_num
        for row in rows:
            number, done = header_lines + done + 1, rows.line_num
            quads += [
                ox.Quad(s, p, o, target) for s, p, o in _row_triples(path, number, row, prefixes, limits)
            ]
    except csv.Error as exc:
        raise TableError(path, _csv_problem(exc, limits), header_lines + done + 1) from None
    return quads


def _allow_cells_of(size: int) -> None:
    """Let the csv module read cells up to ``size`` characters (its default limit is 131,072), so that a cell is
    bounded by the input limit (``Limits.max_literal``), checked in :func:`_row_triples`. The csv limit is global
    to the process; it is only ever raised here, never lowered, so no other reader of CSV is refused anything."""
    if csv.field_size_limit() < size:
        csv.field_size_limit(size)  # (cells of up to this many characters are read)


def _csv_problem(exc: csv.Error, limits: Limits) -> str:
    """A csv module error as a message about the table (the one it raises on a long cell names its own limit)."""
    if "field larger than field limit" in str(exc):
        return f"a cell longer than the limit of {limits.max_literal} characters"
    return f"not a well-formed table: {exc}"


def _metadata(path: Path, header: str) -> dict[str, Any]:
    if not header.strip():
        return {}
    try:
        meta = yaml.safe_load(header)
    except yaml.YAMLError as exc:
        line = exc.problem_mark.line + 1 if getattr(exc, "problem_mark", None) else None  # type: ignore[attr-defined]
        raise TableError(path, f"metadata header is not YAML: {exc}", line) from None
    if not isinstance(meta, dict):
        raise TableError(path, "metadata header must be a YAML mapping", 1)
    return meta


def _iri(path: Path, line: int | None, value: str, prefixes: dict[str, str], column: str) -> ox.NamedNode:
    value = value.strip()
    prefix, sep, local = value.partition(":")
    if sep and prefix in prefixes and not local.startswith("//"):
        value = prefixes[prefix] + local
    flaw = iri_flaw(value)
    if flaw == "not an IRI or known prefixed name":
        raise TableError(path, f"{column}: not an IRI or known CURIE: {value!r}", line)
    if flaw is not None:
        raise TableError(path, f"{column}: {flaw}: {value!r}", line)
    return ox.NamedNode(value)


def _dataset_triples(
    path: Path, meta: dict[str, Any], prefixes: dict[str, str]
) -> Iterator[tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal]]:
    """The dataset description a table's header gives (mapping_set_id names the dataset)."""
    if "mapping_set_id" not in meta:
        return
    dataset = _iri(path, None, str(meta["mapping_set_id"]), prefixes, "mapping_set_id")
    yield dataset, ox.NamedNode(RDF + "type"), ox.NamedNode(VOID + "Dataset")
    if meta.get("mapping_set_title"):
        yield dataset, ox.NamedNode(DCTERMS + "title"), ox.Literal(str(meta["mapping_set_title"]))
    if meta.get("license"):
        yield (
            dataset,
            ox.NamedNode(DCTERMS + "license"),
            _iri(path, None, str(meta["license"]), prefixes, "license"),
        )
    creators = meta.get("creator_id") or []
    for creator in creators if isinstance(creators, list) else [creators]:
        agent = _iri(path, None, str(creator), prefixes, "creator_id")
        yield dataset, ox.NamedNode(DCTERMS + "publisher"), agent
        yield dataset, ox.NamedNode(DCAT + "contactPoint"), agent  # SSSOM has no contact: the creator answers
    if meta.get("publication_date"):
        date = str(meta["publication_date"])
        yield dataset, ox.NamedNode(DCTERMS + "issued"), ox.Literal(date, datatype=ox.NamedNode(XSD + "date"))


def _row_triples(
    path: Path, line: int, row: dict[str, Any], prefixes: dict[str, str], limits: Limits
) -> Iterable[tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal]]:
    for column, cell in row.items():
        if column is None:
            raise TableError(path, "a row with more cells than columns", line)
        if isinstance(cell, str) and len(cell) > limits.max_literal:
            raise TableError(
                path, f"{column}: a cell longer than the limit of {limits.max_literal} characters", line
            )
    subject = _iri(path, line, row["subject_id"] or "", prefixes, "subject_id")
    if is_ours(subject.value):
        raise TableError(
            path, f"subject_id {subject.value} is in the IDAIS namespace: describe your own", line
        )
    out: list[tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal]] = [
        (
            subject,
            _iri(path, line, row["predicate_id"] or "", prefixes, "predicate_id"),
            _iri(path, line, row["object_id"] or "", prefixes, "object_id"),
        )
    ]
    if row.get("subject_label"):
        out.append((subject, ox.NamedNode(RDFS + "label"), ox.Literal(row["subject_label"])))
    kind = (row.get("subject_type") or "").strip()
    if kind:
        cls = ENTITY_TYPES.get(kind.lower()) or _iri(path, line, kind, prefixes, "subject_type").value
        out.append((subject, ox.NamedNode(RDF + "type"), ox.NamedNode(cls)))
    if row.get("comment"):
        out.append((subject, ox.NamedNode(RDFS + "comment"), ox.Literal(row["comment"])))
    return out
