"""Compare two versions: the generic changes (resources, values, graphs) and what they mean for the guide.

Generic: a resource (a subject of ours or anyone's) added or removed; per resource and property, the values
removed and added (a set per property, so re-ordering is no change); a statement both versions make in different
named graphs. Of the guide: each goal's progress level per edition, the policies, quotes and footnotes of each
goal, and the SSSOM mappings (``owl:Axiom`` records) by subject, predicate and object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from idais_kg.dataset.diff.canonical import Value, Version, compact
from idais_kg.namespaces import DCTERMS, IDAIS, OWL, RDF, RDFS, SKOS

TYPE = RDF + "type"
LABELS = (SKOS + "prefLabel", DCTERMS + "title", RDFS + "label")
PART_OF_GOAL = {
    "policy": IDAIS + "policyOf",
    "quote": IDAIS + "quoteOf",
    "assessment": IDAIS + "assessmentOf",
}
# What hangs under a part of a goal (a footnote, a quantity) and under a footnote (its citations' subjects).
HANGS_UNDER = (IDAIS + "hasFootnote", IDAIS + "statesQuantity")
CITING = "http://purl.org/spar/cito/hasCitingEntity"
SOURCE, PROPERTY, TARGET = OWL + "annotatedSource", OWL + "annotatedProperty", OWL + "annotatedTarget"


@dataclass(frozen=True)
class ValueChange:
    """The values of one property of one resource (present in both versions) that went and came."""

    subject: str
    predicate: str
    removed: tuple[Value, ...]
    added: tuple[Value, ...]
    goals: tuple[str, ...] = ()


@dataclass(frozen=True)
class GraphMove:
    """A statement both versions make, in other named graphs."""

    subject: str
    predicate: str
    value: Value
    before: tuple[str, ...]
    after: tuple[str, ...]
    goals: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceChange:
    """A resource described in one version only, with its types and a label (from that version)."""

    subject: str
    types: tuple[str, ...]
    label: str | None
    goals: tuple[str, ...] = ()


@dataclass(frozen=True)
class LevelChange:
    """A goal's progress level in one edition: before and after (None where that version has no assessment)."""

    goal: str
    edition: str
    before: str | None
    after: str | None
    assessment: str


@dataclass(frozen=True)
class PartChange:
    """A policy, quote or footnote that a goal gained or lost."""

    goal: str
    kind: str  # policy, quote, footnote
    part: str
    change: str  # added, removed


@dataclass(frozen=True)
class MappingChange:
    """An SSSOM mapping (subject, predicate, object) added, removed, or with other slot values."""

    subject: str
    predicate: str
    object: str
    change: str  # added, removed, changed
    removed: tuple[Value, ...] = ()
    added: tuple[Value, ...] = ()


@dataclass
class Changes:
    """Every change between two versions, each list sorted by IRI (deterministic output)."""

    added: list[ResourceChange] = field(default_factory=list)
    removed: list[ResourceChange] = field(default_factory=list)
    values: list[ValueChange] = field(default_factory=list)
    moves: list[GraphMove] = field(default_factory=list)
    levels: list[LevelChange] = field(default_factory=list)
    parts: list[PartChange] = field(default_factory=list)
    mappings: list[MappingChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(
            (self.added, self.removed, self.values, self.moves, self.levels, self.parts, self.mappings)
        )

    def goals_changed(self) -> list[str]:
        """The goals any change concerns, sorted."""
        goals: set[str] = set()
        for with_goals in (self.added, self.removed, self.values, self.moves):
            for item in with_goals:
                goals.update(item.goals)
        goals.update(x.goal for x in self.levels)
        goals.update(x.goal for x in self.parts)
        return sorted(goals)


def label_of(version: Version, subject: str) -> str | None:
    """An English label (else any) of ``subject`` in ``version``."""
    props = version.index.get(subject, {})
    for pred in LABELS:
        found = [version.values[k] for k in props.get(pred, {})]
        literals = [v.term for v in found if v.kind == "literal" and v.term is not None]
        for lang in ("en", "zh", ""):
            for lit in sorted(literals, key=str):
                if getattr(lit, "language", "") == lang or (lang == "" and not getattr(lit, "language", "")):
                    return str(lit.value)
    return None


def goal_index(version: Version) -> dict[str, set[str]]:
    """For every resource that belongs to a goal (the goal itself, its assessments, quotes and policies, their
    footnotes and quantities, the footnotes' citations), the goals it belongs to."""
    goals: dict[str, set[str]] = {}
    for s in version.index:
        if IDAIS + "Goal" in version.iri_objects(s, TYPE):
            goals.setdefault(s, set()).add(s)
    for pred in PART_OF_GOAL.values():
        for part, owners in version.subjects_with(pred).items():
            goals.setdefault(part, set()).update(owners)
    for pred in HANGS_UNDER:
        for part, below in version.subjects_with(pred).items():
            for item in below:
                goals.setdefault(item, set()).update(goals.get(part, set()))
    for citation, footnotes in version.subjects_with(CITING).items():
        for footnote in footnotes:
            goals.setdefault(citation, set()).update(goals.get(footnote, set()))
    return goals


def parts_of_goals(version: Version, goals: dict[str, set[str]]) -> set[tuple[str, str, str]]:
    """Every (goal, kind, part) of a version: its policies, quotes, and the footnotes these and its assessments
    cite."""
    out: set[tuple[str, str, str]] = set()
    for kind in ("policy", "quote"):
        for part, owners in version.subjects_with(PART_OF_GOAL[kind]).items():
            out.update((goal, kind, part) for goal in owners)
    for part, footnotes in version.subjects_with(IDAIS + "hasFootnote").items():
        for goal in goals.get(part, set()):
            out.update((goal, "footnote", f) for f in footnotes)
    return out


def levels_of(version: Version) -> dict[tuple[str, str], tuple[str, str]]:
    """(goal, edition) -> (level, assessment) of every progress assessment."""
    out = {}
    for assessment, goals in version.subjects_with(IDAIS + "assessmentOf").items():
        editions = version.iri_objects(assessment, IDAIS + "inEdition") or {""}
        levels = version.iri_objects(assessment, IDAIS + "level") or {""}
        for goal in goals:
            for edition in editions:
                out[(goal, edition)] = (min(levels), assessment)
    return out


def mappings_of(version: Version) -> dict[tuple[str, str, str], set[str]]:
    """(subject, predicate, object) -> the value keys of the other slots of each mapping axiom."""
    out: dict[tuple[str, str, str], set[str]] = {}
    for edges in version.edges.values():
        slots = dict(edges)
        if not {SOURCE, PROPERTY, TARGET} <= set(slots):
            continue
        key = tuple(version.values[slots[p]].key.strip("<>") for p in (SOURCE, PROPERTY, TARGET))
        others = {f"{p} {k}" for p, k in edges if p not in (SOURCE, PROPERTY, TARGET, TYPE)}
        out.setdefault(key, set()).update(others)  # type: ignore[arg-type]
    for props in version.index.values():  # a mapping axiom with an IRI of its own
        if SOURCE in props and PROPERTY in props and TARGET in props:
            first = [sorted(props[p])[0].strip("<>") for p in (SOURCE, PROPERTY, TARGET)]
            others = {
                f"{p} {k}" for p, ks in props.items() if p not in (SOURCE, PROPERTY, TARGET, TYPE) for k in ks
            }
            out.setdefault((first[0], first[1], first[2]), set()).update(others)
    return out


def compare(old: Version, new: Version) -> Changes:
    """The changes from ``old`` to ``new``."""
    changes = Changes()
    old_goals, new_goals = goal_index(old), goal_index(new)

    def goals(subject: str) -> tuple[str, ...]:
        return tuple(sorted(old_goals.get(subject, set()) | new_goals.get(subject, set())))

    old_maps, new_maps = mappings_of(old), mappings_of(new)
    mapping_values = {
        k
        for v in (old, new)
        for k, val in v.values.items()
        if val.kind == "blank" and k in v.edges and {SOURCE, TARGET} <= {p for p, _ in v.edges[k]}
    }
    mapping_triples = set(old_maps) | set(new_maps)

    def resource(version: Version, s: str) -> ResourceChange:
        types = tuple(sorted(version.values[k].text for k in version.index[s].get(TYPE, {})))
        return ResourceChange(s, types, label_of(version, s), goals(s))

    changes.added = [resource(new, s) for s in sorted(set(new.index) - set(old.index))]
    changes.removed = [resource(old, s) for s in sorted(set(old.index) - set(new.index))]
    for s in sorted(set(old.index) & set(new.index)):
        before, after = old.index[s], new.index[s]
        for p in sorted(set(before) | set(after)):
            was, now = before.get(p, {}), after.get(p, {})
            gone = [
                k
                for k in was
                if k not in now and k not in mapping_values and (s, p, k.strip("<>")) not in mapping_triples
            ]
            came = [
                k
                for k in now
                if k not in was and k not in mapping_values and (s, p, k.strip("<>")) not in mapping_triples
            ]
            if gone or came:
                changes.values.append(
                    ValueChange(
                        s,
                        p,
                        tuple(sorted((old.values[k] for k in gone), key=lambda v: v.key)),
                        tuple(sorted((new.values[k] for k in came), key=lambda v: v.key)),
                        goals(s),
                    )
                )
            for k in sorted(set(was) & set(now)):
                if was[k] != now[k]:
                    changes.moves.append(
                        GraphMove(s, p, new.values[k], tuple(sorted(was[k])), tuple(sorted(now[k])), goals(s))
                    )
    old_levels, new_levels = levels_of(old), levels_of(new)
    for key in sorted(set(old_levels) | set(new_levels)):
        a, b = old_levels.get(key), new_levels.get(key)
        if (a and a[0]) != (b and b[0]):
            changes.levels.append(
                LevelChange(key[0], key[1], a[0] if a else None, b[0] if b else None, (b or a)[1])  # type: ignore[index]
            )
    old_parts, new_parts = parts_of_goals(old, old_goals), parts_of_goals(new, new_goals)
    changes.parts = sorted(
        [PartChange(g, k, p, "added") for g, k, p in new_parts - old_parts]
        + [PartChange(g, k, p, "removed") for g, k, p in old_parts - new_parts],
        key=lambda c: (c.goal, c.kind, c.change, c.part),
    )
    for triple in sorted(set(old_maps) | set(new_maps)):
        if triple not in old_maps:
            changes.mappings.append(MappingChange(*triple, "added"))
        elif triple not in new_maps:
            changes.mappings.append(MappingChange(*triple, "removed"))
        elif old_maps[triple] != new_maps[triple]:
            went = tuple(_slot(old, slot) for slot in sorted(old_maps[triple] - new_maps[triple]))
            arrived = tuple(_slot(new, slot) for slot in sorted(new_maps[triple] - old_maps[triple]))
            changes.mappings.append(MappingChange(*triple, "changed", went, arrived))
    return changes


def _slot(version: Version, slot: str) -> Value:
    """A mapping's slot (``predicate valuekey``) as a Value of kind ``slot`` showing ``predicate value``."""
    predicate, key = slot.split(" ", 1)
    value = version.values[key]
    return Value(slot, "slot", f"{compact(predicate)} {value.text}")
