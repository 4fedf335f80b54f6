"""One header convention for every SPARQL file of the project: ``#+`` lines of YAML with a summary, the
parameters that the code binds (``params``) and the variables it returns (``returns``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from idais_kg.sources.queries import parse_header

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([*(ROOT / "queries").glob("*.rq"), *(ROOT / "src" / "idais_kg").glob("**/sparql/*.rq")])


def test_there_are_files_in_every_folder() -> None:
    folders = {path.parent.relative_to(ROOT).as_posix() for path in FILES}
    assert {"queries", "src/idais_kg/serve/sparql", "src/idais_kg/partners/sparql"} <= folders


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_sparql_file_has_the_header(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#+ summary: "), "the first line is the #+ summary"
    header = parse_header(path, text)
    assert isinstance(header["summary"], str) and header["summary"][0].isupper()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    for name in header.get("params") or {}:
        assert f"?{name}" in body or f"${name}" in body, f"parameter {name} is not in the query"
    if "SELECT" in body.upper() and "returns" in header:
        for name in header["returns"]:
            assert f"?{name}" in body, f"returned variable {name} is not in the query"
