"""The layering check: the package has no back-edge, and the check finds one where there is one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from idais_kg.devtools.layout import back_edges


def test_the_package_imports_only_down_its_layers() -> None:
    assert back_edges() == []


def test_the_check_names_a_back_edge_and_a_sibling_import(tmp_path: Path) -> None:
    package = tmp_path / "idais_kg"
    for name, text in {
        "__init__.py": "",
        "store.py": "def f():\n    from idais_kg.dataset import assemble\n",  # late import, core -> dataset
        "dataset/__init__.py": "",
        "dataset/assemble.py": "from idais_kg import store\n",
        "serve/__init__.py": "from idais_kg.partners.registry import add\n",  # tool -> tool
        "partners/__init__.py": "",
    }.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    assert back_edges(package) == [
        "idais_kg/serve/__init__.py:1: idais_kg.serve -> idais_kg.partners.registry (across the tools layer)",
        "idais_kg/store.py:2: idais_kg.store -> idais_kg.dataset (up from core to dataset)",
    ]


def test_the_command_exits_0_and_lists_the_layers() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "idais_kg.devtools.layout"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[0].startswith("0 core")
    assert done.stdout.splitlines()[-1] == "no back-edges: every import goes down"
