"""Write docs/reference.md, the property reference: ``python -m idais_kg.devtools.reference [--check]``.

For every term of ours (the ``idais:`` IRIs the ontology describes) it gives the kind, labels, definition, domain,
range and the axioms that relate it to other terms, read from the ontology graph; and, read from the built dataset
(every graph but the ontology and the description), the classes whose instances use a property and one example
triple with the graph it sits in. The example is the first triple in a fixed order (the guide graph first, then the
editorial, translations, derived and inferred graphs; within one, by subject and object), so the file changes only
when the ontology or the example changes. ``--check`` exits 1 when the file is not what the sources give, as the
test suite does (``tests/test_docs.py``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.namespaces import (
    DCTERMS,
    GRAPH_DERIVED,
    GRAPH_DESCRIPTION,
    GRAPH_EDITORIAL,
    GRAPH_GUIDE,
    GRAPH_INFERRED,
    GRAPH_ONTOLOGY,
    GRAPH_TRANSLATIONS,
    IDAIS,
    OWL,
    PREFIXES,
    RDF,
    RDFS,
    SKOS,
)
from idais_kg.sources.layout import Layout

HEADER = (
    "<!-- written by `python -m idais_kg.devtools.reference`; do not edit (a test fails when it is stale) -->"
)
KINDS = {  # owl type -> section title, in the order of the sections
    OWL + "Class": "Classes",
    OWL + "ObjectProperty": "Object properties",
    OWL + "DatatypeProperty": "Datatype properties",
    OWL + "AnnotationProperty": "Annotation properties",
}
INDIVIDUALS = "Individuals"
GRAPH_ORDER = [GRAPH_GUIDE, GRAPH_EDITORIAL, GRAPH_TRANSLATIONS, GRAPH_DERIVED, GRAPH_INFERRED]
SKIPPED_GRAPHS = {GRAPH_ONTOLOGY, GRAPH_DESCRIPTION}
LITERAL_CHARS = 60
NAMESPACES = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))  # longest first: goal: wins over kg:
_LOCAL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-/]*")


def short(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | ox.DefaultGraph) -> str:
    """A term as a reader writes it in a query: a prefixed name (slashes escaped) where one is valid, else ``<IRI>``.

    >>> short(ox.NamedNode("https://w3id.org/idais-kg/id/guide/2025-02/policy/x"))
    'ed:policy\\\\/x'
    >>> short(ox.NamedNode("https://w3id.org/idais-kg/source/a.txt#line=1,2"))
    '<https://w3id.org/idais-kg/source/a.txt#line=1,2>'
    >>> short(ox.Literal("abc", language="zh"))
    '"abc"@zh'
    """
    if isinstance(term, ox.NamedNode):
        for prefix, namespace in NAMESPACES:
            local = term.value[len(namespace) :]
            if term.value.startswith(namespace) and _LOCAL.fullmatch(local) and not local.endswith("/"):
                return f"{prefix}:{local.replace('/', chr(92) + '/')}"
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        text = term.value.replace("\n", " ")
        text = text if len(text) <= LITERAL_CHARS else text[:LITERAL_CHARS] + "…"
        quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if term.language:
            return f"{quoted}@{term.language}"
        if term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            return f"{quoted}^^{short(term.datatype)}"
        return quoted
    return "[]"  # a blank node


@dataclass
class Term:
    """What the reference says about one term of ours."""

    iri: ox.NamedNode
    kind: str
    labels: dict[str, str] = field(default_factory=dict)
    definition: str = ""
    axioms: list[tuple[str, str]] = field(
        default_factory=list
    )  # (what, value) rows: domain, range, inverse, ...
    used_by: list[str] = field(default_factory=list)
    example: str = ""


def _list_items(by_subject: dict[object, list[ox.Quad]], node: object) -> list[object]:
    """The members of an RDF list (``owl:unionOf``, a property chain), in order."""
    items: list[object] = []
    while isinstance(node, ox.BlankNode):
        quads = by_subject.get(node, [])
        items += [q.object for q in quads if q.predicate.value == RDF + "first"]
        rest = [q.object for q in quads if q.predicate.value == RDF + "rest"]
        node = rest[0] if rest else None
    return items


def _described(by_subject: dict[object, list[ox.Quad]], node: object) -> str:
    """A domain, range or superclass: a name, or ``one of A, B`` for an ``owl:unionOf``."""
    if isinstance(node, ox.BlankNode):
        for q in by_subject.get(node, []):
            if q.predicate.value == OWL + "unionOf":
                members = _list_items(by_subject, q.object)
                return "one of " + ", ".join(f"`{short(m)}`" for m in members)  # type: ignore[arg-type]
        return "(a class expression)"
    return f"`{short(node)}`"  # type: ignore[arg-type]


AXIOMS = [  # ontology predicate -> the row's name
    (RDFS + "domain", "domain"),
    (RDFS + "range", "range"),
    (RDFS + "subClassOf", "subclass of"),
    (RDFS + "subPropertyOf", "sub-property of"),
    (OWL + "inverseOf", "inverse of"),
    (OWL + "propertyChainAxiom", "chain"),
    (SKOS + "closeMatch", "close match"),
    (DCTERMS + "isReplacedBy", "replaced by"),
]


def terms(kg: KnowledgeGraph) -> list[Term]:
    """Every term of ours with what the ontology says of it and how the data uses it."""
    ontology = list(kg.store.quads(GRAPH_ONTOLOGY))
    by_subject: dict[object, list[ox.Quad]] = defaultdict(list)
    for q in ontology:
        by_subject[q.subject].append(q)
    ours = sorted(
        {
            q.subject
            for q in ontology
            if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(IDAIS)
        },
        key=lambda n: n.value,
    )
    data = [q for q in kg.store.quads() if q.graph_name.value not in SKIPPED_GRAPHS]  # type: ignore[union-attr]
    types: dict[object, set[str]] = defaultdict(set)
    for q in data:
        if q.predicate.value == RDF + "type" and isinstance(q.object, ox.NamedNode):
            types[q.subject].add(q.object.value)
    rank = {g: i for i, g in enumerate(GRAPH_ORDER)}
    used: dict[str, list[ox.Quad]] = defaultdict(list)
    instances: dict[str, list[ox.Quad]] = defaultdict(list)
    for q in data:
        used[q.predicate.value].append(q)
        if q.predicate.value == RDF + "type" and isinstance(q.object, ox.NamedNode):
            instances[q.object.value].append(q)

    def first(quads: list[ox.Quad]) -> str:
        if not quads:
            return ""
        q = min(
            quads,
            key=lambda q: (rank.get(q.graph_name.value, len(rank)), str(q.subject), str(q.object)),  # type: ignore[union-attr]
        )
        graph = short(q.graph_name).replace("\\/", "/")
        return f"`{short(q.subject)} {short(q.predicate)} {short(q.object)}` (in {graph})"

    out = []
    for iri in ours:
        quads = by_subject[iri]
        owl_types = {q.object.value for q in quads if q.predicate.value == RDF + "type"}  # type: ignore[union-attr]
        kind = next((k for k in KINDS if k in owl_types), INDIVIDUALS)
        term = Term(iri, KINDS.get(kind, INDIVIDUALS))
        for q in quads:
            obj = q.object
            if isinstance(obj, ox.Literal) and q.predicate.value == RDFS + "label" and obj.language:
                term.labels[obj.language] = obj.value
            if (
                isinstance(obj, ox.Literal)
                and q.predicate.value == SKOS + "definition"
                and obj.language == "en"
            ):
                term.definition = obj.value
        for predicate, name in AXIOMS:
            values = [q.object for q in quads if q.predicate.value == predicate]
            rendered = sorted(
                " then ".join(f"`{short(m)}`" for m in _list_items(by_subject, v))  # type: ignore[arg-type]
                if predicate == OWL + "propertyChainAxiom"
                else _described(by_subject, v)
                for v in values
            )
            term.axioms += [(name, r) for r in rendered]
        if any(q.predicate.value == OWL + "deprecated" for q in quads):
            term.axioms.append(("deprecated", "yes"))
        if term.kind == INDIVIDUALS:
            term.axioms += [("a", f"`{short(ox.NamedNode(t))}`") for t in sorted(owl_types)]
            term.example = first([q for q in data if q.object == iri])
        elif term.kind == "Classes":
            term.example = first(instances.get(iri.value, []))
        else:
            term.used_by = sorted(
                {short(ox.NamedNode(t)) for q in used.get(iri.value, []) for t in types.get(q.subject, ())}
            )
            term.example = first(used.get(iri.value, []))
        out.append(term)
    return out


def render(kg: KnowledgeGraph) -> str:
    """docs/reference.md as the sources give it."""
    lines = [
        HEADER,
        "",
        "# Reference: every term of the idais-kg ontology",
        "",
        "Generated from `ontology/idais.ttl` and the built dataset. For each term: what it is, its domain and range,",
        "the axioms that tie it to other terms; for a property, the classes whose instances use it and an example",
        "triple from the data (with its graph); for a class, an example instance. How the terms fit together, and",
        "which look alike: `docs/modelling.md`. Edition resources are written with the `ed:` prefix, slashes escaped.",
        "",
    ]
    by_kind: dict[str, list[Term]] = defaultdict(list)
    for term in terms(kg):
        by_kind[term.kind].append(term)
    for section in [*KINDS.values(), INDIVIDUALS]:
        if not by_kind.get(section):
            continue
        lines += [f"## {section}", ""]
        for term in by_kind[section]:
            label = term.labels.get("en", "")
            zh = term.labels.get("zh")
            lines.append(
                f"### `{short(term.iri)}`" + (f": {label}" if label else "") + (f" ({zh})" if zh else "")
            )
            lines.append("")
            if term.definition:
                lines += [term.definition, ""]
            rows = [f"- {name}: {value}" for name, value in term.axioms]
            if term.kind not in ("Classes", INDIVIDUALS):
                rows.append(
                    "- used by: " + (", ".join(f"`{c}`" for c in term.used_by) or "no instance in the data")
                )
            rows.append("- example: " + (term.example or "none in the data"))
            lines += [*rows, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """The command line: [--check] [--out PATH]."""
    parser = argparse.ArgumentParser(prog="python -m idais_kg.devtools.reference", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not up to date")
    parser.add_argument("--out", type=Path, default=None, help="default: docs/reference.md of the tree")
    args = parser.parse_args(argv)
    layout = Layout.default()
    target = args.out or layout.root / "docs" / "reference.md"
    text = render(load(layout))
    if args.check:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{target} is not up to date: run python -m idais_kg.devtools.reference\n")
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
