"""The ``idais-kg`` command: a thin layer over the library; each command body is one call into it."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from idais_kg import __version__
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
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(f"--param takes name=value, got {pair!r}")
        params[name.strip()] = value
    return params


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idais-kg")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
def main(debug: bool) -> None:
    """The IDAIS Policy Guide as a knowledge graph: build, query, validate and serve it."""


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Dump folder (default build/dumps).",
)
@reports_errors
def build(out_dir: Path | None) -> None:
    """Assemble ontology and data into one dataset and write the dumps and the dataset description."""
    from idais_kg.build import build as run_build

    report = run_build(out_dir=out_dir)
    click.echo(f"built {report.triples} triples in {len(report.graphs)} graphs")
    for graph, count in report.graphs.items():
        click.echo(f"  {count:>7}  {graph}")
    for path in report.files:
        click.echo(f"wrote {path}")


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@reports_errors
def stats(fmt: str) -> None:
    """Print the number of instances of each class."""
    from idais_kg.graph import load

    click.echo(load().stats().render(fmt))


@main.command()
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the saved queries.")
@click.option(
    "--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="A query parameter (repeatable)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@reports_errors
def query(name: str | None, list_: bool, params: tuple[str, ...], fmt: str) -> None:
    """Run the saved query NAME (see --list), with typed parameters bound, never spliced."""
    from idais_kg.project import Layout
    from idais_kg.queries import QueryRegistry

    if list_ or not name:
        for saved in QueryRegistry(Layout.default().queries_dir).of_kind("question"):
            args = " ".join(
                f"{p.name}={p.type}" if p.required else f"[{p.name}={p.type}]" for p in saved.params.values()
            )
            click.echo(f"{saved.name:34} {args:22} {saved.summary}")
        return
    from idais_kg.graph import load

    kg = load(with_description=False)
    click.echo(kg.query(name, **parse_params(params)).render(fmt))


if __name__ == "__main__":
    main()
