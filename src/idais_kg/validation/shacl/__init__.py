"""SHACL over pyoxigraph: the shapes graph (``shapes``), per-focus-node evaluation (``engine``) and set-wise
SHACL-SPARQL (``setwise``).
"""
