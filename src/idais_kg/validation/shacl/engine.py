"""A fast SHACL engine over pyoxigraph, for the constraint components that the shapes of ``shapes/`` use: it
validates data against a shapes graph that idais_kg.validation.shacl.shapes has read and checked (it refuses what this
engine does not implement).

Why: pySHACL took ~48 s on the guide (7k triples), ~3.6 s of it on SHACL Core alone, the rest on SHACL-SPARQL
constraints that it evaluates once per focus node with rdflib's SPARQL engine; Jena's SHACL is fast but a JVM
start costs 1-3 s a run. This engine reads the data into Python indexes once, evaluates the Core components in
Python, and runs each SHACL-SPARQL constraint with pyoxigraph, ``$this`` pre-bound per focus node by substitution
(the pre-binding of SHACL 1.0 section 5.3.1, not a join: so no condition on where ``$this`` occurs in the query),
or once for all focus nodes where that gives the same solutions (:func:`joins_like_prebinding`).

tests/test_shapes.py checks that it gives exactly pySHACL's results (focus, path, shape, severity) on every case
and on the shipped dataset, and tests/test_engines.py that Jena's SHACL agrees too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import pyoxigraph as ox

from idais_kg.namespaces import RDF, RDFS, SH, XSD
from idais_kg.validation.shacl.shapes import (
    PROPERTY,
    SPARQL,
    TRUE,
    TYPE,
    Index,
    Path,
    Shapes,
    Term,
    UnsupportedShapes,
    sh,
)

Fail = Callable[..., None]  # reports a result: value, and optionally message, focus and path

SUBCLASS = ox.NamedNode(RDFS + "subClassOf")
NUMERIC = {
    XSD + n
    for n in [
        "integer",
        "decimal",
        "double",
        "float",
        "long",
        "int",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
    ]
}
_TZ = r"(Z|[+-]\d\d:\d\d)?"
LEXICAL = {  # well-formed lexical forms of the datatypes that sh:datatype names (ill-typed literals fail it)
    XSD + "integer": r"[+-]?\d+",
    XSD + "decimal": r"[+-]?(\d+(\.\d*)?|\.\d+)",
    XSD + "double": r"([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF|-INF|NaN)",
    XSD + "boolean": r"(true|false|1|0)",
    XSD + "gYear": r"-?\d{4,}" + _TZ,
    XSD + "gYearMonth": r"-?\d{4,}-(0[1-9]|1[0-2])" + _TZ,
    XSD + "date": r"-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])" + _TZ,
}


@dataclass(frozen=True)
class Result:
    focus: Term
    path: Path | None
    shape: Term
    severity: str  # the IRI of sh:Violation, sh:Warning or sh:Info
    message: str
    value: Term | None = None


def term_value(term: Term) -> str:
    return term.value


def numeric(term: Term) -> Decimal | float | None:
    if not isinstance(term, ox.Literal) or term.datatype.value not in NUMERIC:
        return None
    try:
        return Decimal(term.value)
    except InvalidOperation:
        return float(term.value) if term.value in ("INF", "-INF", "NaN") else None


def less_or_equal(a: Term, b: Term) -> bool:
    x, y = numeric(a), numeric(b)
    if x is not None and y is not None:
        return bool(x <= y)
    if isinstance(a, ox.Literal) and isinstance(b, ox.Literal) and a.datatype == b.datatype:
        return a.value <= b.value  # strings and the date types of one timezone order by their lexical form
    return False  # not comparable: the constraint fails, as in SPARQL


def lang_matches(tag: str, pattern: str) -> bool:
    tag, pattern = tag.lower(), pattern.lower()
    return (pattern == "*" and bool(tag)) or tag == pattern or tag.startswith(pattern + "-")


class Validator:
    """One validation run: the data indexed once, nested-shape conformance memoised."""

    def __init__(self, data: Iterable[ox.Triple | ox.Quad], shapes: Shapes) -> None:
        self.data = Index(data)
        self.shapes = shapes
        self._store: ox.Store | None = None
        self._conforms: dict[tuple[Term, Term], bool] = {}
        self._superclasses: dict[Term, set[Term]] = {}
        self._queries: dict[Term, str] = {}
        self._grouped: dict[Term, dict[Term, list[dict[str, Term]]]] = {}
        self._tests: dict[tuple[str, Term, Term], Callable[[Term], bool]] = {}

    @property
    def store(self) -> ox.Store:
        if self._store is None:  # only when a SPARQL constraint needs it
            self._store = ox.Store()
            self._store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in self.data.triples)
        return self._store

    # -- data access -----------------------------------------------------------------------------------------

    def values(self, focus: Term, path: Path) -> list[Term]:
        if isinstance(path, ox.NamedNode):
            return self.data.objects(focus, path)
        if path[0] == "^":
            return self.data.subjects(path[1], focus)
        out: list[Term] = []
        for alternative in path[1:]:
            out += [v for v in self.values(focus, alternative) if v not in out]
        return out

    def superclasses(self, cls: Term) -> set[Term]:
        if cls not in self._superclasses:
            seen, todo = {cls}, [cls]
            while todo:
                for sup in self.data.objects(todo.pop(), SUBCLASS):
                    if sup not in seen:
                        seen.add(sup)
                        todo.append(sup)
            self._superclasses[cls] = seen
        return self._superclasses[cls]

    def is_instance(self, node: Term, cls: Term) -> bool:
        return any(cls in self.superclasses(t) for t in self.data.objects(node, TYPE))

    def focus_nodes(self, shape: Term) -> list[Term]:
        g, out = self.shapes.graph, []
        for cls in g.objects(shape, sh("targetClass")):
            out += [s for sub in self.subclasses(cls) for s in self.data.subjects(TYPE, sub)]
        out += g.objects(shape, sh("targetNode"))
        for p in g.objects(shape, sh("targetSubjectsOf")):
            out += [s for s, preds in self.data.out.items() if p in preds]
        for p in g.objects(shape, sh("targetObjectsOf")):
            out += [o for o, preds in self.data.inv.items() if p in preds]
        return list(dict.fromkeys(out))

    def subclasses(self, cls: Term) -> list[Term]:
        seen, todo = [cls], [cls]
        while todo:
            for sub in self.data.subjects(SUBCLASS, todo.pop()):
                if sub not in seen:
                    seen.append(sub)
                    todo.append(sub)
        return seen

    # -- validation ------------------------------------------------------------------------------------------

    def run(self) -> list[Result]:
        results: list[Result] = []
        for shape in self.shapes.targeted:
            for focus in self.focus_nodes(shape):
                results += self.validate(shape, focus)
        return list(dict.fromkeys(results))

    def conforms(self, shape: Term, node: Term) -> bool:
        key = (shape, node)
        if key not in self._conforms:
            self._conforms[key] = not self.validate(shape, node)
        return self._conforms[key]

    def validate(self, shape: Term, focus: Term) -> list[Result]:
        compiled = self.shapes.compiled(shape)
        if compiled is None:
            return []
        path, severity, message, constraints = compiled
        values = self.values(focus, path) if path is not None else [focus]
        out: list[Result] = []

        def fail(value: Term | None, text: str = message, at: Term = focus, via: Path | None = path) -> None:
            out.append(Result(at, via, shape, severity, text, value))

        for predicate, param in constraints:
            if predicate == PROPERTY:
                for v in values:
                    out += self.validate(param, v)
            elif predicate == SPARQL:
                self.sparql(shape, param, focus, path, fail)
            else:
                self.core(predicate, param, shape, focus, values, fail)
        return out

    def core(
        self, component: ox.NamedNode, param: Term, shape: Term, focus: Term, values: list[Term], fail: Fail
    ) -> None:
        name = component.value[len(SH) :]
        g = self.shapes.graph
        if name == "minCount":
            if len(values) < int(param.value):
                fail(None)
        elif name == "maxCount":
            if len(values) > int(param.value):
                fail(None)
        elif name == "hasValue":
            if param not in values:
                fail(None)
        elif name == "uniqueLang":
            if param == TRUE:
                langs = [v.language for v in values if isinstance(v, ox.Literal) and v.language]
                for _lang in dict.fromkeys(lang for lang in langs if langs.count(lang) > 1):
                    fail(None)
        elif name == "qualifiedValueShape":
            count = sum(1 for v in values if self.conforms(param, v))
            low, high = g.value(shape, sh("qualifiedMinCount")), g.value(shape, sh("qualifiedMaxCount"))
            if (low is not None and count < int(low.value)) or (high is not None and count > int(high.value)):
                fail(None)
        elif name == "lessThanOrEquals":
            others = self.data.objects(focus, param)
            for v in values:
                for w in others:
                    if not less_or_equal(v, w):
                        fail(v)
        else:
            key = (name, param, shape)
            if key not in self._tests:
                self._tests[key] = self.value_test(name, param, shape)
            test = self._tests[key]
            for v in values:
                if not test(v):
                    fail(v)

    def value_test(self, name: str, param: Term, shape: Term) -> Callable[[Term], bool]:
        g = self.shapes.graph
        if name == "class":
            return lambda v: not isinstance(v, ox.Literal) and self.is_instance(v, param)
        if name == "datatype":
            if param.value == RDF + "langString":
                return lambda v: isinstance(v, ox.Literal) and bool(v.language)
            lexical = re.compile(LEXICAL.get(param.value, r".*"), re.S)
            return lambda v: (
                isinstance(v, ox.Literal)
                and not v.language
                and v.datatype == param
                and lexical.fullmatch(v.value) is not None
            )
        if name == "nodeKind":
            kinds = {
                "IRI": (ox.NamedNode,),
                "BlankNode": (ox.BlankNode,),
                "Literal": (ox.Literal,),
                "BlankNodeOrIRI": (ox.BlankNode, ox.NamedNode),
                "BlankNodeOrLiteral": (ox.BlankNode, ox.Literal),
                "IRIOrLiteral": (ox.NamedNode, ox.Literal),
            }[param.value[len(SH) :]]
            return lambda v: isinstance(v, kinds)
        if name == "pattern":
            flags = g.value(shape, sh("flags"))
            bits = sum(getattr(re, f.upper()) for f in (flags.value if flags else "") if f in "imsx")
            regex = re.compile(param.value, bits)
            return lambda v: not isinstance(v, ox.BlankNode) and regex.search(v.value) is not None
        if name == "languageIn":
            allowed = [t.value for t in g.items(param)]
            return lambda v: (
                isinstance(v, ox.Literal) and any(lang_matches(v.language or "", a) for a in allowed)
            )
        if name == "in":
            allowed_values = set(g.items(param))
            return lambda v: v in allowed_values
        if name == "minInclusive":
            return lambda v: less_or_equal(param, v)
        if name == "maxInclusive":
            return lambda v: less_or_equal(v, param)
        if name == "node":
            return lambda v: self.conforms(param, v)
        if name == "not":
            return lambda v: not self.conforms(param, v)
        if name == "or":
            members = g.items(param)
            return lambda v: any(self.conforms(m, v) for m in members)
        raise UnsupportedShapes(f"shape {shape}: sh:{name} is not supported by this engine")

    def sparql(self, shape: Term, constraint: Term, focus: Term, path: Path | None, fail: Fail) -> None:
        g = self.shapes.graph
        if g.value(constraint, sh("deactivated")) == TRUE:
            return
        messages = g.objects(constraint, sh("message"))
        en = [m.value for m in messages if isinstance(m, ox.Literal) and m.language == "en"]
        seen = set()
        for row in self.solutions(shape, constraint, focus):
            key = tuple(sorted((k, str(v)) for k, v in row.items()))
            if key in seen:  # pySHACL reports a repeated solution once
                continue
            seen.add(key)
            value = row.get("value", None if path is not None else focus)
            via = row.get("path", path)
            if en:
                text = en[0]
                for k, v in row.items():
                    text = text.replace("{?" + k + "}", v.value).replace("{$" + k + "}", v.value)
                fail(value, text, row.get("this", focus), via)
            else:
                fail(value, at=row.get("this", focus), via=via)

    def solutions(self, shape: Term, constraint: Term, focus: Term) -> list[dict[str, Term]]:
        """The solutions of a constraint's query with $this pre-bound to ``focus``.

        A query that ``joins_like_prebinding`` runs once, with ?this free, and its solutions are grouped by ?this;
        any other query runs once per focus node with $this substituted (pyoxigraph does not plan with a
        substituted variable as a constant, which makes that 5-10x slower than a query with an IRI in its place).
        """
        if constraint not in self._queries:
            select = self.shapes.graph.value(constraint, sh("select"))
            if select is None or "$PATH" in select.value:
                raise UnsupportedShapes(f"SPARQL constraint of {shape}: only sh:select without $PATH")
            self._queries[constraint] = self.shapes.sparql_prefixes(constraint) + select.value
            if joins_like_prebinding(select.value):
                grouped: dict[Term, list[dict[str, Term]]] = {}
                for row in self._run(self._queries[constraint], None):
                    grouped.setdefault(row["this"], []).append(row)
                self._grouped[constraint] = grouped
        if constraint in self._grouped:
            return self._grouped[constraint].get(focus, [])
        return self._run(self._queries[constraint], focus)

    def _run(self, query: str, focus: Term | None) -> list[dict[str, Term]]:
        subs: dict[ox.Variable, Any] | None = {ox.Variable("this"): focus} if focus is not None else None
        answer = cast(
            ox.QuerySolutions, self.store.query(query, substitutions=subs, use_default_graph_as_union=True)
        )
        names = [v.value for v in answer.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in answer]


_STRINGS = re.compile(
    r'"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*'
)
_NOT_A_JOIN = re.compile(
    r"\b(MINUS|VALUES|SERVICE|GRAPH|GROUP|HAVING|LIMIT|OFFSET)\b|\bAS\s+[?$]this\b", re.I
)


def joins_like_prebinding(select: str) -> bool:
    """Whether running ``select`` once with ?this free and keeping the solutions whose ?this is the focus node
    gives the solutions of pre-binding $this to the focus node (SHACL 1.0, 5.3.1).

    A cheap syntactic test that is sufficient for the queries it accepts, given the conditions that
    tests/test_shacl_engine.py checks on the SPARQL algebra of every shipped constraint: ?this is projected; the
    first triple pattern of the top-level group has $this as subject, so every solution binds it (then a join
    with one fixed solution commutes with Join, LeftJoin, Union and with the FILTERs and EXISTS of a group that
    binds ?this); and no construct for which pre-binding and join differ: a sub-select, MINUS, VALUES, BIND to
    ?this, SERVICE, GRAPH, aggregation, LIMIT or OFFSET. Anything else is evaluated per focus node, by
    substitution.

    >>> joins_like_prebinding("SELECT $this ?v WHERE { $this <p> ?v . FILTER NOT EXISTS { ?v <q> $this } }")
    True
    >>> joins_like_prebinding("SELECT $this WHERE { ?t a <T> . FILTER NOT EXISTS { ?r <p> $this } }")
    False
    """
    text = _STRINGS.sub('""', select)
    if _NOT_A_JOIN.search(text) or len(re.findall(r"\bSELECT\b", text, re.I)) != 1:
        return False
    head, _, where = text.partition("{")
    return re.search(r"[?$]this\b", head) is not None and re.match(r"\s*[?$]this\s", where) is not None


def validate(data: Iterable[ox.Triple | ox.Quad], shapes: Shapes) -> list[Result]:
    """The results of validating the triples (graph names ignored: SHACL's data graph is their union)."""
    return Validator(data, shapes).run()
