"""Where the hand-edited sources live (ontology/, data/, shapes/, queries/) and where generated files go (build/).

Two places hold the sources. In a checkout (the package runs from ``src/idais_kg`` of a project tree, as with an
editable install) they are the working tree's top-level folders, so that an edit shows at the next command. In an
installed wheel there is no tree: the wheel carries a copy of those folders as package data
(``idais_kg/sources/packaged/``, put there by ``[tool.hatch.build.targets.wheel.force-include]``), read-only.
``IDAIS_KG_HOME`` names a tree explicitly and wins over both.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from idais_kg.namespaces import DCTERMS, EDITION, ONTOLOGY_IRI, OWL
from idais_kg.store import parse_file

HERE = Path(__file__).resolve()
CHECKOUT = HERE.parents[3]  # src/idais_kg/sources/layout.py -> the project tree, when there is one
PACKAGED = HERE.parent / "packaged"  # the copy of the sources inside an installed wheel
SOURCE_FOLDERS = ("ontology", "data", "shapes", "queries")


def is_project_tree(folder: Path) -> bool:
    """True for a folder that holds the project's sources and its pyproject.toml (a checkout)."""
    return (folder / "pyproject.toml").is_file() and all((folder / name).is_dir() for name in SOURCE_FOLDERS)


@dataclass(frozen=True)
class Layout:
    """The folders of a project tree. ``Layout.default()`` finds the one this package runs from.

    ``origin`` says which it is: ``checkout``, ``installed`` or ``IDAIS_KG_HOME`` (``folder`` for a Layout made
    by hand, as tests do). ``build_base``, when set, is where ``build/`` goes instead of beside the sources.
    """

    root: Path
    origin: str = "folder"
    build_base: Path | None = None

    @classmethod
    def default(cls) -> Layout:
        """The tree this package runs from: ``IDAIS_KG_HOME`` if set, else the checkout, else the wheel's copy
        (with build/ in the current directory).
        """
        env = os.environ.get("IDAIS_KG_HOME")
        if env:
            return cls(Path(env), origin="IDAIS_KG_HOME")
        if is_project_tree(CHECKOUT):
            return cls(CHECKOUT, origin="checkout")
        # Installed: the sources are read-only package data and site-packages is no place for output. build/
        # goes in the current directory, as `python -m build` puts dist/ there: the dumps and the partner store
        # are the user's work products, which they expect to see (and find again) beside the files they are
        # working on, one store per project folder, rather than hidden in a per-user cache shared by every project.
        return cls(PACKAGED, origin="installed", build_base=Path.cwd())

    @property
    def ontology_dir(self) -> Path:
        """The ontology's Turtle files."""
        return self.root / "ontology"

    @property
    def data_dir(self) -> Path:
        """The guide's data, its source text and the dataset description."""
        return self.root / "data"

    @property
    def shapes_dir(self) -> Path:
        """The SHACL shapes, by concern (partner shapes under ``partner/``)."""
        return self.root / "shapes"

    @property
    def queries_dir(self) -> Path:
        """The saved queries (``.rq`` files with their ``#+`` headers)."""
        return self.root / "queries"

    @property
    def source_text(self) -> Path:
        """The guide's text as converted from its PDF, which every ``idais:sourceLocation`` points into."""
        return self.data_dir / "source" / "idais-policy-guide-2025-02.zh.txt"

    @property
    def build_dir(self) -> Path:
        """Where generated files go (dumps, the partner store): never among the sources."""
        return (self.build_base or self.root) / "build"

    def ontology_files(self) -> list[Path]:
        """The ontology's Turtle files, in a fixed order."""
        return sorted(self.ontology_dir.glob("*.ttl"))

    def guide_files(self) -> list[Path]:
        """The guide's Turtle files (``data/guide/``), in a fixed order."""
        return sorted((self.data_dir / "guide").rglob("*.ttl"))

    def source_files(self) -> list[Path]:
        """Every hand-edited source file, in a fixed order."""
        return sorted(p for name in SOURCE_FOLDERS for p in (self.root / name).rglob("*") if p.is_file())

    def fingerprint(self) -> str:
        """A sha256 of every source file's path and bytes: two trees with the same fingerprint build the same
        dataset (with the same code)."""
        digest = hashlib.sha256()
        for path in self.source_files():
            digest.update(path.relative_to(self.root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def data_version(self) -> str:
        """The version of the data, read from the sources: the guide edition, the ontology's ``owl:versionInfo``
        and the start of the sources' ``fingerprint()`` (which changes with any edit)."""
        wanted: dict[tuple[object, object], str] = {
            (ox.NamedNode(EDITION), ox.NamedNode(DCTERMS + "issued")): "edition",
            (ox.NamedNode(ONTOLOGY_IRI), ox.NamedNode(OWL + "versionInfo")): "ontology",
        }
        found = {"edition": "?", "ontology": "?"}
        for path in self.ontology_files() + self.guide_files():
            for quad in parse_file(path):
                what = wanted.get((quad.subject, quad.predicate))
                if what and isinstance(quad.object, ox.Literal):
                    found[what] = quad.object.value
        issued, ontology = found["edition"], found["ontology"]
        return f"guide edition {issued}, ontology {ontology}, sources sha256:{self.fingerprint()[:12]}"

    def describe(self) -> str:
        """Which sources these are, in words: ``checkout /path`` or ``installed /path``."""
        return f"{self.origin} {self.root}"
