"""Query results in the forms users ask for: a terminal table, and the SPARQL 1.1 Query Results CSV, TSV, JSON
and XML formats for SELECT and ASK; Turtle, N-Triples and JSON-LD for the graph of a CONSTRUCT or DESCRIBE."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

import pyoxigraph as ox

from idais_kg.errors import InputError
from idais_kg.namespaces import PREFIXES, SPARQL_RESULTS, XML_NS, XSD

if TYPE_CHECKING:
    import rdflib

XSD_STRING = XSD + "string"


@dataclass
class Result:
    """The rows of a SELECT (``variables`` and ``rows``) or the answer of an ASK (``boolean``)."""

    variables: list[str]
    rows: list[dict[str, Any]]
    boolean: bool | None = None

    @classmethod
    def from_oxigraph(cls, answer: Any) -> Result:
        """The table of a pyoxigraph SELECT or the answer of an ASK; a graph answer raises TypeError."""
        if isinstance(answer, bool | ox.QueryBoolean):
            return cls([], [], bool(answer))
        if isinstance(answer, ox.QuerySolutions):
            names = [v.value for v in answer.variables]
            rows = [{n: s[n] for n in names if s[n] is not None} for s in answer]
            return cls(names, rows)
        raise TypeError("a CONSTRUCT or DESCRIBE query has no table of results")

    def values(self, var: str) -> list[str]:
        """The lexical values of one column, for quick use in notebooks and tests."""
        return [term_text(r[var]) for r in self.rows if var in r]

    def to_json(self) -> str:
        """SPARQL 1.1 Query Results JSON."""
        if self.boolean is not None:
            return json.dumps({"head": {}, "boolean": self.boolean})
        bindings = [{k: term_json(v) for k, v in row.items()} for row in self.rows]
        return json.dumps(
            {"head": {"vars": self.variables}, "results": {"bindings": bindings}}, ensure_ascii=False
        )

    def to_csv(self) -> str:
        """SPARQL 1.1 Query Results CSV: lexical values only, and cells that a spreadsheet would take for a
        formula quoted (:func:`safe_cell`).
        """
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

    def to_tsv(self) -> str:
        """SPARQL 1.1 Query Results TSV: terms in their N-Triples form (pyoxigraph's, which writes a tab or a line
        break in a literal as ``\\t``, ``\\n``, so that a row stays one line of cells).

        An ASK answer (which the TSV format does not define) is ``?boolean`` over ``true`` or ``false``.
        """
        if self.boolean is not None:
            return "?boolean\n" + ("true" if self.boolean else "false") + "\n"
        lines = ["\t".join(f"?{v}" for v in self.variables)]
        for row in self.rows:
            lines.append("\t".join(str(row[v]) if v in row else "" for v in self.variables))
        return "\n".join(lines) + "\n"

    def to_xml(self) -> str:
        """SPARQL Query Results XML Format (second edition)."""
        ET.register_namespace("", SPARQL_RESULTS)

        def tag(name: str) -> str:
            return f"{{{SPARQL_RESULTS}}}{name}"

        root = ET.Element(tag("sparql"))
        head = ET.SubElement(root, tag("head"))
        if self.boolean is not None:
            ET.SubElement(root, tag("boolean")).text = "true" if self.boolean else "false"
        else:
            for v in self.variables:
                ET.SubElement(head, tag("variable"), name=v)
            results = ET.SubElement(root, tag("results"))
            for row in self.rows:
                result = ET.SubElement(results, tag("result"))
                for v in self.variables:
                    if v not in row:
                        continue
                    binding = ET.SubElement(result, tag("binding"), name=v)
                    term = term_json(row[v])
                    attrs = {}
                    if "xml:lang" in term:
                        attrs[f"{{{XML_NS}}}lang"] = term["xml:lang"]
                    elif "datatype" in term:
                        attrs["datatype"] = term["datatype"]
                    ET.SubElement(binding, tag(term["type"]), attrs).text = term["value"]
        return ET.tostring(root, encoding="unicode", xml_declaration=True)

    def to_table(self, max_width: int = 60) -> str:
        """An aligned text table for the terminal (wide CJK characters count double, long cells clipped to
        ``max_width``), with the row count below; an ASK answer is ``yes`` or ``no``.
        """
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
        """The result in ``fmt``, a key of ``RENDERERS``."""
        return RENDERERS[fmt](self)


def term_text(term: Any) -> str:
    """A term's lexical value (an IRI without brackets, a literal without quotes or tag)."""
    return str(term.value) if hasattr(term, "value") else str(term)


def term_json(term: Any) -> dict[str, str]:
    """A pyoxigraph term as a binding of SPARQL 1.1 Query Results JSON (also read by the XML writer)."""
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
    """The columns ``text`` takes in a terminal: wide and full-width (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, w: int) -> str:
    """``text`` padded with spaces to ``w`` terminal columns."""
    return text + " " * (w - width(text))


def clip(text: str, w: int) -> str:
    """``text`` on one line, cut to at most ``w`` terminal columns with an ellipsis if it is longer."""
    text = " ".join(text.split())
    if width(text) <= w:
        return text
    out = ""
    for ch in text:
        if width(out + ch) > w - 1:
            break
        out += ch
    return out + "…"


@dataclass
class Triples:
    """The graph a CONSTRUCT or DESCRIBE answers, as pyoxigraph triples (``to_rdflib()`` for an rdflib Graph)."""

    triples: list[ox.Triple]

    def __len__(self) -> int:
        return len(self.triples)

    def render(self, fmt: str) -> str:
        """The graph in ``fmt`` (a key of ``GRAPH_FORMATS``), triples in a fixed order, our prefixes declared."""
        ordered = sorted(self.triples, key=str)
        return (ox.serialize(ordered, format=GRAPH_FORMATS[fmt], prefixes=self.prefixes()) or b"").decode()

    def prefixes(self) -> dict[str, str]:
        """Those of our prefixes that the triples' IRIs use, so that a small graph is not all declarations."""
        iris = {t.value for triple in self.triples for t in triple if isinstance(t, ox.NamedNode)}
        return {p: ns for p, ns in sorted(PREFIXES.items()) if any(iri.startswith(ns) for iri in iris)}

    def to_rdflib(self) -> rdflib.Graph:
        """The triples as an rdflib Graph with our prefixes bound (through N-Triples, so every term is exact)."""
        import rdflib

        graph = rdflib.Graph()
        for prefix, iri in PREFIXES.items():
            graph.bind(prefix, iri, override=True, replace=True)
        graph.parse(data=self.render("ntriples"), format="nt")
        return graph


def answer_of(answer: Any) -> Result | Triples:
    """A pyoxigraph query answer as a Result (SELECT, ASK) or as Triples (CONSTRUCT, DESCRIBE)."""
    if isinstance(answer, ox.QueryTriples):
        return Triples(list(answer))
    return Result.from_oxigraph(answer)


RENDERERS = {
    "table": Result.to_table,
    "csv": Result.to_csv,
    "tsv": Result.to_tsv,
    "json": Result.to_json,
    "xml": Result.to_xml,
}
GRAPH_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
}


def render_answer(answer: Result | Triples, fmt: str | None = None) -> str:
    """Any query's answer in ``fmt``: table (the default), csv, tsv, json or xml for SELECT and ASK; turtle (the
    default), ntriples or jsonld for CONSTRUCT and DESCRIBE. A format that does not fit raises InputError."""
    if isinstance(answer, Triples):
        if (fmt or "turtle") not in GRAPH_FORMATS:
            raise InputError(f"the answer is a graph: --format takes {', '.join(GRAPH_FORMATS)}, not {fmt}")
        return answer.render(fmt or "turtle")
    if (fmt or "table") not in RENDERERS:
        raise InputError(f"the answer is a table: --format takes {', '.join(RENDERERS)}, not {fmt}")
    return answer.render(fmt or "table")
