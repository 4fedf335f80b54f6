"""What a mapping set in SSSOM's RDF form (as ``sssom convert`` writes it, or as our table reader makes it) says, in
the terms the partner shapes read: the direct ``skos:*Match`` triple of each reified mapping, its subject's label
and type, and the set as a described dataset (creators as publisher and contact point)."""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from idais_kg.namespaces import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SSSOM, VOID

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, Term]
TYPE = ox.NamedNode(RDF + "type")
MAPPING_SET = ox.NamedNode(SSSOM + "MappingSet")
MAPPINGS = ox.NamedNode(SSSOM + "mappings")
AXIOM = ox.NamedNode(OWL + "Axiom")


def derived_triples(triples: list[Triple], *, every_axiom: bool = False) -> list[Triple]:
    """What SSSOM's RDF form (``triples``: one graph) says in the terms of the partner shapes (module docstring):
    the same for a table and for an RDF file, so that both forms of one mapping set give one graph. The mappings
    are the ``sssom:mappings`` of a set; for a table (``every_axiom``), whose header may name no set, every row's
    owl:Axiom is one."""
    about: dict[ox.NamedNode | ox.BlankNode, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in triples:
        about[s][p.value].append(o)
    out: list[Triple] = []
    set_types: dict[Term, list[Term]] = {}  # the mappings of the sets, with the set's subject_type
    for node, props in about.items():
        if MAPPING_SET not in props[RDF + "type"]:
            continue
        out.append((node, TYPE, ox.NamedNode(VOID + "Dataset")))
        agents: list[ox.NamedNode | ox.BlankNode] = [
            a for a in props[DCTERMS + "creator"] if isinstance(a, ox.NamedNode | ox.BlankNode)
        ]
        if not agents:
            for label in props[SSSOM + "creator_label"]:
                named = ox.BlankNode()
                out += [
                    (named, TYPE, ox.NamedNode(FOAF + "Agent")),
                    (named, ox.NamedNode(FOAF + "name"), label),
                ]
                agents.append(named)
        for agent in agents:
            out += [
                (node, ox.NamedNode(DCTERMS + "publisher"), agent),
                (node, ox.NamedNode(DCAT + "contactPoint"), agent),
            ]
        for axiom in props[SSSOM + "mappings"]:
            set_types[axiom] = props[SSSOM + "subject_type"]
    for node, props in about.items():
        if node in set_types or (every_axiom and AXIOM in props[RDF + "type"]):
            out += _mapping_triples(props, set_types.get(node, []))
    return out


def _mapping_triples(mapping: dict[str, list[Term]], set_types: list[Term]) -> list[Triple]:
    subject, predicate, target = (
        next(iter(mapping[OWL + n]), None)
        for n in ("annotatedSource", "annotatedProperty", "annotatedTarget")
    )
    if not isinstance(subject, ox.NamedNode | ox.BlankNode) or not isinstance(predicate, ox.NamedNode):
        return []
    out: list[Triple] = []
    if (
        target is not None
        and ox.NamedNode(SSSOM + "NegatedPredicate") not in mapping[SSSOM + "predicate_modifier"]
    ):
        out.append((subject, predicate, target))
    out += [(subject, ox.NamedNode(RDFS + "label"), label) for label in mapping[SSSOM + "subject_label"]]
    for kind in mapping[SSSOM + "subject_type"] or set_types:
        if isinstance(kind, ox.NamedNode):
            out.append((subject, TYPE, kind))
    return out


def derive_in(store: ox.Store, graph: str) -> int:
    """Add the :func:`derived_triples` of a graph in SSSOM's RDF form (a partner's RDF file) to that graph of
    ``store``; the number of derived triples. A graph without an ``sssom:MappingSet`` costs one index lookup."""
    g = ox.NamedNode(graph)
    if next(iter(store.quads_for_pattern(None, TYPE, MAPPING_SET, g)), None) is None:
        return 0
    triples: list[Triple] = []
    todo = [q.subject for q in store.quads_for_pattern(None, TYPE, MAPPING_SET, g)]
    seen: set[object] = set()
    while todo:  # the sets, their mappings (and nothing else: the rest of the file is not read)
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for q in store.quads_for_pattern(node, None, None, g):
            triples.append((q.subject, q.predicate, q.object))  # type: ignore[arg-type]
            if q.predicate == MAPPINGS:
                todo.append(q.object)  # type: ignore[arg-type]
    new = [ox.Quad(s, p, o, g) for s, p, o in derived_triples(triples)]
    store.extend(new)
    return len(new)
