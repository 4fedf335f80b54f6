"""OWL 2 DL for real: OWL API's profile checker (Debian's libowlapi-java, run from tests/owlapi/OwlCheck.java) on
the ontology and on the whole dataset, and HermiT on both without ``--ignoreUnsupportedDatatypes``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.dataset.dumps import DUMP_NAME, serialise_all
from idais_kg.namespaces import GRAPH_ONTOLOGY
from idais_kg.validation import hermit

JAVA_DIR = Path("/usr/share/java")
OWL_CHECK = Path(__file__).parent / "owlapi" / "OwlCheck.java"
ONTOLOGY = Path(__file__).resolve().parents[1] / "ontology" / "idais.ttl"
# The OWL API's own jars and what they need, as Debian names them; no owlapi-rio, so that Turtle is read by the OWL
# API's own parser (Protégé's); one SLF4J binding (nop).
OWLAPI_JARS = [
    "owlapi-api",
    "owlapi-impl",
    "owlapi-parsers",
    "owlapi-apibinding",
    "owlapi-tools",
    "guava",
    "caffeine",
    "commons-io",
    "commons-codec",
    "commons-rdf-api",
    "atinject-jsr330-api",
    "hppcrt",
    "xz",
    "jsr305",
    "slf4j-api",
    "slf4j-nop",
]
missing_owlapi = shutil.which("java") is None or not (JAVA_DIR / "owlapi-api.jar").exists()
needs_owlapi = pytest.mark.skipif(
    missing_owlapi, reason="no Java or no OWL API (scripts/setup.sh installs libowlapi-java as root)"
)


def owl_check(*args: str) -> tuple[int, list[list[str]]]:
    """Run OwlCheck.java; its exit code and its output lines split at tabs."""
    classpath = ":".join(str(JAVA_DIR / f"{jar}.jar") for jar in OWLAPI_JARS)
    java = shutil.which("java") or "java"
    run = subprocess.run(
        [java, "-cp", classpath, str(OWL_CHECK), *args], capture_output=True, text=True, timeout=300
    )
    return run.returncode, [line.split("\t") for line in run.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def dataset_dump(tmp_path_factory: pytest.TempPathFactory, kg: KnowledgeGraph) -> Path:
    path = tmp_path_factory.mktemp("owl") / (DUMP_NAME + ".ttl")
    path.write_bytes(serialise_all(kg)[DUMP_NAME + ".ttl"])
    return path


@needs_owlapi
def test_the_ontology_is_owl2_dl() -> None:
    code, lines = owl_check("--profile", str(ONTOLOGY))
    assert [line[1:] for line in lines if line[1] != "loaded"] == []
    assert code == 0 and lines[0][1] == "loaded"


@needs_owlapi
def test_the_whole_dataset_is_owl2_dl(dataset_dump: Path) -> None:
    code, lines = owl_check("--profile", str(dataset_dump))
    assert [line[1:] for line in lines if line[1] != "loaded"] == []
    assert code == 0 and lines[0][1] == "loaded"


@needs_owlapi
def test_the_checker_reports_an_undeclared_datatype(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "<http://example.org/o> a owl:Ontology .\n"
        "<http://example.org/p> a owl:DatatypeProperty ; "
        "<http://www.w3.org/2000/01/rdf-schema#range> xsd:gYear .\n"
    )
    code, lines = owl_check("--profile", str(bad))
    assert code == 1
    assert [line[2] for line in lines if line[1] == "violation"] == ["UseOfUndeclaredDatatype"]


def test_hermit_runs_without_ignoring_datatypes() -> None:
    command = " ".join(hermit.hermit_command(Path("/x.nt")))
    assert "--ignoreUnsupportedDatatypes" not in command


@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs a Java runtime")
def test_hermit_finds_the_ontology_consistent(kg: KnowledgeGraph) -> None:
    result = hermit.check_consistency(kg.store.quads(GRAPH_ONTOLOGY))
    assert (result.status, result.detail) == ("consistent", "")


@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs a Java runtime")
def test_hermit_finds_the_whole_dataset_consistent(kg: KnowledgeGraph) -> None:
    result = hermit.check_consistency(kg.store.quads(), GRAPH_ONTOLOGY)
    assert (result.status, result.detail) == ("consistent", "")
