"""Progress bars for long loads and checks (tqdm), shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(
    items: Iterable[T], label: str, total: int | None = None, threshold: int = 100_000
) -> Iterator[T]:
    """Iterate ``items`` with a progress bar on a terminal for big inputs; silently otherwise (pipes, tests)."""
    if not sys.stderr.isatty() or (total is not None and total < threshold):
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(
        items, desc=label, total=total, unit=" triples", unit_scale=True, leave=False, file=sys.stderr
    )
