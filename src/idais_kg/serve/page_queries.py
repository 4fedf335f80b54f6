"""The pages' own questions to the graph, one file each in ``sparql/`` (with the project prefixes declared), read
once when the server starts; their parameters are bound by the code that asks them, never spliced."""

from __future__ import annotations

from pathlib import Path

from idais_kg.sources.queries import prefix_block

SPARQL = Path(__file__).parent / "sparql"


def page_text(name: str) -> str:
    """The query of ``sparql/NAME.rq`` without its ``#+`` header (as the query editor shows it)."""
    text = (SPARQL / f"{name}.rq").read_text(encoding="utf-8")
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#+"))


def page_query(name: str) -> str:
    """The query of ``sparql/NAME.rq``, with the project prefixes declared."""
    return prefix_block() + page_text(name)


LABELS = page_query("labels")
INCOMING = page_query("incoming")
ASSESSMENTS = page_query("assessments")
QUOTES = page_query("quotes")
POLICIES = page_query("policies")
PARTNER_LINKS = page_query("partner-links")
AREA_GOALS = page_query("area-goals")
ONTOLOGY_TERMS = page_query("ontology-terms")
ONTOLOGY_METADATA = page_query("ontology-metadata")
ONTOLOGY_USAGE = page_query("ontology-usage")
ONTOLOGY_EXAMPLE = page_query("ontology-example")
ONTOLOGY_BORROWED = page_query("ontology-borrowed")
ONTOLOGY_CHAINS = page_query("ontology-chains")
ONTOLOGY_DISJOINT = page_query("ontology-disjoint")
BREADCRUMB = page_query("breadcrumb")
DEFAULT_QUERY = page_text("default-query")
FOOTNOTES_OF = page_query("footnotes-of")
CITED_BY = page_query("cited-by")
MAPPINGS_OF = page_query("mappings-of")  # issue 15: serve/templates/_mappings.html
MAPPING_TARGETS = page_query("mapping-targets")  # the home page's filter by an outside concept
