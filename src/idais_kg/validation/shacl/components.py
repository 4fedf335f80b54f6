"""The constraint components of SHACL Core (SHACL 1.0, section 4), one small class each, listed in ``CORE``.

A component names the parameter that triggers it and the companion parameters it also reads (``parameter``,
``companions``); it reads them from the shapes graph once (``prepare``, which refuses what it cannot evaluate)
and then checks the value nodes of one focus node (``check``, or ``test`` for a component that judges each value
node alone). The components that check value nodes against other shapes are in
idais_kg.validation.shacl.logical, the SHACL-SPARQL component in idais_kg.validation.shacl.sparql; the registry of
all of them, outside which the shapes reader refuses anything, is idais_kg.validation.shacl.registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import pyoxigraph as ox

from idais_kg.errors import IdaisError
from idais_kg.namespaces import RDF, SH, XSD
from idais_kg.validation.shacl.data import Index, Term
from idais_kg.validation.shacl.literals import LANG_STRING, compare, lang_matches, well_formed

if TYPE_CHECKING:
    from idais_kg.validation.shacl.engine import Validator

Fail = Callable[
    ..., None
]  # reports a result: the value, and optionally text, at (focus), via (path), component
TRUE = ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))
TYPE = ox.NamedNode(RDF + "type")


def sh(name: str) -> ox.NamedNode:
    """The IRI of a term of the SHACL vocabulary."""
    return ox.NamedNode(SH + name)


class UnsupportedShapes(IdaisError):
    """The shapes use a SHACL feature this engine does not implement (use pySHACL or Jena for them)."""

    exit_code = 2


class Component:
    """One constraint of a shape: a component with its parameter values."""

    name: ClassVar[str] = ""  # the local name of the component's IRI, in sh:
    parameter: ClassVar[str] = ""  # the parameter that triggers the component
    companions: ClassVar[tuple[str, ...]] = ()  # other parameters it reads
    nests: ClassVar[bool] = False  # sh:property: the results are the nested shape's own
    names_constraint: ClassVar[bool] = False  # its results carry sh:sourceConstraint (a SPARQL constraint)
    counts: ClassVar[bool] = False  # it judges the number of value nodes alone (``accepts``)

    def __init__(self, graph: Index, shape: Term, param: Term) -> None:
        self.iri = sh(self.name)
        self.shape, self.param = shape, param
        self.prepare(graph, shape)
        self.per_value = type(self).check is Component.check  # it judges each value node alone (``test``)

    def prepare(self, graph: Index, shape: Term) -> None:
        """Read the parameters (refusing what cannot be evaluated); by default nothing but ``param``."""

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report each value node that ``test`` rejects (the default for a per-value component)."""
        for v in values:
            if not self.test(run, v):
                fail(v)

    def candidates(self, run: Validator) -> set[Term] | None:
        """The only focus nodes that can fail this constraint, if it knows them without checking each (else None)."""
        return None

    def test(self, run: Validator, value: Term) -> bool:
        """Whether one value node satisfies the constraint."""
        raise NotImplementedError

    def accepts(self, count: int) -> bool:
        """Whether this many value nodes satisfy the constraint."""
        raise NotImplementedError

    def integer(self) -> int:
        """The parameter as a non-negative integer; anything else is refused."""
        if not isinstance(self.param, ox.Literal) or not re.fullmatch(r"\+?\d+", self.param.value):
            raise UnsupportedShapes(f"shape {self.shape}: sh:{self.parameter} needs an integer ({self.name})")
        return int(self.param.value)


class ClassC(Component):
    """sh:class (SHACL 1.0, 4.1.1): each value node is an instance of the class."""

    name, parameter = "ClassConstraintComponent", "class"

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the value is a non-literal with an rdf:type that is the class or a subclass of it."""
        return not isinstance(value, ox.Literal) and run.is_instance(value, self.param)


class DatatypeC(Component):
    """sh:datatype (SHACL 1.0, 4.1.2): each value node is a well-formed literal of the datatype."""

    name, parameter = "DatatypeConstraintComponent", "datatype"

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the value is a literal of the datatype (any language-tagged one for rdf:langString),
        and well-formed."""
        if not isinstance(value, ox.Literal):
            return False
        if self.param.value == LANG_STRING:
            return bool(value.language)
        return not value.language and value.datatype == self.param and well_formed(value)


KINDS: dict[str, tuple[type, ...]] = {
    "IRI": (ox.NamedNode,),
    "BlankNode": (ox.BlankNode,),
    "Literal": (ox.Literal,),
    "BlankNodeOrIRI": (ox.BlankNode, ox.NamedNode),
    "BlankNodeOrLiteral": (ox.BlankNode, ox.Literal),
    "IRIOrLiteral": (ox.NamedNode, ox.Literal),
}


class NodeKindC(Component):
    """sh:nodeKind (SHACL 1.0, 4.1.3): each value node is of the node kind (IRI, blank node, literal)."""

    name, parameter = "NodeKindConstraintComponent", "nodeKind"

    def prepare(self, graph: Index, shape: Term) -> None:
        """Read the node kind; one that is not of SHACL's six is refused."""
        kind = self.param.value[len(SH) :] if self.param.value.startswith(SH) else ""
        if kind not in KINDS:
            raise UnsupportedShapes(f"shape {shape}: sh:nodeKind {self.param} ({self.name})")
        self.kinds = KINDS[kind]

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the value is of one of the kind's node types."""
        return isinstance(value, self.kinds)


class Count(Component):
    """The cardinality components: they judge the number of value nodes, not each value node."""

    counts = True

    def prepare(self, graph: Index, shape: Term) -> None:
        """Read the bound, which must be a non-negative integer."""
        self.bound = self.integer()

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report one result, without a value, when the number of value nodes is not accepted."""
        if not self.accepts(len(values)):
            fail(None)


class MinCountC(Count):
    """sh:minCount (SHACL 1.0, 4.2.1): at least this many value nodes."""

    name, parameter = "MinCountConstraintComponent", "minCount"

    def accepts(self, count: int) -> bool:
        """Whether there are at least ``bound`` value nodes."""
        return count >= self.bound


class MaxCountC(Count):
    """sh:maxCount (SHACL 1.0, 4.2.2): at most this many value nodes."""

    name, parameter = "MaxCountConstraintComponent", "maxCount"

    def accepts(self, count: int) -> bool:
        """Whether there are at most ``bound`` value nodes."""
        return count <= self.bound


class Range(Component):
    """The value range components: each value node compares with the parameter as ``accept`` says."""

    accept: ClassVar[tuple[int, ...]] = ()  # the outcomes of compare(value, param) that satisfy it

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the value compares with the parameter as accepted (incomparable values fail)."""
        return compare(value, self.param) in self.accept


class MinExclusiveC(Range):
    """sh:minExclusive (SHACL 1.0, 4.3.1): each value node is greater than the parameter."""

    name, parameter, accept = "MinExclusiveConstraintComponent", "minExclusive", (1,)


class MinInclusiveC(Range):
    """sh:minInclusive (SHACL 1.0, 4.3.2): each value node is greater than or equal to it."""

    name, parameter, accept = "MinInclusiveConstraintComponent", "minInclusive", (0, 1)


class MaxExclusiveC(Range):
    """sh:maxExclusive (SHACL 1.0, 4.3.3): each value node is less than the parameter."""

    name, parameter, accept = "MaxExclusiveConstraintComponent", "maxExclusive", (-1,)


class MaxInclusiveC(Range):
    """sh:maxInclusive (SHACL 1.0, 4.3.4): each value node is less than or equal to it."""

    name, parameter, accept = "MaxInclusiveConstraintComponent", "maxInclusive", (-1, 0)


class MinLengthC(Component):
    """sh:minLength (SHACL 1.0, 4.4.1): the string of each value node has at least this many characters."""

    name, parameter = "MinLengthConstraintComponent", "minLength"

    def prepare(self, graph: Index, shape: Term) -> None:
        """Read the length, which must be a non-negative integer."""
        self.bound = self.integer()

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the value is not a blank node and its string is long enough."""
        return not isinstance(value, ox.BlankNode) and len(value.value) >= self.bound


class MaxLengthC(MinLengthC):
    """sh:maxLength (SHACL 1.0, 4.4.2): the string of each value node has at most this many characters."""

    name, parameter = "MaxLengthConstraintComponent", "maxLength"

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the value is not a blank node and its string is short enough."""
        return not isinstance(value, ox.BlankNode) and len(value.value) <= self.bound


class PatternC(Component):
    """sh:pattern with sh:flags (SHACL 1.0, 4.4.3): the string of each value node matches the regular
    expression."""

    name, parameter, companions = "PatternConstraintComponent", "pattern", ("flags",)

    def prepare(self, graph: Index, shape: Term) -> None:
        """Compile the pattern with its flags; a flag that Python's re lacks is refused."""
        flags = graph.value(shape, sh("flags"))
        text = flags.value if flags is not None else ""
        if set(text) - set("imsxq"):
            raise UnsupportedShapes(f"shape {shape}: sh:flags {text!r} ({self.name})")
        bits = 0
        for f in text.replace("q", ""):
            bits |= getattr(re, f.upper())
        self.regex = re.compile(re.escape(self.param.value) if "q" in text else self.param.value, bits)

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the value is not a blank node and the pattern matches somewhere in its string."""
        return not isinstance(value, ox.BlankNode) and self.regex.search(value.value) is not None


class LanguageInC(Component):
    """sh:languageIn (SHACL 1.0, 4.4.4): each value node is a literal with one of the language tags."""

    name, parameter = "LanguageInConstraintComponent", "languageIn"

    def prepare(self, graph: Index, shape: Term) -> None:
        """Read the allowed language ranges from the RDF list."""
        self.allowed = [t.value for t in graph.items(self.param)]

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the value is a literal whose language tag matches one of the ranges."""
        return isinstance(value, ox.Literal) and any(
            lang_matches(value.language or "", a) for a in self.allowed
        )


class UniqueLangC(Component):
    """sh:uniqueLang (SHACL 1.0, 4.4.5): no two value nodes share a language tag."""

    name, parameter = "UniqueLangConstraintComponent", "uniqueLang"

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report one result, without a value, for each language tag used more than once."""
        if self.param != TRUE:
            return
        langs = [v.language.lower() for v in values if isinstance(v, ox.Literal) and v.language]
        for _lang in dict.fromkeys(lang for lang in langs if langs.count(lang) > 1):
            fail(None)


class HasValueC(Component):
    """sh:hasValue (SHACL 1.0, 4.8.2): the parameter is one of the value nodes."""

    name, parameter = "HasValueConstraintComponent", "hasValue"

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report one result, without a value, when the parameter is not among the value nodes."""
        if self.param not in values:
            fail(None)


class InC(Component):
    """sh:in (SHACL 1.0, 4.8.3): each value node is a member of the list."""

    name, parameter = "InConstraintComponent", "in"

    def prepare(self, graph: Index, shape: Term) -> None:
        """Read the allowed members from the RDF list."""
        self.allowed = set(graph.items(self.param))

    def test(self, run: Validator, value: Term) -> bool:
        """Whether the value is one of the members."""
        return value in self.allowed


class EqualsC(Component):
    """sh:equals (SHACL 1.0, 4.5.1): the value nodes are exactly the focus node's values of the property."""

    name, parameter = "EqualsConstraintComponent", "equals"

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report each value node the property lacks, and each value of the property that is not one."""
        others = run.data.objects(focus, self.param)
        for v in values:
            if v not in others:
                fail(v)
        for o in others:
            if o not in values:
                fail(o)


class DisjointC(Component):
    """sh:disjoint (SHACL 1.0, 4.5.2): no value node is a value of the property on the focus node."""

    name, parameter = "DisjointConstraintComponent", "disjoint"

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report each value node that is also a value of the property."""
        others = run.data.objects(focus, self.param)
        for v in values:
            if v in others:
                fail(v)


class LessThanC(Component):
    """sh:lessThan (SHACL 1.0, 4.5.3): each value node is less than every value of the property."""

    name, parameter = "LessThanConstraintComponent", "lessThan"
    accept: ClassVar[tuple[int, ...]] = (-1,)

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report a value node once for each value of the property it is not less than (or not
        comparable with)."""
        others = run.data.objects(focus, self.param)
        for v in values:
            for w in others:
                if compare(v, w) not in self.accept:
                    fail(v)


class LessThanOrEqualsC(LessThanC):
    """sh:lessThanOrEquals (SHACL 1.0, 4.5.4): each value node is at most every value of the property."""

    name, parameter, accept = "LessThanOrEqualsConstraintComponent", "lessThanOrEquals", (-1, 0)
