"""Saved SPARQL queries: one ``.rq`` file each, with a ``#+`` YAML header that says what it answers and takes.

The header is the single description the CLI, the HTTP API and its OpenAPI document are built from. Parameters
are typed here and bound by the engine (never spliced into the query text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from idais_kg.errors import ParameterError, QueryHeaderError, UnknownQueryError
from idais_kg.namespaces import PREFIXES, XSD, expand
from idais_kg.sources.untrusted import iri_flaw

PARAM_TYPES = ("iri", "string", "integer", "decimal", "date", "year")
KINDS = ("question", "construct", "violation")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Param:
    """One parameter a saved query takes, as its ``#+ params:`` header declares it."""

    name: str
    type: str
    required: bool = False
    description: str = ""
    example: str | None = None
    exists: bool = True  # for iri parameters: the IRI must name a resource of the graph

    def convert(self, query: str, raw: str) -> ox.NamedNode | ox.Literal:
        """Turn a value given as text into an RDF term of this parameter's type, or raise ParameterError."""
        value = raw.strip()
        if _SURROGATE.search(value):  # how Python decodes bytes of a command line that are not UTF-8
            raise ParameterError(query, self.name, f"bytes that are not UTF-8: {raw!r}")
        if self.type == "iri":
            iri = expand(value)
            flaw = iri_flaw(iri)
            if flaw is not None:
                raise ParameterError(query, self.name, f"{flaw}: {raw!r}")
            return ox.NamedNode(iri)
        if self.type == "string":
            return ox.Literal(value)
        if self.type == "integer":
            if not re.fullmatch(r"[+-]?\d+", value):
                raise ParameterError(query, self.name, f"not an integer: {raw!r}")
            return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
        if self.type == "decimal":
            try:
                Decimal(value)
            except InvalidOperation:
                raise ParameterError(query, self.name, f"not a decimal number: {raw!r}") from None
            return ox.Literal(value, datatype=ox.NamedNode(XSD + "decimal"))
        if self.type == "year":
            if not re.fullmatch(r"\d{4}", value):
                raise ParameterError(query, self.name, f"not a year (YYYY): {raw!r}")
            return ox.Literal(value, datatype=ox.NamedNode(XSD + "gYear"))
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ParameterError(query, self.name, f"not a date (YYYY-MM-DD): {raw!r}")
        return ox.Literal(value, datatype=ox.NamedNode(XSD + "date"))


@dataclass(frozen=True)
class SavedQuery:
    """One saved ``.rq`` file: its SPARQL text, what its header says, and its kind (from the file name)."""

    name: str
    path: Path
    text: str
    summary: str
    kind: str
    params: dict[str, Param] = field(default_factory=dict)
    returns: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""
    severity: str | None = None  # violation queries: the severity of each row they return

    def bind(self, given: dict[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
        """Check and convert parameters given as text; unknown, missing and ill-typed ones raise."""
        for key in given:
            if key not in self.params:
                known = ", ".join(self.params) or "none"
                raise ParameterError(self.name, key, f"unknown parameter (this query takes: {known})")
        bound: dict[str, ox.NamedNode | ox.Literal] = {}
        for name, param in self.params.items():
            if name in given:
                bound[name] = param.convert(self.name, given[name])
            elif param.required:
                example = f", e.g. --param {name}={param.example}" if param.example else ""
                raise ParameterError(self.name, name, f"required parameter missing{example}")
        return bound


def kind_of(path: Path) -> str:
    """A query's kind from its file name: ``construct-*`` feed the build, ``*-violation`` return no rows."""
    if path.stem.startswith("construct-"):
        return "construct"
    if path.stem.endswith("-violation"):
        return "violation"
    return "question"


def parse_header(path: Path, text: str) -> dict[str, Any]:
    """The ``#+`` lines of a query read as YAML; one that does not parse or lacks a summary is refused."""
    lines = [line[2:] for line in text.splitlines() if line.startswith("#+")]
    try:
        header = yaml.safe_load("\n".join(line[1:] if line.startswith(" ") else line for line in lines)) or {}
    except yaml.YAMLError as exc:
        raise QueryHeaderError(f"{path}: malformed #+ header: {exc}") from None
    if not isinstance(header, dict) or not header.get("summary"):
        raise QueryHeaderError(f"{path}: the #+ header needs at least a 'summary'")
    return header


def load_query(path: Path) -> SavedQuery:
    """Read one ``.rq`` file, refusing at load a parameter of unknown type or unused in the text, and a query
    other than a construct without ``ORDER BY``."""
    text = path.read_text(encoding="utf-8")
    header = parse_header(path, text)
    params: dict[str, Param] = {}
    for name, spec in (header.get("params") or {}).items():
        spec = spec or {}
        ptype = spec.get("type", "string")
        if ptype not in PARAM_TYPES:
            raise QueryHeaderError(f"{path}: parameter {name!r} has unknown type {ptype!r}")
        if f"?{name}" not in text and f"${name}" not in text:
            raise QueryHeaderError(f"{path}: parameter {name!r} is not used in the query")
        params[name] = Param(
            name=name,
            type=ptype,
            required=bool(spec.get("required", False)),
            description=str(spec.get("description", "")),
            example=None if spec.get("example") is None else str(spec["example"]),
            exists=bool(spec.get("exists", True)),
        )
    kind = kind_of(path)
    if kind != "construct" and "ORDER BY" not in text.upper():
        raise QueryHeaderError(
            f"{path}: a published query must end in ORDER BY, so results are deterministic"
        )
    return SavedQuery(
        name=path.stem,
        path=path,
        text=text,
        summary=str(header["summary"]),
        kind=kind,
        params=params,
        returns=tuple(header.get("returns") or ()),
        tags=tuple(header.get("tags") or ()),
        description=str(header.get("description", "")),
        severity=header.get("severity"),
    )


class QueryRegistry:
    """All saved queries of a folder, by name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._queries = {q.name: q for q in (load_query(p) for p in sorted(folder.glob("*.rq")))}

    def __iter__(self) -> Iterator[SavedQuery]:
        return iter(self._queries.values())

    def names(self, kind: str | None = None) -> list[str]:
        """The names of the queries, of one kind or of all."""
        return [q.name for q in self._queries.values() if kind is None or q.kind == kind]

    def get(self, name: str) -> SavedQuery:
        """The query of that name; an unknown name is an UnknownQueryError listing the published questions."""
        try:
            return self._queries[name]
        except KeyError:
            raise UnknownQueryError(name, self.names("question")) from None

    def of_kind(self, kind: str) -> list[SavedQuery]:
        """The queries of one kind (``question``, ``construct`` or ``violation``), in file-name order."""
        return [q for q in self._queries.values() if q.kind == kind]


def prefix_block() -> str:
    """SPARQL PREFIX declarations for every project prefix (used for ad-hoc queries, not saved ones)."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def package_query(folder: Path, name: str) -> str:
    """One of the package's own questions to a store, from ``FOLDER/NAME.rq`` (kept out of the code, like the
    saved queries, but not offered to users: their variables are bound by the code that runs them)."""
    return (folder / f"{name}.rq").read_text(encoding="utf-8")
