"""``validate``: exit codes, resources named, reasoning on category errors, and no network on hostile input."""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from idais_kg.cli import main

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs a Java runtime")
PREFIXES = """@prefix idais: <https://w3id.org/idais-kg/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix goal: <https://w3id.org/idais-kg/id/goal/> .
@prefix ed: <https://w3id.org/idais-kg/id/guide/2025-02/> .
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@needs_java
def test_policy_typed_as_goal_is_inconsistent_and_named(tmp_path: Path) -> None:
    bad = tmp_path / "category-error.ttl"
    bad.write_text(PREFIXES + "ed:policy\\/ai-hippocratic-oath a idais:Goal .\n", encoding="utf-8")
    code, out, _ = run("validate", "--format", "json", str(bad))
    assert code == 1
    assert '"status": "inconsistent"' in out
    assert "https://w3id.org/idais-kg/id/guide/2025-02/policy/ai-hippocratic-oath" in out


def test_unparsable_file_is_exit_2_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text(PREFIXES + "goal:x idais:leadPhrase 'open\n", encoding="utf-8")
    code, _, err = run("validate", "--no-reasoner", str(bad))
    assert code == 2
    assert "broken.ttl:5" in err


def test_spelling_findings_name_the_quote_and_its_line() -> None:
    """The dialogue-name spellings are reported on IDAIS, their one focus node (shapes/consistency.ttl, for cost):
    grouped under it in the text report, each naming its quote and the line of the quote's attribution."""
    code, out, _ = run("validate", "--no-reasoner")
    assert code == 0
    lines = out.splitlines()
    header = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("  https://w3id.org/idais-kg/id/organisation/idais ")
    )
    spelling = [line for line in lines if line.endswith("<shapes#DialogueNameSpelling>")]
    assert spelling == lines[header + 1 : header + 16]
    quote = re.compile(
        r"    - Quote https://w3id\.org/idais-kg/id/guide/2025-02/quote/\S+: the attribution \(line \d+\) spells "
        r"the dialogue's name \S+ \(\d+ of the quotes\); the most common spelling is 人工智能安全国际对话 \(14 quotes\)\.  <"
    )
    assert all(quote.match(line) for line in spelling), spelling
    assert (
        "    - Quote https://w3id.org/idais-kg/id/guide/2025-02/quote/safety-cases-and-assurances/venice-2024: the "
        "attribution (line 293) spells the dialogue's name 人工智能安全部际对话 (9 of the quotes); the most common "
        "spelling is 人工智能安全国际对话 (14 quotes).  <shapes#DialogueNameSpelling>"
    ) in spelling


@pytest.fixture
def listener() -> tuple[int, list[object]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                seen.append(server.accept())
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


@needs_java
def test_owl_imports_and_remote_context_cause_no_connection(tmp_path: Path, listener) -> None:  # type: ignore[no-untyped-def]
    port, seen = listener
    ttl = tmp_path / "imports.ttl"
    ttl.write_text(
        PREFIXES + f"<http://example.org/o> a owl:Ontology ; owl:imports <http://127.0.0.1:{port}/x> .\n"
    )
    jsonld = tmp_path / "remote.jsonld"
    jsonld.write_text(
        '{"@context": "http://127.0.0.1:' + str(port) + '/ctx", "@id": "http://example.org/a", "name": "x"}'
    )
    for path in (ttl, jsonld):
        code, _, _ = run("validate", str(path))
        assert code in (0, 1, 2)
    assert seen == []


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("deep.ttl", PREFIXES + "goal:x idais:p " + "[ idais:p " * 5000 + "]" * 5000 + " .\n", "nest"),
        (
            "deep.jsonld",
            '{"@id": "http://example.org/a", "http://example.org/p": ' + "[" * 5000 + "]" * 5000 + "}",
            "nest",
        ),
        ("huge.ttl", PREFIXES + 'goal:x idais:leadPhrase "' + "x" * (2 << 20) + '" .\n', "literal"),
    ],
    ids=["deep-turtle", "deep-jsonld", "huge-literal"],
)
def test_hostile_file_fails_cleanly(tmp_path: Path, name: str, text: str, said: str) -> None:
    """Refused before parsing (idais_kg.sources.untrusted): one line naming the file, exit 2, no crash, no traceback."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, out, err = run("validate", "--no-reasoner", str(path))
    assert code == 2
    assert err.count("\n") <= 1 and name in err and said in err.lower(), err
    assert "Traceback" not in out + err


def test_reasoner_input_leaves_out_only_inert_properties(kg) -> None:  # type: ignore[no-untyped-def]
    """Text-only properties are pruned before HermiT; any property an axiom constrains is kept."""
    from idais_kg.namespaces import GRAPH_ONTOLOGY, IDAIS
    from idais_kg.validation.hermit import inert_predicates

    inert = inert_predicates(kg.store.quads(GRAPH_ONTOLOGY))
    assert {
        IDAIS + "verbatimText",
        IDAIS + "translation",
        "http://www.w3.org/2004/02/skos/core#prefLabel",
    } <= inert
    constrained = {IDAIS + p for p in ("rank", "year", "footnoteNumber", "startLine", "rowNumber", "level")}
    assert not inert & constrained


def test_turtle_report_is_a_standard_validation_report() -> None:
    """``validate --format turtle`` writes a sh:ValidationReport: each SHACL result with its focus node, value and
    shape as the RDF terms they are and its constraint component (tests/test_shacl_engine.py compares the report
    with pySHACL's on every shape case, by graph isomorphism)."""
    import rdflib
    from rdflib.namespace import RDF, SH

    code, out, _ = run("validate", "--no-reasoner", "--format", "turtle")
    assert code == 0
    report = rdflib.Graph().parse(data=out, format="turtle")
    (node,) = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms) == rdflib.Literal(True)
    ish = rdflib.Namespace("https://w3id.org/idais-kg/shapes#")
    spellings = list(report.subjects(SH.sourceShape, ish.DialogueNameSpelling))
    assert len(spellings) == 15
    for result in spellings:
        assert report.value(result, SH.focusNode) == rdflib.URIRef(
            "https://w3id.org/idais-kg/id/organisation/idais"
        )
        assert report.value(result, SH.sourceConstraintComponent) == SH.SPARQLConstraintComponent
        assert isinstance(report.value(result, SH.value), rdflib.Literal)
    sources = set(report.objects(None, SH.sourceShape))
    assert all(isinstance(s, rdflib.URIRef) for s in sources if "shapes#" in str(s))


def test_validate_over_a_store_rechecks_each_partner_apart_from_the_guide(store: Path) -> None:
    # Over the union of graphs the partner shapes would take the guide's own blank nodes (the RDF list of progress
    # levels) for the partner's: each partner is checked in a scratch store of its own, as `partner check` does.
    runner = CliRunner()
    text = runner.invoke(main, ["validate", "--no-reasoner", "--store", str(store)])
    assert text.exit_code == 0, text.output
    assert "partner lumen: " in text.output and "rdf-syntax-ns#first" not in text.output
    partner_part = text.output[text.output.index("partner lumen: ") :]
    assert "\n  conforms: 0 violations" in partner_part
    answer = runner.invoke(main, ["validate", "--no-reasoner", "--store", str(store), "--format", "json"])
    document = json.loads(answer.output)
    assert [(p["name"], p["conforms"], p["findings"]) for p in document["partners"]] == [("lumen", True, [])]


def test_validate_refuses_a_stale_store(store: Path, project_copy) -> None:  # type: ignore[no-untyped-def]
    missing = CliRunner().invoke(main, ["validate", "--no-reasoner", "--store", str(store.parent / "absent")])
    assert missing.exit_code == 2 and "absent" in missing.output
