"""idais_kg.validation.shacl.engine (over idais_kg.validation.shacl.shapes), the engine ``validate`` uses, against the reference:
every shape case gives exactly its expected results (which pySHACL gives too, tests/test_shapes.py), and the
shipped dataset gives pySHACL's results.

It also checks, on the SPARQL algebra (rdflib's parser), the conditions under which the engine may run a
SHACL-SPARQL constraint once and join its solutions with the focus nodes instead of pre-binding $this per focus
node, for every shipped constraint that the engine's cheap syntactic test (``joins_like_prebinding``) accepts.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable
from test_shapes import (
    CASE_GRAPH,
    CASES,
    CONTEXT,
    Result,
    anonymous,
    data_graph,
    load_shapes,
    merges_context,
    run_constructs,
    split_case,
    to_oxigraph,
    to_rdflib,
)

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.namespaces import GRAPH_ONTOLOGY
from idais_kg.validation import report
from idais_kg.validation.shacl import engine as shacl_validation
from idais_kg.validation.shacl import shapes as shacl_shapes

SHAPES_DIR = Path(__file__).resolve().parents[1] / "shapes"
THIS = Variable("this")


def engine_shapes() -> shacl_shapes.Shapes:
    triples: list[ox.Triple] = []
    for path in sorted(SHAPES_DIR.glob("*.ttl")):
        triples += ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
    return shacl_shapes.Shapes(triples)


@pytest.fixture(scope="module")
def shapes() -> shacl_shapes.Shapes:
    return engine_shapes()


@pytest.fixture(scope="module")
def pyshacl_shapes() -> rdflib.Graph:
    return load_shapes()


def path_key(path: shacl_shapes.Path | None) -> object:
    if path is None:
        return None
    if isinstance(path, ox.NamedNode):
        return rdflib.URIRef(path.value)
    return (path[0], *(path_key(p) for p in path[1:]))


def keys(results: list[shacl_validation.Result]) -> set[Result]:
    return {
        (to_rdflib(r.focus), path_key(r.path), to_rdflib(r.shape), rdflib.URIRef(r.severity)) for r in results
    }


def case_quads(case: Path) -> list[ox.Quad]:
    from idais_kg.store import Store

    data, _, _ = split_case(case)
    store = Store()
    context = rdflib.Graph().parse(CONTEXT, format="turtle") if merges_context(case) else rdflib.Graph()
    store.add_all(ox.Quad(*(to_oxigraph(t) for t in triple), CASE_GRAPH) for triple in (*context, *data))
    run_constructs(store)
    return [q for q in store.quads() if q.graph_name != ox.NamedNode(GRAPH_ONTOLOGY)]


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_case_under_the_engine(case: Path, shapes: shacl_shapes.Shapes) -> None:
    expected = split_case(case)[1]
    actual = keys(shacl_validation.validate(case_quads(case), shapes))
    missing, unexpected = anonymous(expected) - anonymous(actual), anonymous(actual) - anonymous(expected)
    assert not missing and not unexpected, (
        f"missing: {sorted(map(str, missing))}\nunexpected: {sorted(map(str, unexpected))}"
    )


def without_messages(graph: rdflib.Graph) -> rdflib.Graph:
    out = rdflib.Graph()
    for triple in graph:
        if triple[1] != rdflib.SH.resultMessage:
            out.add(triple)
    return out


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_report_is_pyshacls(case: Path, shapes: shacl_shapes.Shapes, pyshacl_shapes: rdflib.Graph) -> None:
    """Our sh:ValidationReport (what ``validate --format turtle`` writes for SHACL results) is pySHACL's, up to
    blank-node names and sh:resultMessage (ours fills the shape's English message)."""
    from pyshacl import validate as pyshacl_validate

    quads = case_quads(case)
    ours = rdflib.Graph()
    run = shacl_validation.Validator(quads, shapes)
    for t in report.shacl_report(run.run(), shapes.graph, run.data):
        ours.add(tuple(to_rdflib(x) for x in (t.subject, t.predicate, t.object)))  # type: ignore[arg-type]
    _, theirs, _ = pyshacl_validate(
        data_graph(quads), shacl_graph=pyshacl_shapes, inference="none", advanced=True, allow_warnings=True
    )
    assert isomorphic(without_messages(ours), without_messages(theirs))


def test_report_without_results_conforms() -> None:
    triples = report.shacl_report([])
    assert {(t.predicate.value.rsplit("#")[-1], t.object.value) for t in triples} == {
        ("type", rdflib.SH.ValidationReport.toPython()),
        ("conforms", "true"),
    }


def test_dataset_with_and_without_the_ontology_is_the_same(
    kg: KnowledgeGraph, shapes: shacl_shapes.Shapes
) -> None:
    """validate mixes the ontology into the data graph (the class hierarchy); the tests validate without it."""
    everything = list(kg.store.quads())
    data = [q for q in everything if q.graph_name != ox.NamedNode(GRAPH_ONTOLOGY)]
    assert set(shacl_validation.validate(everything, shapes)) == set(shacl_validation.validate(data, shapes))


def test_unsupported_features_are_refused() -> None:
    shape = ox.NamedNode("https://example.org/S")
    # sh:target (a SPARQL-based target of SHACL Advanced Features): no component of the registry reads it
    custom = ox.Triple(shape, shacl_shapes.sh("target"), ox.BlankNode())
    target = ox.Triple(shape, shacl_shapes.sh("targetNode"), shape)
    with pytest.raises(shacl_shapes.UnsupportedShapes, match="shacl#target is not a parameter"):
        shacl_shapes.Shapes([custom, target])


# ----------------------------------------------------------------------------------------------------------------
# Join instead of pre-binding: the conditions, on the algebra
# ----------------------------------------------------------------------------------------------------------------


def mentions(node: object) -> bool:
    """Whether ?this occurs anywhere in an algebra node or expression."""
    if node == THIS:
        return True
    if isinstance(node, CompValue):
        return any(mentions(v) for k, v in node.items() if k != "_vars")
    if isinstance(node, (list, tuple, set)):
        return any(mentions(v) for v in node)
    return False


def binds(node: CompValue) -> bool:
    """Whether every solution of the pattern binds ?this."""
    name = node.name
    if name == "BGP":
        return any(THIS in triple for triple in node.triples)
    if name == "Join":
        return binds(node.p1) or binds(node.p2)
    if name in ("LeftJoin", "Minus"):
        return binds(node.p1)
    if name == "Union":
        return binds(node.p1) and binds(node.p2)
    if name in ("Filter", "Extend", "Project", "Distinct", "Reduced", "OrderBy"):
        return binds(node.p)
    return False


def join_safe(node: CompValue) -> bool:
    """Whether (eval P) joined with {?this -> f} equals eval of P with $this pre-bound to f, for every f.

    Join and Union distribute over the join with one solution; a LeftJoin whose left side binds ?this keeps its
    optional side and filter unchanged (compatibility requires the same ?this); a FILTER or BIND whose expression
    mentions ?this (EXISTS patterns included, which are evaluated by substituting the current solution) must sit
    on a pattern that binds ?this; MINUS, VALUES, sub-selects, GRAPH, SERVICE and aggregates must not mention it.
    """
    name = node.name
    if name == "BGP":
        return True
    if name in ("Join", "Union"):
        return join_safe(node.p1) and join_safe(node.p2)
    if name == "LeftJoin":
        return (binds(node.p1) or not (mentions(node.p2) or mentions(node.expr))) and (
            join_safe(node.p1) and join_safe(node.p2)
        )
    if name in ("Filter", "Extend"):
        if name == "Extend" and node.var == THIS:
            return False
        return (binds(node.p) or not mentions(node.expr)) and join_safe(node.p)
    if name in ("Distinct", "Reduced", "OrderBy"):
        return join_safe(node.p)
    if name == "Minus":
        return join_safe(node.p1) and not mentions(node.p2)
    return not mentions(node)


def select_queries(shapes: shacl_shapes.Shapes) -> list[tuple[str, str]]:
    g = shapes.graph
    out = []
    for constraint in {c for preds in g.out.values() for c in preds.get(shacl_shapes.SPARQL, [])}:
        select = g.value(constraint, shacl_shapes.sh("select"))
        assert select is not None
        out.append((shapes.sparql_prefixes(constraint), select.value))
    return sorted(out, key=lambda q: q[1])


def test_constraints_run_as_a_join_meet_the_conditions(shapes: shacl_shapes.Shapes) -> None:
    queries = select_queries(shapes)
    joined = [
        (prefixes, select) for prefixes, select in queries if shacl_validation.joins_like_prebinding(select)
    ]
    assert joined  # 30 of the 36 shipped constraints; the rest run per focus node
    for prefixes, select in joined:
        algebra = prepareQuery(prefixes + select).algebra
        project = algebra.p
        assert project.name == "Project" and THIS in project.PV, select
        assert binds(project.p) and join_safe(project.p), select


def test_the_syntactic_test_refuses_what_the_conditions_refuse() -> None:
    for select in (
        "SELECT $this WHERE { $this <p> ?v . { SELECT ?v WHERE { ?v <q> ?w } } }",
        "SELECT $this WHERE { $this <p> ?v MINUS { ?v <q> $this } }",
        "SELECT $this WHERE { $this <p> ?v } LIMIT 1",
        "SELECT $this ?v WHERE { OPTIONAL { $this <p> ?v } }",
        "SELECT ?v WHERE { $this <p> ?v }",
    ):
        assert not shacl_validation.joins_like_prebinding(select), select
