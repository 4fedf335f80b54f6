"""The validation layer's own questions to a store, one ``sparql/NAME.rq`` file each (their variables are bound
by the code that asks them, so they are not offered to users as saved queries)."""

from __future__ import annotations

from pathlib import Path

from idais_kg.sources.queries import package_query

SPARQL = Path(__file__).parent / "sparql"


def question(name: str) -> str:
    """The text of ``sparql/NAME.rq``."""
    return package_query(SPARQL, name)
