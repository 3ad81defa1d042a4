"""Reading SKOS as published (Getty AAT LOD, SKOS-XL, plain SKOS) into one compact, normalised form.

Sources differ in how they say the same thing: Getty gives labels both as ``skos:prefLabel`` and as
SKOS-XL label resources (``skosxl:prefLabel`` → ``skosxl:literalForm``), and the preferred parent as
``gvp:broaderPreferred`` beside a polyhierarchical ``skos:broader``; local schemes often give only
``skos:broader`` or ``skos:narrower``. Everything is read in one streaming pass (a full Getty dump
does not fit a triple store in memory comfortably, but its concepts do) and written back as plain SKOS
plus ``gvp:broaderPreferred``, the only Getty term the trees need.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from enrich.ingest.journal import string_literal
from enrich.namespaces import DCTERMS, RDF_TYPE, SKOS

GVP = "http://vocab.getty.edu/ontology#"
SKOSXL = "http://www.w3.org/2008/05/skos-xl#"
OWL = "http://www.w3.org/2002/07/owl#"
ISO_THES = "http://purl.org/iso25964/skos-thes#"

#: Types that mark a node as structure: shown in trees, never offered as a value.
STRUCTURAL_TYPES = frozenset(
    {
        GVP + "GuideTerm",
        GVP + "Hierarchy",
        GVP + "Facet",
        SKOS + "Collection",
        SKOS + "OrderedCollection",
        ISO_THES + "ThesaurusArray",
    }
)
#: Types worth keeping in the store (the rest of Getty's typing says nothing the trees use).
KEPT_TYPES = STRUCTURAL_TYPES | {SKOS + "Concept", GVP + "Concept", SKOS + "ConceptScheme"}
#: Getty's marker for retired concepts, skipped like ``owl:deprecated``.
OBSOLETE_TYPE = GVP + "ObsoleteSubject"

_PREF = SKOS + "prefLabel"
_ALT = SKOS + "altLabel"
_HIDDEN = SKOS + "hiddenLabel"
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_XL_PREF = SKOSXL + "prefLabel"
_XL_ALT = SKOSXL + "altLabel"
_XL_FORM = SKOSXL + "literalForm"
_BROADER = SKOS + "broader"
_NARROWER = SKOS + "narrower"
_BROADER_PREFERRED = GVP + "broaderPreferred"
_MEMBER = SKOS + "member"
_IN_SCHEME = SKOS + "inScheme"
_TOP_CONCEPT_OF = SKOS + "topConceptOf"
_HAS_TOP_CONCEPT = SKOS + "hasTopConcept"
_NOTATION = SKOS + "notation"
_DEPRECATED = OWL + "deprecated"
#: Kept as they are when their object is a literal or IRI (notes, mappings, provenance of the entry).
_KEPT_AS_IS = frozenset(
    {
        SKOS + "scopeNote",
        SKOS + "definition",
        SKOS + "exactMatch",
        SKOS + "closeMatch",
        SKOS + "broadMatch",
        SKOS + "narrowMatch",
        SKOS + "relatedMatch",
        DCTERMS + "source",
    }
)
_SCHEME_KEPT = frozenset(
    {
        DCTERMS + "title",
        DCTERMS + "description",
        DCTERMS + "license",
        DCTERMS + "rights",
        DCTERMS + "created",
        DCTERMS + "source",
        _PREF,
    }
)


SchemeFact = tuple[str, NamedNode | Literal]


@dataclass
class ConceptData:
    """What one concept (or structural node) says about itself, as read."""

    iri: str
    types: set[str] = field(default_factory=set)
    pref_labels: dict[str, str] = field(default_factory=dict)  # language ("" when none) → label
    alt_labels: list[tuple[str, str]] = field(default_factory=list)
    broader: list[str] = field(default_factory=list)
    broader_preferred: str | None = None
    members: list[str] = field(default_factory=list)
    schemes: set[str] = field(default_factory=set)
    notation: str | None = None
    deprecated: bool = False
    top_concept: bool = False
    other: list[tuple[str, NamedNode | Literal]] = field(default_factory=list)
    # rdfs:label is used only when a source gives no skos label at all.
    fallback_labels: list[tuple[str, str]] = field(default_factory=list)

    @property
    def structural(self) -> bool:
        """A guide term, hierarchy name, facet or collection: structure, never a value."""
        if self.types & STRUCTURAL_TYPES:
            return True
        english = self.pref_labels.get("en") or self.pref_labels.get("") or ""
        return english.startswith("<") and english.endswith(">")

    def add_label(self, language: str, label: str, preferred: bool) -> None:
        if preferred and language not in self.pref_labels:
            self.pref_labels[language] = label
        elif (language, label) not in self.alt_labels and self.pref_labels.get(language) != label:
            # A second preferred label in one language is demoted, so each language has exactly one.
            self.alt_labels.append((language, label))


@dataclass
class Vocabulary:
    """A scheme's concepts after reading; deprecated concepts are already left out."""

    concepts: dict[str, ConceptData]
    scheme_iri: str | None = None
    scheme_facts: list[tuple[str, NamedNode | Literal]] = field(default_factory=list)
    skipped_deprecated: int = 0


def _term_text(term: object) -> str:
    return term.value if isinstance(term, NamedNode | Literal | BlankNode) else str(term)


def read_skos(triples: Iterable[Triple | Quad]) -> Vocabulary:
    """Collect concepts from a stream of triples (graph names, if any, are ignored)."""
    concepts: dict[str, ConceptData] = {}
    schemes: dict[str, list[tuple[str, NamedNode | Literal]]] = {}
    xl_labels: list[tuple[str, str, bool]] = []  # (concept, label resource, preferred)
    xl_forms: dict[str, Literal] = {}
    narrower: list[tuple[str, str]] = []
    top_concepts: list[str] = []

    def concept(iri: str) -> ConceptData:
        node = concepts.get(iri)
        if node is None:
            node = concepts[iri] = ConceptData(iri)
        return node

    for triple in triples:
        subject, predicate, obj = triple.subject, triple.predicate.value, triple.object
        if not isinstance(subject, NamedNode | BlankNode) or isinstance(obj, Triple):
            continue  # RDF-star statements say nothing about concepts
        s = subject.value
        if predicate == _XL_FORM:
            if isinstance(obj, Literal):
                xl_forms[s] = obj
            continue
        if predicate == RDF_TYPE:
            if obj.value == SKOS + "ConceptScheme":
                schemes.setdefault(s, [])
            elif obj.value in KEPT_TYPES or obj.value == OBSOLETE_TYPE:
                node = concept(s)
                node.types.add(obj.value)
                node.deprecated |= obj.value == OBSOLETE_TYPE
            continue
        if s in schemes and predicate in _SCHEME_KEPT and isinstance(obj, NamedNode | Literal):
            schemes[s].append((predicate, obj))
            continue
        if predicate in (_PREF, _ALT, _HIDDEN):
            if isinstance(obj, Literal):
                concept(s).add_label(obj.language or "", obj.value, predicate == _PREF)
        elif predicate == _RDFS_LABEL:
            if isinstance(obj, Literal):
                concept(s).fallback_labels.append((obj.language or "", obj.value))
        elif predicate in (_XL_PREF, _XL_ALT):
            xl_labels.append((s, _term_text(obj), predicate == _XL_PREF))
        elif predicate == _BROADER_PREFERRED:
            concept(s).broader_preferred = obj.value
        elif predicate == _BROADER:
            if obj.value not in concept(s).broader:
                concept(s).broader.append(obj.value)
        elif predicate == _NARROWER:
            narrower.append((s, obj.value))
        elif predicate == _MEMBER:
            concept(s).members.append(obj.value)
        elif predicate == _IN_SCHEME:
            concept(s).schemes.add(obj.value)
        elif predicate == _TOP_CONCEPT_OF:
            concept(s).top_concept = True
            concept(s).schemes.add(obj.value)
        elif predicate == _HAS_TOP_CONCEPT:
            top_concepts.append(obj.value)
        elif predicate == _NOTATION:
            concept(s).notation = _term_text(obj)
        elif predicate == _DEPRECATED:
            concept(s).deprecated |= _term_text(obj).lower() in ("true", "1")
        elif predicate in _KEPT_AS_IS and isinstance(obj, NamedNode | Literal):
            concept(s).other.append((predicate, obj))

    for owner, resource, preferred in xl_labels:
        form = xl_forms.get(resource)
        if form is not None:
            concept(owner).add_label(form.language or "", form.value, preferred)
    for parent, child in narrower:
        node = concept(child)
        if parent not in node.broader:
            node.broader.append(parent)
    for iri in top_concepts:
        concept(iri).top_concept = True

    # Only subjects that are concepts (typed, labelled, or placed in a hierarchy) are kept: the label
    # resources, change notes and lists of a Getty file are not concepts.
    kept: dict[str, ConceptData] = {}
    skipped = 0
    for iri, node in concepts.items():
        if not node.pref_labels and node.fallback_labels:
            for language, label in node.fallback_labels:
                node.add_label(language, label, True)
        if not (node.types or node.schemes) or not node.pref_labels:
            continue
        if node.deprecated:
            skipped += 1
            continue
        kept[iri] = node
    scheme_iri = _main_scheme(schemes, kept)
    return Vocabulary(kept, scheme_iri, schemes.get(scheme_iri, []) if scheme_iri else [], skipped)


def _main_scheme(schemes: dict[str, list[SchemeFact]], concepts: dict[str, ConceptData]) -> str | None:
    """The scheme most concepts are in (Getty files name ``aat:`` without describing it)."""
    counts: dict[str, int] = {}
    for node in concepts.values():
        for scheme in node.schemes:
            counts[scheme] = counts.get(scheme, 0) + 1
    if counts:
        return max(sorted(counts), key=lambda s: counts[s])
    return next(iter(sorted(schemes)), None)


def _nt_literal(language: str, label: str) -> str:
    return f"{string_literal(label)}@{language}" if language else string_literal(label)


def _nt_term(term: NamedNode | Literal) -> str:
    return str(term)


def normalised_n_triples(vocabulary: Vocabulary, scheme_iri: str) -> Iterator[str]:
    """The vocabulary as N-Triples lines of plain SKOS (+ ``gvp:broaderPreferred``) in ``scheme_iri``."""
    scheme = f"<{scheme_iri}>"
    yield f"{scheme} <{RDF_TYPE}> <{SKOS}ConceptScheme> ."
    for predicate, obj in vocabulary.scheme_facts:
        yield f"{scheme} <{predicate}> {_nt_term(obj)} ."
    for iri in sorted(vocabulary.concepts):
        node = vocabulary.concepts[iri]
        subject = f"<{iri}>"
        types = node.types & KEPT_TYPES or {SKOS + "Concept"}
        for type_iri in sorted(types):
            yield f"{subject} <{RDF_TYPE}> <{type_iri}> ."
        yield f"{subject} <{_IN_SCHEME}> {scheme} ."
        if node.top_concept:
            yield f"{subject} <{_TOP_CONCEPT_OF}> {scheme} ."
        for language, label in sorted(node.pref_labels.items()):
            yield f"{subject} <{_PREF}> {_nt_literal(language, label)} ."
        for language, label in node.alt_labels:
            yield f"{subject} <{_ALT}> {_nt_literal(language, label)} ."
        if node.broader_preferred:
            yield f"{subject} <{_BROADER_PREFERRED}> <{node.broader_preferred}> ."
        for parent in node.broader:
            yield f"{subject} <{_BROADER}> <{parent}> ."
        for member in node.members:
            yield f"{subject} <{_MEMBER}> <{member}> ."
        if node.notation is not None:
            yield f"{subject} <{_NOTATION}> {_nt_literal('', node.notation)} ."
        for predicate, obj in node.other:
            yield f"{subject} <{predicate}> {_nt_term(obj)} ."
