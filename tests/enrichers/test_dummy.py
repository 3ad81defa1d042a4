"""The dummy enricher: the same records always give the same suggestions."""

from __future__ import annotations

from enrich.enrichers.base import FieldValue
from enrich.enrichers.dummy import DEFAULT_CONCEPT, DummyEnricher
from enrich.namespaces import DC
from tests.enrichers.support import view


def test_deterministic_one_suggestion_per_record() -> None:
    records = [view(f"rec-{n}") for n in range(20)]
    first, second = DummyEnricher().enrich(records), DummyEnricher().enrich(list(records))
    assert first == second and len(first) == 20
    assert {s.record_id for s in first} == {r.record_id for r in records}
    confidences = [s.confidence for s in first]
    assert all(0.05 <= c <= 0.95 for c in confidences) and len(set(confidences)) > 10
    suggestion = first[0]
    assert suggestion.subject == records[0].cho and suggestion.predicate == DC + "type"
    assert suggestion.value.value == DEFAULT_CONCEPT and suggestion.facet == "object-types"
    assert suggestion.enricher == "dummy" and suggestion.model == DummyEnricher().model_card()


def test_a_concept_already_present_is_not_suggested() -> None:
    record = view(values={DC + "type": [FieldValue(DEFAULT_CONCEPT, is_iri=True)]})
    assert DummyEnricher().enrich([record]) == []
