"""Queries across editions, on the real data plus a fictional second edition (tests/cases/editions/2099-01/).

The fixture edition (its README says what it changes, and that it is no data) is copied into a temporary copy of
the project as ``data/guide/2099-01/``; the real data is never touched. The expectations below are the three
changes the fixture makes, plus the level the February 2025 edition prints for the goal (有限, source line 495).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.dataset.diff import diff_sides, side_of_layout
from idais_kg.namespaces import KG
from idais_kg.sources.layout import Layout

FIXTURE = Path(__file__).parent / "cases" / "editions" / "2099-01"
GOAL = KG + "goal/professional-ethics-for-ai-practitioners"
OLD, NEW = KG + "guide/2025-02", KG + "guide/2099-01"


@pytest.fixture
def with_edition(project_copy: Layout) -> Layout:
    """The project copy with the fixture edition beside the real one."""
    shutil.copytree(FIXTURE, project_copy.data_dir / "guide" / "2099-01")
    return project_copy


@pytest.fixture
def kg2(with_edition: Layout) -> KnowledgeGraph:
    return load(with_edition, with_description=False)


def rows(kg: KnowledgeGraph, name: str, **params: str) -> list[tuple[str, ...]]:
    result = kg.query(name, **params)
    return [tuple(row[v].value if v in row else "" for v in result.variables) for row in result.rows]


def test_fixture_is_not_in_the_dataset() -> None:
    assert not (Layout.default().data_dir / "guide" / "2099-01").exists()
    assert (
        (FIXTURE.parent / "README.md").read_text(encoding="utf-8").startswith("# A fictional second edition")
    )


def test_progress_history_of_the_moved_goal(kg2: KnowledgeGraph) -> None:
    got = [r[2:6] for r in rows(kg2, "goal-progress-history", goal=GOAL)]
    assert got == [
        (OLD, "2025-02", KG + "progress-level/limited", "1"),
        (NEW, "2099-01", KG + "progress-level/moderate", "2"),
    ]


def test_progress_history_covers_every_goal_once_per_edition(kg2: KnowledgeGraph, kg: KnowledgeGraph) -> None:
    assert [r[2] for r in rows(kg2, "goal-progress-history") if r[2] == NEW] == [NEW]
    real = rows(kg, "goal-progress-history")
    assert {r[2] for r in real} == {OLD}
    assert len(real) == len({r[0] for r in real}) == 15  # 15 goals, each assessed once in 2025-02


def test_changes_between_editions(kg2: KnowledgeGraph) -> None:
    got = [r[:5] for r in rows(kg2, "changes-between-editions", old=OLD, new=NEW)]
    assert got == [
        (GOAL, "footnote removed", OLD + "/footnote/66", "", ""),
        (
            GOAL,
            "level changed",
            NEW + "/assessment/professional-ethics-for-ai-practitioners",
            KG + "progress-level/limited",
            KG + "progress-level/moderate",
        ),
        (GOAL, "policy added", NEW + "/policy/ai-ethics-licensing-exam", "", ""),
    ]


def test_changes_between_editions_backwards(kg2: KnowledgeGraph) -> None:
    got = [r[1:3] for r in rows(kg2, "changes-between-editions", old=NEW, new=OLD)]
    assert got == [
        ("footnote added", OLD + "/footnote/66"),
        ("level changed", OLD + "/assessment/professional-ethics-for-ai-practitioners"),
        ("policy removed", NEW + "/policy/ai-ethics-licensing-exam"),
    ]


def test_no_changes_from_an_edition_to_itself(kg2: KnowledgeGraph) -> None:
    assert rows(kg2, "changes-between-editions", old=OLD, new=OLD) == []


def test_diff_with_the_fixture_edition(project_copy: Layout, with_edition: Layout) -> None:
    """The diff sees the new edition's assessment as a level in a new edition, and its parts as added."""
    shutil.rmtree(with_edition.data_dir / "guide" / "2099-01")
    before = side_of_layout(project_copy, "before", "before")
    shutil.copytree(FIXTURE, with_edition.data_dir / "guide" / "2099-01")
    after = side_of_layout(with_edition, "after", "after")
    changes = diff_sides(before, after).changes
    assert [(x.goal, x.edition, x.before, x.after) for x in changes.levels] == [
        (GOAL, NEW, None, KG + "progress-level/moderate")
    ]
    assert not changes.removed and not changes.values and not changes.moves
    parts = {(x.kind, x.part.removeprefix(NEW + "/"), x.change) for x in changes.parts}
    assert parts == {
        ("policy", "policy/ai-hippocratic-oath", "added"),
        ("policy", "policy/right-to-warn-for-ai-practitioners", "added"),
        ("policy", "policy/ai-ethics-licensing-exam", "added"),
        ("quote", "quote/professional-ethics-for-ai-practitioners/venice-2024", "added"),
        ("footnote", "footnote/1", "added"),
        ("footnote", "footnote/2", "added"),
    }
    assert changes.goals_changed() == [GOAL]
