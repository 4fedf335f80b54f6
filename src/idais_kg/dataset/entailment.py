"""``idais-kg build --infer``: materialise what the ontology's property axioms entail, in a graph of its own.

The rules are three rules of OWL 2 RL (prp-inv1/2 for ``owl:inverseOf``, prp-spo1 for ``rdfs:subPropertyOf``,
prp-spo2 for ``owl:propertyChainAxiom``), applied to the data until nothing new follows; the axioms they apply are
read from the ontology graph, not written here, so a new inverse or chain in ``ontology/idais.ttl`` is materialised
without a code change. Only triples that are not already asserted go to ``kg:graph/inferred``.

Why rules over the store and not HermiT (behind ``validation/hermit.py``): these are exactly the inferences a query
writer wants spelled out (hasPolicy, hasQuote, hasAssessment, footnoteOf, describes, areaViaGoal, ofGoal);
HermiT's property-value realisation via owlready2 computes far more (every class membership, owl:sameAs
closure), needs Java and a second in-memory copy of the data, takes seconds instead of milliseconds, and hands
back owlready2 objects from which our named graphs must be rebuilt. The rules run as SPARQL CONSTRUCT queries on
pyoxigraph, in the same store as the build. ``validate`` keeps HermiT for what only a DL reasoner does:
consistency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pyoxigraph as ox

from idais_kg.namespaces import GRAPH_INFERRED, GRAPH_ONTOLOGY, OWL, RDF, RDFS
from idais_kg.store import Store

_DATA = f"GRAPH ?g {{ ?s ?p ?o }} FILTER (?g NOT IN (<{GRAPH_ONTOLOGY}>))"
_NEW = "FILTER NOT EXISTS {{ {s} {p} {o} }}"  # only what no graph asserts yet (the inferred one included)

INVERSES = f"""
CONSTRUCT {{ ?o ?q ?s }} WHERE {{
    GRAPH <{GRAPH_ONTOLOGY}> {{ {{ ?p <{OWL}inverseOf> ?q }} UNION {{ ?q <{OWL}inverseOf> ?p }} }}
    FILTER (isIRI(?q))
    {_DATA} FILTER (!isLiteral(?o))
    {_NEW.format(s="?o", p="?q", o="?s")}
}}"""
SUBPROPERTIES = f"""
CONSTRUCT {{ ?s ?super ?o }} WHERE {{
    GRAPH <{GRAPH_ONTOLOGY}> {{ ?p <{RDFS}subPropertyOf> ?super }}
    FILTER (isIRI(?super) && ?super != ?p)
    {_DATA}
    {_NEW.format(s="?s", p="?super", o="?o")}
}}"""
CHAINS = f"""
SELECT ?p ?list WHERE {{ GRAPH <{GRAPH_ONTOLOGY}> {{ ?p <{OWL}propertyChainAxiom> ?list }} FILTER (isIRI(?p)) }}
ORDER BY ?p"""
REST = f"SELECT ?cell ?next WHERE {{ GRAPH <{GRAPH_ONTOLOGY}> {{ ?cell <{RDF}rest> ?next }} }}"
FIRST = f"SELECT ?cell ?item WHERE {{ GRAPH <{GRAPH_ONTOLOGY}> {{ ?cell <{RDF}first> ?item }} }}"
NIL = ox.NamedNode(RDF + "nil")


@dataclass
class InferenceReport:
    """What one :func:`materialise` left: the triples in the inferred graph, and the rounds it took."""

    triples: int
    rounds: int


def chain_rules(store: Store) -> list[str]:
    """One CONSTRUCT per property chain of the ontology; the chain's IRIs are terms parsed from the ontology
    and serialised by pyoxigraph (a property path cannot be a bound variable)."""
    rules = []
    for row in store.query(CHAINS):
        steps: list[str] = []
        cell = row["list"]
        while cell != NIL:
            items = [r["item"] for r in store.query(FIRST, {"cell": cell})]
            following = [r["next"] for r in store.query(REST, {"cell": cell})]
            if len(items) != 1 or not isinstance(items[0], ox.NamedNode) or len(following) != 1:
                steps = []  # an inverse or otherwise complex step, or a broken list: not a rule we apply
                break
            steps.append(str(items[0]))
            cell = following[0]
        if len(steps) >= 2:
            prop = str(cast(ox.NamedNode, row["p"]))
            rules.append(
                f"CONSTRUCT {{ ?s {prop} ?o }} WHERE {{ ?s {'/'.join(steps)} ?o . "
                + _NEW.format(s="?s", p=prop, o="?o")
                + " }"
            )
    return rules


def materialise(store: Store) -> InferenceReport:
    """Add to ``kg:graph/inferred`` every triple the rules derive, to a fixpoint; return how many and rounds."""
    rules = [INVERSES, SUBPROPERTIES, *chain_rules(store)]
    rounds = 0
    while True:
        rounds += 1
        if not sum(store.construct_into(rule, GRAPH_INFERRED) for rule in rules):
            return InferenceReport(sum(1 for _ in store.quads(GRAPH_INFERRED)), rounds)
