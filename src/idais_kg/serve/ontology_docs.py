"""The ontology's documentation: what the ontology states about itself and about each of its terms, how the data
uses each term, the terms it borrows from other vocabularies, and a diagram of its classes and properties.

Everything is read from the graph with the queries ``sparql/ontology-*.rq`` (bound parameters, no SPARQL here), and
nothing is invented: a term without a domain shows none. The diagram is drawn by Graphviz ``dot`` (Debian's
``graphviz``) from a source built here, through pipes, in memory: the server writes no file. Where ``dot`` is not
installed, the page says so and ``/ontology/diagram.svg`` answers 503.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from idais_kg.namespaces import GRAPH_GUIDE, GRAPH_ONTOLOGY, IDAIS, ONTOLOGY_IRI, PREFIXES
from idais_kg.serve import page_queries as queries
from idais_kg.serve.views import View, curie

if TYPE_CHECKING:
    from idais_kg.dataset.assemble import KnowledgeGraph

OWL = PREFIXES["owl"]
RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
SKOS = PREFIXES["skos"]
DCTERMS = PREFIXES["dcterms"]
VANN = PREFIXES["vann"]
# What the page calls the properties an ontology states about itself (others go by their prefixed name).
METADATA_NAMES = {
    DCTERMS + "title": "title",
    DCTERMS + "description": "description",
    OWL + "versionInfo": "version",
    OWL + "versionIRI": "version IRI",
    OWL + "priorVersion": "prior version",
    DCTERMS + "license": "licence",
    DCTERMS + "creator": "creator",
    DCTERMS + "contributor": "contributor",
    DCTERMS + "publisher": "publisher",
    DCTERMS + "created": "created",
    DCTERMS + "modified": "modified",
    DCTERMS + "issued": "issued",
    VANN + "preferredNamespacePrefix": "prefix",
    VANN + "preferredNamespaceUri": "namespace",
    RDFS + "seeAlso": "see also",
}
# The sections of the page, in order: the kind of term each holds, its anchor and its heading.
SECTIONS = [
    (OWL + "Class", "classes", "Classes"),
    (OWL + "ObjectProperty", "object-properties", "Object properties"),
    (OWL + "DatatypeProperty", "datatype-properties", "Datatype properties"),
    (OWL + "AnnotationProperty", "annotation-properties", "Annotation properties"),
]
# The languages the ontology itself is written in (RDF, RDFS, OWL, XSD): not borrowed terms, so not listed as such.
LANGUAGE_VOCABULARIES = frozenset({"rdf", "rdfs", "owl", "xsd"})


@dataclass
class Term:
    """One term of ours, as the ontology states it and as the data uses it."""

    iri: str
    kinds: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    domain: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    inverse: list[str] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)
    chain: list[str] = field(default_factory=list)  # owl:propertyChainAxiom, its steps in order
    disjoint: list[str] = field(default_factory=list)  # classes stated disjoint with it, alone or in a list
    other: list[tuple[str, str]] = field(default_factory=list)  # any other statement with an IRI as value
    example: list[View] | None = None  # subject, predicate, object of one triple of the data
    uses: list[tuple[str, int]] = field(default_factory=list)  # (data graph, triples)

    @property
    def name(self) -> str:
        """The term's local name: its anchor on the page (``/ontology#Goal``, as ``safe_href`` links it)."""
        return self.iri[len(IDAIS) :]

    @property
    def total(self) -> int:
        """The triples of the data that use the term, over every data graph."""
        return sum(n for _, n in self.uses)


@dataclass
class Borrowed:
    """A term of another vocabulary: how the ontology declares it, how our terms refer to it, how the data uses it."""

    iri: str
    declared: list[str] = field(default_factory=list)
    referred: list[str] = field(default_factory=list)  # rdfs:subClassOf, rdfs:domain, ... from a term of ours
    in_data: list[tuple[str, int]] = field(default_factory=list)  # ("predicate" or "class", triples)


@dataclass
class Docs:
    """What the documentation page shows."""

    metadata: list[tuple[str, list[View]]]
    sections: list[tuple[str, str, list[Term]]]  # anchor, heading, terms
    borrowed: list[tuple[str, str, list[Borrowed]]]  # prefix, namespace, terms
    diagram: bool  # whether /ontology/diagram.svg can be drawn here

    @property
    def titles(self) -> list[View]:
        """The ontology's titles (``dcterms:title``), English first."""
        found = dict(self.metadata).get(DCTERMS + "title", [])
        return sorted(found, key=lambda v: (v.lang != "en", v.lang or ""))


def select(kg: KnowledgeGraph, query: str, **bindings: ox.NamedNode) -> list[dict[str, Any]]:
    """The rows of one of the page queries, with the ontology graph bound as ``graph``."""
    answer = kg.store.query(query, {"graph": ox.NamedNode(GRAPH_ONTOLOGY), **bindings})
    names = [v.value for v in answer.variables]
    return [{n: s[n] for n in names if s[n] is not None} for s in answer]


def view(term: Any) -> View:
    """A term of a row as the templates show it (a link for an IRI, a literal with its language)."""
    if isinstance(term, ox.NamedNode):
        return View(term.value, "iri")
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype and not term.language else None
        shown = dt if dt != PREFIXES["xsd"] + "string" else None  # a plain string says no more than its text
        return View(term.value, "literal", lang=term.language, datatype=curie(shown) if shown else None)
    return View(str(term), "other")


def metadata(kg: KnowledgeGraph) -> list[tuple[str, list[View]]]:
    """What the ontology states about itself, by property: those of ``METADATA_NAMES`` first, in its order, then
    any other by IRI."""
    found: dict[str, list[View]] = {}
    for row in select(kg, queries.ONTOLOGY_METADATA):
        found.setdefault(row["property"].value, []).append(view(row["value"]))
    order = {iri: n for n, iri in enumerate(METADATA_NAMES)}
    return sorted(found.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def terms(kg: KnowledgeGraph) -> dict[str, Term]:
    """Every term of ours that the ontology gives a type, with what it states about it; sub-terms and inverses are
    read both ways (``hasQuote owl:inverseOf quoteOf`` documents each as the other's inverse)."""
    stated: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for row in select(kg, queries.ONTOLOGY_TERMS):
        stated[row["term"].value].append((row["property"].value, row["value"]))
    found = {iri: Term(iri) for iri, facts in stated.items() if any(p == RDF + "type" for p, _ in facts)}
    lists = {RDFS + "domain": "domain", RDFS + "range": "range", SKOS + "closeMatch": "matches"}
    for iri, term in found.items():
        for prop, value in stated[iri]:
            if prop in (RDFS + "label", SKOS + "definition") and isinstance(value, ox.Literal):
                target = term.labels if prop == RDFS + "label" else term.definitions
                target.setdefault(value.language or "", value.value)
            elif not isinstance(value, ox.NamedNode):
                continue
            elif prop == RDF + "type":
                term.kinds.append(value.value)
            elif prop in lists:
                getattr(term, lists[prop]).append(value.value)
            elif prop in (RDFS + "subClassOf", RDFS + "subPropertyOf"):
                term.parents.append(value.value)
                if value.value in found:
                    found[value.value].children.append(iri)
            elif prop == OWL + "inverseOf":
                term.inverse.append(value.value)
                if value.value in found and iri not in found[value.value].inverse:
                    found[value.value].inverse.append(iri)
            elif prop != OWL + "disjointWith":  # (read with the lists of disjoint classes, by add_axioms)
                term.other.append((prop, value.value))
    for term in found.values():
        term.children.sort()
        term.inverse.sort()
    return found


def add_axioms(kg: KnowledgeGraph, found: dict[str, Term]) -> None:
    """The axioms the ontology states in lists: property chains, in order, and disjoint classes."""
    for row in select(kg, queries.ONTOLOGY_CHAINS):
        if row["term"].value in found:
            found[row["term"].value].chain.append(row["step"].value)
    for row in select(kg, queries.ONTOLOGY_DISJOINT):
        if row["term"].value in found:
            found[row["term"].value].disjoint.append(row["other"].value)


def add_usage(kg: KnowledgeGraph, found: dict[str, Term]) -> None:
    """How many triples of each data graph use each term, and one of them (from the guide's graph where it can)."""
    for row in select(kg, queries.ONTOLOGY_USAGE):
        term = found.get(row["term"].value)
        if term is not None:
            term.uses.append((row["data"].value, int(row["uses"].value)))
    preferred = ox.NamedNode(GRAPH_GUIDE)
    for term in found.values():
        if not term.uses:
            continue
        rows = select(kg, queries.ONTOLOGY_EXAMPLE, term=ox.NamedNode(term.iri), preferred=preferred)
        if rows:
            term.example = [view(rows[0][k]) for k in ("subject", "predicate", "object")]


def sections(found: dict[str, Term]) -> list[tuple[str, str, list[Term]]]:
    """Our terms by kind, in the order of ``SECTIONS``, each once (in the first section its kinds name), by name;
    a term of a kind not listed there goes to "Other terms"."""
    placed: dict[str, list[Term]] = defaultdict(list)
    for term in sorted(found.values(), key=lambda t: t.name):
        kind = next((k for k, _, _ in SECTIONS if k in term.kinds), "")
        placed[kind].append(term)
    out = [(anchor, heading, placed[kind]) for kind, anchor, heading in SECTIONS if placed[kind]]
    if placed[""]:
        out.append(("other-terms", "Other terms", placed[""]))
    return out


def vocabulary(iri: str) -> tuple[str, str]:
    """The prefix and namespace a borrowed term is in (its prefixed name's), or the IRI itself if none fits.

    >>> vocabulary("http://www.w3.org/2004/02/skos/core#Concept"), vocabulary("https://w3id.org/airo#Risk")
    (('skos', 'http://www.w3.org/2004/02/skos/core#'), ('', 'https://w3id.org/airo#'))
    """
    short = curie(iri)
    if short != iri:
        prefix = short.split(":", 1)[0]
        return prefix, PREFIXES[prefix]
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return "", iri[: cut + 1]


def borrowed(kg: KnowledgeGraph) -> list[tuple[str, str, list[Borrowed]]]:
    """The terms of other vocabularies the ontology declares or refers to, or the data uses, by vocabulary; the
    languages of the ontology itself (RDF, RDFS, OWL, XSD) left out."""
    found: dict[str, Borrowed] = {}
    for row in select(kg, queries.ONTOLOGY_BORROWED):
        iri, role, uses = row["term"].value, row["role"], int(row["uses"].value)
        if vocabulary(iri)[0] in LANGUAGE_VOCABULARIES or iri == ONTOLOGY_IRI:
            continue
        entry = found.setdefault(iri, Borrowed(iri))
        if isinstance(role, ox.Literal):
            entry.in_data.append((role.value, uses))
        elif role.value.startswith(OWL) or role.value.startswith(RDFS + "Datatype"):
            entry.declared.append(role.value)
        else:
            entry.referred.append(role.value)
    groups: dict[tuple[str, str], list[Borrowed]] = defaultdict(list)
    for iri in sorted(found):
        groups[vocabulary(iri)].append(found[iri])
    return [
        (prefix, ns, entries)
        for (prefix, ns), entries in sorted(groups.items(), key=lambda g: (not g[0][0], g[0]))
    ]


def gather(kg: KnowledgeGraph) -> Docs:
    """The whole documentation of the ontology of ``kg``."""
    found = terms(kg)
    add_axioms(kg, found)
    add_usage(kg, found)
    return Docs(metadata(kg), sections(found), borrowed(kg), diagram=shutil.which("dot") is not None)
