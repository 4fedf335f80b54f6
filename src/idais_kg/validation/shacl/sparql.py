"""The SHACL-SPARQL constraint component (SHACL 1.0, section 5): ``sh:sparql`` with an ``sh:select``, ``$this``
pre-bound to each focus node (section 5.2), evaluated over the data graph's pyoxigraph store.

Pre-binding: a query whose text uses ``$this`` only where binding the variable before evaluation is enough
(patterns, filters, sub-selects that project it) runs with pyoxigraph's ``substitutions``; where that binding is not
seen (``bound($this)``, ``BIND($this AS ?x)``), the focus node's own term is written into the query in place of the
variable (for an IRI or a literal; a blank node cannot be written into a query, and is refused). The forms that
section 5.2 forbids (MINUS, VALUES, SERVICE, ``AS $this``, a sub-select that does not project ``$this``) are
refused when the shapes are read, as is ``$shapesGraph``. A query that :func:`joins_like_prebinding` runs once
with ``?this`` free, its solutions grouped by ``?this`` (set-wise, as a partner check of a million triples needs).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, cast

import pyoxigraph as ox

from idais_kg.namespaces import OWL
from idais_kg.validation.shacl import paths
from idais_kg.validation.shacl.components import TRUE, Component, Fail, UnsupportedShapes, sh
from idais_kg.validation.shacl.data import Index, Term

if TYPE_CHECKING:
    from idais_kg.validation.shacl.engine import Validator

Row = dict[str, Term]
IMPORTS = ox.NamedNode(OWL + "imports")
PREFIXES, DECLARE, PREFIX, NAMESPACE = sh("prefixes"), sh("declare"), sh("prefix"), sh("namespace")
SELECT, MESSAGE, DEACTIVATED, PATH = sh("select"), sh("message"), sh("deactivated"), sh("path")
_STRINGS = re.compile(
    r'"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*'
)
_NOT_A_JOIN = re.compile(
    r"\b(MINUS|VALUES|SERVICE|GRAPH|GROUP|HAVING|LIMIT|OFFSET)\b|\bAS\s+[?$]this\b", re.I
)
_FORBIDDEN = re.compile(r"\b(MINUS|VALUES|SERVICE)\b|\bAS\s+[?$](this|currentShape|shapesGraph)\b", re.I)
_SUBSELECT = re.compile(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?([^{]*?)\s*(?:WHERE\s*)?\{", re.I)
_BOUND = re.compile(r"\bbound\s*\(\s*[?$]this\s*\)", re.I)
_BIND = re.compile(r"\bBIND\s*\([^.}]*?[?$]this\b", re.I)
_THIS = re.compile(r"[?$]this\b")
_SELECT_WORD = re.compile(r"\bSELECT\b", re.I)
_FIRST, _FIRST_GROUPED = re.compile(r"\s*[?$]this\s"), re.compile(r"\s*\{?\s*[?$]this\s")


def strip_strings(query: str) -> str:
    """The query with its strings emptied and its comments removed (what syntactic tests look at)."""
    return _STRINGS.sub('""', query)


def joins_like_prebinding(select: str, grouped: bool = False) -> bool:
    """Whether running ``select`` once with ?this free and keeping the solutions whose ?this is the focus node
    gives the solutions of pre-binding $this to the focus node (SHACL 1.0, 5.2).

    A cheap syntactic test that is sufficient for the queries it accepts, given the conditions that
    tests/test_shacl_engine.py checks on the SPARQL algebra of every shipped constraint: ?this is projected; the
    first triple pattern of the top-level group (or, with ``grouped``, of a first group inside it, as the partner
    shapes write it) has $this as subject, so every solution binds it; and no construct for which pre-binding and
    join differ: a sub-select, MINUS, VALUES, BIND to ?this, bound(?this), SERVICE, GRAPH, aggregation, LIMIT or
    OFFSET.

    >>> joins_like_prebinding("SELECT $this ?v WHERE { $this <p> ?v . FILTER NOT EXISTS { ?v <q> $this } }")
    True
    >>> joins_like_prebinding("SELECT $this WHERE { ?t a <T> . FILTER NOT EXISTS { ?r <p> $this } }")
    False
    >>> joins_like_prebinding("SELECT $this WHERE { { $this a ?t FILTER (isIRI($this)) } ?x <p> $this }", True)
    True
    """
    return joins(strip_strings(select))[grouped]


def joins(bare: str) -> tuple[bool, bool]:
    """``joins_like_prebinding`` of a query whose strings are stripped: (strictly, with a first group)."""
    if _NOT_A_JOIN.search(bare) or _BOUND.search(bare) or len(_SELECT_WORD.findall(bare)) != 1:
        return False, False
    head, _, where = bare.partition("{")
    if not _THIS.search(head):
        return False, False
    return _FIRST.match(where) is not None, _FIRST_GROUPED.match(where) is not None


def prefixes(graph: Index, constraint: Term) -> str:
    """The PREFIX lines that a constraint's ``sh:prefixes`` declare (with those of the ontologies they import)."""
    out = []
    todo, seen = list(graph.objects(constraint, PREFIXES)), set()
    while todo:
        ontology = todo.pop()
        if ontology in seen:
            continue
        seen.add(ontology)
        todo += graph.objects(ontology, IMPORTS)
        for decl in graph.objects(ontology, DECLARE):
            prefix, namespace = graph.value(decl, PREFIX), graph.value(decl, NAMESPACE)
            if prefix is not None and namespace is not None:
                out.append(f"PREFIX {prefix.value}: <{namespace.value}>")
    return "\n".join(out) + "\n"


def _refuse_forbidden(shape: Term, text: str) -> None:
    def refuse(why: str) -> None:
        raise UnsupportedShapes(
            f"SPARQL constraint of {shape}: {why} (SPARQLConstraintComponent, SHACL 1.0 5.2)"
        )

    if "$shapesGraph" in text or "?shapesGraph" in text:
        refuse("$shapesGraph is not supported")
    found = _FORBIDDEN.search(text)
    if found:
        refuse(f"{found[0]} is not allowed with pre-bound variables")
    where = text.partition("{")[2]
    for sub in _SUBSELECT.finditer(where):
        if not _THIS.search(sub[1]):
            refuse("a sub-select must project $this")


class SparqlC(Component):
    """sh:sparql: one SELECT query; each solution is a result."""

    name, parameter = "SPARQLConstraintComponent", "sparql"
    names_constraint: ClassVar[bool] = True

    def prepare(self, graph: Index, shape: Term) -> None:
        """Read the SELECT query: refuse the forms that pre-binding forbids, write in $PATH and
        $currentShape, pick the message, and note whether it can run set-wise."""
        g, constraint = graph, self.param
        self.off = g.value(constraint, DEACTIVATED) == TRUE
        select = g.value(constraint, SELECT)
        if select is None:
            raise UnsupportedShapes(
                f"SPARQL constraint of {shape}: only sh:select is supported ({self.name})"
            )
        text = select.value
        bare = strip_strings(text)
        _refuse_forbidden(shape, bare)
        path = g.value(shape, PATH)
        if "$PATH" in bare:
            if path is None:
                raise UnsupportedShapes(f"SPARQL constraint of {shape}: $PATH in a node shape ({self.name})")
            text = text.replace("$PATH", paths.sparql(paths.read(g, path)))
        if "$currentShape" in bare or "?currentShape" in bare:
            if not isinstance(shape, ox.NamedNode):
                raise UnsupportedShapes(f"SPARQL constraint of {shape}: $currentShape of a blank node shape")
            text = re.sub(r"[?$]currentShape\b", str(shape), text)
        messages = g.objects(constraint, MESSAGE)
        en = [m.value for m in messages if isinstance(m, ox.Literal) and m.language == "en"]
        self.message = en[0] if en else (messages[0].value if messages else None)
        self.query = prefixes(g, constraint) + text
        # set-wise where it joins like pre-binding; ``joinable`` (a first group on $this): for many focus nodes only
        self.joined, self.joinable = joins(strip_strings(text))
        self.written = bool(_BOUND.search(bare) or _BIND.search(bare))  # the focus node is written in

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report each solution for the focus node once ($value, or the focus node of a node shape,
        as the value; $path as the path), its message filled in."""
        if self.off:
            return
        seen = set()
        for row in self.solutions(run, focus):
            key = tuple(sorted((k, str(v)) for k, v in row.items()))
            if key in seen:  # pySHACL reports a repeated solution once
                continue
            seen.add(key)
            value = row.get("value", focus if run.path_of(self.shape) is None else None)
            kwargs: dict[str, Any] = {"text": fill(self.message, row)} if self.message is not None else {}
            if "path" in row:
                kwargs["via"] = row["path"]
            fail(value, at=focus, **kwargs)

    def grouped(self, run: Validator) -> dict[Term, list[Row]]:
        """The solutions of the one set-wise run, by focus node (run once per validation)."""
        grouped = run.cache.get(self)
        if grouped is None:
            grouped = {}
            for row in self._run(run.data.store, self.query, None):
                grouped.setdefault(row["this"], []).append(row)
            run.cache[self] = grouped
        return cast(dict[Term, list[Row]], grouped)

    def candidates(self, run: Validator) -> set[Term] | None:
        """The focus nodes with solutions when the query runs set-wise (none when deactivated),
        else None."""
        if self.off:
            return set()
        return set(self.grouped(run)) if run.set_wise(self) else None

    def solutions(self, run: Validator, focus: Term) -> list[Row]:
        """The solutions for ``focus``: from the one set-wise run, or from a run with $this pre-bound."""
        if run.set_wise(self):
            return self.grouped(run).get(focus, [])
        if not self.written:
            return self._run(run.data.store, self.query, focus)
        if isinstance(focus, ox.BlankNode):
            raise UnsupportedShapes(
                f"SPARQL constraint of {self.shape}: a blank node cannot be pre-bound in bound() or BIND ({self.name})"
            )
        return self._run(run.data.store, self.prebound(focus), focus)

    def prebound(self, focus: Term) -> str:
        """The query with the focus node written in place of $this after the projection."""
        head, brace, where = self.query.partition("{")
        term = str(focus)
        parts = []
        last = 0
        for match in _STRINGS.finditer(where):
            parts.append(_write(where[last : match.start()], term))
            parts.append(match[0])
            last = match.end()
        parts.append(_write(where[last:], term))
        return head + brace + "".join(parts)

    @staticmethod
    def _run(store: ox.Store, query: str, focus: Term | None) -> list[Row]:
        subs: dict[ox.Variable, Any] | None = {ox.Variable("this"): focus} if focus is not None else None
        answer = cast(
            ox.QuerySolutions, store.query(query, substitutions=subs, use_default_graph_as_union=True)
        )
        names = [v.value for v in answer.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in answer]


def fill(message: str, row: Row) -> str:
    """Put solution values into a message's ``{?name}`` (or ``{$name}``) placeholders.

    >>> fill("{?value} via {?path}", {"value": ox.Literal("x")})
    'x via {?path}'
    """
    return re.sub(r"\{[?$](\w+)\}", lambda m: row[m[1]].value if m[1] in row else m[0], message)


def _write(text: str, term: str) -> str:
    text = _BOUND.sub("(true)", text)
    text = _SUBSELECT.sub(
        lambda m: m[0].replace(m[1], _THIS.sub("", m[1]).strip() or "*") if m[1] else m[0], text
    )
    return _THIS.sub(term, text)
