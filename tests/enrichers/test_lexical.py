"""The lexical enricher on records written by hand, against the bundled vocabularies and a small SKOS
fixture for ambiguity."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph
import pytest
from pyoxigraph import RdfFormat

from enrich.enrichers.base import FieldValue
from enrich.enrichers.lexical import LexicalEnricher, spot
from enrich.namespaces import DC, DCTERMS
from enrich.suggestion import Suggestion
from enrich.vocab.facets import Facet, facet_tree
from enrich.vocab.skos import read_skos
from enrich.vocab.tree import LabelTree
from tests.enrichers.support import AAT, KM_MATERIAL, bundled_indexes, view

CANVAS, BRONZE, OIL = AAT + "300014078", AAT + "300010957", AAT + "300015050"


@pytest.fixture(scope="module")
def lexical() -> LexicalEnricher:
    return LexicalEnricher(bundled_indexes("materials", "object-types", "korean-materials"))


def by_concept(suggestions: Iterable[Suggestion]) -> dict[str, Suggestion]:
    return {s.value.value: s for s in suggestions}


def test_whole_field_and_phrase_in_a_short_field(lexical: LexicalEnricher) -> None:
    record = view(values={DCTERMS + "medium": ["bronze", "oil on canvas"]})
    found = by_concept(s for s in lexical.enrich([record]) if s.facet == "materials")
    assert set(found) == {BRONZE, CANVAS, OIL}
    bronze, canvas, oil = found[BRONZE], found[CANVAS], found[OIL]
    assert bronze.confidence == 0.9  # exact preferred label, the whole field value
    assert bronze.confidence > canvas.confidence > oil.confidence  # inside a field; "oil" is short
    assert canvas.evidence == ('dcterms:medium "oil on canvas": span "canvas" = prefLabel "canvas"@en',)
    assert canvas.predicate == DCTERMS + "medium" and canvas.facet == "materials"
    assert canvas.subject == record.cho and canvas.record_id == record.record_id
    assert canvas.enricher == "lexical" and canvas.model == lexical.model_card()


def test_phrase_spotting_in_a_description_is_longest_first_and_weaker(lexical: LexicalEnricher) -> None:
    description = "An album with a Black-and-White Photograph of the site, and a color photograph of a coin."
    record = view(values={DC + "description": [description]})
    found = by_concept(s for s in lexical.enrich([record]) if s.facet == "object-types")
    labels = {s.evidence[0].split(" = ")[1] for s in found.values()}
    assert labels == {
        'prefLabel "Black and White Photograph"@en',
        'prefLabel "Color Photograph"@en',
        'prefLabel "Coin"@en',
    }  # never "Photograph" alone: the longer spans claim those words first
    assert all(s.confidence < 0.5 for s in found.values())
    evidence = next(e for s in found.values() for e in s.evidence if "Black" in e)
    assert evidence.startswith('dc:description "An album with a Black-and-White Photograph of the site, and')
    assert 'span "Black-and-White Photograph"' in evidence


def test_spans_map_back_to_the_text_as_written() -> None:
    index = bundled_indexes("object-types")["object-types"]
    text = "Catalogue Raisonné; PAINTINGS"
    spots = spot(index, text)
    assert [text[s.start : s.end] for s in spots] == ["Catalogue Raisonné", "PAINTINGS"]
    assert all(s.whole for s in spots)  # each is a whole segment of a controlled field


def test_plural_singular_and_accents(lexical: LexicalEnricher) -> None:
    record = view(values={DC + "type": ["Paintings", "catalogue raisonne"], DC + "title": ["A drawing"]})
    found = by_concept(lexical.enrich([record]))
    painting, raisonne, drawing = found[AAT + "300033618"], found[AAT + "300026061"], found[AAT + "300033973"]
    assert painting.evidence == ('dc:type "Paintings": span "Paintings" = prefLabel "Painting"@en (singular)',)
    assert raisonne.confidence == 0.9  # "Catalogue Raisonné" without its accent, exactly
    assert painting.confidence == 0.72  # the singular of what was written: weaker than an exact match
    assert drawing.evidence == ('dc:title "A drawing": span "drawing" = prefLabel "Drawing"@en',)
    assert drawing.confidence < painting.confidence  # a phrase inside a title, not a whole type field


def test_korean_labels(lexical: LexicalEnricher) -> None:
    record = view(values={DCTERMS + "medium": [("청자", "ko")], DC + "title": [("백자 항아리", "ko")]})
    found = by_concept(s for s in lexical.enrich([record]) if s.facet == "korean-materials")
    assert found[KM_MATERIAL + "celadon"].confidence == 0.9
    assert found[KM_MATERIAL + "celadon"].evidence == ('dcterms:medium "청자": span "청자" = prefLabel "청자"@ko',)
    assert found[KM_MATERIAL + "white-porcelain"].confidence < 0.9
    assert 'span "백자" = prefLabel "백자"@ko' in found[KM_MATERIAL + "white-porcelain"].evidence[0]


def test_concepts_already_on_the_record_are_not_suggested_again(lexical: LexicalEnricher) -> None:
    materials = LexicalEnricher(bundled_indexes("materials"))
    values = {DCTERMS + "medium": ["bronze", "canvas", FieldValue(BRONZE, is_iri=True)]}
    assert set(by_concept(materials.enrich([view(values=values)]))) == {CANVAS}
    # Present on another property does not count: the facet's target property is what matters.
    values = {DCTERMS + "medium": ["bronze"], DC + "subject": [FieldValue(BRONZE, is_iri=True)]}
    assert set(by_concept(materials.enrich([view(values=values)]))) == {BRONZE}


def test_evidence_from_several_fields_combines(lexical: LexicalEnricher) -> None:
    one = by_concept(lexical.enrich([view(values={DC + "description": ["Cast bronze, later gilded."]})]))
    two = by_concept(
        lexical.enrich([view(values={DC + "description": ["Cast bronze, later gilded."], DC + "title": ["Bronze"]})])
    )
    assert two[BRONZE].confidence > one[BRONZE].confidence
    assert len(two[BRONZE].evidence) == 2


def test_fields_are_configurable_per_facet() -> None:
    only_medium = LexicalEnricher(bundled_indexes("materials"), fields={"materials": [DCTERMS + "medium"]})
    record = view(values={DC + "title": ["Bronze"], DCTERMS + "medium": ["canvas"]})
    assert set(by_concept(only_medium.enrich([record]))) == {CANVAS}
    assert (
        only_medium.model_card().config_hash != LexicalEnricher(bundled_indexes("materials")).model_card().config_hash
    )


AMBIGUOUS = """
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <http://example.org/v/> .
ex:s a skos:ConceptScheme .
ex:top a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "materials"@en .
ex:ivory a skos:Concept ; skos:inScheme ex:s ; skos:broader ex:top ; skos:prefLabel "ivory"@en .
ex:ivory-colour a skos:Concept ; skos:inScheme ex:s ; skos:broader ex:top ;
    skos:prefLabel "ivory (colour)"@en , "ivoor"@nl .
ex:bone a skos:Concept ; skos:inScheme ex:s ; skos:broader ex:top ;
    skos:prefLabel "bone"@en ; skos:altLabel "ivoor"@nl .
ex:ebony a skos:Concept ; skos:inScheme ex:s ; skos:broader ex:top ; skos:prefLabel "ebony"@en ;
    skos:altLabel "ébène"@fr .
"""


@pytest.fixture(scope="module")
def small() -> LexicalEnricher:
    tree = LabelTree.from_vocabulary(read_skos(pyoxigraph.parse(AMBIGUOUS.encode("utf-8"), RdfFormat.TURTLE)))
    facet = Facet("materials", "http://example.org/f", {}, DCTERMS + "medium", roots=("http://example.org/v/top",))
    return LexicalEnricher({"materials": facet_tree(facet, {"v": tree}).index}, facets={"materials": facet})


def test_ambiguity_gives_several_weaker_suggestions(small: LexicalEnricher) -> None:
    ex = "http://example.org/v/"
    found = by_concept(small.enrich([view(values={DCTERMS + "medium": [("ivoor", "nl")]})]))
    assert set(found) == {ex + "ivory-colour", ex + "bone"}
    assert 0.3 < found[ex + "bone"].confidence < found[ex + "ivory-colour"].confidence < 0.9
    assert found[ex + "bone"].evidence == (
        'dcterms:medium "ivoor": span "ivoor" = altLabel "ivoor"@nl (1 of 2 concepts)',
    )
    # "ivory" is one concept exactly, and the other only without its qualifier: both, the exact one first.
    found = by_concept(small.enrich([view(values={DCTERMS + "medium": ["ivory"]})]))
    assert found[ex + "ivory"].confidence > found[ex + "ivory-colour"].confidence
    assert "(unqualified, 1 of 2 concepts)" in found[ex + "ivory-colour"].evidence[0]


def test_accents_and_other_languages_match(small: LexicalEnricher) -> None:
    found = by_concept(small.enrich([view(values={DCTERMS + "medium": [("EBENE", "fr")]})]))
    assert found["http://example.org/v/ebony"].confidence == 0.8
    assert found["http://example.org/v/ebony"].evidence[0].endswith('= altLabel "ébène"@fr')


def test_collections_and_guide_terms_are_never_suggested() -> None:
    # The starter vocabulary's facet roots are skos:Collections, not concepts.
    assert (
        LexicalEnricher(bundled_indexes("materials")).enrich([view(values={DCTERMS + "medium": ["materials"]})]) == []
    )
