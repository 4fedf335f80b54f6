"""Progress bars for long loads and checks (tqdm), shown only on a terminal, so pipes, logs and tests stay quiet."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], label: str, total: int | None = None, show: bool = True) -> Iterator[T]:
    """Iterate ``items`` with a progress bar on stderr when it is a terminal and ``show`` (a big input)."""
    if not show or not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=label, total=total, leave=False, file=sys.stderr)


@contextmanager
def phase(label: str, show: bool = True) -> Iterator[None]:
    """Say on stderr what a long step is doing and, when it ends, how long it took (only on a terminal)."""
    if not show or not sys.stderr.isatty():
        yield
        return
    start = time.perf_counter()
    print(f"{label} ...", file=sys.stderr, end="", flush=True)
    yield
    print(f" {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
