"""The dataset description (VoID/DCAT): the static part from data/dataset.ttl, plus counts made at build time."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from idais_kg.dataset import releases
from idais_kg.namespaces import DATASET_IRI, GRAPH_DESCRIPTION, RDF, VOID, XSD
from idais_kg.store import parse_file

if TYPE_CHECKING:
    from idais_kg.dataset.assemble import KnowledgeGraph


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))


def add_to(kg: KnowledgeGraph) -> None:
    """(Re)write the description graph with counts of the graphs now in the store."""
    kg.store.clear_graph(GRAPH_DESCRIPTION)
    target = ox.NamedNode(GRAPH_DESCRIPTION)
    quads = list(kg.store.quads())
    per_graph = Counter(q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode))
    triples = {(q.subject, q.predicate, q.object) for q in quads}
    rdf_type = ox.NamedNode(RDF + "type")
    classes = Counter(o for _, p, o in triples if p == rdf_type)
    dataset = ox.NamedNode(DATASET_IRI)
    out = [ox.Quad(s, p, o, target) for s, p, o, _ in parse_file(kg.layout.data_dir / "dataset.ttl")]
    out += releases.description_quads(kg.layout, target)  # data/releases.ttl, and which release this build is

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: Any) -> None:
        out.append(ox.Quad(s, ox.NamedNode(p), o, target))

    add(dataset, VOID + "triples", _int(len(triples)))
    add(dataset, VOID + "entities", _int(len({s for s, _, _ in triples if isinstance(s, ox.NamedNode)})))
    add(dataset, VOID + "classes", _int(len(classes)))
    for graph, count in sorted(per_graph.items()):
        node = ox.NamedNode(graph)
        add(dataset, VOID + "subset", node)
        add(node, VOID + "triples", _int(count))
    for cls, count in sorted(classes.items(), key=lambda kv: str(kv[0])):
        part = ox.BlankNode()
        add(dataset, VOID + "classPartition", part)
        add(part, VOID + "class", cls)
        add(part, VOID + "entities", _int(count))
    kg.store.add_all(out)
