"""The layers of the package, and a check that imports only go down them: ``python -m idais_kg.devtools.layout``.

Data flows one way: the sources are read, the dataset is assembled from them, and the tools above work on the
dataset. A module may import from its own layer and the layers below it; in the tools layer, the three tools
(partners, serve, remote) do not import one another. The check reads every module's imports with ``ast`` (those
inside functions too), so a late import cannot hide a back-edge, and exits 1 naming each one.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
# Lowest first. A name is a module or a sub-package of idais_kg.
LAYERS: list[tuple[str, list[str]]] = [
    ("core", ["version", "namespaces", "errors", "progress", "results", "store"]),
    ("sources", ["sources"]),
    ("dataset", ["dataset"]),
    ("validation", ["validation"]),
    ("tools", ["partners", "serve", "remote"]),
    ("interface", ["cli", "cli_io", "__init__", "devtools"]),
]
SIBLINGS_APART = {"tools"}  # within these layers, each unit is independent of the others


def unit_of(module: str) -> str:
    """The unit (first component under idais_kg) of a dotted module name.

    >>> unit_of("idais_kg.serve.guard"), unit_of("idais_kg"), unit_of("idais_kg.store")
    ('serve', '__init__', 'store')
    """
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of(unit: str) -> int:
    """The rank of a unit's layer in LAYERS (0 for core); a unit in no layer is a KeyError, not a pass."""
    for rank, (_, units) in enumerate(LAYERS):
        if unit in units:
            return rank
    raise KeyError(f"idais_kg.{unit} is in no layer: add it to LAYERS in {__name__}")


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """The dotted module name of a file of the package (a package's ``__init__.py`` names the package)."""
    relative = path.relative_to(package.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for each import of an idais_kg module in a file; ``from idais_kg import x`` names x."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "idais_kg":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "idais_kg":
                for alias in node.names:
                    yield node.lineno, f"idais_kg.{alias.name}"
            elif node.module.startswith("idais_kg."):
                yield node.lineno, node.module


def back_edges(package: Path = PACKAGE) -> list[str]:
    """Every import that goes up a layer or across to a sibling tool, as ``file:line: a -> b (why)``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        source = module_name(path, package)
        here = unit_of(source)
        for line, target in imports(path):
            there = unit_of(target)
            if there == here:
                continue
            up, down = layer_of(here), layer_of(there)
            where = f"{path.relative_to(package.parent)}:{line}: {source} -> {target}"
            if down > up:
                found.append(f"{where} (up from {LAYERS[up][0]} to {LAYERS[down][0]})")
            elif down == up and LAYERS[up][0] in SIBLINGS_APART:
                found.append(f"{where} (across the {LAYERS[up][0]} layer)")
    return found


def main() -> int:
    """Print the layers and every back-edge; the exit status is 1 if there is any, for ``.ci/run``."""
    for rank, (name, units) in enumerate(LAYERS):
        print(f"{rank} {name:11} {', '.join(units)}")
    edges = back_edges()
    for edge in edges:
        print(edge)
    print(f"{len(edges)} back-edge(s)" if edges else "no back-edges: every import goes down")
    return 1 if edges else 0


if __name__ == "__main__":
    sys.exit(main())
