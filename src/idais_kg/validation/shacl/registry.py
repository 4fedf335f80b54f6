"""The registry of constraint components: every component this engine evaluates, by the parameter that triggers
it, and the shape properties that are not constraints. The shapes reader refuses any other ``sh:`` property of a
shape, naming it, so that nothing is silently skipped."""

from __future__ import annotations

import pyoxigraph as ox

from idais_kg.validation.shacl import components, logical
from idais_kg.validation.shacl.components import Component, sh
from idais_kg.validation.shacl.sparql import SparqlC

# SHACL Core (SHACL 1.0, section 4), in the order of the spec's sections
CORE: list[type[Component]] = [
    components.ClassC,
    components.DatatypeC,
    components.NodeKindC,
    components.MinCountC,
    components.MaxCountC,
    components.MinExclusiveC,
    components.MinInclusiveC,
    components.MaxExclusiveC,
    components.MaxInclusiveC,
    components.MinLengthC,
    components.MaxLengthC,
    components.PatternC,
    components.LanguageInC,
    components.UniqueLangC,
    components.HasValueC,
    components.InC,
    components.EqualsC,
    components.DisjointC,
    components.LessThanC,
    components.LessThanOrEqualsC,
    logical.NodeC,
    logical.NotC,
    logical.AndC,
    logical.OrC,
    logical.XoneC,
    logical.PropertyC,
    logical.QualifiedC,
    logical.ClosedC,
]
COMPONENTS: list[type[Component]] = [*CORE, SparqlC]
BY_PARAMETER: dict[ox.NamedNode, type[Component]] = {sh(k.parameter): k for k in COMPONENTS}
COMPANIONS: set[ox.NamedNode] = {sh(p) for k in COMPONENTS for p in k.companions}
TARGETS = [sh(n) for n in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")]
NOT_CONSTRAINTS = {
    *TARGETS,
    *(sh(n) for n in ("path", "message", "severity", "deactivated", "name", "description", "order", "group")),
    sh("defaultValue"),
    sh("prefixes"),  # a shape may hold the prefix declarations of its SPARQL constraints
    sh("declare"),
}
KNOWN = set(BY_PARAMETER) | COMPANIONS | NOT_CONSTRAINTS
