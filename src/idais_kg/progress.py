"""Progress bars for long loads and checks (tqdm), shown only on a terminal, so pipes, logs and tests stay quiet."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], label: str, total: int | None = None, show: bool = True) -> Iterator[T]:
    """Iterate ``items`` with a progress bar on stderr when it is a terminal and ``show`` (a big input)."""
    if not show or not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=label, total=total, leave=False, file=sys.stderr)
