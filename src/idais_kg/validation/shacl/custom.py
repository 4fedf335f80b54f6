"""SPARQL-based constraint components (SHACL 1.0, section 6): components that a shapes graph declares itself, with
``sh:parameter`` and a SPARQL validator (``sh:validator``, ``sh:nodeValidator``, ``sh:propertyValidator``; an
``sh:ask`` or an ``sh:select``).

A shape that has a value for every required parameter of such a component gets a constraint of it
(:class:`CustomC`); the parameter values, ``$this`` and (for an ASK validator) ``$value`` are pre-bound by writing
their terms into the query (a blank node cannot be written into a query: refused). A component whose validator
uses ``$shapesGraph`` is refused, as in a SPARQL constraint; one with neither an ASK nor a SELECT validator too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from idais_kg.validation.shacl import paths
from idais_kg.validation.shacl.components import TRUE, Component, Fail, UnsupportedShapes, sh
from idais_kg.validation.shacl.data import Index, Term
from idais_kg.validation.shacl.sparql import fill, prefixes, strip_strings

if TYPE_CHECKING:
    from idais_kg.validation.shacl.engine import Validator

VALIDATORS = {"node": sh("nodeValidator"), "property": sh("propertyValidator"), "any": sh("validator")}


@dataclass(frozen=True)
class Declared:
    """A constraint component declared in the shapes graph."""

    node: Term
    parameters: tuple[tuple[ox.NamedNode, str, bool], ...]  # (path, variable name, optional)
    validators: dict[str, Term]  # "node", "property" or "any" -> validator node

    def applies(self, graph: Index, shape: Term) -> bool:
        """Whether the shape has a value for every required parameter of the component."""
        return all(optional or graph.objects(shape, path) for path, _, optional in self.parameters)


def declared(graph: Index) -> list[Declared]:
    """The components that the shapes graph declares (every node with an ``sh:parameter``)."""
    out = []
    for node in graph.subjects_of(sh("parameter")):
        params = []
        for param in graph.objects(node, sh("parameter")):
            path = graph.value(param, sh("path"))
            if not isinstance(path, ox.NamedNode):
                raise UnsupportedShapes(f"constraint component {node}: a parameter's sh:path must be an IRI")
            name = re.sub(r"^.*[#/]", "", path.value)
            params.append((path, name, graph.value(param, sh("optional")) == TRUE))
        validators = {k: v for k, p in VALIDATORS.items() for v in graph.objects(node, p)[:1]}
        for validator in validators.values():
            if graph.value(validator, sh("ask")) is None and graph.value(validator, sh("select")) is None:
                raise UnsupportedShapes(f"constraint component {node}: a validator needs sh:ask or sh:select")
        out.append(Declared(node, tuple(params), validators))
    return out


def write(query: str, bindings: dict[str, Term]) -> str:
    """The query with each bound variable's term written in its place (outside strings and comments)."""
    for name, term in bindings.items():
        if isinstance(term, ox.BlankNode):
            raise UnsupportedShapes(f"${name}: a blank node cannot be pre-bound into a query")
    pattern = re.compile(r"[?$](" + "|".join(map(re.escape, bindings)) + r")\b") if bindings else None
    if pattern is None:
        return query
    body = re.sub(r"\bbound\s*\(\s*[?$](" + "|".join(bindings) + r")\s*\)", "(true)", query, flags=re.I)
    return pattern.sub(lambda m: str(bindings[m[1]]), body)


class CustomC(Component):
    """A constraint of a declared component on one shape."""

    name = "custom"

    def __init__(self, graph: Index, shape: Term, component: Declared) -> None:
        self.declared = component
        super().__init__(graph, shape, component.node)
        self.iri = component.node  # type: ignore[assignment]

    def prepare(self, graph: Index, shape: Term) -> None:
        """Read the validator for this kind of shape and write the parameter values into it;
        refuse $shapesGraph and the forms that pre-binding forbids."""
        path = graph.value(shape, sh("path"))
        kind = "property" if path is not None else "node"
        validator = self.declared.validators.get(kind, self.declared.validators.get("any"))
        self.off = validator is None  # no validator for this kind of shape: the constraint is ignored (6.2.2)
        self.bindings = {
            name: value for p, name, _ in self.declared.parameters for value in graph.objects(shape, p)[:1]
        }
        if validator is None:
            return
        ask, select = graph.value(validator, sh("ask")), graph.value(validator, sh("select"))
        text = (ask or select).value  # type: ignore[union-attr]
        bare = strip_strings(text)
        if re.search(r"[?$]shapesGraph\b", bare):
            raise UnsupportedShapes(
                f"constraint component {self.declared.node}: $shapesGraph is not supported"
            )
        bound = ["this", "value", *self.bindings] if ask is not None else ["this", *self.bindings]
        found = re.search(r"\b(MINUS|VALUES|SERVICE)\b|\bAS\s+[?$](" + "|".join(bound) + r")\b", bare, re.I)
        if found:
            raise UnsupportedShapes(
                f"constraint component {self.declared.node}: {found[0]} is not allowed with pre-bound variables"
            )
        if "$PATH" in text and path is not None:
            text = text.replace("$PATH", paths.sparql(paths.read(graph, path)))
        self.ask = ask is not None
        self.query = prefixes(graph, validator) + write(text, self.bindings)
        messages = graph.objects(validator, sh("message")) or graph.objects(self.declared.node, sh("message"))
        self.message = messages[0].value if messages else None

    def check(self, run: Validator, focus: Term, values: list[Term], fail: Fail) -> None:
        """Report each value node for which the ASK validator is false, or each solution of the
        SELECT validator, with the message filled in."""
        if self.off:
            return
        store = run.data.store
        text = {"text": fill(self.message, self.bindings)} if self.message else {}
        if self.ask:
            for v in values:
                if not store.query(
                    write(self.query, {"this": focus, "value": v}), use_default_graph_as_union=True
                ):
                    fail(v, **text)
            return
        subs: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
            ox.Variable("this"): focus
        }
        answer = store.query(self.query, substitutions=subs, use_default_graph_as_union=True)
        names = [v.value for v in answer.variables]  # type: ignore[union-attr]
        for row in answer:  # type: ignore[union-attr]
            solution = {n: row[n] for n in names if row[n] is not None}
            value = solution.get("value", focus if run.path_of(self.shape) is None else None)
            extra = {"text": fill(fill(self.message, self.bindings), solution)} if self.message else {}
            fail(value, **({"via": solution["path"]} if "path" in solution else {}), **extra)
