"""The W3C SHACL test suite (tests/cases/w3c-shacl/, Core and SPARQL) run through our engine,
idais_kg.validation.shacl, compared as pySHACL's own runner compares: the same ``sh:conforms``, and the same results
as a multiset of (focus node, result path, value, source shape, source constraint component, severity).

Every test either gives exactly the expected report, or is refused when the shapes are read, with the component
(or the feature) named: the expected refusals are the ``REFUSED`` table below, each with the reason, and a test
asserts the refusal and its words. A test whose expected result is a failure (``sht:Failure``: shapes an engine
must refuse) passes when the engine refuses them. No test is skipped. Today: 119 of the 120 pass (112 with the
expected report, 7 expected failures refused), 1 is refused ($shapesGraph).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest

from idais_kg.namespaces import SH
from idais_kg.validation.shacl import engine, paths
from idais_kg.validation.shacl.data import Index, Term
from idais_kg.validation.shacl.shapes import Shapes, UnsupportedShapes

SUITE = Path(__file__).parent / "cases" / "w3c-shacl"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
SHT = "http://www.w3.org/ns/shacl-test#"


def iri(text: str) -> ox.NamedNode:
    return ox.NamedNode(text)


@cache
def parsed(path: Path) -> Index:
    """A file of the suite, parsed once (so that a test's data, shapes and expected report share blank nodes)."""
    return Index(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri()))


@dataclass(frozen=True)
class Case:
    name: str  # the file, relative to the suite, and the entry
    file: Path
    entry: Term
    data: Path
    shapes: Path
    result: Term


def file_of(node: Term) -> Path:
    return Path(node.value.removeprefix("file://"))


def cases(manifest: Path) -> list[Case]:
    g = parsed(manifest)
    me = iri(manifest.as_uri())
    out = []
    for include in g.objects(me, iri(MF + "include")):
        out += cases(file_of(include))
    for entry in g.items(g.value(me, iri(MF + "entries"))):
        action = g.value(entry, iri(MF + "action"))
        result = g.value(entry, iri(MF + "result"))
        assert action is not None and result is not None
        data, shapes = g.value(action, iri(SHT + "dataGraph")), g.value(action, iri(SHT + "shapesGraph"))
        assert data is not None and shapes is not None
        name = f"{manifest.relative_to(SUITE).with_suffix('').as_posix()}#{entry.value.rsplit('#', 1)[-1]}"
        if name.rsplit("/", 1)[-1].split("#")[0] == name.split("#")[-1].rsplit("/", 1)[-1]:
            name = name.split("#")[0]
        out.append(Case(name, manifest, entry, file_of(data), file_of(shapes), result))
    return out


CASES = cases(SUITE / "manifest.ttl")

Key = tuple[object, ...]


def path_key(path: paths.Path | None) -> object:
    if path is None or isinstance(path, ox.NamedNode):
        return path
    return (path[0], *(path_key(p) for p in path[1:]))


def expected(case: Case) -> tuple[bool, Counter[Key]]:
    g = parsed(case.file)
    conforms = g.value(case.result, iri(SH + "conforms"))
    out: Counter[Key] = Counter()
    for r in g.objects(case.result, iri(SH + "result")):
        path = g.value(r, iri(SH + "resultPath"))
        out[
            (
                g.value(r, iri(SH + "focusNode")),
                path_key(paths.read(g, path)) if path is not None else None,
                g.value(r, iri(SH + "value")),
                g.value(r, iri(SH + "sourceShape")),
                g.value(r, iri(SH + "sourceConstraintComponent")),
                g.value(r, iri(SH + "resultSeverity")),
            )
        ] += 1
    return conforms is not None and conforms.value == "true", out


def actual(case: Case) -> tuple[bool, Counter[Key]]:
    shapes = Shapes(parsed(case.shapes).triples)
    results = engine.Validator(parsed(case.data).triples, shapes).run()
    out: Counter[Key] = Counter(
        (r.focus, path_key(r.path), r.value, r.shape, r.component, iri(r.severity)) for r in results
    )
    return not results, out


def is_failure(case: Case) -> bool:
    return case.result == iri(SHT + "Failure")


# Tests whose shapes our engine refuses when reading them, with the words the refusal must contain and why.
REFUSED: dict[str, tuple[str, str]] = {
    "sparql/pre-binding/shapesGraph-001": (
        r"\$shapesGraph is not supported \(SPARQLConstraintComponent",
        "the shapes graph is not offered to queries as a named graph",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_w3c(case: Case) -> None:
    if is_failure(case):
        with pytest.raises(UnsupportedShapes):
            actual(case)
        return
    if case.name in REFUSED:
        words, _ = REFUSED[case.name]
        with pytest.raises(UnsupportedShapes, match=words):
            actual(case)
        return
    assert actual(case) == expected(case)


def test_every_refusal_is_a_test_of_the_suite() -> None:
    assert set(REFUSED) <= {c.name for c in CASES}


def test_the_suite_is_whole() -> None:
    assert len(CASES) == 120
