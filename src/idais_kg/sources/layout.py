"""Where the hand-edited sources live: ontology/, data/, shapes/, queries/ of the project tree."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    """The folders of a project tree. ``Layout.default()`` finds the checkout this package runs from."""

    root: Path

    @classmethod
    def default(cls) -> Layout:
        env = os.environ.get("IDAIS_KG_HOME")
        return cls(Path(env) if env else Path(__file__).resolve().parents[3])

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def source_text(self) -> Path:
        return self.data_dir / "source" / "idais-policy-guide-2025-02.zh.txt"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    def ontology_files(self) -> list[Path]:
        return sorted(self.ontology_dir.glob("*.ttl"))

    def guide_files(self) -> list[Path]:
        return sorted((self.data_dir / "guide").glob("*.ttl"))
