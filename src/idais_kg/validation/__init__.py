"""The validation layer: SHACL (``validation.shacl``), the violation queries and OWL reasoning (``hermit``),
run together by ``validation.validate``.
"""
