"""The Suggestion value: what enrichers may return."""

from __future__ import annotations

import pytest

from enrich.suggestion import ModelCard, SuggestedValue, Suggestion, suggestion_id

CARD = ModelCard("lexical", "1")


def _suggestion(value: SuggestedValue, confidence: float = 0.5) -> Suggestion:
    return Suggestion(
        "r1",
        "http://x.example/cho 1",
        "http://purl.org/dc/terms/medium",
        value,
        "materials",
        confidence,
        "lexical",
        CARD,
    )


def test_identity_is_the_triple() -> None:
    concept = SuggestedValue("http://vocab.getty.edu/aat/300010797")
    a, b = _suggestion(concept, 0.2), _suggestion(concept, 0.9)
    assert a.suggestion_id == b.suggestion_id == suggestion_id(a.subject, a.predicate, concept)
    literal = SuggestedValue("http://vocab.getty.edu/aat/300010797", is_iri=False, language="en")
    assert _suggestion(literal).suggestion_id != a.suggestion_id


@pytest.mark.parametrize(
    ("value", "confidence", "message"),
    [
        (SuggestedValue("urn:x"), 1.5, "confidence"),
        (SuggestedValue("urn:x"), float("nan"), "confidence"),
    ],
)
def test_confidence_is_a_probability(value: SuggestedValue, confidence: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _suggestion(value, confidence)


def test_values_are_checked() -> None:
    with pytest.raises(ValueError, match="empty"):
        SuggestedValue("")
    with pytest.raises(ValueError, match="no language tag"):
        SuggestedValue("urn:x", language="en")
    with pytest.raises(ValueError, match="not a language tag"):
        SuggestedValue("text", is_iri=False, language="en us")
    with pytest.raises(ValueError, match="needs a language tag"):
        _suggestion(SuggestedValue("a description", is_iri=False))
    assert SuggestedValue("청자", is_iri=False, language="ko-Hang").key() == '"청자"@ko-hang'
