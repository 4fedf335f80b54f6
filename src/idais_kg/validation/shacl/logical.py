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
    name, parameter = "NodeConstraintComponent", "node"

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        for v in values:
            nested = run.nested(self.param, v)
            if nested:
                fail(v, details=tuple(nested))


class NotC(Component):
    name, parameter = "NotConstraintComponent", "not"

    def test(self, run: Validator, value: Term) -> bool:
        return not run.conforms(self.param, value)


class Logical(Component):
    def prepare(self, graph: Index, shape: Term) -> None:
        self.members = graph.items(self.param)

    def test(self, run: Validator, value: Term) -> bool:
        return self.judge(sum(1 for m in self.members if run.conforms(m, value)))

    def judge(self, conforming: int) -> bool:
        raise NotImplementedError


class AndC(Logical):
    name, parameter = "AndConstraintComponent", "and"

    def judge(self, conforming: int) -> bool:
        return conforming == len(self.members)


class OrC(Logical):
    name, parameter = "OrConstraintComponent", "or"

    def judge(self, conforming: int) -> bool:
        return conforming > 0


class XoneC(Logical):
    name, parameter = "XoneConstraintComponent", "xone"

    def judge(self, conforming: int) -> bool:
        return conforming == 1


class PropertyC(Component):
    name, parameter, nests = "PropertyConstraintComponent", "property", True


class QualifiedC(Component):
    """sh:qualifiedValueShape with sh:qualifiedMinCount and/or sh:qualifiedMaxCount: two components in SHACL, one
    count here; a result names the bound it breaks."""

    name, parameter = "QualifiedMinCountConstraintComponent", "qualifiedValueShape"
    companions = ("qualifiedMinCount", "qualifiedMaxCount", "qualifiedValueShapesDisjoint")

    def prepare(self, graph: Index, shape: Term) -> None:
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
    name, parameter, companions = "ClosedConstraintComponent", "closed", ("ignoredProperties",)

    def prepare(self, graph: Index, shape: Term) -> None:
        self.allowed = {p for p in graph.items(graph.value(shape, sh("ignoredProperties")))}
        for prop in graph.objects(shape, sh("property")):
            path = graph.value(prop, sh("path"))
            if isinstance(path, ox.NamedNode):
                self.allowed.add(path)

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        if self.param != TRUE:
            return
        for v in values:
            for p, o in run.data.edges(v):
                if p not in self.allowed:
                    fail(o, at=focus, via=p)
