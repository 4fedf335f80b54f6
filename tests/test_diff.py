"""``idais-kg diff``: exact changes for small pairs of versions, its outputs, and a diff through git.

Each fixture pair is a few lines of TriG; the expectations are the whole change list, so that any noise (a
re-ordering, a re-labelled blank node) would show as an extra change.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from idais_kg.cli import DIFF_FORMATS, main
from idais_kg.dataset.diff import Side, diff, diff_sides, resolve, side_of_layout
from idais_kg.dataset.diff.rdf import to_rdf
from idais_kg.dataset.diff.render import RENDERERS, to_json, to_markdown, to_table
from idais_kg.dataset.releases import ReleaseError, find_release
from idais_kg.namespaces import CHANGESET, GRAPH_EDITORIAL, GRAPH_GUIDE, IDAIS, KG, RDF
from idais_kg.sources.layout import Layout
from idais_kg.sources.queries import QueryRegistry
from idais_kg.store import Store

ROOT = Path(__file__).resolve().parents[1]
GOAL = KG + "goal/g"
PREFIXES = f"""
@prefix idais: <{IDAIS}> .
@prefix goal: <{KG}goal/> .
@prefix ed: <{KG}guide/2025-02/> .
@prefix level: <{KG}progress-level/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix schema: <https://schema.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix sssom: <https://w3id.org/sssom/> .
"""
BASE = """
<https://w3id.org/idais-kg/id/graph/guide> {
  goal:g a idais:Goal ; skos:prefLabel "目标"@zh .
  ed:assessment\\/g a idais:ProgressAssessment ; idais:assessmentOf goal:g ;
    idais:inEdition <https://w3id.org/idais-kg/id/guide/2025-02> ; idais:level level:limited .
  ed:policy\\/p1 a idais:PotentialPolicy ; idais:policyOf goal:g ; idais:hasFootnote ed:footnote\\/1 .
  ed:footnote\\/1 a idais:Footnote ; idais:footnoteNumber 1 .
}
<https://w3id.org/idais-kg/id/graph/translations> { goal:g skos:prefLabel "Goal"@en . }
"""


def side(trig: str, name: str = "x") -> Side:
    quads = tuple(ox.parse((PREFIXES + trig).encode(), format=ox.RdfFormat.TRIG))
    return Side(name, name, quads)


def changes_of(old: str, new: str):  # type: ignore[no-untyped-def]
    return diff_sides(side(old, "old"), side(new, "new")).changes


REORDERED = """
<https://w3id.org/idais-kg/id/graph/translations> { goal:g skos:prefLabel "Goal"@en . }
<https://w3id.org/idais-kg/id/graph/guide> {
  ed:footnote\\/1 idais:footnoteNumber 1 ; a idais:Footnote .
  ed:policy\\/p1 idais:hasFootnote ed:footnote\\/1 ; idais:policyOf goal:g ; a idais:PotentialPolicy .
  ed:assessment\\/g idais:level level:limited ; idais:assessmentOf goal:g ; a idais:ProgressAssessment .
  ed:assessment\\/g idais:inEdition <https://w3id.org/idais-kg/id/guide/2025-02> .
  goal:g skos:prefLabel "目标"@zh ; a idais:Goal .
}
"""


def test_same_statements_in_another_order_are_no_change() -> None:
    assert not changes_of(BASE, REORDERED)


def test_a_changed_label() -> None:
    c = changes_of(BASE, BASE.replace('"Goal"@en', '"The goal"@en'))
    assert [
        (x.subject, x.predicate, [v.text for v in x.removed], [v.text for v in x.added], x.goals)
        for x in c.values
    ] == [(GOAL, "http://www.w3.org/2004/02/skos/core#prefLabel", ['"Goal"@en'], ['"The goal"@en'], (GOAL,))]
    assert not (c.added or c.removed or c.moves or c.levels or c.parts or c.mappings)
    assert c.goals_changed() == [GOAL]


def test_an_added_policy() -> None:
    added = "ed:policy\\/p2 a idais:PotentialPolicy ; idais:policyOf goal:g .\n}"
    c = changes_of(BASE, BASE.replace("}", added, 1))
    policy = KG + "guide/2025-02/policy/p2"
    assert [(x.subject, x.types, x.goals) for x in c.added] == [(policy, ("idais:PotentialPolicy",), (GOAL,))]
    assert [(x.goal, x.kind, x.part, x.change) for x in c.parts] == [(GOAL, "policy", policy, "added")]
    assert not (c.removed or c.values or c.moves or c.levels)


def test_a_dropped_footnote() -> None:
    c = changes_of(BASE, BASE.replace(" ; idais:hasFootnote ed:footnote\\/1 .", " ."))
    footnote = KG + "guide/2025-02/footnote/1"
    assert [(x.goal, x.kind, x.part, x.change) for x in c.parts] == [(GOAL, "footnote", footnote, "removed")]
    assert [(x.subject, [v.text for v in x.removed]) for x in c.values] == [
        (KG + "guide/2025-02/policy/p1", ["ed:footnote/1"])
    ]


def test_a_moved_level() -> None:
    c = changes_of(BASE, BASE.replace("level:limited", "level:moderate"))
    assessment = KG + "guide/2025-02/assessment/g"
    assert [(x.goal, x.edition, x.before, x.after, x.assessment) for x in c.levels] == [
        (
            GOAL,
            KG + "guide/2025-02",
            KG + "progress-level/limited",
            KG + "progress-level/moderate",
            assessment,
        )
    ]
    assert [(x.subject, [v.text for v in x.removed], [v.text for v in x.added]) for x in c.values] == [
        (assessment, ["level:limited"], ["level:moderate"])
    ]


QUANTITY = BASE.replace(
    "idais:level level:limited .",
    'idais:level level:limited ; idais:statesQuantity [ a schema:MonetaryAmount ; schema:value 5.0 ; schema:currency "USD" ] .',
)


def test_a_blank_node_only_reserialised_is_no_change() -> None:
    relabelled = (
        QUANTITY.replace('[ a schema:MonetaryAmount ; schema:value 5.0 ; schema:currency "USD" ]', "_:other")
        + '<https://w3id.org/idais-kg/id/graph/guide> { _:other schema:currency "USD" ; schema:value 5.0 ; a schema:MonetaryAmount . }'
    )
    assert not changes_of(QUANTITY, relabelled)


def test_a_blank_node_quantity_changed() -> None:
    c = changes_of(QUANTITY, QUANTITY.replace("5.0", "6.0"))
    assert [
        (x.subject, x.predicate, [v.text for v in x.removed], [v.text for v in x.added]) for x in c.values
    ] == [
        (
            KG + "guide/2025-02/assessment/g",
            IDAIS + "statesQuantity",
            ['[ rdf:type schema:MonetaryAmount ; schema:currency "USD" ; schema:value "5.0"^^xsd:decimal ]'],
            ['[ rdf:type schema:MonetaryAmount ; schema:currency "USD" ; schema:value "6.0"^^xsd:decimal ]'],
        )
    ]
    assert not (c.added or c.removed)  # the blank node is a value of the assessment, no resource of its own


def test_a_value_moved_between_graphs() -> None:
    note = '\n<https://w3id.org/idais-kg/id/graph/%s> { goal:g skos:editorialNote "Checked."@en . }'
    c = changes_of(BASE + note % "translations", BASE + note % "editorial")
    assert [(x.subject, x.predicate, x.value.text, x.before, x.after) for x in c.moves] == [
        (
            GOAL,
            "http://www.w3.org/2004/02/skos/core#editorialNote",
            '"Checked."@en',
            (KG + "graph/translations",),
            (GRAPH_EDITORIAL,),
        )
    ]
    assert not (c.values or c.added or c.removed)


MAPPING = """
<https://w3id.org/idais-kg/id/graph/mappings> {
  goal:g skos:exactMatch <http://example.org/t> .
  <https://w3id.org/idais-kg/id/mappings/m> a sssom:MappingSet ; sssom:mappings [ a owl:Axiom ;
    owl:annotatedSource goal:g ; owl:annotatedProperty skos:exactMatch ; owl:annotatedTarget <http://example.org/t> ;
    sssom:confidence 0.9 ] .
}
"""


def test_a_mapping_whose_confidence_changed() -> None:
    c = changes_of(BASE + MAPPING, BASE + MAPPING.replace("0.9", "0.8"))
    assert [
        (x.subject, x.object, x.change, [v.text for v in x.removed], [v.text for v in x.added])
        for x in c.mappings
    ] == [
        (
            GOAL,
            "http://example.org/t",
            "changed",
            ['<https://w3id.org/sssom/confidence> "0.9"^^xsd:decimal'],
            ['<https://w3id.org/sssom/confidence> "0.8"^^xsd:decimal'],
        )
    ]
    assert not c.values  # the axiom is reported as a mapping, not again as a value of the mapping set


def test_a_mapping_added() -> None:
    c = changes_of(BASE, BASE + MAPPING)
    assert [(x.subject, x.predicate, x.object, x.change) for x in c.mappings] == [
        (GOAL, "http://www.w3.org/2004/02/skos/core#exactMatch", "http://example.org/t", "added")
    ]
    assert not c.values  # the direct triple is the mapping itself
    assert [x.subject for x in c.added] == [KG + "mappings/m"]


# --- outputs ---


def level_diff():  # type: ignore[no-untyped-def]
    return diff_sides(side(BASE, "old"), side(BASE.replace("level:limited", "level:moderate"), "new"))


def test_table_and_markdown() -> None:
    d = level_diff()
    assert to_table(d).split("\n")[2:6] == [
        "Progress levels (1)",
        "  goal  edition  before  after",
        "  goal:g (Goal)  kg:guide/2025-02  level:limited  level:moderate",
        "",
    ]
    md = to_markdown(d, heading="Data: old to new")
    assert md.startswith(
        "### Data: old to new\n\nfrom old to new: 0 resources added, 0 removed, 1 with changed"
    )
    assert "| ed:assessment/g | idais:level | level:limited | level:moderate |" in md


def test_json() -> None:
    doc = json.loads(to_json(level_diff()))
    assert doc["goals_changed"] == [GOAL]
    assert doc["values_changed"] == [
        {
            "subject": KG + "guide/2025-02/assessment/g",
            "predicate": IDAIS + "level",
            "removed": [{"iri": KG + "progress-level/limited"}],
            "added": [{"iri": KG + "progress-level/moderate"}],
            "goals": [GOAL],
        }
    ]
    assert doc["progress_levels"][0]["after"] == KG + "progress-level/moderate"


def goals_changed_rows(d) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    store = Store()
    store.add_all(
        ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(KG + "graph/changes")) for t in to_rdf(d)
    )
    saved = QueryRegistry(Layout.default().queries_dir).get("goals-changed")
    return [(r["goal"].value, r["kind"].value, int(r["changes"].value)) for r in store.query(saved.text)]


def test_change_graph_answers_which_goals_changed() -> None:
    added = "ed:policy\\/p2 a idais:PotentialPolicy ; idais:policyOf goal:g .\n}"
    d = diff_sides(
        side(BASE, "old"), side(BASE.replace("level:limited", "level:moderate").replace("}", added, 1))
    )
    assert goals_changed_rows(d) == [(GOAL, IDAIS + "LevelChanged", 1), (GOAL, IDAIS + "ResourceAdded", 1)]


def test_change_graph_statements() -> None:
    triples = to_rdf(level_diff())
    change = next(t.subject for t in triples if t.object == ox.NamedNode(IDAIS + "LevelChanged"))
    about = {(t.predicate.value, str(t.object)) for t in triples if t.subject == change}
    assert (CHANGESET + "subjectOfChange", f"<{KG}guide/2025-02/assessment/g>") in about
    assert (IDAIS + "concernsGoal", f"<{GOAL}>") in about
    removal = next(
        t.object for t in triples if t.subject == change and t.predicate.value == CHANGESET + "removal"
    )
    stmt = {(t.predicate.value, str(t.object)) for t in triples if t.subject == removal}
    assert stmt == {
        (RDF + "type", f"<{RDF}Statement>"),
        (RDF + "subject", f"<{KG}guide/2025-02/assessment/g>"),
        (RDF + "predicate", f"<{IDAIS}level>"),
        (RDF + "object", f"<{KG}progress-level/limited>"),
        (IDAIS + "inGraph", f"<{GRAPH_GUIDE}>"),
    }


def test_every_format_renders_and_the_cli_offers_them() -> None:
    assert list(RENDERERS) == DIFF_FORMATS
    d = level_diff()
    turtle = RENDERERS["turtle"](d)
    assert len(list(ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE))) == len(to_rdf(d))


# --- versions named on the command line ---


def write_nquads(path: Path, s: Side) -> Path:
    path.write_bytes(ox.serialize(list(s.quads), format=ox.RdfFormat.N_QUADS) or b"")
    return path


def test_cli_on_two_dump_files(tmp_path: Path) -> None:
    old = write_nquads(tmp_path / "old.nq", side(BASE))
    new = write_nquads(tmp_path / "new.nq", side(BASE.replace("level:limited", "level:moderate")))
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", "json", "--exit-code"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.output)["progress_levels"][0]["goal"] == GOAL
    same = CliRunner().invoke(main, ["diff", str(old), str(old), "--exit-code"])
    assert (same.exit_code, same.output) == (0, f"no change from file {old} to file {old}\n")


def test_a_dump_without_graphs_is_compared_without_graphs(tmp_path: Path) -> None:
    triples = tmp_path / "old.nt"
    triples.write_bytes(
        ox.serialize([q.triple for q in side(BASE).quads], format=ox.RdfFormat.N_TRIPLES) or b""
    )
    assert not diff(str(triples), str(write_nquads(tmp_path / "new.nq", side(BASE)))).changes


def test_an_unknown_version_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["diff", "no-such-release", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        "'no-such-release' is no release (1.0.0, 2.0.0), dump file, project tree or working tree"
        in result.output
    )


def test_a_release_outside_a_git_checkout(project_copy: Layout) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    with pytest.raises(
        ReleaseError, match=r"release 1\.0\.0 \(commit c3de13462c23\): .* is not a git checkout"
    ):
        resolve("1.0.0", project_copy)


# --- through git: the release against the working tree ---


def git_has(commit: str) -> bool:
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return False
    done = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"], check=False)
    return done.returncode == 0


RELEASE = find_release(Layout(ROOT), "1.0.0")
needs_history = pytest.mark.skipif(
    RELEASE is None or not git_has(RELEASE.commit),
    reason="this checkout has no git history with the commit of release 1.0.0 (c3de134)",
)


@needs_history
def test_release_against_commit_with_the_same_quads() -> None:
    d = diff("1.0.0", "c2eae4c", Layout(ROOT))
    assert d.old.label == "release 1.0.0 (commit c3de134)"
    assert d.new.label == "commit c2eae4c"
    assert not d.changes


@needs_history
def test_release_against_the_working_tree() -> None:
    """Whatever the working tree holds now: every change is a real one (no value changed into its own content,
    no blank-node churn), and the diff through git is the diff of the exported tree."""
    d = diff("1.0.0", "working", Layout(ROOT))
    for x in d.changes.values:
        assert {v.text for v in x.removed}.isdisjoint({v.text for v in x.added}), x
    assert d.new.label == "working tree" and d.old.commit == RELEASE.commit  # type: ignore[union-attr]
    again = diff_sides(d.old, side_of_layout(Layout(ROOT), "working", "working tree"))
    assert to_json(again) == to_json(d)


def test_cli_asks_the_change_graph(tmp_path: Path) -> None:
    old = write_nquads(tmp_path / "old.nq", side(BASE))
    new = write_nquads(tmp_path / "new.nq", side(BASE.replace("level:limited", "level:moderate")))
    query = str(ROOT / "queries" / "goals-changed.rq")
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--query", query])
    assert result.exit_code == 0, result.output
    assert result.output.split("\n")[2].split("|")[:3] == [
        "https://w3id.org/idais-kg/id/goal/g ",
        " https://w3id.org/idais-kg/ontology#LevelChanged ",
        " 1      ",
    ]
    bad = CliRunner().invoke(main, ["diff", str(old), str(new), "--query", "CONSTRUCT WHERE { ?s ?p ?o }"])
    assert (bad.exit_code, bad.output) == (
        2,
        "idais-kg: error: a query of the change graph must be a SELECT or an ASK\n",
    )
