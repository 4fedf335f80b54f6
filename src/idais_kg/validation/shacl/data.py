"""The two views of a data graph that the SHACL engine reads: :class:`Index` (the triples read once into Python
dicts: fastest for a graph of thousands of triples, as ``validate`` has) and :class:`StoreData` (a pyoxigraph store
read through its own indexes, for a graph too large to copy: a partner file of a million triples). Both answer the
same questions, and both give the store that SHACL-SPARQL constraints run on; the data graph is the union of the
store's graphs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import pyoxigraph as ox

from idais_kg.namespaces import RDF

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Node = ox.NamedNode | ox.BlankNode

FIRST, REST, NIL = (ox.NamedNode(RDF + n) for n in ("first", "rest", "nil"))


class Reading:
    """What both kinds of data graph read the same way, through their ``objects``: one value, an RDF list."""

    def objects(self, s: Term, p: Term) -> list[Term]:
        """The objects of the subject and predicate."""
        raise NotImplementedError

    def value(self, s: Term, p: Term) -> Term | None:
        """One object of the subject and predicate (the first read), or None."""
        values = self.objects(s, p)
        return values[0] if values else None

    def items(self, head: Term | None) -> list[Term]:
        """The members of an RDF list."""
        out: list[Term] = []
        while head is not None and head != NIL:
            out += self.objects(head, FIRST)
            head = self.value(head, REST)
        return out


class Index(Reading):
    """Subject -> predicate -> objects, and the inverse, of a set of triples (one pass, then dict look-ups)."""

    def __init__(self, triples: Iterable[ox.Triple | ox.Quad]) -> None:
        self.out: dict[Term, dict[ox.NamedNode, list[Term]]] = {}
        self.inv: dict[Term, dict[ox.NamedNode, list[Term]]] = {}
        self.triples: list[ox.Triple] = []
        self._store: ox.Store | None = None
        out, inv, kept = self.out, self.inv, self.triples
        for (
            t
        ) in triples:  # the hot loop of reading a graph: no casts, no attribute look-ups that can be hoisted
            s, p, o = t.subject, t.predicate, t.object
            objects = out.setdefault(s, {}).setdefault(p, [])  # type: ignore[arg-type]
            if o in objects:
                continue
            objects.append(o)  # type: ignore[arg-type]
            inv.setdefault(o, {}).setdefault(p, []).append(s)  # type: ignore[arg-type]
            kept.append(t if isinstance(t, ox.Triple) else ox.Triple(s, p, o))

    def objects(self, s: Term, p: Term) -> list[Term]:
        """The objects of the subject and predicate."""
        return self.out.get(s, {}).get(p, [])  # type: ignore[arg-type]

    def subjects(self, p: Term, o: Term) -> list[Term]:
        """The subjects of the predicate and object."""
        return self.inv.get(o, {}).get(p, [])  # type: ignore[arg-type]

    def edges(self, s: Term) -> list[tuple[ox.NamedNode, Term]]:
        """The (predicate, object) pairs of the subject."""
        return [(p, o) for p, os in self.out.get(s, {}).items() for o in os]

    def subjects_of(self, p: ox.NamedNode) -> list[Term]:
        """Every subject of the predicate."""
        return [s for s, preds in self.out.items() if p in preds]

    def objects_of(self, p: ox.NamedNode) -> list[Term]:
        """Every object of the predicate."""
        return [o for o, preds in self.inv.items() if p in preds]

    @property
    def store(self) -> ox.Store:
        """The triples in a pyoxigraph store, made when a SPARQL constraint first needs it."""
        if self._store is None:
            self._store = ox.Store()
            self._store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in self.triples)
        return self._store


class StoreData(Reading):
    """A pyoxigraph store as the data graph (the union of its graphs), read through the store's indexes."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def _quads(self, s: Term | None, p: Term | None, o: Term | None) -> Iterable[ox.Quad]:
        return self.store.quads_for_pattern(s, p, o, None)  # type: ignore[arg-type]

    def objects(self, s: Term, p: Term) -> list[Term]:
        """The objects of the subject and predicate, in any graph, each once."""
        if isinstance(s, ox.Literal):
            return []
        return list(dict.fromkeys(cast(Term, q.object) for q in self._quads(s, p, None)))

    def subjects(self, p: Term, o: Term) -> list[Term]:
        """The subjects of the predicate and object, in any graph, each once."""
        return list(dict.fromkeys(cast(Term, q.subject) for q in self._quads(None, p, o)))

    def edges(self, s: Term) -> list[tuple[ox.NamedNode, Term]]:
        """The (predicate, object) pairs of the subject, in any graph, each once."""
        if isinstance(s, ox.Literal):
            return []
        return list(dict.fromkeys((q.predicate, cast(Term, q.object)) for q in self._quads(s, None, None)))

    def subjects_of(self, p: ox.NamedNode) -> list[Term]:
        """Every subject of the predicate, each once."""
        return list(dict.fromkeys(cast(Term, q.subject) for q in self._quads(None, p, None)))

    def objects_of(self, p: ox.NamedNode) -> list[Term]:
        """Every object of the predicate, each once."""
        return list(dict.fromkeys(cast(Term, q.object) for q in self._quads(None, p, None)))


Data = Index | StoreData
