"""The one module that spells the project's IRIs; every other module imports them from here."""

from __future__ import annotations

BASE = "https://w3id.org/idais-kg/"
IDAIS = BASE + "ontology#"
ONTOLOGY_IRI = BASE + "ontology"
KG = BASE + "id/"
SERVICE_BASE = BASE + "sparql"  # the base IRI of ad-hoc queries: relative IRIs resolve against it
EDITION = KG + "guide/2025-02"
SOURCE_TEXT_IRI = BASE + "source/idais-policy-guide-2025-02.zh.txt"
DATASET_IRI = KG + "dataset"
# Our JSON-LD context (written to build/dumps/context.jsonld); mapped to the local copy, never fetched.
JSONLD_CONTEXT_IRI = BASE + "context.jsonld"

# Named graphs of the dataset.
GRAPH_ONTOLOGY = KG + "graph/ontology"
GRAPH_GUIDE = KG + "graph/guide"
GRAPH_TRANSLATIONS = KG + "graph/translations"
GRAPH_EDITORIAL = KG + "graph/editorial"  # what the guide does not say: our notes, matches, kinds
GRAPH_DERIVED = KG + "graph/derived"
GRAPH_DESCRIPTION = KG + "graph/description"
GRAPH_INPUT = KG + "graph/input"  # files given to `validate`, beside the guide
GRAPH_INFERRED = KG + "graph/inferred"  # `build --infer`: what the ontology's axioms entail
PARTNER_GRAPH_BASE = KG + "graph/partner/"
PARTNER_REGISTRY_GRAPH = KG + "graph/partners"  # PROV records of who added which partner file, and when
GRAPH_STORE = KG + "graph/store"  # in the persistent store: which build of the sources its guide graphs hold
# Mappings to outside vocabularies (issue 15): our SSSOM sets (data/mappings/) and the extract of their targets.
GRAPH_MAPPINGS = KG + "graph/mappings"
GRAPH_VOCABULARIES = (
    KG + "graph/vocabularies"
)  # the mapped terms: types, labels, definitions, licence notices
MAPPING_SET_BASE = KG + "mappings/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
FABIO = "http://purl.org/spar/fabio/"
PRISM = "http://prismstandard.org/namespaces/basic/2.0/"
DOI_RESOLVER = "https://doi.org/"
# SSSOM and the vocabularies of its RDF form (sssom-py writes mappings as owl:Axiom with pav: and semapv: terms).
SSSOM = "https://w3id.org/sssom/"
SEMAPV = "https://w3id.org/semapv/vocab/"
PAV = "http://purl.org/pav/"
FOAF = "http://xmlns.com/foaf/0.1/"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
CHANGESET = "http://purl.org/vocab/changeset/schema#"  # the change graph of `idais-kg diff` (cs:ChangeSet)
SH = "http://www.w3.org/ns/shacl#"
SD = "http://www.w3.org/ns/sparql-service-description#"
W3C_FORMATS = "http://www.w3.org/ns/formats/"
SPARQL_RESULTS = "http://www.w3.org/2005/sparql-results#"  # the XML results format
XML_NS = "http://www.w3.org/XML/1998/namespace"  # of xml:lang
OWLREADY = "http://www.lesfleursdunormal.fr/static/_downloads/owlready_ontology.owl#"  # owlready2's own terms

# The outside vocabularies of our mappings (issue 15): prefix -> (namespace, the vocabulary's owl:Ontology IRI,
# which is a mapping row's object_source).
VOCABULARIES: dict[str, tuple[str, str]] = {
    "dpv": ("https://w3id.org/dpv#", "https://w3id.org/dpv"),
    "ai": ("https://w3id.org/dpv/ai#", "https://w3id.org/dpv/ai"),
    "risk": ("https://w3id.org/dpv/risk#", "https://w3id.org/dpv/risk"),
    "tech": ("https://w3id.org/dpv/tech#", "https://w3id.org/dpv/tech"),
    "loc": ("https://w3id.org/dpv/loc#", "https://w3id.org/dpv/loc"),
    "legal": ("https://w3id.org/dpv/legal#", "https://w3id.org/dpv/legal"),
    "legal-eu": ("https://w3id.org/dpv/legal/eu#", "https://w3id.org/dpv/legal/eu"),
    "legal-us": ("https://w3id.org/dpv/legal/us#", "https://w3id.org/dpv/legal/us"),
    "legal-gb": ("https://w3id.org/dpv/legal/gb#", "https://w3id.org/dpv/legal/gb"),
    "legal-sg": ("https://w3id.org/dpv/legal/sg#", "https://w3id.org/dpv/legal/sg"),
    "eu-aiact": ("https://w3id.org/dpv/legal/eu/aiact#", "https://w3id.org/dpv/legal/eu/aiact"),
    "airo": ("https://w3id.org/airo#", "https://w3id.org/airo"),
    "vair": ("https://w3id.org/vair#", "https://w3id.org/vair"),
}

# Prefixes offered to queries, dumps and the JSON-LD context.
PREFIXES: dict[str, str] = {
    "idais": IDAIS,
    "kg": KG,
    "area": KG + "area/",
    "goal": KG + "goal/",
    "dialogue": KG + "dialogue/",
    "statement": KG + "statement/",
    "level": KG + "progress-level/",
    "source": KG + "source/",
    "organisation": KG + "organisation/",
    "jurisdiction": KG + "jurisdiction/",
    "instrument": KG + "instrument/",
    "initiative": KG + "initiative/",
    "redline": KG + "red-line/",
    "place": KG + "place/",
    "ed": EDITION + "/",
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "schema": SCHEMA,
    "cito": "http://purl.org/spar/cito/",
    "fabio": "http://purl.org/spar/fabio/",
    "biro": "http://purl.org/spar/biro/",
    "doco": "http://purl.org/spar/doco/",
    "prism": "http://prismstandard.org/namespaces/basic/2.0/",
    "frbr": "http://purl.org/vocab/frbr/core#",
    "org": "http://www.w3.org/ns/org#",
    "vann": "http://purl.org/vocab/vann/",
    "void": VOID,
    "dcat": DCAT,
    "sh": SH,
}


def expand(term: str) -> str:
    """Expand a prefixed name (``goal:x``) with our prefixes; return anything else unchanged.

    >>> expand("goal:post-deployment-monitoring")
    'https://w3id.org/idais-kg/id/goal/post-deployment-monitoring'
    >>> expand("https://example.org/x")
    'https://example.org/x'
    """
    prefix, sep, local = term.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return term


def is_ours(iri: str) -> bool:
    """True for an IRI in the project's namespace.

    >>> is_ours("https://w3id.org/idais-kg/id/goal/x"), is_ours("http://example.org/")
    (True, False)
    """
    return iri.startswith(BASE)


def jsonld_context() -> dict[str, object]:
    """The local JSON-LD context of the dumps: our prefixes, nothing fetched from elsewhere."""
    return {"@context": dict(PREFIXES)}
