"""The shapes file, read once with pyoxigraph into a small subject -> predicate -> objects table."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

import pyoxigraph
from pyoxigraph import NamedNode

from enrich import namespaces
from enrich.validation.errors import ShapesError
from enrich.validation.terms import Term, compact
from enrich.validation.vocabulary import RDF_FIRST, RDF_NIL, RDF_REST

# Prefixes for path text and messages when the shapes file does not declare its own.
DEFAULT_PREFIXES: Final[Mapping[str, str]] = {
    "rdf": namespaces.RDF,
    "rdfs": namespaces.RDFS,
    "xsd": namespaces.XSD,
    "dc": namespaces.DC,
    "dcterms": namespaces.DCTERMS,
    "edm": namespaces.EDM,
    "ore": namespaces.ORE,
    "skos": namespaces.SKOS,
    "prov": namespaces.PROV,
    "sh": namespaces.SH,
    "enr": namespaces.ENR,
}


class ShapesGraph:
    """Read-only access to the triples of a shapes file, keyed by subject and predicate IRI."""

    def __init__(self, triples: Mapping[Term, Mapping[str, list[Term]]], prefixes: Mapping[str, str]) -> None:
        self._triples = triples
        self.prefixes = prefixes

    @classmethod
    def load(cls, path: Path) -> ShapesGraph:
        extension = path.suffix.removeprefix(".")
        rdf_format = pyoxigraph.RdfFormat.from_extension(extension)
        if rdf_format is None:
            raise ShapesError(f"{path}: cannot tell the RDF format from the extension {path.suffix!r}")
        try:
            parser = pyoxigraph.parse(path=path, format=rdf_format)
            quads = list(parser)
        except (SyntaxError, ValueError, OSError) as error:
            raise ShapesError(f"{path}: cannot read the shapes file: {error}") from error
        triples: dict[Term, dict[str, list[Term]]] = {}
        for quad in quads:
            objects = triples.setdefault(quad.subject, {}).setdefault(quad.predicate.value, [])
            if quad.object not in objects:
                objects.append(quad.object)
        prefixes = {**DEFAULT_PREFIXES, **parser.prefixes}
        return cls(triples, prefixes)

    def subjects(self) -> Iterator[Term]:
        return iter(self._triples)

    def predicates(self, node: Term) -> Mapping[str, list[Term]]:
        return self._triples.get(node, {})

    def objects(self, node: Term, predicate: str) -> list[Term]:
        return self._triples.get(node, {}).get(predicate, [])

    def items(self, head: Term, where: str) -> list[Term]:
        """The members of the RDF list starting at ``head``; ``where`` names the list in errors."""
        members: list[Term] = []
        seen: set[Term] = set()
        node = head
        while not (isinstance(node, NamedNode) and node.value == RDF_NIL):
            firsts = self.objects(node, RDF_FIRST)
            rests = self.objects(node, RDF_REST)
            if node in seen or len(firsts) != 1 or len(rests) != 1:
                raise ShapesError(f"{where}: {self.name(head)} is not a well-formed RDF list")
            seen.add(node)
            members.append(firsts[0])
            node = rests[0]
        return members

    def name(self, term: Term) -> str:
        """A term as a reader of the shapes file would write it: ``enrshape:X``, ``_:b0``, ``"TEXT"``."""
        if isinstance(term, NamedNode):
            return compact(term.value, self.prefixes)
        return str(term)
