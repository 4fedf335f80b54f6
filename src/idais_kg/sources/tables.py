"""Mapping tables of partners: SSSOM TSV and the partner CSV layout, read into RDF quads; and what a mapping set in
SSSOM's own RDF form says in the terms the partner shapes ask for.

Why a reader of our own and not sssom-py: ``pip install sssom`` pulls ~98 packages here (pandas, linkml, sphinx,
sqlalchemy, ...), and its reader resolves remote prefix maps. This reads SSSOM 1.0 TSV: the ``#``-prefixed YAML
metadata header (trailing tabs and spaces, as spreadsheets leave them, are ignored), then a tab-separated table
whose columns ``subject_id``, ``predicate_id`` and ``object_id`` are required and every other slot optional. The
partner CSV layout is the same table, comma-separated (README, "Partners").

A table becomes the RDF that ``sssom convert`` (sssom-py) writes for it: the mapping set node (``mapping_set_id``)
``a sssom:MappingSet`` with its metadata slots (``dcterms:title``, ``dcterms:license``, ``dcterms:creator``,
``dcterms:issued``, ``dcterms:created`` for a set-wide ``mapping_date``, ...), and one reified ``owl:Axiom`` per
row (``owl:annotatedSource``/``annotatedProperty``/``annotatedTarget`` and the row's slots: ``sssom:confidence``,
``sssom:mapping_justification``, ``pav:authoredBy``, ``rdfs:comment``, ...), linked from the set by
``sssom:mappings``. :func:`derived_triples` then adds, for that form from a table or from an RDF file alike, what
our shapes read: the direct ``subject predicate object`` triple of each mapping that is not negated, the subject's
``rdfs:label`` and ``rdf:type`` (from ``subject_label``/``subject_type``, of the row or the set), and the set as a
``void:Dataset`` whose creators are its ``dcterms:publisher`` and ``dcat:contactPoint`` (SSSOM has no contact
slot: the creator answers; a ``creator_label`` without ``creator_id`` is a blank-node ``foaf:Agent``).

Every cell is a value, never a formula: labels and comments become plain literals exactly as written (a cell that
starts with ``=`` stays that text). Identifier cells must be an IRI (``http(s)://``, ``urn:``, ``mailto:``) or a
CURIE whose prefix is in the header's ``curie_map``, SSSOM's built-in prefixes or ours; anything else is a
TableError with its line (an unknown prefix is not taken for an IRI scheme).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from idais_kg.errors import TableError
from idais_kg.namespaces import (
    DCTERMS,
    OWL,
    PAV,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SEMAPV,
    SKOS,
    SSSOM,
    XSD,
    is_ours,
)
from idais_kg.sources.sssom_rdf import AXIOM, MAPPING_SET, MAPPINGS, TYPE, Triple, derived_triples
from idais_kg.sources.untrusted import Limits, iri_flaw, read_bounded

BUILT_IN = {"sssom": SSSOM, "owl": OWL, "rdf": RDF, "rdfs": RDFS, "skos": SKOS, "semapv": SEMAPV}
SCHEMES = ("urn", "mailto")  # IRI schemes without "//" that a cell may use as they are

REQUIRED = ("subject_id", "predicate_id", "object_id")
# SSSOM's entity_type_enum, with the meaning the SSSOM schema gives each value; a CURIE or IRI also works.
ENTITY_TYPES = {
    "owl class": OWL + "Class",
    "owl object property": OWL + "ObjectProperty",
    "owl data property": OWL + "DataProperty",
    "owl annotation property": OWL + "AnnotationProperty",
    "owl named individual": OWL + "NamedIndividual",
    "skos concept": SKOS + "Concept",
    "rdfs resource": RDFS + "Resource",
    "rdfs class": RDFS + "Class",
    "rdfs literal": RDFS + "Literal",
    "rdfs datatype": RDFS + "Datatype",
    "rdf property": RDF + "Property",
    "composed entity expression": SSSOM + "ComposedEntityExpression",
}
MODIFIERS = {"Not": SSSOM + "NegatedPredicate"}
# The slots of SSSOM 1.0 (sssom_schema.yaml) and how each is written in RDF: (property, kind, multivalued).
# A slot without a slot_uri is sssom:<name>. Kinds: ref (CURIE or IRI), str, double, date, type, modifier.
_S = SSSOM
SLOTS: dict[str, tuple[str, str, bool]] = {
    "subject_label": (_S + "subject_label", "str", False),
    "subject_category": (_S + "subject_category", "str", False),
    "subject_type": (_S + "subject_type", "type", False),
    "predicate_modifier": (_S + "predicate_modifier", "modifier", False),
    "predicate_label": (_S + "predicate_label", "str", False),
    "predicate_type": (_S + "predicate_type", "type", False),
    "object_label": (_S + "object_label", "str", False),
    "object_category": (_S + "object_category", "str", False),
    "object_type": (_S + "object_type", "type", False),
    "mapping_justification": (_S + "mapping_justification", "ref", False),
    "mapping_set_version": (OWL + "versionInfo", "str", False),
    "mapping_set_title": (DCTERMS + "title", "str", False),
    "mapping_set_description": (DCTERMS + "description", "str", False),
    "mapping_set_confidence": (_S + "mapping_set_confidence", "double", False),
    "mapping_set_source": (PROV + "wasDerivedFrom", "ref", True),
    "creator_id": (DCTERMS + "creator", "ref", True),
    "creator_label": (_S + "creator_label", "str", True),
    "author_id": (PAV + "authoredBy", "ref", True),
    "author_label": (_S + "author_label", "str", True),
    "reviewer_id": (_S + "reviewer_id", "ref", True),
    "reviewer_label": (_S + "reviewer_label", "str", True),
    "license": (DCTERMS + "license", "ref", False),
    "subject_source": (_S + "subject_source", "ref", False),
    "subject_source_version": (_S + "subject_source_version", "str", False),
    "object_source": (_S + "object_source", "ref", False),
    "object_source_version": (_S + "object_source_version", "str", False),
    "mapping_provider": (_S + "mapping_provider", "ref", False),
    "mapping_source": (_S + "mapping_source", "ref", False),
    "mapping_cardinality": (_S + "mapping_cardinality", "str", False),
    "mapping_tool": (_S + "mapping_tool", "str", False),
    "mapping_tool_id": (_S + "mapping_tool_id", "ref", False),
    "mapping_tool_version": (_S + "mapping_tool_version", "str", False),
    "mapping_date": (DCTERMS + "created", "date", False),
    "publication_date": (DCTERMS + "issued", "date", False),
    "review_date": (_S + "review_date", "date", False),
    "confidence": (_S + "confidence", "double", False),
    "reviewer_agreement": (_S + "reviewer_agreement", "double", False),
    "similarity_score": (_S + "similarity_score", "double", False),
    "similarity_measure": (_S + "similarity_measure", "str", False),
    "match_string": (_S + "match_string", "str", True),
    "curation_rule_text": (_S + "curation_rule_text", "str", True),
    "issue_tracker_item": (_S + "issue_tracker_item", "ref", False),
    "issue_tracker": (_S + "issue_tracker", "ref", False),
    "see_also": (RDFS + "seeAlso", "ref", True),
    "other": (_S + "other", "str", False),
    "comment": (RDFS + "comment", "str", False),
}
SUFFIXES = {".tsv": "\t", ".csv": ","}


def is_table(path: Path) -> bool:
    """Whether ``path`` is a mapping table (SSSOM TSV or partner CSV) by its suffix, rather than RDF."""
    return path.suffix.lower() in SUFFIXES


def read_table(
    path: Path, graph: str, *, limits: Limits | None = None, data: bytes | None = None
) -> list[ox.Quad]:
    """Read a SSSOM TSV (``.tsv``) or partner CSV (``.csv``) file (or its ``data``, already read) into quads of
    ``graph``: SSSOM's RDF form of it, and the :func:`derived_triples`."""
    triples = table_triples(path, limits=limits, data=data)
    triples += derived_triples(triples, every_axiom=True)
    target = ox.NamedNode(graph)
    return [ox.Quad(s, p, o, target) for s, p, o in triples]


def table_triples(
    path: Path, *, limits: Limits | None = None, data: bytes | None = None, ours: bool = False
) -> list[Triple]:
    """SSSOM's RDF form of a mapping table, as :func:`read_table` reads it (without the derived triples). A
    partner's table may not describe our resources; our own (``ours``: data/mappings/) map exactly those."""
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
    meta = _metadata(path, "".join(line[1:].rstrip() + "\n" for line in lines[:header_lines]))
    prefixes = {**PREFIXES, **BUILT_IN}
    curie_map = meta.get("curie_map") or {}
    if not isinstance(curie_map, dict):
        raise TableError(path, "curie_map must map prefixes to IRIs", 1)
    prefixes.update({str(k): str(v) for k, v in curie_map.items()})
    cells = _Cells(path, prefixes, limits)
    dataset = (
        cells.iri(None, str(meta["mapping_set_id"]), "mapping_set_id") if "mapping_set_id" in meta else None
    )
    triples: list[Triple] = list(_set_triples(cells, meta, dataset)) if dataset is not None else []
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
            triples += _row_triples(cells, number, row, dataset, ours)
    except csv.Error as exc:
        raise TableError(path, _csv_problem(exc, limits), header_lines + done + 1) from None
    return triples


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


class _Cells:
    """The cells of one table as RDF terms, by the kind of their slot; errors name the file, line and column."""

    def __init__(self, path: Path, prefixes: dict[str, str], limits: Limits) -> None:
        self.path, self.prefixes, self.limits = path, prefixes, limits

    def iri(self, line: int | None, value: str, column: str) -> ox.NamedNode:
        """The IRI a cell names, in full or as a CURIE of the file's curie_map; else TableError.

        >>> cells = _Cells(Path("t.tsv"), {"ex": "https://example.org/"}, Limits())
        >>> cells.iri(2, "ex:a", "subject_id").value
        'https://example.org/a'
        >>> cells.iri(2, "foo:bar", "object_id")
        Traceback (most recent call last):
        idais_kg.errors.TableError: t.tsv:2: object_id: 'foo:bar': the prefix 'foo' is not in the curie_map
        """
        value = value.strip()
        prefix, sep, local = value.partition(":")
        if sep and prefix in self.prefixes and not local.startswith("//"):
            value = self.prefixes[prefix] + local
        elif sep and not local.startswith("//") and prefix.lower() not in SCHEMES:
            raise TableError(
                self.path, f"{column}: {value!r}: the prefix {prefix!r} is not in the curie_map", line
            )
        flaw = iri_flaw(value)
        if flaw == "not an IRI or known prefixed name":
            raise TableError(self.path, f"{column}: not an IRI or known CURIE: {value!r}", line)
        if flaw is not None:
            raise TableError(self.path, f"{column}: {flaw}: {value!r}", line)
        return ox.NamedNode(value)

    def terms(self, line: int | None, slot: str, cell: object) -> list[ox.NamedNode | ox.Literal]:
        """The RDF terms of one slot's cell (a ``|``-separated cell or a YAML list for a multivalued slot)."""
        _, kind, multi = SLOTS[slot]
        if isinstance(cell, list):
            values = [str(v) for v in cell]
        else:
            text = str(cell)
            values = text.split("|") if multi else [text]
        out: list[ox.NamedNode | ox.Literal] = []
        for value in values:
            value = value.strip() if kind != "str" else value
            if not value:
                continue
            if kind == "ref":
                out.append(self.iri(line, value, slot))
            elif kind == "type":
                known = ENTITY_TYPES.get(value.lower())
                out.append(ox.NamedNode(known) if known else self.iri(line, value, slot))
            elif kind == "modifier":
                if value not in MODIFIERS:
                    raise TableError(self.path, f"{slot}: {value!r} is not one of {sorted(MODIFIERS)}", line)
                out.append(ox.NamedNode(MODIFIERS[value]))
            elif kind == "double":
                try:
                    float(value)
                except ValueError:
                    raise TableError(self.path, f"{slot}: not a number: {value!r}", line) from None
                out.append(ox.Literal(value, datatype=ox.NamedNode(XSD + "double")))
            elif kind == "date":
                try:
                    datetime.date.fromisoformat(value)
                except ValueError:
                    raise TableError(self.path, f"{slot}: not a date (YYYY-MM-DD): {value!r}", line) from None
                out.append(ox.Literal(value, datatype=ox.NamedNode(XSD + "date")))
            else:
                out.append(ox.Literal(value))
        return out


def _set_triples(cells: _Cells, meta: dict[str, Any], dataset: ox.NamedNode) -> Iterator[Triple]:
    """The mapping set node and the slots of the header (a propagatable slot stays on the set, as sssom-py
    writes it; :func:`derived_triples` applies a set-wide subject_type to every subject)."""
    yield dataset, TYPE, MAPPING_SET
    for slot, value in meta.items():
        if slot in SLOTS and value is not None:
            predicate = ox.NamedNode(SLOTS[slot][0])
            yield from ((dataset, predicate, o) for o in cells.terms(None, slot, value))


def _row_triples(
    cells: _Cells, line: int, row: dict[str | None, Any], dataset: ox.NamedNode | None, ours: bool = False
) -> list[Triple]:
    """One row as a reified owl:Axiom (a blank node) with its slots, linked from the set by sssom:mappings."""
    for column, cell in row.items():
        if column is None:
            # (cells past the header's columns: only empty ones, trailing tabs, are fine)
            if any(c.strip() for c in cell):
                raise TableError(cells.path, "a row with more cells than columns", line)
            continue
        if isinstance(cell, str) and len(cell) > cells.limits.max_literal:
            raise TableError(
                cells.path,
                f"{column}: a cell longer than the limit of {cells.limits.max_literal} characters",
                line,
            )
    subject = cells.iri(line, row["subject_id"] or "", "subject_id")
    if is_ours(subject.value) and not ours:
        raise TableError(
            cells.path, f"subject_id {subject.value} is in the IDAIS namespace: describe your own", line
        )
    axiom = ox.BlankNode()
    out: list[Triple] = [
        (axiom, TYPE, AXIOM),
        (axiom, ox.NamedNode(OWL + "annotatedSource"), subject),
        (
            axiom,
            ox.NamedNode(OWL + "annotatedProperty"),
            cells.iri(line, row["predicate_id"] or "", "predicate_id"),
        ),
        (axiom, ox.NamedNode(OWL + "annotatedTarget"), cells.iri(line, row["object_id"] or "", "object_id")),
    ]
    if dataset is not None:
        out.append((dataset, MAPPINGS, axiom))
    for column, cell in row.items():
        if column in SLOTS and cell:
            predicate = ox.NamedNode(SLOTS[column][0])
            out += [(axiom, predicate, o) for o in cells.terms(line, column, cell)]
    return out
