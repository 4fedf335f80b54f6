"""Query results in the forms users ask for: a terminal table, CSV, and SPARQL 1.1 Query Results JSON."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass
class Result:
    """The rows of a SELECT (``variables`` and ``rows``) or the answer of an ASK (``boolean``)."""

    variables: list[str]
    rows: list[dict[str, Any]]
    boolean: bool | None = None

    @classmethod
    def from_oxigraph(cls, answer: Any) -> Result:
        if isinstance(answer, bool):
            return cls([], [], answer)
        if isinstance(answer, ox.QuerySolutions):
            names = [v.value for v in answer.variables]
            rows = [{n: s[n] for n in names if s[n] is not None} for s in answer]
            return cls(names, rows)
        raise TypeError("a CONSTRUCT or DESCRIBE query has no table of results")

    def values(self, var: str) -> list[str]:
        """The lexical values of one column, for quick use in notebooks and tests."""
        return [term_text(r[var]) for r in self.rows if var in r]

    def to_json(self) -> str:
        if self.boolean is not None:
            return json.dumps({"head": {}, "boolean": self.boolean})
        bindings = [{k: term_json(v) for k, v in row.items()} for row in self.rows]
        return json.dumps(
            {"head": {"vars": self.variables}, "results": {"bindings": bindings}}, ensure_ascii=False
        )

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        if self.boolean is not None:
            writer.writerow(["boolean"])
            writer.writerow(["true" if self.boolean else "false"])
            return out.getvalue()
        writer.writerow(self.variables)
        for row in self.rows:
            writer.writerow([safe_cell(term_text(row[v])) if v in row else "" for v in self.variables])
        return out.getvalue()

    def to_table(self, max_width: int = 60) -> str:
        if self.boolean is not None:
            return "yes" if self.boolean else "no"
        cells = [
            [clip(term_text(r[v]), max_width) if v in r else "" for v in self.variables] for r in self.rows
        ]
        widths = [max([width(v)] + [width(c[i]) for c in cells]) for i, v in enumerate(self.variables)]
        lines = [" | ".join(pad(v, w) for v, w in zip(self.variables, widths, strict=True))]
        lines.append("-+-".join("-" * w for w in widths))
        lines += [" | ".join(pad(c, w) for c, w in zip(row, widths, strict=True)) for row in cells]
        lines.append(f"({len(self.rows)} row{'s' if len(self.rows) != 1 else ''})")
        return "\n".join(lines)

    def render(self, fmt: str) -> str:
        return RENDERERS[fmt](self)


def term_text(term: Any) -> str:
    return str(term.value) if hasattr(term, "value") else str(term)


def term_json(term: Any) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    raise TypeError(f"unsupported term {term!r}")


def safe_cell(text: str) -> str:
    """Keep a spreadsheet from reading a cell as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not text[1:2].isdigit() else text


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, w: int) -> str:
    return text + " " * (w - width(text))


def clip(text: str, w: int) -> str:
    text = " ".join(text.split())
    if width(text) <= w:
        return text
    out = ""
    for ch in text:
        if width(out + ch) > w - 1:
            break
        out += ch
    return out + "…"


RENDERERS = {"table": Result.to_table, "csv": Result.to_csv, "json": Result.to_json}
