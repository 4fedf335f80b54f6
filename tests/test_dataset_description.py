"""Our own dataset description (data/dataset.ttl and what the build adds): DCAT 3 / DCAT-AP as we ask of partners,
an honest rights statement, and sizes and checksums of the dumps beside them.

The partner shapes skip resources in our namespace, so the description is checked with the dataset's IRI renamed to
one outside it: the same rules, applied to our own metadata.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyoxigraph as ox
import pytest

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.dataset.dumps import build
from idais_kg.namespaces import DATASET_IRI, GRAPH_DESCRIPTION, KG

ROOT = Path(__file__).resolve().parents[1]
RENAMED = "https://example.org/self-check/dataset"
DATASET_RULES = {
    "PartnerDatasetPublisher",
    "PartnerDatasetLicense",
    "PartnerDatasetContact",
    "PartnerDatasetDate",
    "PartnerDatasetDateType",
    "PartnerContactKind",
}
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
IANA = "https://www.iana.org/assignments/media-types/"


def description(kg: KnowledgeGraph) -> list[ox.Quad]:
    return list(kg.store.quads(GRAPH_DESCRIPTION))


def objects(kg: KnowledgeGraph, subject: str, predicate: str) -> set[str]:
    node = ox.NamedNode(subject)
    return {q.object.value for q in description(kg) if q.subject == node and q.predicate.value == predicate}


def test_the_description_passes_the_partner_dataset_rules(kg: KnowledgeGraph, tmp_path: Path) -> None:
    from idais_kg.partners.check import check

    renamed = [
        ox.Triple(
            ox.NamedNode(RENAMED) if q.subject.value == DATASET_IRI else q.subject,
            q.predicate,
            q.object,
        )
        for q in description(kg)
    ]
    path = tmp_path / "self.ttl"
    path.write_bytes(ox.serialize(renamed, format=ox.RdfFormat.TURTLE))
    report = check(path, kg)
    rules_seen = {f.shape.rsplit("#", 1)[-1] for f in report.findings}
    assert not rules_seen & DATASET_RULES, [f.message for f in report.findings]
    assert report.triples > 60


def test_the_licence_is_given_only_for_what_is_ours(kg: KnowledgeGraph) -> None:
    # The whole dataset holds the guide's own text, whose licence the source does not state: no licence IRI on it.
    assert objects(kg, DATASET_IRI, DCTERMS + "license") == set()
    assert objects(kg, DATASET_IRI, DCTERMS + "rights") == {KG + "dataset/rights"}
    statement = objects(kg, KG + "dataset/rights", "http://www.w3.org/2000/01/rdf-schema#label")
    assert len(statement) == 2 and all("IDAIS" in s and "CC BY 4.0" in s for s in statement)
    assert objects(kg, KG + "dataset/distribution/ontology", DCTERMS + "license") == {CC_BY}
    for ext in ("ttl", "nt", "jsonld", "rdf", "trig", "nq"):
        dist = KG + f"dataset/distribution/{ext}"
        assert objects(kg, dist, DCTERMS + "license") == set()
        assert objects(kg, dist, DCTERMS + "rights") == {KG + "dataset/rights"}
        assert objects(kg, dist + ".gz", DCAT + "compressFormat") == {IANA + "application/gzip"}


def test_media_types_languages_and_agents_are_iris(kg: KnowledgeGraph) -> None:
    assert objects(kg, KG + "dataset/distribution/nt", DCAT + "mediaType") == {IANA + "application/n-triples"}
    assert objects(kg, DATASET_IRI, DCTERMS + "language") == {
        "http://publications.europa.eu/resource/authority/language/ZHO",
        "http://publications.europa.eu/resource/authority/language/ENG",
    }
    assert objects(kg, DATASET_IRI, DCTERMS + "publisher") == {KG + "agent/editors"}
    assert objects(kg, DATASET_IRI, DCAT + "contactPoint") == {KG + "agent/editors#contact"}
    issued = [
        q.object
        for q in description(kg)
        if q.subject.value == DATASET_IRI and q.predicate.value == DCTERMS + "issued"
    ]
    assert [(i.value, i.datatype.value) for i in issued] == [
        ("2026-12-01", "http://www.w3.org/2001/XMLSchema#date")
    ]


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dumps")
    build(out_dir=out)
    return out


def test_sizes_and_checksums_of_every_dump_in_dcat(dumps: Path) -> None:
    sizes: dict[str, tuple[int, str]] = {}
    graph = list(ox.parse(path=str(dumps / "idais-kg.dcat.ttl")))
    by_subject: dict[str, dict[str, str]] = {}
    for t in graph:
        by_subject.setdefault(t.subject.value, {})[t.predicate.value] = t.object.value
    for subject, values in by_subject.items():
        if DCAT + "byteSize" in values:
            checksum = by_subject[values["http://spdx.org/rdf/terms#checksum"]]
            sizes[subject.rsplit("/", 1)[-1]] = (
                int(values[DCAT + "byteSize"]),
                checksum["http://spdx.org/rdf/terms#checksumValue"],
            )
    files = sorted(
        p.name.removeprefix("idais-kg.") for p in dumps.glob("idais-kg.*") if p.name != "idais-kg.dcat.ttl"
    )
    assert sorted(sizes) == sorted([*files, "mappings-sssom"]) and len(files) == 12
    for name, (size, digest) in sizes.items():
        file = "idais-kg-mappings.sssom.tsv" if name == "mappings-sssom" else f"idais-kg.{name}"
        data = (dumps / file).read_bytes()
        assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert "idais-kg.dcat.ttl" in (dumps / "SHA256SUMS").read_text()
