"""The readable outputs of a diff: a table, Markdown (for CHANGELOG.md) and JSON; the registry of every output
(the RDF change graph is :mod:`.rdf`).
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pyoxigraph as ox

from idais_kg.dataset.diff import Diff, Side
from idais_kg.dataset.diff.canonical import Value, Version, compact
from idais_kg.dataset.diff.compare import label_of
from idais_kg.dataset.diff.rdf import rdf_renderer

LONG = 80  # a text longer than this is shown as the changed span with some context, beside the whole value


def delta(before: str, after: str, context: int = 12) -> str:
    """The changed spans of two texts, ``[-old-]{+new+}`` with ``context`` characters around each.

    >>> delta("the cat sat on the mat", "the cat sat on a mat", 4)
    '… on [-the-]{+a+} mat'
    """
    out = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    ops = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    for _, i1, i2, j1, j2 in ops:
        head = before[max(0, i1 - context) : i1]
        tail = before[i2 : i2 + context]
        gone = f"[-{before[i1:i2]}-]" if i2 > i1 else ""
        came = f"{{+{after[j1:j2]}+}}" if j2 > j1 else ""
        out.append(
            ("…" if i1 > context else "")
            + head
            + gone
            + came
            + tail
            + ("…" if i2 + context < len(before) else "")
        )
    return " ".join(out)


def tag(lit: ox.Literal) -> str:
    """A literal's language tag or datatype, as shown.

    >>> tag(ox.Literal("x", language="zh")), tag(ox.Literal("x"))
    ('@zh', 'xsd:string')
    """
    return f"@{lit.language}" if lit.language else compact(lit.datatype.value)


def short_values(removed: tuple[Value, ...], added: tuple[Value, ...]) -> tuple[str, str]:
    """Before and after as shown: each value's text, or for one long text replaced by another of the same
    language and datatype, the changed spans (``[-old-]{+new+}``) and the new length; for a long text that only
    changed its language or datatype, that."""
    if len(removed) == 1 == len(added) and removed[0].kind == added[0].kind == "literal":
        a, b = removed[0].term, added[0].term
        if (
            isinstance(a, ox.Literal)
            and isinstance(b, ox.Literal)
            and a.value == b.value
            and len(a.value) > LONG
        ):
            return f"(the same text) {tag(a)}", f"(the same text) {tag(b)}"
        if (
            isinstance(a, ox.Literal)
            and isinstance(b, ox.Literal)
            and (a.language, a.datatype) == (b.language, b.datatype)
            and max(len(a.value), len(b.value)) > LONG
        ):
            return delta(
                a.value, b.value
            ), f"(changed spans of {len(b.value)} characters; --format json: whole)"
    return " | ".join(v.text for v in removed) or "-", " | ".join(v.text for v in added) or "-"


def named(version: Version, iri: str) -> str:
    """A resource as shown: its prefixed name, with its label when it has one."""
    label = label_of(version, iri)
    return f"{compact(iri)} ({label})" if label else compact(iri)


def shown(version: Version, subject: str) -> str:
    """A subject as shown: its prefixed name, or a blank node's content."""
    return version.values[subject].text if subject.startswith("_:") else compact(subject)


def lines_of(d: Diff) -> Iterator[tuple[str, list[list[str]], list[str]]]:
    """The sections of a diff: (heading, rows, column names), the same for the table and the Markdown."""
    c, old, new = d.changes, d.before, d.after
    yield (
        "Progress levels",
        [
            [
                named(new, x.goal),
                compact(x.edition),
                compact(x.before) if x.before else "-",
                compact(x.after) if x.after else "-",
            ]
            for x in c.levels
        ],
        ["goal", "edition", "before", "after"],
    )
    yield (
        "Policies, quotes and footnotes per goal",
        [
            [named(new if x.change == "added" else old, x.goal), x.change, x.kind, compact(x.part)]
            for x in c.parts
        ],
        ["goal", "change", "kind", "part"],
    )
    yield (
        "Mappings",
        [
            [
                compact(x.subject),
                compact(x.predicate),
                compact(x.object),
                x.change,
                " | ".join(v.text for v in x.removed),
                " | ".join(v.text for v in x.added),
            ]
            for x in c.mappings
        ],
        ["subject", "predicate", "object", "change", "before", "after"],
    )
    yield (
        "Resources added",
        [[shown(new, x.subject), ", ".join(x.types), x.label or ""] for x in c.added],
        ["resource", "types", "label"],
    )
    yield (
        "Resources removed",
        [[shown(old, x.subject), ", ".join(x.types), x.label or ""] for x in c.removed],
        ["resource", "types", "label"],
    )
    yield (
        "Values changed",
        [[compact(x.subject), compact(x.predicate), *short_values(x.removed, x.added)] for x in c.values],
        ["resource", "property", "before", "after"],
    )
    yield (
        "Moved between graphs",
        [
            [
                compact(x.subject),
                compact(x.predicate),
                x.value.text,
                ", ".join(map(compact, x.before)),
                ", ".join(map(compact, x.after)),
            ]
            for x in c.moves
        ],
        ["resource", "property", "value", "from", "to"],
    )


def summary(d: Diff) -> str:
    """One line of counts."""
    c = d.changes
    if not c:
        return f"no change from {d.old.label} to {d.new.label}"
    return (
        f"from {d.old.label} to {d.new.label}: {len(c.added)} resources added, {len(c.removed)} removed, "
        f"{len(c.values)} with changed values, {len(c.moves)} statements moved between graphs; "
        f"{len(c.levels)} progress-level changes, {len(c.parts)} parts of goals added or removed, "
        f"{len(c.mappings)} mapping changes; goals concerned: {len(c.goals_changed())}"
    )


def to_table(d: Diff) -> str:
    """A readable plain-text listing, one section per kind of change (empty sections left out)."""
    out = [summary(d)]
    for heading, rows, columns in lines_of(d):
        if rows:
            out += ["", f"{heading} ({len(rows)})", "  " + "  ".join(columns)]
            out += ["  " + "  ".join(cell.replace("\n", "\\n") for cell in row) for row in rows]
    return "\n".join(out) + "\n"


def md_cell(text: str) -> str:
    """A table cell of Markdown: pipes escaped, no line breaks."""
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(d: Diff, heading: str | None = None, level: int = 3, max_rows: int | None = None) -> str:
    """The changes as Markdown (a CHANGELOG section): one table per kind of change. With ``max_rows``, a longer
    list of resources added or removed is counted by type instead, of parts of goals by kind, and any other longer
    list is cut there."""
    out = [f"{'#' * level} {heading or 'Data: ' + d.old.label + ' to ' + d.new.label}", "", summary(d) + "."]
    for title, rows, columns in lines_of(d):
        if not rows:
            continue
        out += ["", f"{'#' * (level + 1)} {title} ({len(rows)})", ""]
        more = 0
        if max_rows is not None and len(rows) > max_rows:
            if title.startswith("Resources"):
                counts = Counter(row[1] for row in rows)
                rows, columns = (
                    [[t or "(untyped)", str(n)] for t, n in sorted(counts.items())],
                    ["types", "resources"],
                )
            elif title.startswith("Policies"):
                by_kind = Counter((row[2], row[1]) for row in rows)
                rows, columns = (
                    [[k, c, str(n)] for (k, c), n in sorted(by_kind.items())],
                    ["kind", "change", "parts"],
                )
            else:
                rows, more = rows[:max_rows], len(rows) - max_rows
        out += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        out += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
        if more:
            out += ["", f"... and {more} more (`idais-kg diff {d.old.name} {d.new.name}` lists them all)."]
    return "\n".join(out) + "\n"


def to_json(d: Diff) -> str:
    """The changes as JSON: every value in full (IRIs, literals with language or datatype, blank nodes by content)."""
    c = d.changes

    def values(vs: tuple[Value, ...]) -> list[dict[str, str]]:
        return [v.as_json() for v in vs]

    doc: dict[str, Any] = {
        "old": side_json(d.old),
        "new": side_json(d.new),
        "goals_changed": c.goals_changed(),
        "progress_levels": [x.__dict__ for x in c.levels],
        "parts": [x.__dict__ for x in c.parts],
        "mappings": [
            {
                **{k: getattr(x, k) for k in ("subject", "predicate", "object", "change")},
                "removed": values(x.removed),
                "added": values(x.added),
            }
            for x in c.mappings
        ],
        "resources_added": [{**x.__dict__, "goals": list(x.goals)} for x in c.added],
        "resources_removed": [{**x.__dict__, "goals": list(x.goals)} for x in c.removed],
        "values_changed": [
            {
                "subject": x.subject,
                "predicate": x.predicate,
                "removed": values(x.removed),
                "added": values(x.added),
                "goals": list(x.goals),
            }
            for x in c.values
        ],
        "moved_between_graphs": [
            {
                "subject": x.subject,
                "predicate": x.predicate,
                "value": x.value.as_json(),
                "from": list(x.before),
                "to": list(x.after),
                "goals": list(x.goals),
            }
            for x in c.moves
        ],
    }
    for key in ("resources_added", "resources_removed"):
        for item in doc[key]:
            item["types"] = list(item["types"])
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def side_json(side: Side) -> dict[str, str | None]:
    """How a version is named in the JSON output."""
    return {"name": side.name, "label": side.label, "commit": side.commit, "release": side.release_iri}


RENDERERS: dict[str, Callable[[Diff], str]] = {
    "table": to_table,
    "markdown": to_markdown,
    "json": to_json,
    "turtle": rdf_renderer("turtle"),
    "ntriples": rdf_renderer("ntriples"),
}
