"""Make data/vocab-extract/ from the vocabulary copies in ../shared/vocab/: for every term that a mapping of
data/mappings/*.sssom.tsv points to, its types, labels and definition as the vocabulary states them, and for every
vocabulary named there (as a target's namespace or a row's ``object_source``) its title, version, licence and
licence notice, so that the project builds, shows the targets' labels and checks its mappings without that folder.

    python -m idais_kg.devtools.vocab_extract [--vocab ../shared/vocab] [--check]

One Turtle file per vocabulary (``dpv.ttl``, ``eu-aiact.ttl``, ``airo.ttl``, ...), written in a fixed order, so
that re-deriving the extract from unchanged inputs gives the same bytes (``--check`` says whether it does, and
tests/test_mappings.py asks it). A target that its vocabulary does not define is an error: the mapping is wrong.
"""

from __future__ import annotations

import argparse
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from idais_kg.dataset.mappings import NO_TERM_FOUND, mapping_files
from idais_kg.namespaces import DCTERMS, OWL, RDF, RDFS, SKOS, SSSOM, VOCABULARIES
from idais_kg.sources.layout import Layout
from idais_kg.sources.tables import table_triples

OUT = "vocab-extract"


@dataclass(frozen=True)
class Copy:
    """Where a vocabulary sits in the copies folder, with its licence file and where the copy came from (as
    ../shared/vocab/README.md records it)."""

    file: str
    licence: str
    origin: str


_DPV = "w3c/dpv, commit f01a55c3c0983e35cdfdf80593ece3353faba7b8, folder 2.3/"
COPIES: dict[str, Copy] = {
    "dpv": Copy("dpv-2.3/dpv/dpv.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "ai": Copy("dpv-2.3/ai/ai.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "risk": Copy("dpv-2.3/risk/risk.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "tech": Copy("dpv-2.3/tech/tech.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "loc": Copy("dpv-2.3/loc/loc.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "legal": Copy("dpv-2.3/legal/legal.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "legal-eu": Copy("dpv-2.3/legal/eu/legal-eu.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "legal-us": Copy("dpv-2.3/legal/us/legal-us.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "legal-gb": Copy("dpv-2.3/legal/gb/legal-gb.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "legal-sg": Copy("dpv-2.3/legal/legal.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "eu-aiact": Copy("dpv-2.3/legal/eu/aiact/eu-aiact.ttl", "dpv-2.3/LICENSE.md", _DPV),
    "airo": Copy(
        "airo/airo.ttl", "airo/LICENSE.md", "DelaramGlp/airo, commit 6c67de43abd154393b09bb54da1fe1fa7501215b"
    ),
    "vair": Copy(
        "vair/vair.ttl", "vair/LICENSE.md", "DelaramGlp/vair, commit 9ae41f59391c6754861179daefae9522084624e0"
    ),
}
TERM_PROPERTIES = (RDF + "type", RDFS + "label", SKOS + "prefLabel", SKOS + "definition")
VOCAB_PROPERTIES = (DCTERMS + "title", RDFS + "label", DCTERMS + "license", OWL + "versionInfo")
PREFIXES = {"rdf": RDF, "rdfs": RDFS, "owl": OWL, "skos": SKOS, "dcterms": DCTERMS} | {
    prefix: namespace for prefix, (namespace, _) in VOCABULARIES.items()
}


CLASS_TYPES = ("http://www.w3.org/2002/07/owl#Class", "http://www.w3.org/2000/01/rdf-schema#Class")


def default_vocab(layout: Layout) -> Path:
    """The vocabulary copies beside the project tree (``../shared/vocab``)."""
    return layout.root.parent / "shared" / "vocab"


class ExtractError(Exception):
    """A mapping points to a term its vocabulary does not define, or into no known vocabulary."""


def vocabulary_of(iri: str) -> str | None:
    """The prefix of the vocabulary whose namespace holds ``iri`` (the longest that fits), or None.

    >>> vocabulary_of("https://w3id.org/dpv/legal/eu/aiact#AIOffice"), vocabulary_of("https://example.org/x")
    ('eu-aiact', None)
    """
    fits = [p for p, (ns, _) in VOCABULARIES.items() if iri.startswith(ns)]
    return max(fits, key=lambda p: len(VOCABULARIES[p][0])) if fits else None


def wanted(data_dir: Path) -> tuple[dict[str, set[str]], set[str]]:
    """The mapped terms of every mapping set, by vocabulary prefix, and the vocabularies the sets name (as
    ``object_source`` or as a target's namespace)."""
    terms: dict[str, set[str]] = {}
    named: set[str] = set()
    sources = {iri: prefix for prefix, (_, iri) in VOCABULARIES.items()}
    for path in mapping_files(data_dir):
        for _, p, o in table_triples(path, ours=True):
            if p.value == OWL + "annotatedTarget" and o.value != NO_TERM_FOUND:
                prefix = vocabulary_of(o.value)
                if prefix is None:
                    raise ExtractError(f"{path.name}: {o.value} is in none of the known vocabularies")
                terms.setdefault(prefix, set()).add(o.value)
                named.add(prefix)
            elif p.value == SSSOM + "object_source" and o.value in sources:
                named.add(sources[o.value])
    return terms, named


def _header(prefix: str, copy: Copy, vocab_dir: Path) -> str:
    licence = (vocab_dir / copy.licence).read_text(encoding="utf-8").strip().splitlines()
    return "".join(
        [
            f"# Extract of the vocabulary {VOCABULARIES[prefix][1]}: the terms that data/mappings/ points to, with\n",
            "# their types, labels and definitions copied unchanged (rdfs:isDefinedBy, linking each to its\n",
            "# vocabulary, is the extract's), and the vocabulary's own description.\n",
            f"# Copied from ../shared/vocab/{copy.file} ({copy.origin}).\n",
            "# Made by `python -m idais_kg.devtools.vocab_extract`: do not edit by hand.\n",
            f"# Licence notice ({copy.licence}), which travels with this copy:\n",
            "#\n",
            *(f"#   {line}".rstrip() + "\n" for line in licence),
            "\n",
        ]
    )


@functools.cache
def class_declarations(vocab_dir: Path) -> dict[ox.NamedNode, frozenset[ox.NamedNode]]:
    """Every class declared (owl:Class, rdfs:Class) in any of the vocabulary copies, with how it is declared."""
    rdf_type = ox.NamedNode(RDF + "type")
    found: dict[ox.NamedNode, set[ox.NamedNode]] = {}
    kinds = {ox.NamedNode(kind) for kind in CLASS_TYPES}
    for copy in COPIES.values():
        for triple in ox.parse(path=str(vocab_dir / copy.file), format=ox.RdfFormat.TURTLE):
            if (
                triple.predicate == rdf_type
                and triple.object in kinds
                and isinstance(triple.subject, ox.NamedNode)
            ):
                found.setdefault(triple.subject, set()).add(triple.object)
    return {cls: frozenset(kinds) for cls, kinds in found.items()}


def extract_one(prefix: str, terms: set[str], vocab_dir: Path) -> bytes:
    """The extract file of one vocabulary: its description and the given terms (ExtractError if one is missing)."""
    copy = COPIES[prefix]
    source = vocab_dir / copy.file
    vocab_iri = ox.NamedNode(VOCABULARIES[prefix][1])
    graph = ox.Store()
    graph.bulk_load(path=str(source), format=ox.RdfFormat.TURTLE)
    triples: set[ox.Triple] = set()
    for p in VOCAB_PROPERTIES:
        triples |= {
            ox.Triple(vocab_iri, q.predicate, q.object)
            for q in graph.quads_for_pattern(vocab_iri, ox.NamedNode(p), None)
        }
    licence = (vocab_dir / copy.licence).read_text(encoding="utf-8").strip()
    triples.add(ox.Triple(vocab_iri, ox.NamedNode(DCTERMS + "rights"), ox.Literal(licence)))
    triples.add(
        ox.Triple(vocab_iri, ox.NamedNode(DCTERMS + "source"), ox.Literal(f"{copy.file} ({copy.origin})"))
    )
    for term in sorted(terms):
        node = ox.NamedNode(term)
        found = {
            ox.Triple(node, q.predicate, q.object)
            for p in TERM_PROPERTIES
            for q in graph.quads_for_pattern(node, ox.NamedNode(p), None)
            if not isinstance(q.object, ox.BlankNode)
        }
        if not any(t.predicate.value == RDF + "type" for t in found):
            raise ExtractError(f"{term} is not defined (has no rdf:type) in {source}")
        triples |= found | {ox.Triple(node, ox.NamedNode(RDFS + "isDefinedBy"), vocab_iri)}
    # The classes the terms are typed with, declared as their vocabulary declares them (owl:Class or rdfs:Class),
    # so that the extract stays OWL 2 DL (an undeclared class in a class assertion is not): the declaration only,
    # copied.
    rdf_type = ox.NamedNode(RDF + "type")
    declarations = {ox.NamedNode(c) for c in CLASS_TYPES}
    types = {t.object for t in triples if t.predicate == rdf_type and isinstance(t.object, ox.NamedNode)}
    every = class_declarations(
        vocab_dir
    )  # (a type may be declared in another module: loc: terms are dpv:Country)
    for cls in types - declarations:
        if vocabulary_of(cls.value) is None:  # (skos:Concept and the like: the ontology declares those)
            continue
        triples |= {ox.Triple(cls, rdf_type, kind) for kind in every.get(cls, ())}
    ordered = sorted(
        triples, key=lambda t: (t.subject != vocab_iri, str(t.subject), t.predicate.value, str(t.object))
    )
    body = (ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b"").decode("utf-8")
    # (the serialiser's @prefix lines are in no fixed order: ours are, so that the bytes are reproducible)
    lines = [line for line in body.splitlines(keepends=True) if not line.startswith("@prefix ")]
    prefix_lines = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(PREFIXES.items()))
    return (_header(prefix, copy, vocab_dir) + prefix_lines + "\n" + "".join(lines)).encode("utf-8")


def extract(vocab_dir: Path, data_dir: Path) -> dict[str, bytes]:
    """Every extract file by name, derived from the vocabulary copies and the mapping sets."""
    terms, named = wanted(data_dir)
    return {
        f"{prefix}.ttl": extract_one(prefix, terms.get(prefix, set()), vocab_dir) for prefix in sorted(named)
    }


def main(argv: list[str] | None = None) -> int:
    """Write (or, with --check, compare) data/vocab-extract/; the exit status: 0 done or up to date, 1 stale, 2 error."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vocab", type=Path, help="the vocabulary copies (default: ../shared/vocab)")
    parser.add_argument(
        "--check", action="store_true", help="only say whether data/vocab-extract/ is up to date"
    )
    args = parser.parse_args(argv)
    layout = Layout.default()
    data_dir, vocab_dir = layout.data_dir, args.vocab or default_vocab(layout)
    out = data_dir / OUT
    try:
        files = extract(vocab_dir, data_dir)
    except ExtractError as exc:
        sys.stderr.write(f"vocab_extract: {exc}\n")
        return 2
    stale = sorted(
        {
            name
            for name, data in files.items()
            if not (out / name).is_file() or (out / name).read_bytes() != data
        }
        | {p.name for p in out.glob("*.ttl") if p.name not in files}
    )
    if args.check:
        sys.stdout.write("".join(f"out of date: {OUT}/{name}\n" for name in stale) or "up to date\n")
        return 1 if stale else 0
    out.mkdir(exist_ok=True)
    for path in out.glob("*.ttl"):
        if path.name not in files:
            path.unlink()
    for name, data in files.items():
        (out / name).write_bytes(data)
    sys.stdout.write(f"wrote {len(files)} files to {out} ({len(stale)} changed)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
