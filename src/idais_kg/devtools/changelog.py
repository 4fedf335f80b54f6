"""Write a release's data section of CHANGELOG.md from the diff: ``python -m idais_kg.devtools.changelog VERSION``.

The section of release VERSION is ``idais-kg diff PREVIOUS VERSION --format markdown`` (PREVIOUS is its
``dcat:previousVersion`` in data/releases.ttl); the first release is compared with nothing, its resources counted by
type. ``unreleased`` compares the latest release with the working tree. The section sits between two marker
comments, so that writing it again replaces it; ``--check`` only says (exit 1) whether the file's section differs.
Needs the git history of the releases (their sources are read with ``git archive``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from idais_kg.dataset.diff import Side, diff_sides, resolve
from idais_kg.dataset.diff.render import to_markdown
from idais_kg.dataset.releases import ReleaseError, find_release, releases
from idais_kg.errors import IdaisError
from idais_kg.sources.layout import Layout

NOTHING = Side("nothing", "nothing (the first release)", ())
FIRST_RELEASE_ROWS = 20  # the first release counts its resources by type and its goals' parts by kind


def markers(version: str) -> tuple[str, str]:
    """The comments around the generated section of ``version``."""
    return (
        f"<!-- data {version}: written by `python -m idais_kg.devtools.changelog {version}`; do not edit -->",
        f"<!-- /data {version} -->",
    )


def section(version: str, layout: Layout | None = None) -> str:
    """The Markdown data section of release ``version`` (or of ``unreleased`` changes), between its markers."""
    layout = layout or Layout.default()
    known = releases(layout)
    if version == "unreleased":
        if not known:
            raise ReleaseError("no release recorded in data/releases.ttl to compare the working tree with")
        old, new = resolve(known[-1].version, layout), resolve("working", layout)
        body = to_markdown(
            diff_sides(old, new), heading=f"Data: unreleased changes since {known[-1].version}"
        )
    else:
        release = find_release(layout, version)
        if release is None:
            raise ReleaseError(f"no release {version!r} in data/releases.ttl")
        new = resolve(release.version, layout)
        previous = next((r for r in known if r.iri == release.previous), None)
        old = resolve(previous.version, layout) if previous else NOTHING
        heading = f"Data: release {release.version} ({release.issued}, commit {release.commit[:7]})"
        body = to_markdown(
            diff_sides(old, new), heading=heading, max_rows=None if previous else FIRST_RELEASE_ROWS
        )
    start, end = markers(version)
    return f"{start}\n{body}{end}\n"


def written(text: str, version: str) -> str | None:
    """The section of ``version`` as CHANGELOG text holds it, markers included, or None."""
    start, end = markers(version)
    found = re.search(re.escape(start) + r".*?" + re.escape(end) + r"\n", text, flags=re.DOTALL)
    return found.group(0) if found else None


def write(version: str, changelog: Path, layout: Layout | None = None) -> bool:
    """Put the section of ``version`` into ``changelog`` (replacing the old one, else at the end); True when the
    file changed."""
    new = section(version, layout)
    text = changelog.read_text(encoding="utf-8")
    old = written(text, version)
    if old == new:
        return False
    text = text.replace(old, new) if old else text.rstrip("\n") + "\n\n" + new
    changelog.write_text(text, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    """The command line: VERSION [--check] [--changelog PATH]."""
    parser = argparse.ArgumentParser(prog="python -m idais_kg.devtools.changelog", description=__doc__)
    parser.add_argument("version", help="a release of data/releases.ttl, or 'unreleased'")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file's section is not up to date")
    parser.add_argument("--changelog", type=Path, default=None, help="default: CHANGELOG.md of the tree")
    args = parser.parse_args(argv)
    layout = Layout.default()
    changelog = args.changelog or layout.root / "CHANGELOG.md"
    try:
        if args.check:
            current = written(changelog.read_text(encoding="utf-8"), args.version)
            if current != section(args.version, layout):
                sys.stderr.write(f"{changelog}: the data section of {args.version} is not up to date\n")
                return 1
            return 0
        changed = write(args.version, changelog, layout)
    except IdaisError as exc:
        sys.stderr.write(f"changelog: error: {exc}\n")
        return 2
    sys.stdout.write(
        f"{'wrote' if changed else 'unchanged:'} the data section of {args.version} in {changelog}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
