"""One version of the dataset as a set of statements that a diff can compare: blank nodes by their content.

A blank node has no name that survives a re-serialisation, so it is replaced by a key computed from its concise
bounded description (its outgoing triples, recursively, blank objects by their own keys): two blank nodes with the
same content get the same key, whichever labels the parser gave them. A blank node that something points at is no
resource of its own: it is a *value* (a quantity, an RDF list, an SSSOM mapping axiom) of the resource that points
at it, shown by its content (``[ schema:value 5 ; … ]``, ``( a b c )``). A blank node nothing points at (an
``owl:AllDisjointClasses`` axiom) is a resource keyed by its content.
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from idais_kg.namespaces import PREFIXES, RDF
from idais_kg.store import Term

FIRST, REST, NIL = RDF + "first", RDF + "rest", RDF + "nil"
_BY_LENGTH = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


@functools.lru_cache(maxsize=65536)
def compact(iri: str) -> str:
    """An IRI as shown to a reader: a prefixed name where one of our prefixes fits (the rest may hold ``/`` and
    ``#``: this is for reading, not Turtle), else ``<iri>``.

    >>> compact("https://w3id.org/idais-kg/id/goal/x"), compact("http://example.org/a")
    ('goal:x', '<http://example.org/a>')
    >>> compact("https://w3id.org/idais-kg/id/guide/2025-02/footnote/3#c1")
    'ed:footnote/3#c1'
    """
    for prefix, ns in _BY_LENGTH:
        local = iri[len(ns) :]
        if iri.startswith(ns) and local and all(c.isalnum() or c in "-_/#.,=" for c in local):
            return f"{prefix}:{local}"
    return f"<{iri}>"


def literal_text(lit: ox.Literal) -> str:
    """A literal as Turtle shows it, with its language or (when not a plain string) its datatype compacted."""
    text = '"' + lit.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if lit.language:
        return f"{text}@{lit.language}"
    if lit.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        return f"{text}^^{compact(lit.datatype.value)}"
    return text


@dataclass(frozen=True)
class Value:
    """One object of a statement: an IRI, a literal, or a blank node shown by its content (``key`` is ``_:c…``)."""

    key: str  # what two versions compare: N-Triples of an IRI or literal, the content key of a blank node
    kind: str  # iri, literal, blank (or slot: a mapping's "predicate value", made by compare)
    shown: str = (
        ""  # a blank node's content as Turtle (IRIs and literals are shown from their term, when asked)
    )
    term: ox.NamedNode | ox.Literal | None = None  # the term, for an IRI or a literal

    @property
    def text(self) -> str:
        """How it is shown: a prefixed name, a Turtle literal, or the blank node's content."""
        if isinstance(self.term, ox.NamedNode):
            return compact(self.term.value)
        if isinstance(self.term, ox.Literal):
            return literal_text(self.term)
        return self.shown

    def as_json(self) -> dict[str, str]:
        """The value for the JSON output: ``{"iri": …}``, ``{"literal": …, "lang"|"datatype": …}``, ``{"blank": …}``."""
        if isinstance(self.term, ox.NamedNode):
            return {"iri": self.term.value}
        if isinstance(self.term, ox.Literal):
            out = {"literal": self.term.value}
            if self.term.language:
                out["lang"] = self.term.language
            else:
                out["datatype"] = self.term.datatype.value
            return out
        return {self.kind: self.text}  # blank: its content; slot (of a mapping): "predicate value"


@dataclass
class Version:
    """The statements of one version: ``index[subject][predicate][value key] = graphs`` (graph IRIs, or "")."""

    index: dict[str, dict[str, dict[str, frozenset[str]]]] = field(default_factory=dict)
    values: dict[str, Value] = field(default_factory=dict)  # every value key (and subject key) shown
    edges: dict[str, list[tuple[str, str]]] = field(
        default_factory=dict
    )  # a blank node's (predicate, value key)
    blank_terms: dict[str, ox.BlankNode] = field(
        default_factory=dict
    )  # one parsed blank node per content key

    def objects(self, subject: str, predicate: str) -> set[str]:
        """The value keys of ``subject predicate ?``."""
        return set(self.index.get(subject, {}).get(predicate, {}))

    def iri_objects(self, subject: str, predicate: str) -> set[str]:
        """The IRIs of ``subject predicate ?`` (without brackets)."""
        return {k[1:-1] for k in self.objects(subject, predicate) if self.values[k].kind == "iri"}

    def subjects_with(self, predicate: str) -> dict[str, set[str]]:
        """Every subject that has ``predicate``, with its IRI objects."""
        out: dict[str, set[str]] = {}
        for s, props in self.index.items():
            if predicate in props:
                out[s] = {k[1:-1] for k in props[predicate] if self.values[k].kind == "iri"}
        return out


def subject_key(term: ox.NamedNode | ox.BlankNode, keys: dict[ox.BlankNode, str]) -> str:
    """The key of a subject: its IRI, or the content key of a blank node."""
    return term.value if isinstance(term, ox.NamedNode) else keys[term]


def read_version(quads: Iterable[ox.Quad], ignore_graphs: bool = False) -> Version:
    """Index ``quads`` for comparison (graphs kept unless ``ignore_graphs``), blank nodes by their content."""
    out_edges: dict[ox.BlankNode, list[tuple[str, Term]]] = defaultdict(list)
    pointed_at: set[ox.BlankNode] = set()
    rows: list[tuple[ox.NamedNode | ox.BlankNode, str, Term, str]] = []
    for q in quads:
        if isinstance(q.subject, ox.Triple) or isinstance(q.object, ox.Triple):
            continue  # RDF-star: none in our data, and nothing a diff of it would show
        graph = "" if ignore_graphs or not isinstance(q.graph_name, ox.NamedNode) else q.graph_name.value
        rows.append((q.subject, q.predicate.value, q.object, graph))
        if isinstance(q.subject, ox.BlankNode):
            out_edges[q.subject].append((q.predicate.value, q.object))
        if isinstance(q.object, ox.BlankNode):
            pointed_at.add(q.object)
    version = Version()
    keys: dict[ox.BlankNode, str] = {}
    texts: dict[ox.BlankNode, str] = {}

    def value_of(term: Term) -> Value:
        if isinstance(term, ox.BlankNode):
            key = canon(term, ())
            return Value(key, "blank", texts[term])
        if isinstance(term, ox.NamedNode):
            return Value(str(term), "iri", term=term)
        return Value(str(term), "literal", term=term)

    def canon(node: ox.BlankNode, stack: tuple[ox.BlankNode, ...]) -> str:
        if node in keys:
            return keys[node]
        if node in stack:  # a cycle through blank nodes: cut it (rare: none in our data)
            return "_:cycle"
        parts = []
        shown = []
        for p, o in out_edges.get(node, []):
            if isinstance(o, ox.BlankNode):
                okey = canon(o, (*stack, node))
                otext = texts.get(o, "[]")
            else:
                okey, otext = str(o), value_of(o).text
            parts.append(f"{p} {okey}")
            shown.append((compact(p), otext, p, okey))
        key = "_:c" + hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:24]
        keys[node] = key
        texts[node] = show_blank(shown)
        version.edges[key] = sorted({(p, k) for _, _, p, k in shown})
        version.blank_terms.setdefault(key, node)
        return key

    for node in out_edges:
        canon(node, ())
    for s, p, o, graph in rows:
        if isinstance(s, ox.BlankNode) and s in pointed_at:
            continue  # folded into the value that points at it
        skey = subject_key(s, keys)
        if isinstance(s, ox.BlankNode):
            version.values.setdefault(skey, Value(skey, "blank", texts[s]))
        value = value_of(o)
        version.values.setdefault(value.key, value)
        by_value = version.index.setdefault(skey, {}).setdefault(p, {})
        by_value[value.key] = by_value.get(value.key, frozenset()) | {graph}
    for node, key in keys.items():  # the values inside blank nodes, for mapping records and RDF output
        for _, o in out_edges[node]:
            if not isinstance(o, ox.BlankNode):
                value = value_of(o)
                version.values.setdefault(value.key, value)
        version.values.setdefault(key, Value(key, "blank", texts[node]))
    return version


def show_blank(shown: list[tuple[str, str, str, str]]) -> str:
    """A blank node's content as Turtle: ``( … )`` for an RDF list, ``[ p o ; … ]`` otherwise, sorted."""
    preds = {p for _, _, p, _ in shown}
    if preds == {FIRST, REST} and len(shown) == 2:
        first = next(t for _, t, p, _ in shown if p == FIRST)
        rest = next(t for _, t, p, _ in shown if p == REST)
        if rest == "rdf:nil" or rest == f"<{NIL}>":
            return f"( {first} )"
        if rest.startswith("( "):
            return f"( {first} {rest[2:]}"
    return "[ " + " ; ".join(sorted(f"{p} {t}" for p, t, _, _ in shown)) + " ]"
