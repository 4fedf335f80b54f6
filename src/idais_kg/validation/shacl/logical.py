"""The constraint components of SHACL Core that check value nodes against other shapes (SHACL 1.0, sections
4.6 and 4.8: sh:node, sh:not, sh:and, sh:or, sh:xone, sh:property, sh:qualifiedValueShape) and sh:closed; the
others are in idais_kg.validation.shacl.components."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyoxigraph as ox

from idais_kg.validation.shacl.components import TRUE, Component, Fail, sh
from idais_kg.validation.shacl.data import Index, Term

if TYPE_CHECKING:
    from idais_kg.validation.shacl.engine import Validator


class NodeC(Component):
    """sh:node (SHACL 1.0, 4.7.1): each value node conforms to the node shape."""

    name, parameter = "NodeConstraintComponent", "node"

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report each value node that does not conform, with its results as sh:detail."""
        for v in values:
            nested = run.nested(self.param, v)
            if nested:
                fail(v, details=tuple(nested))


class NotC(Component):
    """sh:not (SHACL 1.0, 4.6.1): no value node conforms to the shape."""

    name, parameter = "NotConstraintComponent", "not"

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the value does not conform to the shape."""
        return not run.conforms(self.param, value)


class Logical(Component):
    """The components over a list of shapes: each value node conforms to as many as ``judge`` accepts."""

    def prepare(self, graph: Index, shape: Term) -> None:
        """Read the member shapes from the RDF list."""
        self.members = graph.items(self.param)

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the number of member shapes the value conforms to is accepted."""
        return self.judge(sum(1 for m in self.members if run.conforms(m, value)))

    def judge(self, conforming: int) -> bool:
        """Whether this many conforming member shapes satisfy the constraint."""
        raise NotImplementedError


class AndC(Logical):
    """sh:and (SHACL 1.0, 4.6.2): each value node conforms to every shape of the list."""

    name, parameter = "AndConstraintComponent", "and"

    def judge(self, conforming: int) -> bool:
        """Whether the value conforms to every member."""
        return conforming == len(self.members)


class OrC(Logical):
    """sh:or (SHACL 1.0, 4.6.3): each value node conforms to at least one shape of the list."""

    name, parameter = "OrConstraintComponent", "or"

    def judge(self, conforming: int) -> bool:
        """Whether the value conforms to at least one member."""
        return conforming > 0


class XoneC(Logical):
    """sh:xone (SHACL 1.0, 4.6.4): each value node conforms to exactly one shape of the list."""

    name, parameter = "XoneConstraintComponent", "xone"

    def judge(self, conforming: int) -> bool:
        """Whether the value conforms to exactly one member."""
        return conforming == 1


class PropertyC(Component):
    """sh:property (SHACL 1.0, 4.7.2): each value node is validated against the property shape, whose
    results are reported as its own."""

    name, parameter, nests = "PropertyConstraintComponent", "property", True


class QualifiedC(Component):
    """sh:qualifiedValueShape with sh:qualifiedMinCount and/or sh:qualifiedMaxCount: two components in SHACL, one
    count here; a result names the bound it breaks."""

    name, parameter = "QualifiedMinCountConstraintComponent", "qualifiedValueShape"
    companions = ("qualifiedMinCount", "qualifiedMaxCount", "qualifiedValueShapesDisjoint")

    def prepare(self, graph: Index, shape: Term) -> None:
        """Read the bounds and, with sh:qualifiedValueShapesDisjoint, the sibling shapes that a
        counted value node must not conform to."""
        low, high = graph.value(shape, sh("qualifiedMinCount")), graph.value(shape, sh("qualifiedMaxCount"))
        self.low = int(low.value) if low is not None else None
        self.high = int(high.value) if high is not None else None
        self.siblings: list[Term] = []
        if graph.value(shape, sh("qualifiedValueShapesDisjoint")) == TRUE:
            for parent in graph.subjects(sh("property"), shape):
                for sibling in graph.objects(parent, sh("property")):
                    self.siblings += [
                        q for q in graph.objects(sibling, sh("qualifiedValueShape")) if q != self.param
                    ]

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report one result, without a value, for each bound the count of conforming value nodes
        breaks."""
        count = sum(
            1
            for v in values
            if run.conforms(self.param, v) and not any(run.conforms(s, v) for s in self.siblings)
        )
        if self.low is not None and count < self.low:
            fail(None, component=sh("QualifiedMinCountConstraintComponent"))
        if self.high is not None and count > self.high:
            fail(None, component=sh("QualifiedMaxCountConstraintComponent"))


class ClosedC(Component):
    """sh:closed with sh:ignoredProperties (SHACL 1.0, 4.8.1): each value node has only the properties
    of the shape's property shapes, or ignored ones."""

    name, parameter, companions = "ClosedConstraintComponent", "closed", ("ignoredProperties",)

    def prepare(self, graph: Index, shape: Term) -> None:
        """Collect the allowed properties: the ignored ones and the IRI paths of the property shapes."""
        self.allowed = {p for p in graph.items(graph.value(shape, sh("ignoredProperties")))}
        for prop in graph.objects(shape, sh("property")):
            path = graph.value(prop, sh("path"))
            if isinstance(path, ox.NamedNode):
                self.allowed.add(path)

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report each triple of a value node whose predicate is not allowed, the object as value."""
        if self.param != TRUE:
            return
        for v in values:
            for p, o in run.data.edges(v):
                if p not in self.allowed:
                    fail(o, at=focus, via=p)
