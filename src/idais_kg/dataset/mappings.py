"""Our mappings to outside vocabularies (data/mappings/*.sssom.tsv) and the extract of their targets
(data/vocab-extract/*.ttl), as the named graphs of the dataset, and the mapping sets as one SSSOM TSV dump.

A mapping set is read by the project's SSSOM table reader (:func:`idais_kg.sources.tables.table_triples`, which
refuses our subjects in a partner's table, not in ours) into SSSOM's RDF form: the set ``a sssom:MappingSet``
and one reified ``owl:Axiom`` per row with its justification, confidence, author, date and comment. Beside it,
the graph https://w3id.org/idais-kg/id/graph/mappings holds the direct ``skos:*Match`` triple of each mapping, so
that a query can follow ``goal:x skos:closeMatch ?term`` without the reification. A ``sssom:NoTermFound`` row
(the subject has no counterpart in the vocabulary its ``object_source`` names) stays as its axiom only: it
makes no match triple, and it says that the subject was considered, so coverage can be counted honestly.

The extract (labels, types, definitions and the licence notice of each mapped term's vocabulary, made by
``python -m idais_kg.devtools.vocab_extract``) goes into https://w3id.org/idais-kg/id/graph/vocabularies: it is
the vocabularies' text, not ours, and keeps their licences.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from idais_kg.errors import TableError
from idais_kg.namespaces import (
    GRAPH_MAPPINGS,
    GRAPH_VOCABULARIES,
    MAPPING_SET_BASE,
    OWL,
    SKOS,
    SSSOM,
)
from idais_kg.sources.sssom_rdf import AXIOM, TYPE, Triple
from idais_kg.sources.tables import table_triples
from idais_kg.store import parse_file

MATCHES = frozenset(
    SKOS + n for n in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
)
NO_TERM_FOUND = SSSOM + "NoTermFound"
NEGATED = ox.NamedNode(SSSOM + "NegatedPredicate")
DUMP_SET_ID = MAPPING_SET_BASE + "all"  # the mapping_set_id of the dump that holds every set
DUMP_TITLE = "All reviewed mappings of the IDAIS Policy Guide knowledge graph"
DUMP_DESCRIPTION = (
    "The union of the mapping sets of data/mappings/ (one per target vocabulary): reviewed mappings from the"
    " goals, potential policies, red lines, jurisdictions, organisations and instruments of the IDAIS Policy"
    " Guide to DPV, its AI, risk, location, legal and EU AI Act extensions, AIRO and VAIR; editorial claims"
    " of the idais-kg editors."
)


def mapping_files(data_dir: Path) -> list[Path]:
    """Our mapping sets (``data/mappings/*.sssom.tsv``), in a fixed order."""
    return sorted((data_dir / "mappings").glob("*.sssom.tsv"))


def extract_files(data_dir: Path) -> list[Path]:
    """The extract of the mapped terms (``data/vocab-extract/*.ttl``), in a fixed order."""
    return sorted((data_dir / "vocab-extract").glob("*.ttl"))


def files(data_dir: Path) -> list[Path]:
    """Every source file this module loads."""
    return mapping_files(data_dir) + extract_files(data_dir)


def direct_matches(triples: list[Triple]) -> list[Triple]:
    """The ``subject skos:*Match object`` triple of each reified mapping in ``triples`` that is a match to a
    term: not a ``sssom:NoTermFound`` row, not negated (``predicate_modifier: Not``), a SKOS mapping property."""
    about: dict[Any, dict[str, list[Any]]] = {}
    for s, p, o in triples:
        about.setdefault(s, {}).setdefault(p.value, []).append(o)
    out: list[Triple] = []
    for props in about.values():
        if AXIOM not in props.get(TYPE.value, []) or NEGATED in props.get(SSSOM + "predicate_modifier", []):
            continue
        (subject,), (predicate,), (target,) = (
            props[OWL + n] for n in ("annotatedSource", "annotatedProperty", "annotatedTarget")
        )
        if predicate.value in MATCHES and isinstance(target, ox.NamedNode) and target.value != NO_TERM_FOUND:
            out.append((subject, predicate, target))
    return out


def mapping_set_quads(path: Path) -> list[ox.Quad]:
    """One of our mapping sets as quads of the mappings graph: SSSOM's RDF form and the direct matches."""
    triples = table_triples(path, ours=True)
    graph = ox.NamedNode(GRAPH_MAPPINGS)
    return [ox.Quad(s, p, o, graph) for s, p, o in triples + direct_matches(triples)]


def quads(data_dir: Path) -> list[ox.Quad]:
    """The mappings graph (every set of data/mappings/) and the vocabularies graph (data/vocab-extract/)."""
    out: list[ox.Quad] = []
    for path in mapping_files(data_dir):
        out += mapping_set_quads(path)
    for path in extract_files(data_dir):
        out += parse_file(path, GRAPH_VOCABULARIES)
    return out


def read_parts(path: Path) -> tuple[dict[str, Any], list[str], list[dict[str, str]]]:
    """A mapping table's metadata block, its columns and its rows as text (for the dump); TableError if the
    block is not a YAML mapping."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    n = 0
    while n < len(lines) and lines[n].startswith("#"):
        n += 1
    try:
        meta = yaml.safe_load("".join(line[1:] for line in lines[:n])) or {}
    except yaml.YAMLError as exc:
        raise TableError(path, f"metadata header is not YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise TableError(path, "metadata header must be a YAML mapping", 1)
    rows = csv.DictReader(io.StringIO("".join(lines[n:])), delimiter="\t")
    body = [{k: v for k, v in row.items() if k is not None} for row in rows]
    return meta, list(rows.fieldnames or []), body


def sssom_dump(data_dir: Path) -> bytes:
    """Every mapping set of data/mappings/ as one SSSOM TSV (``idais-kg-mappings.sssom.tsv``): one set with the
    union of the curie_maps, the columns in their first order and every row; the sets must agree on their
    licence, creators and date (one curation), else TableError."""
    curie_map: dict[str, str] = {}
    columns: list[str] = []
    rows: list[dict[str, str]] = []
    shared: dict[str, tuple[Path, object]] = {}
    for path in mapping_files(data_dir):
        meta, cols, body = read_parts(path)
        for prefix, iri in (meta.get("curie_map") or {}).items():
            if curie_map.setdefault(str(prefix), str(iri)) != str(iri):
                raise TableError(
                    path, f"curie_map: {prefix!r} is {iri!r} here, {curie_map[prefix]!r} elsewhere"
                )
        for slot in ("license", "creator_id", "mapping_date"):
            first = shared.setdefault(slot, (path, meta.get(slot)))
            if first[1] != meta.get(slot):
                raise TableError(
                    path, f"{slot} differs from that of {first[0].name}: one dump needs one value"
                )
        columns += [c for c in cols if c not in columns]
        rows += body
    meta_out: dict[str, Any] = {"curie_map": curie_map, "mapping_set_id": DUMP_SET_ID}
    meta_out |= {"mapping_set_title": DUMP_TITLE, "mapping_set_description": DUMP_DESCRIPTION}
    meta_out |= {slot: value for slot, (_, value) in shared.items() if value is not None}
    header = yaml.safe_dump(meta_out, sort_keys=False, allow_unicode=True, width=100_000)
    text = io.StringIO()
    text.write("".join(f"# {line}\n" for line in header.splitlines()))
    writer = csv.DictWriter(text, columns, delimiter="\t", lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")
