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

import pyoxigraph as ox
import rdflib

from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.dataset.mappings import sssom_dump
from idais_kg.namespaces import DATASET_IRI, DCAT, GRAPH_DESCRIPTION, PREFIXES, XSD, jsonld_context
from idais_kg.sources.layout import Layout

DUMP_NAME = "idais-kg"
MAPPINGS_NAME = DUMP_NAME + "-mappings.sssom.tsv"
DUMP_MODE = 0o644  # world-readable, like any published file
# file suffix -> store format; triple formats hold the union of all graphs, quad formats keep the named graphs
XSD_COUNT = ox.NamedNode(XSD + "nonNegativeInteger")  # the range DCAT 3 gives dcat:byteSize
XSD_HEX = ox.NamedNode(XSD + "hexBinary")
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
    out[MAPPINGS_NAME] = sssom_dump(kg.layout.data_dir)  # our mapping sets, for SSSOM tools
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

    (The sizes and checksums are also in ``idais-kg.dcat.ttl``, in DCAT terms; neither can be in the dumps' own description.)
    """
    lines = [f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(payloads.items())]
    return "".join(lines).encode("ascii")


SIZES_NAME = DUMP_NAME + ".dcat.ttl"
SPDX = "http://spdx.org/rdf/terms#"


def distribution_sizes(payloads: dict[str, bytes]) -> bytes:
    """The byte size and sha256 of each dump as DCAT 3 says them (``dcat:byteSize``, ``spdx:checksum``), on the
    distribution IRIs of data/dataset.ttl (``kg:dataset/distribution/ttl``, ``…/ttl.gz``, …).

    A file of its own, beside the dumps, because a description inside a dump cannot hold that dump's own hash.
    """
    quads = []
    for name, data in sorted(payloads.items()):
        if name.startswith(DUMP_NAME + "."):
            slug = name.removeprefix(DUMP_NAME + ".")
        elif name == MAPPINGS_NAME:
            slug = "mappings-sssom"
        else:
            continue
        distribution = ox.NamedNode(DATASET_IRI + "/distribution/" + slug)
        checksum = ox.NamedNode(distribution.value + "#sha256")  # an IRI, so the file is reproducible
        quads += [
            ox.Quad(
                distribution,
                ox.NamedNode(DCAT + "byteSize"),
                ox.Literal(str(len(data)), datatype=XSD_COUNT),
            ),
            ox.Quad(distribution, ox.NamedNode(SPDX + "checksum"), checksum),
            ox.Quad(
                checksum, ox.NamedNode(SPDX + "algorithm"), ox.NamedNode(SPDX + "checksumAlgorithm_sha256")
            ),
            ox.Quad(
                checksum,
                ox.NamedNode(SPDX + "checksumValue"),
                ox.Literal(hashlib.sha256(data).hexdigest(), datatype=XSD_HEX),
            ),
        ]
    turtle = ox.serialize(
        quads, format=ox.RdfFormat.TURTLE, prefixes={"dcat": DCAT, "spdx": SPDX, "xsd": XSD}
    )
    return turtle or b""  # (serialize gives None only when handed an output file)


def build(layout: Layout | None = None, out_dir: Path | None = None, infer: bool = True) -> BuildReport:
    """Write the dumps; with ``infer`` (the default, as in :func:`load`) they hold kg:graph/inferred (see
    idais_kg.dataset.entailment), without it only what the sources assert and the construct queries derive."""
    layout = layout or Layout.default()
    kg = load(layout, infer=infer)
    payloads = serialise_all(kg)
    target = out_dir or layout.build_dir / "dumps"
    target.mkdir(parents=True, exist_ok=True)
    payloads |= compressed(payloads)
    payloads[SIZES_NAME] = distribution_sizes(payloads)
    payloads["SHA256SUMS"] = checksums(payloads)
    written = []
    for name, data in payloads.items():
        write_atomically(target / name, data)
        written.append(target / name)
    graphs = {g: sum(1 for _ in kg.store.quads(g)) for g in kg.store.graphs()}
    triples = len({(q.subject, q.predicate, q.object) for q in kg.store.quads()})
    return BuildReport(target, written, triples, graphs)
