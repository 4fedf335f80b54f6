"""The change graph of a diff (``idais-kg diff --format turtle``): Changeset and PROV-O, with a few terms of ours.

The change graph reuses the Changeset vocabulary (``cs:``, http://purl.org/vocab/changeset/schema#): one
``cs:ChangeSet`` per resource and kind of change, ``cs:subjectOfChange`` the resource, ``cs:removal`` and
``cs:addition`` the statements as ``rdf:Statement`` (blank-node values copied with their content). Changeset was
made for exactly this, a change to the description of one resource, and RDF tools know it; PROV-O says which
diff generated each change set (``prov:wasGeneratedBy`` an ``idais:DataDiff`` that ``prov:used`` both versions).
Our few terms (ontology block "releases of the dataset and the content-level diff") say what Changeset does not:
the kind of change (``idais:ResourceAdded``, ``ResourceRemoved``, ``ValuesChanged``, ``LevelChanged``,
``GraphMoved``, ``MappingChanged``), the goals it concerns (``idais:concernsGoal``), the property
(``idais:changedProperty``) and the named graph of a statement (``idais:inGraph``). "Which goals changed" is
``queries/goals-changed.rq``. See docs/modelling.md, "Changes between versions".
"""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox

from idais_kg.dataset.diff import Diff, Side
from idais_kg.dataset.diff.canonical import Value, Version, compact
from idais_kg.dataset.diff.compare import goal_index
from idais_kg.errors import QueryError
from idais_kg.namespaces import CHANGESET, DATASET_IRI, IDAIS, PREFIXES, PROV, RDF, RDFS
from idais_kg.results import Result
from idais_kg.sources.queries import prefix_block
from idais_kg.store import FORMATS, Store, serialize_plain


class ChangeGraph:
    """Builds the change graph's triples (default graph) for one diff."""

    def __init__(self, d: Diff) -> None:
        self.d = d
        self.triples: list[ox.Triple] = []
        self.activity = ox.BlankNode()
        self.goal_indexes: tuple[dict[str, set[str]], dict[str, set[str]]] | None = None

    def add(
        self, s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal
    ) -> None:
        """One triple of the change graph."""
        self.triples.append(ox.Triple(s, ox.NamedNode(p), o))

    def side(self, side: Side) -> ox.NamedNode | ox.BlankNode:
        """The node of a compared version: its version IRI for a release, else a blank node, with its label."""
        if side.release_iri:
            node: ox.NamedNode | ox.BlankNode = ox.NamedNode(side.release_iri)
        else:
            node = ox.BlankNode()
            self.add(node, RDF + "type", ox.NamedNode(PROV + "Entity"))
            self.add(node, PROV + "specializationOf", ox.NamedNode(DATASET_IRI))
        self.add(node, RDFS + "label", ox.Literal(side.label))
        if side.commit:
            self.add(node, IDAIS + "madeFromCommit", ox.Literal(side.commit))
        return node

    def value(self, version: Version, v: Value) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        """A value as a term; a blank node is copied with its content (fresh blank nodes)."""
        if v.term is not None:
            return v.term
        node = ox.BlankNode()
        for p, key in version.edges.get(v.key, []):
            self.add(node, p, self.value(version, version.values[key]))
        return node

    def statement(
        self,
        change: ox.BlankNode,
        which: str,
        version: Version,
        s: str,
        p: str,
        v: Value,
        graphs: tuple[str, ...] | frozenset[str] = (),
    ) -> None:
        """A reified statement of ``version`` under ``change`` (``which``: addition or removal), with its graphs."""
        st = ox.BlankNode()
        self.add(change, CHANGESET + which, st)
        self.add(st, RDF + "type", ox.NamedNode(RDF + "Statement"))
        self.add(st, RDF + "subject", self.subject(version, s))
        self.add(st, RDF + "predicate", ox.NamedNode(p))
        self.add(st, RDF + "object", self.value(version, v))
        for g in sorted(graphs):
            if g:
                self.add(st, IDAIS + "inGraph", ox.NamedNode(g))

    def subject(self, version: Version, s: str) -> ox.NamedNode | ox.BlankNode:
        """A subject as a term: its IRI, or a copy of the blank node it stands for."""
        return self.value(version, version.values[s]) if s.startswith("_:") else ox.NamedNode(s)  # type: ignore[return-value]

    def change(
        self, kind: str, version: Version, s: str, goals: tuple[str, ...], prop: str | None = None
    ) -> ox.BlankNode:
        """A new change set of class ``idais:{kind}`` about ``s``, with the goals it concerns."""
        node = ox.BlankNode()
        self.add(node, RDF + "type", ox.NamedNode(CHANGESET + "ChangeSet"))
        self.add(node, RDF + "type", ox.NamedNode(IDAIS + kind))
        self.add(node, CHANGESET + "subjectOfChange", self.subject(version, s))
        self.add(node, PROV + "wasGeneratedBy", self.activity)
        for g in goals:
            self.add(node, IDAIS + "concernsGoal", ox.NamedNode(g))
        if prop:
            self.add(node, IDAIS + "changedProperty", ox.NamedNode(prop))
        return node

    def build(self) -> list[ox.Triple]:
        """Every triple of the change graph."""
        d, c = self.d, self.d.changes
        self.add(self.activity, RDF + "type", ox.NamedNode(IDAIS + "DataDiff"))
        self.add(self.activity, RDF + "type", ox.NamedNode(PROV + "Activity"))
        for which, side in (("olderVersion", d.old), ("newerVersion", d.new)):
            node = self.side(side)
            self.add(self.activity, IDAIS + which, node)
            self.add(self.activity, PROV + "used", node)
        for res, version, kind, which in (
            (c.added, d.after, "ResourceAdded", "addition"),
            (c.removed, d.before, "ResourceRemoved", "removal"),
        ):
            for r in res:
                node = self.change(kind, version, r.subject, r.goals)
                for p, by_value in sorted(version.index[r.subject].items()):
                    for key, graphs in sorted(by_value.items()):
                        self.statement(node, which, version, r.subject, p, version.values[key], graphs)
        level_of = {(x.assessment): x for x in c.levels}
        for x in c.values:
            kind = (
                "LevelChanged"
                if x.predicate == IDAIS + "level" and x.subject in level_of
                else "ValuesChanged"
            )
            node = self.change(kind, d.after, x.subject, x.goals, x.predicate)
            for v in x.removed:
                self.statement(
                    node,
                    "removal",
                    d.before,
                    x.subject,
                    x.predicate,
                    v,
                    d.before.index[x.subject][x.predicate][v.key],
                )
            for v in x.added:
                self.statement(
                    node,
                    "addition",
                    d.after,
                    x.subject,
                    x.predicate,
                    v,
                    d.after.index[x.subject][x.predicate][v.key],
                )
        for m in c.moves:
            node = self.change("GraphMoved", d.after, m.subject, m.goals, m.predicate)
            self.statement(node, "removal", d.before, m.subject, m.predicate, m.value, m.before)
            self.statement(node, "addition", d.after, m.subject, m.predicate, m.value, m.after)
        for mp in c.mappings:
            goals = tuple(sorted({g for iri in (mp.subject, mp.object) for g in self.goals_of(iri)}))
            node = self.change("MappingChanged", d.after, mp.subject, goals, mp.predicate)
            self.add(
                node, CHANGESET + "changeReason", ox.Literal(f"mapping {mp.change}: {compact(mp.object)}")
            )
        return self.triples

    def goals_of(self, iri: str) -> set[str]:
        """The goals ``iri`` belongs to in either version."""
        if self.goal_indexes is None:
            self.goal_indexes = (goal_index(self.d.before), goal_index(self.d.after))
        return self.goal_indexes[0].get(iri, set()) | self.goal_indexes[1].get(iri, set())


def to_rdf(d: Diff) -> list[ox.Triple]:
    """The change graph's triples."""
    return ChangeGraph(d).build()


CHANGES_GRAPH = DATASET_IRI + "/changes"  # the named graph the change graph is queried in (a local name only)


def query_changes(d: Diff, sparql: str) -> Result:
    """Run a SELECT or ASK over the change graph of ``d`` (``queries/goals-changed.rq``, say)."""
    store = Store()
    graph = ox.NamedNode(CHANGES_GRAPH)
    store.add_all(ox.Quad(t.subject, t.predicate, t.object, graph) for t in to_rdf(d))
    try:
        return Result.from_oxigraph(store.query(prefix_block() + sparql))
    except TypeError:
        raise QueryError("a query of the change graph must be a SELECT or an ASK") from None


def rdf_renderer(fmt: str) -> Callable[[Diff], str]:
    """A renderer of the change graph in an RDF syntax of the store's (``turtle``, ``ntriples``, ...)."""

    def render(d: Diff) -> str:
        triples = sorted(to_rdf(d), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        return serialize_plain(triples, FORMATS[fmt], {**PREFIXES, "cs": CHANGESET}).decode()

    return render
