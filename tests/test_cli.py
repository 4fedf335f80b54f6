"""The command line as a user meets it: formats, one-line errors, exit codes, and no network."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from idais_kg.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_help() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for command in ("build", "query", "stats"):
        assert command in out


def test_query_list_names_every_question() -> None:
    code, out, _ = run("query", "--list")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert "policies-of-goal" in names and "red-lines" in names
    assert not any(n.startswith("construct-") for n in names)


def test_query_json_is_sparql_results_json() -> None:
    code, out, _ = run("query", "policy-counts", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["head"]["vars"] == ["goal", "title_zh", "title_en", "policies"]
    counts = {
        b["goal"]["value"].rsplit("/", 1)[1]: int(b["policies"]["value"]) for b in doc["results"]["bindings"]
    }
    assert counts["ai-safety-rd-resources"] == 7
    assert doc["results"]["bindings"][0]["title_zh"] == {
        "type": "literal",
        "value": "保证人工智能安全研发的必要资源",
        "xml:lang": "zh",
    }


def test_query_csv_with_parameter() -> None:
    code, out, _ = run(
        "query",
        "policies-of-goal",
        "--param",
        "goal=goal:professional-ethics-for-ai-practitioners",
        "--format",
        "csv",
    )
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["lead_zh"] for r in table] == [
        "开发人工智能“希波克拉底誓词”并要求人工智能从业者进行宣誓。",
        "规定“警告权”，推动人工智能从业者履行职业道德责任。",
        "规定“警告权”，推动人工智能从业者履行职业道德责任。",
    ]
    assert [r["number"] for r in table] == ["", "66", "67"]


def test_query_table_output() -> None:
    code, out, _ = run("query", "quotes-by-dialogue")
    assert code == 0
    assert out.splitlines()[0].split(" | ")[0].strip() == "dialogue"
    assert out.rstrip().endswith("(3 rows)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "no-such-query"], "unknown query 'no-such-query'"),
        (["query", "policies-of-goal"], "parameter 'goal': required parameter missing"),
        (["query", "policies-of-goal", "-p", "goal=not an iri"], "not an IRI"),
        (
            ["query", "policies-of-goal", "-p", "goal=goal:no-such-goal"],
            "no resource <https://w3id.org/idais-kg/id/goal/no-such-goal>",
        ),
        (["query", "policy-counts", "-p", "goal=goal:x"], "unknown parameter"),
        (["query", "policy-counts", "-p", "nonsense"], "--param takes name=value"),
    ],
)
def test_bad_queries_get_one_clear_line(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_unknown_goal_suggests_the_nearest() -> None:
    _, _, err = run("query", "policies-of-goal", "-p", "goal=goal:post-deployment-monitorin")
    assert "did you mean <https://w3id.org/idais-kg/id/goal/post-deployment-monitoring>" in err


def test_build_and_query_touch_no_network(tmp_path: Path, no_network: list[object]) -> None:
    code, _, _ = run("build", "--out", str(tmp_path))
    assert code == 0
    assert (tmp_path / "idais-kg.trig").exists()
    code, _, _ = run("query", "goals-by-progress")
    assert code == 0
    assert no_network == []


def test_build_syntax_error_exit_code(project_copy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = project_copy.data_dir / "guide" / "zz-broken.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ex:c ;\n  ex:d .\n", encoding="utf-8")
    code, _, err = run("build", "--out", str(tmp_path), env={"IDAIS_KG_HOME": str(project_copy.root)})
    assert code == 2
    assert "zz-broken.ttl:3" in err


def test_version_names_code_data_and_sources() -> None:
    code, out, _ = run("--version")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "idais-kg 0.1.0"
    assert lines[1].startswith("data: guide edition 2025-02, ontology 2.0.0, sources sha256:")
    assert lines[2] == f"sources: checkout {Path(__file__).resolve().parents[1]}"


def test_version_follows_the_sources(project_copy) -> None:  # type: ignore[no-untyped-def]
    _, before, _ = run("--version", env={"IDAIS_KG_HOME": str(project_copy.root)})
    with (project_copy.data_dir / "guide" / "2025-02" / "edition.ttl").open("a", encoding="utf-8") as handle:
        handle.write("\n# an edit\n")
    _, after, _ = run("--version", env={"IDAIS_KG_HOME": str(project_copy.root)})
    assert before.splitlines()[2] == after.splitlines()[2] == f"sources: IDAIS_KG_HOME {project_copy.root}"
    assert before.splitlines()[1] != after.splitlines()[1]  # the fingerprint of the sources changed


def test_query_tsv_and_xml() -> None:
    code, out, _ = run("query", "quotes-by-dialogue", "--format", "tsv")
    assert code == 0
    assert out.splitlines()[0].split("\t")[0] == "?dialogue"
    assert len(out.splitlines()) == 4  # a header and 3 rows
    code, out, _ = run("query", "quotes-by-dialogue", "--format", "xml")
    assert code == 0
    assert out.startswith(
        "<?xml version='1.0' encoding='utf-8'?>\n<sparql xmlns=\"http://www.w3.org/2005/sparql-results#\">"
    )
    assert out.count("<result>") == 3
