"""Progress output: shown on a terminal, silent in pipes, logs and tests."""

from __future__ import annotations

import io

import pytest

from idais_kg import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    assert list(progress.progress(range(3), "counting", total=3)) == [0, 1, 2]
    with progress.phase("writing"):
        pass
    assert err.getvalue() == ""


def test_shown_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    err = Terminal()
    monkeypatch.setattr("sys.stderr", err)
    assert list(progress.progress(range(3), "counting", total=3)) == [0, 1, 2]
    with progress.phase("writing big.nt"):
        pass
    assert "counting:" in err.getvalue() and "/3 [" in err.getvalue()  # a tqdm bar (cleared at the end)
    assert err.getvalue().rstrip().endswith(" s") and "writing big.nt ..." in err.getvalue()


def test_small_inputs_stay_silent_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    err = Terminal()
    monkeypatch.setattr("sys.stderr", err)
    assert list(progress.progress(range(3), "counting", show=False)) == [0, 1, 2]
    with progress.phase("writing", show=False):
        pass
    assert err.getvalue() == ""
