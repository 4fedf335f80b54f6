"""A second SHACL engine as a cross-check: Apache Jena's SHACL (Debian's libapache-jena-java, which
scripts/setup.sh installs) must give, on every shape case and on the shipped dataset, the same conformance and the
same (focus, path, shape, severity) results as pySHACL and idais_kg.validation.shacl.engine.

All validations run in one JVM (tests/jena/ShaclBatch.java, run by Java's single-file source launcher): a JVM
start costs seconds here. Debian's Jena 4.5 fails at start-up as packaged: its relocated Xerces classes
(``xerces.impl…``) look for their message resources under ``xerces/impl/msg/`` while the jar holds them under
``org/apache/jena/ext/xerces/impl/msg/``; a classpath directory with the ``.properties`` files copied to the
relocated place fixes it (``xerces_resources``).
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDF, SH
from test_shacl_engine import case_quads, engine_shapes, keys
from test_shapes import CASES, Result, anonymous, path_key, split_case

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.namespaces import GRAPH_ONTOLOGY
from idais_kg.validation.shacl import engine as shacl_validation

JAVA_DIR = Path("/usr/share/java")
BATCH = Path(__file__).parent / "jena" / "ShaclBatch.java"
SHAPES = sorted((Path(__file__).resolve().parents[1] / "shapes").glob("*.ttl"))
# Jena's jars and the libraries they need, as Debian names them; one SLF4J binding (nop), or SLF4J refuses to start.
JARS = [
    "jena-arq",
    "jena-base",
    "jena-core",
    "jena-iri",
    "jena-shacl",
    "commons-cli",
    "commons-codec",
    "commons-compress",
    "commons-csv",
    "commons-io",
    "commons-lang3",
    "dexx.collection",
    "gson",
    "guava",
    "httpclient",
    "httpcore",
    "jackson-annotations",
    "jackson-core",
    "jackson-databind",
    "jsonld-java",
    "slf4j-api",
    "slf4j-nop",
    "thrift",
    "titanium-json-ld",
    "jakarta.json-api",
    "protobuf",
    "caffeine",
]

# Known differences between Jena and pySHACL, by case id: xfail(strict=True), never filtered out.
KNOWN_DIFFERENCES: dict[str, str] = {}

missing_jena = shutil.which("java") is None or not (JAVA_DIR / "jena-shacl.jar").exists()
pytestmark = pytest.mark.skipif(
    missing_jena,
    reason="Jena's SHACL is not installed (scripts/setup.sh installs libapache-jena-java as root)",
)


def run_batch(work: Path, args: list[str]) -> None:
    """Run ShaclBatch (tests/jena) on Jena's classpath: shapes files, ``--``, then (data, report) file pairs."""
    classpath = [str(JAVA_DIR / f"{j}.jar") for j in JARS if (JAVA_DIR / f"{j}.jar").exists()]
    classpath.append(str(xerces_resources(work / "resources")))
    java = shutil.which("java")
    assert java is not None
    done = subprocess.run(
        [java, "-cp", ":".join(classpath), str(BATCH), *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]


def xerces_resources(into: Path) -> Path:
    """The Xerces message resources of jena-core.jar, where its relocated classes look for them."""
    prefix = "org/apache/jena/ext/xerces/"
    with zipfile.ZipFile(JAVA_DIR / "jena-core.jar") as jar:
        for name in jar.namelist():
            if name.startswith(prefix) and name.endswith(".properties"):
                target = into / "xerces" / name[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(jar.read(name))
    return into


def write_ntriples(quads: list[ox.Quad], path: Path) -> None:
    triples = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    path.write_bytes(ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES) or b"")


@pytest.fixture(scope="module")
def jena_reports(tmp_path_factory: pytest.TempPathFactory, kg: KnowledgeGraph) -> dict[str, rdflib.Graph]:
    """Every case and the dataset validated by Jena in one JVM; their reports by case id ("dataset")."""
    work = tmp_path_factory.mktemp("jena")
    inputs = {case.stem: case_quads(case) for case in CASES}
    inputs["dataset"] = [q for q in kg.store.quads() if q.graph_name != ox.NamedNode(GRAPH_ONTOLOGY)]
    args: list[str] = [str(p) for p in SHAPES] + ["--"]
    for name, quads in inputs.items():
        write_ntriples(quads, work / f"{name}.nt")
        args += [str(work / f"{name}.nt"), str(work / f"{name}.report.nt")]
    run_batch(work, args)
    return {name: rdflib.Graph().parse(work / f"{name}.report.nt", format="nt") for name in inputs}


def flat_path(report: rdflib.Graph, path: rdflib.term.Node | None) -> object:
    """A result path as tests/test_shapes.py keys it; Jena writes sh:alternativePath (a b c) as nested binary
    alternatives ((a | b) | c), an equivalent path, so nested alternatives are flattened."""
    if isinstance(path, rdflib.BNode) and (path, SH.alternativePath, None) in report:
        items = rdflib.collection.Collection(report, report.value(path, SH.alternativePath))
        flat: list[object] = []
        for item in items:
            key = flat_path(report, item)
            flat += list(key[1:]) if isinstance(key, tuple) and key[0] == "|" else [key]
        return ("|", *flat)
    return path_key(report, path)


def jena_results(report: rdflib.Graph) -> set[Result]:
    return {
        (focus, flat_path(report, report.value(r, SH.resultPath)), shape, severity)
        for r in report.subjects(RDF.type, SH.ValidationResult)
        for focus, _, shape, severity in [
            (
                report.value(r, SH.focusNode),
                None,
                report.value(r, SH.sourceShape),
                report.value(r, SH.resultSeverity),
            )
        ]
    }


def conforms(report: rdflib.Graph) -> bool:
    values = list(report.objects(None, SH.conforms))
    assert len(values) == 1
    return bool(values[0].toPython())


def case_param(case: Path) -> object:
    reason = KNOWN_DIFFERENCES.get(case.stem)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.stem, marks=marks)


@pytest.mark.parametrize("case", [case_param(c) for c in CASES])
def test_jena_agrees_on_case(case: Path, jena_reports: dict[str, rdflib.Graph]) -> None:
    expected: set[Result] = split_case(case)[1]  # what pySHACL gives (tests/test_shapes.py)
    report = jena_reports[case.stem]
    actual = jena_results(report)
    missing, unexpected = anonymous(expected) - anonymous(actual), anonymous(actual) - anonymous(expected)
    assert not missing and not unexpected, (
        f"missing: {sorted(map(str, missing))}\nunexpected: {sorted(map(str, unexpected))}"
    )
    assert conforms(report) == (not any(r[3] == SH.Violation for r in expected) and not expected)


def test_jena_agrees_on_the_dataset(kg: KnowledgeGraph, jena_reports: dict[str, rdflib.Graph]) -> None:
    """Against idais_kg.validation.shacl.engine, which tests/test_shapes.py checks against pySHACL on the same data."""
    data = [q for q in kg.store.quads() if q.graph_name != ox.NamedNode(GRAPH_ONTOLOGY)]
    ours = shacl_validation.validate(data, engine_shapes())
    report = jena_reports["dataset"]
    assert jena_results(report) == keys(ours)
    assert conforms(report) == (not ours)


def test_jena_gives_each_spelling_finding(kg: KnowledgeGraph, jena_reports: dict[str, rdflib.Graph]) -> None:
    """ish:DialogueNameSpelling reports all its findings on one focus node (shapes/consistency.ttl), so the keys above
    see one result; the findings differ by sh:value (and by message, which Jena takes from the shape): Jena gives
    as many results of each spelling as idais_kg.validation.shacl.engine (tests/test_shapes.py checks pySHACL's)."""
    data = [q for q in kg.store.quads() if q.graph_name != ox.NamedNode(GRAPH_ONTOLOGY)]
    shape = "https://w3id.org/idais-kg/shapes#DialogueNameSpelling"
    ours = Counter(
        r.value.value
        for r in shacl_validation.validate(data, engine_shapes())
        if r.shape.value == shape and r.value
    )
    report = jena_reports["dataset"]
    theirs = Counter(
        str(report.value(r, SH.value)) for r in report.subjects(SH.sourceShape, rdflib.URIRef(shape))
    )
    assert theirs == ours
    assert sum(ours.values()) == 15
