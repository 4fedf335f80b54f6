"""One SHACL engine over pyoxigraph, which ``validate`` and ``partner check`` both run.

- ``shapes``: the shapes graph, read once; refuses at load what the engine lacks.
- ``registry``: every constraint component, by the parameter that triggers it; ``components`` and ``logical``
  (SHACL Core), ``sparql`` (SHACL-SPARQL: pre-binding, set-wise evaluation), ``custom`` (SPARQL-based components
  that a shapes graph declares).
- ``engine``: the ``Validator`` (focus nodes, value nodes, results); ``paths``, ``literals`` and ``data`` (the
  two views of a data graph: Python indexes, or a pyoxigraph store read in place).
- ``setwise``: the engine as ``partner check`` calls it (a store, one shape at a time, plain findings).

It reads RDF terms and stores only; it imports nothing above the validation layer.
"""
