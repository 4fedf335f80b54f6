"""``idais-kg build``: assemble the dataset and write the dumps and the dataset description.

Everything is parsed and serialised in memory first; each dump is then written to a temporary file and renamed
over the old one, so a failure leaves the previous dumps intact.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import rdflib

from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.dataset.entailment import materialise
from idais_kg.namespaces import GRAPH_DESCRIPTION, PREFIXES, jsonld_context
from idais_kg.sources.layout import Layout

DUMP_NAME = "idais-kg"
DUMP_MODE = 0o644  # world-readable, like any published file
# file suffix -> store format; triple formats hold the union of all graphs, quad formats keep the named graphs
DUMPS = {".ttl": "turtle", ".nt": "ntriples", ".rdf": "rdfxml", ".trig": "trig", ".nq": "nquads"}


@dataclass
class BuildReport:
    """What one ``idais-kg build`` wrote: the dump files, the distinct triples, the triples per graph."""

    out_dir: Path
    files: list[Path]
    triples: int
    graphs: dict[str, int]


def serialise_all(kg: KnowledgeGraph) -> dict[str, bytes]:
    """Every dump by file name, serialised in memory: each store format, JSON-LD and its context, void.ttl."""
    prefixes = dict(PREFIXES)
    out = {DUMP_NAME + suffix: kg.store.serialize(fmt, prefixes=prefixes) for suffix, fmt in DUMPS.items()}
    union = rdflib.Graph()
    union.parse(data=out[DUMP_NAME + ".nt"], format="nt")
    context = jsonld_context()
    out[DUMP_NAME + ".jsonld"] = union.serialize(format="json-ld", context=context["@context"]).encode()
    out["context.jsonld"] = json.dumps(context, indent=2).encode()
    out["void.ttl"] = kg.store.serialize("turtle", graph=GRAPH_DESCRIPTION, prefixes=prefixes)
    return out


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``, so that a reader sees
    the old file or the new one, never half of one.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(
            tmp, DUMP_MODE
        )  # (mkstemp makes 0600: a web server running as another user could not serve it)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compressed(payloads: dict[str, bytes]) -> dict[str, bytes]:
    """A gzipped copy of each dump (not of the context or the description), made reproducibly (no name, no time
    in the gzip header), so that the same dataset gives the same bytes.

    >>> gzip.decompress(compressed({"idais-kg.nt": b"x"})["idais-kg.nt.gz"])
    b'x'
    """
    return {
        name + ".gz": gzip.compress(data, compresslevel=9, mtime=0)
        for name, data in payloads.items()
        if name.startswith(DUMP_NAME + ".")
    }


def checksums(payloads: dict[str, bytes]) -> bytes:
    """``SHA256SUMS`` in the format ``sha256sum -c`` reads: one ``<hex>  <name>`` line per file, sorted.

    (The sizes and checksums live here, not in the DCAT description: the description is inside the dumps.)
    """
    lines = [f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(payloads.items())]
    return "".join(lines).encode("ascii")


def build(layout: Layout | None = None, out_dir: Path | None = None, infer: bool = False) -> BuildReport:
    """Write the dumps; with ``infer``, the dataset also holds kg:graph/inferred (see idais_kg.dataset.entailment)."""
    layout = layout or Layout.default()
    kg = load(layout)
    if infer:
        materialise(kg.store)
    payloads = serialise_all(kg)
    target = out_dir or layout.build_dir / "dumps"
    target.mkdir(parents=True, exist_ok=True)
    payloads |= compressed(payloads)
    payloads["SHA256SUMS"] = checksums(payloads)
    written = []
    for name, data in payloads.items():
        write_atomically(target / name, data)
        written.append(target / name)
    graphs = {g: sum(1 for _ in kg.store.quads(g)) for g in kg.store.graphs()}
    triples = len({(q.subject, q.predicate, q.object) for q in kg.store.quads()})
    return BuildReport(target, written, triples, graphs)
