"""The SHACL shapes of shapes/: data-driven cases, the shipped dataset, the consistency report and its queries.

Each file of tests/cases/shapes/ is one broken case in the manner of the W3C SHACL test suite: a small data graph
plus, in RDF, the results it must produce (``t:expect [ t:focusNode …; t:resultPath …; t:sourceShape …;
t:severity … ]``, vocabulary below). A case is merged with tests/cases/shapes/context/minimal-valid.ttl (unless it
says ``t:mergeContext false``), the build's construct-*.rq queries run over both (as ``idais_kg.dataset.assemble.load`` does), and the union is validated against
all shapes with pyshacl (inference none, advanced). The set of results must be exactly the expected set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from pyshacl import validate
from rdflib.namespace import RDF, SH

from idais_kg.dataset.assemble import KnowledgeGraph
from idais_kg.namespaces import GRAPH_DERIVED, GRAPH_GUIDE, GRAPH_ONTOLOGY
from idais_kg.sources.layout import Layout
from idais_kg.sources.queries import QueryRegistry
from idais_kg.store import Store

ROOT = Path(__file__).resolve().parents[1]
SHAPES_DIR = ROOT / "shapes"
CASES_DIR = Path(__file__).parent / "cases" / "shapes"
CONTEXT = CASES_DIR / "context" / "minimal-valid.ttl"
CASES = sorted(CASES_DIR.glob("*.ttl"))

T = rdflib.Namespace("https://w3id.org/idais-kg/test/shape-case#")
ISH = rdflib.Namespace("https://w3id.org/idais-kg/shapes#")
IDAIS = rdflib.Namespace("https://w3id.org/idais-kg/ontology#")
KG = "https://w3id.org/idais-kg/id/"
ED = KG + "guide/2025-02/"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
CASE_GRAPH = ox.NamedNode(
    GRAPH_GUIDE
)  # a case's data sits in a named graph (the store's default graph is their merge)

# (focus node, result path, source shape, severity); a path is an IRI, ("^", IRI) for an inverse path,
# ("|", IRI, ...) for an alternative path, or None.
Result = tuple[rdflib.term.Node, object, rdflib.term.Node, rdflib.term.Node]


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return rdflib.Literal(term.value, datatype=None if datatype == XSD_STRING else rdflib.URIRef(datatype))


def to_oxigraph(term: rdflib.term.Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    assert isinstance(term, rdflib.Literal)
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def data_graph(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    """The SHACL data graph: the union of all graphs except the ontology."""
    graph = rdflib.Graph()
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == GRAPH_ONTOLOGY:
            continue
        graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return graph


def load_shapes(files: Iterable[Path] | None = None) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in files or sorted(SHAPES_DIR.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def closure(graph: rdflib.Graph, start: rdflib.term.Node) -> set[tuple]:
    """The triples of ``start`` and of the blank nodes it reaches (an expectation and its nested paths), but not
    those of a blank focus node, which are the case's data."""
    out: set[tuple] = set()
    todo, seen = [start], set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in graph.triples((node, None, None)):
            out.add(triple)
            if isinstance(triple[2], rdflib.BNode) and triple[1] != T.focusNode:  # a blank focus node is data
                todo.append(triple[2])
    return out


def path_key(graph: rdflib.Graph, path: rdflib.term.Node | None) -> object:
    if path is None:
        return None
    if isinstance(path, rdflib.BNode):
        inverse = graph.value(path, SH.inversePath)
        if inverse is not None:
            return ("^", inverse)
        alternatives = graph.value(path, SH.alternativePath)
        if alternatives is not None:
            return ("|", *rdflib.collection.Collection(graph, alternatives))
        raise AssertionError(f"unsupported result path {path!r}")
    return path


def results(report: rdflib.Graph) -> set[Result]:
    out = set()
    details = set(report.objects(None, SH.detail))  # results nested in another (sh:node, sh:or, ...)
    for result in set(report.subjects(RDF.type, SH.ValidationResult)) - details:
        out.add(
            (
                report.value(result, SH.focusNode),
                path_key(report, report.value(result, SH.resultPath)),
                report.value(result, SH.sourceShape),
                report.value(result, SH.resultSeverity),
            )
        )
    return out


BLANK = rdflib.BNode("blank")


def anonymous(results: set[Result]) -> Counter[Result]:
    """The results with every blank node as one (a blank focus node has another label in each parse)."""

    def term(t: object) -> object:
        return BLANK if isinstance(t, rdflib.BNode) else t

    return Counter(tuple(term(t) for t in r) for r in results)  # type: ignore[misc]


def run_constructs(store: Store) -> None:
    for construct in QueryRegistry(Layout.default().queries_dir).of_kind("construct"):
        store.construct_into(construct.text, GRAPH_DERIVED)


def split_case(path: Path) -> tuple[rdflib.Graph, set[Result], str]:
    """The data of a case file, its expected results and its description."""
    graph = rdflib.Graph().parse(path, format="turtle")
    expected: set[Result] = set()
    manifest: set[tuple] = set()
    cases = list(graph.subjects(RDF.type, T.ShapeTestCase))
    assert len(cases) == 1, f"{path.name}: exactly one t:ShapeTestCase"
    case = cases[0]
    manifest |= closure(graph, case)
    for expect in graph.objects(case, T.expect):
        expected.add(
            (
                graph.value(expect, T.focusNode),
                path_key(graph, graph.value(expect, T.resultPath)),
                graph.value(expect, T.sourceShape),
                graph.value(expect, T.severity),
            )
        )
    data = rdflib.Graph()
    for triple in graph:
        if triple not in manifest:
            data.add(triple)
    return data, expected, str(graph.value(case, rdflib.RDFS.comment) or "")


def merges_context(path: Path) -> bool:
    """A case is merged with the minimal valid context unless it says ``t:mergeContext false``."""
    graph = rdflib.Graph().parse(path, format="turtle")
    return all(value.toPython() for value in graph.objects(None, T.mergeContext))


def validate_case(path: Path, shapes: rdflib.Graph) -> tuple[set[Result], set[Result], rdflib.Graph]:
    data, expected, _ = split_case(path)
    store = Store()
    context = rdflib.Graph().parse(CONTEXT, format="turtle") if merges_context(path) else rdflib.Graph()
    store.add_all(ox.Quad(*(to_oxigraph(t) for t in triple), CASE_GRAPH) for triple in (*context, *data))
    run_constructs(store)
    _, report, _ = validate(
        data_graph(store.quads()), shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
    )
    return results(report), expected, report


def shape_files_of(shapes_by_file: dict[str, rdflib.Graph], shape: rdflib.term.Node) -> Iterator[str]:
    for name, graph in shapes_by_file.items():
        if (shape, None, None) in graph:
            yield name


# ----------------------------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def dataset_report(kg: KnowledgeGraph, shapes: rdflib.Graph) -> rdflib.Graph:
    _, report, _ = validate(data_graph(kg.store.quads()), shacl_graph=shapes, inference="none", advanced=True)
    return report


# ----------------------------------------------------------------------------------------------------------------
# The shapes themselves
# ----------------------------------------------------------------------------------------------------------------


def test_shapes_pass_shacl_shacl(shapes: rdflib.Graph) -> None:
    conforms, _, text = validate(shapes, shacl_graph=shacl_shacl(), inference="none")
    assert conforms, text


def shacl_shacl() -> rdflib.Graph:
    import pyshacl

    return rdflib.Graph().parse(Path(pyshacl.__file__).parent / "assets" / "shacl-shacl.ttl", format="turtle")


def constraint_shapes(shapes: rdflib.Graph) -> set[rdflib.term.Node]:
    """Shapes that report results: targeted node shapes, property shapes and the node shapes they are named by."""
    nested = set()
    for predicate in (SH["or"], SH["and"], SH.xone):
        for lst in shapes.objects(None, predicate):
            nested |= set(rdflib.collection.Collection(shapes, lst))
    nested |= set(shapes.objects(None, SH["not"])) | set(shapes.objects(None, SH.qualifiedValueShape))
    out = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    out |= set(shapes.subjects(SH.path, None)) - nested
    return out


def test_every_shape_has_a_message_and_a_severity(shapes: rdflib.Graph) -> None:
    missing = []
    for shape in constraint_shapes(shapes):
        messages = list(shapes.objects(shape, SH.message))
        if len(list(shapes.objects(shape, SH.severity))) != 1:
            missing.append((shape, "sh:severity"))
        if not any(isinstance(m, rdflib.Literal) and m.language == "en" for m in messages):
            missing.append((shape, "sh:message@en"))
    for constraint in shapes.objects(None, SH.sparql):
        if not any(m.language == "en" for m in shapes.objects(constraint, SH.message)):
            missing.append((constraint, "sh:message@en on the SPARQL constraint"))
    assert not missing


def test_shapes_are_named(shapes: rdflib.Graph) -> None:
    """Every node and property shape has an IRI, so that a case can name the shape it expects."""
    anonymous = [s for s in shapes.objects(None, SH.property) if not isinstance(s, rdflib.URIRef)]
    anonymous += [s for s in shapes.subjects(RDF.type, SH.NodeShape) if not isinstance(s, rdflib.URIRef)]
    assert not anonymous


def test_consistency_shapes_only_warn(shapes: rdflib.Graph) -> None:
    consistency = rdflib.Graph().parse(SHAPES_DIR / "consistency.ttl", format="turtle")
    severities = set(consistency.objects(None, SH.severity))
    assert severities <= {SH.Warning, SH.Info}
    others = load_shapes(p for p in sorted(SHAPES_DIR.glob("*.ttl")) if p.name != "consistency.ttl")
    assert set(others.objects(None, SH.severity)) == {SH.Violation}


# ----------------------------------------------------------------------------------------------------------------
# The cases
# ----------------------------------------------------------------------------------------------------------------


def test_context_conforms_without_any_result(shapes: rdflib.Graph) -> None:
    store = Store()
    context = rdflib.Graph().parse(CONTEXT, format="turtle")
    store.add_all(ox.Quad(*(to_oxigraph(t) for t in triple), CASE_GRAPH) for triple in context)
    run_constructs(store)
    _, report, text = validate(data_graph(store.quads()), shacl_graph=shapes, inference="none", advanced=True)
    assert results(report) == set(), text


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_case(case: Path, shapes: rdflib.Graph) -> None:
    actual, expected, _ = validate_case(case, shapes)
    assert expected, f"{case.name} states no expected result"
    missing, unexpected = expected - actual, actual - expected
    assert not missing and not unexpected, (
        f"missing: {sorted(map(str, missing))}\nunexpected: {sorted(map(str, unexpected))}"
    )


def test_every_shape_file_and_node_shape_is_exercised(shapes: rdflib.Graph) -> None:
    """Each file of shapes/, and each node shape in it, is the source of an expected result of some case."""
    expected_shapes: set[rdflib.term.Node] = set()
    for case in CASES:
        expected_shapes |= {shape for _, _, shape, _ in split_case(case)[1]}
    by_file = {p.name: rdflib.Graph().parse(p, format="turtle") for p in sorted(SHAPES_DIR.glob("*.ttl"))}
    exercised_files = {name for shape in expected_shapes for name in shape_files_of(by_file, shape)}
    assert exercised_files == set(by_file)
    unexercised = []
    for node_shape in shapes.subjects(RDF.type, SH.NodeShape):
        own = {node_shape} | set(shapes.objects(node_shape, SH.property))
        targets = (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf)
        targeted = any((node_shape, p, None) in shapes for p in targets)
        if targeted and not own & expected_shapes:
            unexercised.append(node_shape)
    assert not unexercised


def test_every_case_is_described() -> None:
    assert all(split_case(case)[2] for case in CASES)


# ----------------------------------------------------------------------------------------------------------------
# The shipped dataset
# ----------------------------------------------------------------------------------------------------------------


def test_dataset_has_no_violation(dataset_report: rdflib.Graph) -> None:
    violations = {r for r in results(dataset_report) if r[3] == SH.Violation}
    assert violations == set()


def test_engine_of_validate_agrees_on_the_dataset(kg: KnowledgeGraph, dataset_report: rdflib.Graph) -> None:
    """idais_kg.validation.shacl.engine (what ``validate`` runs) gives exactly pySHACL's results on the shipped
    dataset."""
    from test_shacl_engine import engine_shapes, keys

    from idais_kg.validation.shacl import engine as shacl_validation

    data = [q for q in kg.store.quads() if q.graph_name != ox.NamedNode(GRAPH_ONTOLOGY)]
    assert keys(shacl_validation.validate(data, engine_shapes())) == results(dataset_report)


def ed(path: str) -> rdflib.URIRef:
    return rdflib.URIRef(ED + path)


def kg_(path: str) -> rdflib.URIRef:
    return rdflib.URIRef(KG + path)


# Checked by hand against data/source/idais-policy-guide-2025-02.zh.txt (line numbers in brackets).
EXPECTED_REPORT: dict[rdflib.URIRef, set[rdflib.term.Node]] = {
    # rows 10-12 (lines 60-62) list under 国际治理 goals the body treats in 国内治理 (headings 413, 442, 475)
    ISH["OverviewAreaAgreesWithBody-placesInArea"]: {
        ed("overview/row/10"),
        ed("overview/row/11"),
        ed("overview/row/12"),
    },
    # rows 7 and 9 (lines 55, 57) both list 落实人工智能事故跟踪和报道
    ISH.GoalListedOnce: {kg_("goal/ai-incident-tracking-and-reporting")},
    # 实施国内模型登记 (line 329) is in no row; its two policies (lines 345, 351) are reported with it
    ISH.GoalInOverview: {kg_("goal/domestic-model-registration")},
    # goal cells 安全部国际合作 (48), 定义并评估… (52), 建立第三方审计与评测 (53), 采取风险管理 (60), 全球对齐… (64)
    ISH["OverviewGoalNameAgreesWithBody-goalNameAsWritten"]: {
        ed("overview/row/2"),
        ed("overview/row/4"),
        ed("overview/row/5"),
        ed("overview/row/10"),
        ed("overview/row/14"),
    },
    # body policies at lines 216 and 471 whose goals the table lists with one policy fewer (lines 52, 61)
    ISH.PolicyInOverview: {
        ed(
            "policy/advance-priority-verification-research"
        ),  # its slot's entry names another action (line 49)
        ed("policy/common-red-line-threshold-taxonomy"),
        ed("policy/runtime-feature-monitoring-for-automatic-shutdown"),
    },
    ISH["OverviewEntryAgreesWithBody-textAsWritten"]: {
        ed(f"overview/row/{e}")
        for e in (
            "1/policy/1",
            "4/policy/1",
            "4/policy/2",
            "5/policy/1",
            "6/policy/2",
            "7/policy/2",
            "9/policy/2",
            "10/policy/1",
            "11/policy/1",
            "13/policy/1",
            "14/policy/2",
        )
    },
    # the entry at line 49 names another action than the body policy in its slot (line 164)
    ISH["OverviewEntryNamesOtherAction-inSlotOfPolicy"]: {ed("overview/row/3/policy/1")},
    # footnotes 4, 8, 23, 40, 48, 57, 59, 72 vs the bibliography entries of the same works
    ISH["CitationAgreesWithBibliography-urlAsWritten"]: {
        ed(f"footnote/{c}") for c in ("4#c1", "8#c2", "23#c1", "40#c1", "48#c1", "57#c1", "59#c1", "72#c1")
    },
    ISH["CitationAgreesWithBibliography-doiAsWritten"]: {ed("footnote/4#c1"), ed("footnote/23#c1")},
    # footnote 25 (line 230) prints n.d., the bibliography (line 726) September 2023
    ISH["CitationDateAgreesWithBibliography-dateAsWritten"]: {ed("footnote/25#c1")},
    # the misprinted DOIs of footnotes 4 (line 114, .zh glued on) and 23 (line 226, 240717347)
    ISH.DoiAsWrittenMisprinted: {ed("footnote/4#c1"), ed("footnote/23#c1")},
    ISH.BibliographyEntryCited: {
        ed(f"bibliography/{s}")
        for s in (
            "anderljung-2023-frontier-ai-regulation",
            "dennis-2024-what-internationalised",
            "kim-2021-operation-warp-speed",
            "ntu-serving-up-2021",
            "stein-2024-safe-beyond-sale",
        )
    },
    ISH.BibliographyEntryProbablyCited: {ed("bibliography/wasil-2024-verification-methods")},
    ISH["BackReferenceReported-refersBackTo"]: {ed(f"footnote/{n}") for n in (19, 49, 50, 53)},
    # one focus node, IDAIS, for all 15 spelling findings (each quote in its message: test_dialogue_name_spellings)
    ISH.DialogueNameSpelling: {kg_("organisation/idais")},
    # the links printed [text](#) at lines 17 (three), 23 and 266: the conversion lost their targets
    ISH.PrintedLinkTargetLost: {
        ed("section/safe-ai-forum#link1"),
        ed("section/safe-ai-forum#link2"),
        ed("section/safe-ai-forum#link3"),
        ed("section/introduction#link1"),
        ed("paragraph/third-party-audit-and-evaluation-policies-note#link1"),
    },
}

# The 15 quotes whose attribution spells the dialogue's name otherwise than the 14 that print 人工智能安全国际对话:
# 人工智能安全部际对话 (9), 人工智能国际安全对话 (4), 人工智能安全部国际合作对话 (2).
EXPECTED_SPELLINGS = {"人工智能安全部际对话": 9, "人工智能国际安全对话": 4, "人工智能安全部国际合作对话": 2}


def test_consistency_report_is_exactly_the_known_findings(dataset_report: rdflib.Graph) -> None:
    findings = {r for r in results(dataset_report) if r[3] != SH.Violation}
    by_shape: dict[rdflib.term.Node, set[rdflib.term.Node]] = {}
    for focus, _, shape, _ in findings:
        by_shape.setdefault(shape, set()).add(focus)
    assert by_shape == EXPECTED_REPORT
    info = {shape for _, _, shape, sev in findings if sev == SH.Info}
    assert info == {ISH.BibliographyEntryProbablyCited, ISH["BackReferenceReported-refersBackTo"]}


def test_dialogue_name_spellings(dataset_report: rdflib.Graph, kg: KnowledgeGraph) -> None:
    """One result per quote with a less common spelling: the spelling as sh:value, the quote and the line of its
    attribution in the message (the focus node is IDAIS, see shapes/consistency.ttl)."""
    values: dict[str, int] = {}
    named: dict[str, tuple[str, str]] = {}
    for result in dataset_report.subjects(SH.sourceShape, ISH.DialogueNameSpelling):
        value = str(dataset_report.value(result, SH.value))
        values[value] = values.get(value, 0) + 1
        assert dataset_report.value(result, SH.resultSeverity) == SH.Warning
        message = str(dataset_report.value(result, SH.resultMessage))
        quote, line = message.split(" ")[1].rstrip(":"), message.split("(line ")[1].split(")")[0]
        assert message.endswith("the most common spelling is 人工智能安全国际对话 (14 quotes)."), message
        assert f"{value} ({EXPECTED_SPELLINGS[value]} of the quotes)" in message, message
        named[quote] = (value, line)
    assert values == EXPECTED_SPELLINGS
    minority = kg.sparql(
        "SELECT ?q ?n ?line WHERE { ?q a idais:Quote ; idais:dialogueNameAsWritten ?n ; "
        "idais:sourceLocation/idais:startLine ?line FILTER (STR(?n) != '人工智能安全国际对话') }"
    )
    assert named == {r["q"].value: (r["n"].value, r["line"].value) for r in minority.rows}
    distinct = kg.sparql("SELECT (COUNT(DISTINCT ?n) AS ?c) WHERE { ?q idais:dialogueNameAsWritten ?n }")
    assert distinct.values("c") == ["4"]


def test_findings_carry_the_source_line(dataset_report: rdflib.Graph) -> None:
    for result in dataset_report.subjects(SH.resultSeverity, SH.Warning):
        message = str(dataset_report.value(result, SH.resultMessage))
        assert "line " in message and "{?" not in message, message


def test_overview_findings_match_the_source_text(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    rows = kg.query("overview-discrepancies").rows
    for row in rows:
        if "as_written" in row and row["kind"].value in ("goal-name-differs", "entry-text-differs"):
            assert row["as_written"].value in source_lines[int(row["line"].value) - 1]
        if row["kind"].value in ("goal-name-differs", "goal-not-listed", "goal-listed-twice"):
            assert row["body_text"].value in source_lines[int(row["body_line"].value) - 1]


# ----------------------------------------------------------------------------------------------------------------
# The saved queries of the report
# ----------------------------------------------------------------------------------------------------------------


def short(term: object) -> str:
    value = term.value if hasattr(term, "value") else str(term)
    return value.replace(ED, "").replace(KG, "")


def test_query_overview_discrepancies(kg: KnowledgeGraph) -> None:
    rows = kg.query("overview-discrepancies").rows
    got = [
        (r["kind"].value, short(r["item"]), short(r["goal"]), r["line"].value if "line" in r else None)
        for r in rows
    ]
    assert got == [
        ("area-differs", "overview/row/10", "goal/risk-management-and-evaluation-practices", "60"),
        ("area-differs", "overview/row/11", "goal/post-deployment-monitoring", "61"),
        ("area-differs", "overview/row/12", "goal/professional-ethics-for-ai-practitioners", "62"),
        ("entry-names-other-action", "overview/row/3/policy/1", "goal/verification-methods-research", "49"),
        ("entry-text-differs", "overview/row/1/policy/1", "goal/ai-safety-rd-resources", "47"),
        (
            "entry-text-differs",
            "overview/row/4/policy/1",
            "goal/red-lines-and-early-warning-thresholds",
            "52",
        ),
        (
            "entry-text-differs",
            "overview/row/4/policy/2",
            "goal/red-lines-and-early-warning-thresholds",
            "52",
        ),
        ("entry-text-differs", "overview/row/5/policy/1", "goal/third-party-audit-and-evaluation", "53"),
        ("entry-text-differs", "overview/row/6/policy/2", "goal/safety-cases-and-assurances", "54"),
        ("entry-text-differs", "overview/row/7/policy/2", "goal/ai-incident-tracking-and-reporting", "55"),
        ("entry-text-differs", "overview/row/9/policy/2", "goal/ai-incident-tracking-and-reporting", "57"),
        (
            "entry-text-differs",
            "overview/row/10/policy/1",
            "goal/risk-management-and-evaluation-practices",
            "60",
        ),
        ("entry-text-differs", "overview/row/11/policy/1", "goal/post-deployment-monitoring", "61"),
        ("entry-text-differs", "overview/row/13/policy/1", "goal/ai-safety-as-global-public-good", "63"),
        (
            "entry-text-differs",
            "overview/row/14/policy/2",
            "goal/global-red-line-standards-and-market-access",
            "64",
        ),
        ("goal-listed-twice", "overview/row/9", "goal/ai-incident-tracking-and-reporting", "57"),
        ("goal-name-differs", "overview/row/2", "goal/international-safety-cooperation", "48"),
        ("goal-name-differs", "overview/row/4", "goal/red-lines-and-early-warning-thresholds", "52"),
        ("goal-name-differs", "overview/row/5", "goal/third-party-audit-and-evaluation", "53"),
        ("goal-name-differs", "overview/row/10", "goal/risk-management-and-evaluation-practices", "60"),
        ("goal-name-differs", "overview/row/14", "goal/global-red-line-standards-and-market-access", "64"),
        ("goal-not-listed", "goal/domestic-model-registration", "goal/domestic-model-registration", "329"),
        (
            "policy-not-listed",
            "policy/advance-priority-verification-research",
            "goal/verification-methods-research",
            "164",
        ),
        (
            "policy-not-listed",
            "policy/common-red-line-threshold-taxonomy",
            "goal/red-lines-and-early-warning-thresholds",
            "216",
        ),
        (
            "policy-not-listed",
            "policy/runtime-feature-monitoring-for-automatic-shutdown",
            "goal/post-deployment-monitoring",
            "471",
        ),
    ]


def test_query_source_discrepancies(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    rows = kg.query("source-discrepancies").rows
    got = [
        (
            r["kind"].value,
            r["number"].value,
            short(r["source"]),
            r["line"].value,
            r["bibliography_line"].value,
        )
        for r in rows
    ]
    assert got == [
        ("doi", "4", "source/zhou-2024-model-ai-law", "114", "734"),
        ("url", "4", "source/zhou-2024-model-ai-law", "114", "734"),
        ("url", "8", "source/clifford-2024-def-acc", "122", "623"),
        ("doi", "23", "source/wasil-2024-ai-emergency-preparedness", "226", "724"),
        ("url", "23", "source/wasil-2024-ai-emergency-preparedness", "226", "724"),
        ("url", "40", "source/safety-case-specialist-nd", "319", "699"),
        ("url", "48", "source/global-governance-goals-nd", "381", "653"),
        ("url", "57", "source/tencent-large-model-safety-2024", "462", "736"),
        ("url", "59", "source/stein-2024-role-of-governments", "483", "702"),
        ("url", "72", "source/wang-2024-global-public-goods", "561", "738"),
    ]
    for r in rows:  # the footnote's form is printed on its line
        assert r["as_written"].value in source_lines[int(r["line"].value) - 1]


def test_query_uncited_sources(kg: KnowledgeGraph, source_lines: list[str]) -> None:
    rows = kg.query("uncited-sources").rows
    got = [
        (
            short(r["entry"]),
            r["line"].value,
            r["probably_cited_number"].value if "probably_cited_number" in r else None,
        )
        for r in rows
    ]
    assert got == [
        ("bibliography/anderljung-2023-frontier-ai-regulation", "615", None),
        ("bibliography/dennis-2024-what-internationalised", "643", None),
        ("bibliography/kim-2021-operation-warp-speed", "675", None),
        ("bibliography/ntu-serving-up-2021", "691", None),
        ("bibliography/stein-2024-safe-beyond-sale", "706", None),
        ("bibliography/wasil-2024-verification-methods", "722", "16"),
    ]
    for r in rows:
        assert r["title"].value.split(":")[0] in source_lines[int(r["line"].value) - 1]
