"""The mapping sets to AIRO and VAIR (data/mappings/airo.sssom.tsv, vair.sssom.tsv; issue 15), checked against
both texts: the guide's sources (data/guide/) for the subjects, and the vocabulary copies in ../shared/vocab/ for
the targets (skipped, saying why, when that folder is absent, as in an installed copy).

Every goal (15), potential policy (56) and red line (5) has, in each file, a mapping or a ``sssom:NoTermFound``
row; every target exists in the copy with a type fit for a SKOS mapping and the label the row gives it; every
comment cites the subject's own source lines, and what it quotes is found verbatim where it says: the Chinese in
parentheses in the subject's text, the single-quoted English in the vocabulary."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from idais_kg.dataset.mappings import mapping_set_quads

ROOT = Path(__file__).resolve().parents[1]
MAPPINGS = ROOT / "data" / "mappings"
VOCAB = ROOT.parent / "shared" / "vocab"
FILES = ("airo", "vair")

KG = "https://w3id.org/idais-kg/id/"
IDAIS = "https://w3id.org/idais-kg/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OWL = "http://www.w3.org/2002/07/owl#"
OWL_AXIOM = OWL + "Axiom"
PREFIXES = {
    "goal": KG + "goal/",
    "policy": KG + "guide/2025-02/policy/",
    "redline": KG + "red-line/",
    "agent": KG + "agent/",
    "airo": "https://w3id.org/airo#",
    "vair": "https://w3id.org/vair#",
    "skos": SKOS,
    "sssom": "https://w3id.org/sssom/",
    "semapv": "https://w3id.org/semapv/vocab/",
}
COLUMNS = [
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "author_id",
    "mapping_date",
    "confidence",
    "object_source",
    "comment",
]
PREDICATES = {
    "skos:exactMatch",
    "skos:closeMatch",
    "skos:broadMatch",
    "skos:narrowMatch",
    "skos:relatedMatch",
}
# A target fit for a SKOS mapping (data/mappings/README.md): a class, a concept or a named individual.
FIT_TYPES = {OWL + "Class", RDFS + "Class", SKOS + "Concept", OWL + "NamedIndividual"}
# Expected per file: (rows, NoTermFound rows, rows per predicate of the mappings), as curated on 2026-12-01.
EXPECTED = {
    "airo": (77, 51, {"skos:relatedMatch": 25, "skos:broadMatch": 1}),
    "vair": (83, 49, {"skos:relatedMatch": 33, "skos:broadMatch": 1}),
}
QUOTED = re.compile(r"(?:(?<=[\s(])|^)'(.+?)'(?=[\s,.;)]|$)")  # 'a definition', not an apostrophe
PARENTHESES = re.compile(r"\(([^()]*)\)")
CJK = re.compile(r"[\u4e00-\u9fff]")
MENTIONED = re.compile(r"\b(airo|vair):([A-Za-z][\w-]*)")


def _rows(name: str) -> tuple[list[str], list[dict[str, str]]]:
    lines = (MAPPINGS / f"{name}.sssom.tsv").read_text(encoding="utf-8").splitlines()
    table = [line for line in lines if not line.startswith("#")]
    header = table[0].split("\t")
    rows = []
    for line in table[1:]:
        cells = line.split("\t")
        assert len(cells) == len(header), line
        rows.append(dict(zip(header, cells, strict=True)))
    return header, rows


def _iri(curie: str) -> str:
    prefix, local = curie.split(":", 1)
    return PREFIXES[prefix] + local


@pytest.fixture(scope="module")
def guide() -> ox.Store:
    store = ox.Store()
    for path in sorted((ROOT / "data" / "guide").rglob("*.ttl")):
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


@pytest.fixture(scope="module")
def vocab() -> dict[str, ox.Store]:
    if not VOCAB.is_dir():
        pytest.skip(f"the vocabulary copies are not here ({VOCAB}); the targets cannot be checked")
    stores = {}
    for name in FILES:
        stores[name] = ox.Store()
        stores[name].load(path=str(VOCAB / name / f"{name}.ttl"), format=ox.RdfFormat.TURTLE)
    return stores


def _literals(store: ox.Store, subject: str, *properties: str) -> list[ox.Literal]:
    node = ox.NamedNode(subject)
    return [
        q.object
        for p in properties
        for q in store.quads_for_pattern(node, ox.NamedNode(p), None)
        if isinstance(q.object, ox.Literal)
    ]


def _instances(store: ox.Store, cls: str) -> set[str]:
    found = store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(IDAIS + cls))
    return {q.subject.value for q in found if isinstance(q.subject, ox.NamedNode)}


@pytest.mark.parametrize("name", FILES)
def test_header_and_columns(name: str) -> None:
    header, _ = _rows(name)
    assert header == COLUMNS
    text = (MAPPINGS / f"{name}.sssom.tsv").read_text(encoding="utf-8")
    assert f"# mapping_set_id: https://w3id.org/idais-kg/id/mappings/{name}\n" in text
    assert "# license: https://creativecommons.org/licenses/by/4.0/\n" in text
    assert "# creator_id:\n#   - agent:editors\n# mapping_date: 2026-12-01\n" in text
    for prefix in ("goal", "policy", "redline", "agent", "airo", "vair"):
        assert f"#   {prefix}: {PREFIXES[prefix]}\n" in text


@pytest.mark.parametrize("name", FILES)
def test_the_loader_takes_every_row(name: str) -> None:
    """The build reads the file into one owl:Axiom per row, with the row's subject and target, and a direct
    ``skos:*Match`` triple for each row that is not a ``sssom:NoTermFound`` record."""
    _, rows = _rows(name)
    quads = mapping_set_quads(MAPPINGS / f"{name}.sssom.tsv")
    axioms = {q.subject for q in quads if q.predicate.value == RDF_TYPE and q.object.value == OWL_AXIOM}
    pairs: Counter[tuple[str, str]] = Counter()
    for axiom in axioms:
        about = {q.predicate.value: q.object.value for q in quads if q.subject == axiom}
        pairs[(about[OWL + "annotatedSource"], about[OWL + "annotatedTarget"])] += 1
    assert pairs == Counter((_iri(r["subject_id"]), _iri(r["object_id"])) for r in rows)
    matches = {
        (q.subject.value, q.predicate.value, q.object.value)
        for q in quads
        if q.predicate.value.startswith(SKOS)
    }
    assert matches == {
        (_iri(r["subject_id"]), _iri(r["predicate_id"]), _iri(r["object_id"]))
        for r in rows
        if r["object_id"] != "sssom:NoTermFound"
    }


@pytest.mark.parametrize("name", FILES)
def test_every_goal_policy_and_red_line_has_a_row(name: str, guide: ox.Store) -> None:
    goals, policies = _instances(guide, "Goal"), _instances(guide, "PotentialPolicy")
    red_lines = _instances(guide, "RedLine")
    assert (len(goals), len(policies), len(red_lines)) == (15, 56, 5)
    _, rows = _rows(name)
    assert {_iri(r["subject_id"]) for r in rows} == goals | policies | red_lines


@pytest.mark.parametrize("name", FILES)
def test_subject_labels_and_source_lines(name: str, guide: ox.Store) -> None:
    """The label is the English prefLabel (leadPhrase for a policy); the comment cites the subject's own lines."""
    _, rows = _rows(name)
    for row in rows:
        subject = _iri(row["subject_id"])
        label_property = (
            IDAIS + "leadPhrase" if row["subject_id"].startswith("policy:") else SKOS + "prefLabel"
        )
        labels = [lit.value for lit in _literals(guide, subject, label_property) if lit.language == "en"]
        assert labels == [row["subject_label"]], row["subject_id"]
        locations = list(
            guide.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(IDAIS + "sourceLocation"), None)
        )
        assert len(locations) == 1, row["subject_id"]
        first, last = locations[0].object.value.split("#line=")[1].split(",")
        assert f"lines {first}-{last}" in row["comment"], row["subject_id"]


@pytest.mark.parametrize("name", FILES)
def test_rows_are_complete(name: str) -> None:
    _, rows = _rows(name)
    for row in rows:
        key = (row["subject_id"], row["object_id"])
        assert row["mapping_justification"] == "semapv:ManualMappingCuration", key
        assert (row["author_id"], row["mapping_date"]) == ("agent:editors", "2026-12-01"), key
        assert row["object_source"] == f"https://w3id.org/{name}", key
        assert row["predicate_id"] in PREDICATES, key
        confidence = float(row["confidence"])
        assert 0.0 <= confidence <= 1.0, key
        assert 0.5 <= confidence <= 0.95, key  # our band: from plausible to well defended
        assert row["comment"].strip() and row["comment"].endswith("."), key
        # plain cells: no tab, and no cell that a CSV reader would take for a quoted one (a label may hold a ")
        assert not any(cell.startswith('"') for cell in row.values()), key
        if row["object_id"] == "sssom:NoTermFound":
            assert (row["predicate_id"], row["object_label"]) == ("skos:exactMatch", ""), key
        else:
            assert row["object_id"].startswith(f"{name}:") and row["object_label"], key


@pytest.mark.parametrize("name", FILES)
def test_rows_sorted_unique_and_one_exact_match(name: str) -> None:
    _, rows = _rows(name)
    keys = [(r["subject_id"], r["object_source"], r["object_id"]) for r in rows]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    exact = Counter(
        r["subject_id"]
        for r in rows
        if r["predicate_id"] == "skos:exactMatch" and r["object_id"] != "sssom:NoTermFound"
    )
    assert all(n == 1 for n in exact.values())
    for subject in {r["subject_id"] for r in rows if r["object_id"] == "sssom:NoTermFound"}:
        assert [r["object_id"] for r in rows if r["subject_id"] == subject] == ["sssom:NoTermFound"], subject


@pytest.mark.parametrize("name", FILES)
def test_counts(name: str) -> None:
    _, rows = _rows(name)
    found = [r for r in rows if r["object_id"] != "sssom:NoTermFound"]
    total, none, predicates = EXPECTED[name]
    assert (len(rows), len(rows) - len(found), dict(Counter(r["predicate_id"] for r in found))) == (
        total,
        none,
        predicates,
    )


@pytest.mark.parametrize("name", FILES)
def test_targets_exist_with_type_and_label(name: str, vocab: dict[str, ox.Store]) -> None:
    store = vocab[name]
    _, rows = _rows(name)
    for row in rows:
        if row["object_id"] == "sssom:NoTermFound":
            continue
        target = ox.NamedNode(_iri(row["object_id"]))
        types = {q.object.value for q in store.quads_for_pattern(target, ox.NamedNode(RDF_TYPE), None)}
        assert types & FIT_TYPES, row["object_id"]
        # AIRO's terms are OWL classes; VAIR's are SKOS concepts that are also OWL classes (punned individuals).
        assert (OWL + "Class") in types, row["object_id"]
        if name == "vair":
            assert (SKOS + "Concept") in types, row["object_id"]
        labels = {lit.value for lit in _literals(store, target.value, RDFS + "label", SKOS + "prefLabel")}
        assert labels == {row["object_label"]}, row["object_id"]


@pytest.mark.parametrize("name", FILES)
def test_comments_quote_both_texts(name: str, guide: ox.Store, vocab: dict[str, ox.Store]) -> None:
    """Chinese in parentheses is in the subject's text; single-quoted English is in the vocabulary; every
    ``airo:``/``vair:`` term a comment names exists."""
    vocabulary_text = [q.object.value for q in vocab[name] if isinstance(q.object, ox.Literal)]
    _, rows = _rows(name)
    for row in rows:
        subject = _iri(row["subject_id"])
        own = [
            lit.value
            for lit in _literals(
                guide, subject, SKOS + "prefLabel", IDAIS + "verbatimText", IDAIS + "leadPhrase"
            )
            if lit.language == "zh"
        ]
        assert own, row["subject_id"]
        chinese = [
            part
            for group in PARENTHESES.findall(row["comment"])
            if CJK.match(group)
            for part in group.split(", ")
            if CJK.search(part) and not part.startswith("lines ")
        ]
        assert chinese, row["subject_id"]
        for part in chinese:
            assert any(part in text for text in own), (row["subject_id"], part)
        for quote in QUOTED.findall(row["comment"]):
            assert any(quote in text for text in vocabulary_text), (row["subject_id"], quote)
        for prefix, local in MENTIONED.findall(row["comment"]):
            node = ox.NamedNode(PREFIXES[prefix] + local)
            assert any(vocab[prefix].quads_for_pattern(node, ox.NamedNode(RDF_TYPE), None)), (prefix, local)
