"""idais-kg: the IDAIS Policy Guide as a linked-data knowledge graph.

The library API mirrors the command-line tool, so a notebook can do what the CLI does::

    import idais_kg
    kg = idais_kg.load()
    kg.query("goals-by-area").rows
"""

from idais_kg.dataset.assemble import KnowledgeGraph, load
from idais_kg.version import __version__

__all__ = ["KnowledgeGraph", "__version__", "load"]
