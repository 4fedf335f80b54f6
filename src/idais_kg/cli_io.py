"""What the command line reads and writes besides its options: errors as one line, ``name=value`` parameters, a
query given as text or as a file, sizes, and answers on stdout."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from idais_kg.errors import IdaisError, InputError


def reports_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one clear line on stderr and a non-zero exit (traceback only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return func(*args, **kwargs)
        except IdaisError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            click.echo(f"idais-kg: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    """The ``--param name=value`` options as a dict (a value may be empty or hold ``=``; a pair without ``=``
    raises InputError).
    """
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(f"--param takes name=value, got {pair!r}")
        params[name.strip()] = value
    return params


def echo_output(text: str) -> None:
    """An answer on stdout, ending in one newline whether or not its format ends in one (CSV, TSV, Turtle do)."""
    click.echo(text, nl=not text.endswith("\n"))


def read_query(arg: str) -> str:
    """The query text: the file ``arg`` names when there is one, else ``arg`` itself."""
    path = Path(arg)
    try:
        is_file = "\n" not in arg and path.is_file()
    except (OSError, ValueError):  # a query text too long for a file name (ENAMETOOLONG), or holding a NUL
        is_file = False
    if is_file:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{arg}: cannot read the query: {exc}") from None
    return arg


def memory_size(value: str) -> int:
    """A size option (``1G``, ``512M``, bytes) in bytes, or click's usage error naming the option."""
    from idais_kg.serve.settings import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
