"""The ``idais-kg`` command: a thin layer over the library; each command body is one call into it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from idais_kg.cli_io import echo_output, memory_size, parse_params, read_query, reports_errors
from idais_kg.results import GRAPH_FORMATS as RESULT_GRAPH_FORMATS
from idais_kg.results import RENDERERS
from idais_kg.version import __version__


def show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """--version: the code version, the data version and which sources this run uses."""
    if not value or ctx.resilient_parsing:
        return
    from idais_kg.dataset.releases import built_version
    from idais_kg.sources.layout import Layout

    layout = Layout.default()
    click.echo(f"idais-kg {__version__}\ndata: {layout.data_version()}\nsources: {layout.describe()}")
    click.echo(f"release: {built_version(layout)}")
    ctx.exit()


TABLE_FORMATS = list(RENDERERS)  # SELECT and ASK
GRAPH_FORMATS = list(RESULT_GRAPH_FORMATS)  # CONSTRUCT and DESCRIBE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=show_version,
    help="Show the code and data versions and which sources are used, and exit.",
)
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
@click.option(
    "--infer/--no-infer",
    default=True,
    show_default=True,
    help="Include the graph kg:graph/inferred (inverses, sub-properties and chains the ontology entails); "
    "--no-infer writes dumps of the asserted and derived graphs only.",
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The partner store whose guide to bring up to date (default build/store, when it exists).",
)
@reports_errors
def build(out_dir: Path | None, infer: bool, store_dir: Path | None) -> None:
    """Assemble ontology and data into one dataset and write the dumps and the dataset description."""
    from idais_kg.dataset.dumps import build as run_build
    from idais_kg.dataset.serving import default_store_dir, refresh_guide
    from idais_kg.dataset.versioned import current

    report = run_build(out_dir=out_dir, infer=infer)
    click.echo(f"built {report.triples} triples in {len(report.graphs)} graphs")
    for graph, count in report.graphs.items():
        click.echo(f"  {count:>7}  {graph}")
    for path in report.files:
        click.echo(f"wrote {path}")
    store_dir = store_dir or default_store_dir()
    if current(store_dir) is not None:  # the store's copy of the guide follows every build
        kept = refresh_guide(store_dir)
        click.echo(f"updated the guide in the partner store {store_dir} ({kept} partner graphs kept)")


STORE_OPTION = click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The persistent partner store (default build/store; read only when it exists).",
)


@main.command()
@click.option("--format", "fmt", type=click.Choice(TABLE_FORMATS), default="table", show_default=True)
@STORE_OPTION
@reports_errors
def stats(fmt: str, store_dir: Path | None) -> None:
    """Print the number of instances of each class."""
    from idais_kg.dataset.serving import serving_graph

    echo_output(serving_graph(store_dir).stats().render(fmt))


@main.command()
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the saved queries.")
@click.option(
    "--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="A query parameter (repeatable)."
)
@click.option("--format", "fmt", type=click.Choice(TABLE_FORMATS), default="table", show_default=True)
@click.option("--endpoint", metavar="URL", help="Run it at this remote SPARQL query endpoint instead.")
@STORE_OPTION
@reports_errors
def query(
    name: str | None,
    list_: bool,
    params: tuple[str, ...],
    fmt: str,
    endpoint: str | None,
    store_dir: Path | None,
) -> None:
    """Run the saved query NAME (see --list), with typed parameters bound, never spliced."""
    from idais_kg.sources.layout import Layout
    from idais_kg.sources.queries import QueryRegistry

    if list_ or not name:
        for saved in QueryRegistry(Layout.default().queries_dir).of_kind("question"):
            args = " ".join(
                f"{p.name}={p.type}" if p.required else f"[{p.name}={p.type}]" for p in saved.params.values()
            )
            click.echo(f"{saved.name:34} {args:22} {saved.summary}")
        return
    from idais_kg.dataset.serving import serving_graph

    kg = serving_graph(store_dir)  # the dataset serve serves: the partner store when there is one
    if endpoint:
        from idais_kg.remote import query as remote_query

        echo_output(remote_query(kg, name, endpoint, parse_params(params)).render(fmt))
        return
    echo_output(kg.query(name, **parse_params(params)).render(fmt))


@main.command()
@click.argument("query_text", metavar="QUERY-OR-FILE")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(TABLE_FORMATS + GRAPH_FORMATS),
    help="Default: table for SELECT and ASK, turtle for CONSTRUCT and DESCRIBE.",
)
@click.option("--endpoint", metavar="URL", help="Run it at this remote SPARQL query endpoint instead.")
@STORE_OPTION
@reports_errors
def sparql(query_text: str, fmt: str | None, endpoint: str | None, store_dir: Path | None) -> None:
    """Run an ad-hoc SPARQL query of any form, given as text or as the path of a file (our prefixes declared).

    Exit code 2 on a query that does not parse (the message names its line:column) or a format that does not
    fit the answer.
    """
    from idais_kg.results import Result, Triples, render_answer

    text = read_query(query_text)
    answer: Result | Triples
    if endpoint:
        from idais_kg.remote import sparql as remote_sparql

        answer = remote_sparql(text, endpoint)
    else:
        from idais_kg.dataset.serving import serving_graph

        answer = serving_graph(store_dir).answer(text)
    echo_output(render_answer(answer, fmt))


def render_validation(report: Any, partners: list[tuple[Any, Any]], fmt: str) -> str:
    """The validation report, then (for a store) each partner's re-check: in text, after it; in JSON, under
    ``partners``; in Turtle, the SHACL report of the guide, the partners' verdicts as comments."""
    from idais_kg.validation.validate import RENDERERS as REPORT_RENDERERS

    out = REPORT_RENDERERS[fmt](report)
    if not partners:
        return out
    if fmt == "json":
        document = json.loads(out)
        document["partners"] = [
            {"name": p.name, "conforms": r.conforms, "findings": [f.__dict__ for f in r.findings]}
            for p, r in partners
        ]
        return json.dumps(document, ensure_ascii=False, indent=2)
    lines = [f"partner {p.name}: " + r.render().replace("\n", "\n  ") for p, r in partners]
    if fmt == "turtle":
        lines = ["# " + line for text in lines for line in text.splitlines()]
    return out.rstrip("\n") + "\n\n" + "\n".join(lines)


@main.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "turtle", "json"]), default="text", show_default=True
)
@click.option("--no-reasoner", is_flag=True, help="Skip OWL reasoning (no JVM).")
@STORE_OPTION
@reports_errors
def validate(files: tuple[Path, ...], fmt: str, no_reasoner: bool, store_dir: Path | None) -> None:
    """Validate the dataset (or FILES, against the guide) with SHACL, the violation queries and HermiT.

    The dataset is the one ``serve`` serves: the partner store when there is one (guide and partners), else the
    guide. Exit code 0 when it conforms (warnings allowed), 1 on violations or inconsistency, 2 on unreadable input
    or a tool failure.
    """
    from idais_kg.dataset.assemble import load
    from idais_kg.dataset.serving import default_store_dir, require_fresh, require_store
    from idais_kg.dataset.versioned import current
    from idais_kg.validation.validate import validate as run_validate

    kg = load()
    store = store_dir or default_store_dir()
    stored = store_dir is not None or current(store) is not None
    if stored:  # the store's guide must be the sources' (then validating those validates it) ...
        require_fresh(require_store(store), kg.layout)
    report = run_validate(kg, files=list(files) or None, reasoner=not no_reasoner)
    rechecked = []
    if stored:  # ... and each partner graph is checked again, as `partner check` checks a file
        from idais_kg.partners.registry import recheck

        rechecked = recheck(store, kg)
    click.echo(render_validation(report, rechecked, fmt))
    sys.exit(max([report.exit_code] + [r.exit_code for _, r in rechecked]))


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default)."
)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Query worker processes (prefork: how many take connections at all times; one in a long query is replaced meanwhile).",
)
@click.option(
    "--deadline", default=10.0, show_default=True, type=click.FloatRange(0.1), help="Seconds per query."
)
@click.option("--row-cap", default=10_000, show_default=True, type=click.IntRange(1), help="Rows per answer.")
@click.option(
    "--dumps-dir", type=click.Path(file_okay=False, path_type=Path), help="Dump folder (default build/dumps)."
)
@click.option("--access-log", is_flag=True, help="Log every request on stderr.")
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Serve this persistent partner store (default build/store, when it exists).",
)
@click.option(
    "--no-sandbox",
    "sandbox",
    is_flag=True,
    flag_value=False,
    default=True,
    help="Let query workers run without the seccomp filter that denies them the network (not recommended).",
)
@click.option(
    "--worker-memory",
    default="1G",
    show_default=True,
    metavar="SIZE",
    callback=lambda _ctx, _param, value: memory_size(value),
    help="Memory a query may add to a worker (bytes, or with K, M, G); past it the query gets a 503.",
)
@click.option(
    "--query-path",
    type=click.Choice(["prefork", "pool"]),
    default="prefork",
    show_default=True,
    help="prefork: worker processes answer HTTP and evaluate in-process; pool: one server feeding query processes.",
)
@reports_errors
def serve(
    host: str,
    port: int,
    workers: int,
    deadline: float,
    row_cap: int,
    dumps_dir: Path | None,
    access_log: bool,
    store_dir: Path | None,
    sandbox: bool,
    worker_memory: int,
    query_path: str,
) -> None:
    """Serve the graph over HTTP: SPARQL endpoint, linked data, pages and the saved-query API (read-only)."""
    from idais_kg.serve import Settings, run
    from idais_kg.serve.prefork import serve as serve_prefork

    (serve_prefork if query_path == "prefork" else run)(
        Settings(
            host=host,
            port=port,
            workers=workers,
            deadline=deadline,
            row_cap=row_cap,
            dumps_dir=dumps_dir,
            access_log=access_log,
            store_dir=store_dir,
            sandbox=sandbox,
            worker_memory=worker_memory,
            query_path=query_path,
        )
    )


@main.group()
def partner() -> None:
    """Partner datasets: check them, and keep them in the persistent store (see README, "Partners")."""


@partner.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "name",
    default="check",
    help="The partner name the file will be added as (for TriG/N-Quads/JSON-LD files that name their graph).",
)
@STORE_OPTION
@reports_errors
def partner_check(file: Path, name: str, store_dir: Path | None) -> None:
    """Check FILE (RDF, SSSOM .tsv or partner .csv) against the guide and the partner shapes.

    A passing verdict is remembered in the store directory (.checks/), so that `partner add` of the same bytes
    does not check them again. Exit code 0 when it conforms, 1 on violations, 2 when it is unreadable or refused
    as unsafe.
    """
    from idais_kg.partners.registry import check_and_remember

    report = check_and_remember(file, store_dir, name=name)
    click.echo(report.render())
    for note in report.notes:
        click.echo(f"idais-kg: note: {note}", err=True)
    sys.exit(report.exit_code)


@partner.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace the data of a partner already in the store.")
@click.option(
    "--recheck", is_flag=True, help="Check the file even if `partner check` passed these very bytes."
)
@STORE_OPTION
@reports_errors
def partner_add(name: str, file: Path, replace: bool, recheck: bool, store_dir: Path | None) -> None:
    """Check FILE and store it as partner NAME's graph, atomically (nothing changes on any failure)."""
    from idais_kg.partners.registry import add

    result = add(name, file, store_dir, replace=replace, recheck=recheck)
    checked = "checked now" if result.rechecked else "as checked by `partner check` before"
    if result.status == "unchanged":
        checked = "the same file as stored"
    click.echo(f"{result.status} partner {result.name}: {result.triples} triples ({checked})")


@partner.command("remove")
@click.argument("name")
@STORE_OPTION
@reports_errors
def partner_remove(name: str, store_dir: Path | None) -> None:
    """Remove partner NAME's graph and records from the store, atomically."""
    from idais_kg.partners.registry import remove

    remove(name, store_dir)
    click.echo(f"removed partner {name}")


@partner.command("list")
@STORE_OPTION
@reports_errors
def partner_list(store_dir: Path | None) -> None:
    """The partners in the store: name, when added, triples, file and its sha256."""
    from idais_kg.partners.registry import registered

    for p in registered(store_dir):
        click.echo(f"{p.name:24} {p.added:26} {p.triples:>9}  {p.file}  sha256:{p.sha256[:16]}")


@main.command()
@click.option(
    "--endpoint", required=True, metavar="URL", help="SPARQL 1.1 Update endpoint of the remote store."
)
@click.option(
    "--graph-store", metavar="URL", help="Graph Store Protocol URL (used instead of Update when given)."
)
@STORE_OPTION
@reports_errors
def publish(endpoint: str, graph_store: str | None, store_dir: Path | None) -> None:
    """Replace each named graph of the dataset (with partners, when the store exists) at a remote SPARQL store."""
    from idais_kg.dataset.serving import serving_graph
    from idais_kg.remote import publish as run_publish

    for graph, count in run_publish(serving_graph(store_dir), endpoint, graph_store).items():
        click.echo(f"{count:>9}  {graph}")


DIFF_FORMATS = ["table", "markdown", "json", "turtle", "ntriples"]  # = idais_kg.dataset.diff.render.RENDERERS


@main.command("diff")
@click.argument("old")
@click.argument("new", default="working")
@click.option("--format", "fmt", type=click.Choice(DIFF_FORMATS), default="table", show_default=True)
@click.option("--exit-code", is_flag=True, help="Exit with 1 when there are changes, 0 when there are none.")
@click.option(
    "--query",
    "query_text",
    metavar="QUERY-OR-FILE",
    help="Ask the change graph a SELECT or ASK instead (e.g. queries/goals-changed.rq); printed as a table.",
)
@reports_errors
def diff_command(old: str, new: str, fmt: str, exit_code: bool, query_text: str | None) -> None:
    """What changed in the data from OLD to NEW (default: the working tree), keyed by our IRIs.

    Each of OLD and NEW is a release (1.0.0), a commit, a dump file, a project tree, or the working tree (HEAD, .
    or working). turtle and ntriples give the change graph (Changeset + PROV; see docs/modelling.md).
    """
    from idais_kg.dataset.diff import diff as run_diff
    from idais_kg.dataset.diff.render import RENDERERS as DIFF_RENDERERS

    found = run_diff(old, new)
    if query_text:
        from idais_kg.dataset.diff.rdf import query_changes

        echo_output(query_changes(found, read_query(query_text)).render("table"))
    else:
        echo_output(DIFF_RENDERERS[fmt](found))
    sys.exit(1 if exit_code and found.changes else 0)


if __name__ == "__main__":
    main()
