"""idais-kg: the IDAIS Policy Guide as a linked-data knowledge graph.

The library API mirrors the command-line tool, so a notebook can do what the CLI does::

    import idais_kg
    kg = idais_kg.load()
    kg.query("goals-by-area").rows
"""

__version__ = "0.1.0"

from idais_kg.graph import KnowledgeGraph, load

__all__ = ["KnowledgeGraph", "__version__", "load"]
