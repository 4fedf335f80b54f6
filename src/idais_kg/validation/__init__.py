"""The validation layer: SHACL (``validation.shacl``), the violation queries and OWL reasoning (``hermit``),
run together by ``validation.validate`` and reported by ``validation.report`` (text, JSON, sh:ValidationReport);
its own SPARQL is in ``validation/sparql/*.rq`` (read by ``validation.questions``).
"""
