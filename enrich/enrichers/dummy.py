"""A deterministic enricher for tests of the pipeline, API and CLI without any model.

Every record gets one suggestion: a fixed concept on a fixed property, with a confidence derived from a
hash of the record id (the same record always gets the same number), unless the record already has it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from enrich.enrichers.base import Enricher, RecordView
from enrich.namespaces import DC
from enrich.suggestion import SuggestedValue, Suggestion

#: aat:300041620 is the object type the DESIGN §4 example uses.
DEFAULT_CONCEPT = "http://vocab.getty.edu/aat/300041620"


class DummyEnricher(Enricher):
    name = "dummy"

    def __init__(
        self,
        concept: str = DEFAULT_CONCEPT,
        predicate: str = DC + "type",
        facet: str = "object-types",
    ) -> None:
        self.concept = concept
        self.predicate = predicate
        self.facet = facet
        self.reads = (predicate,)

    def settings(self) -> dict[str, Any]:
        return {"concept": self.concept, "predicate": self.predicate, "facet": self.facet}

    @staticmethod
    def confidence(record_id: str) -> float:
        """A number in [0.05, 0.95] that only depends on the record id."""
        digest = int.from_bytes(hashlib.sha256(record_id.encode("utf-8")).digest()[:4], "big")
        return round(0.05 + 0.9 * digest / 0xFFFFFFFF, 4)

    def enrich(self, records: Sequence[RecordView]) -> list[Suggestion]:
        card = self.model_card()
        value = SuggestedValue(self.concept)
        return [
            Suggestion(
                record_id=record.record_id,
                subject=record.cho,
                predicate=self.predicate,
                value=value,
                facet=self.facet,
                confidence=self.confidence(record.record_id),
                enricher=self.name,
                model=card,
                evidence=(f"dummy: fixed concept for record {record.record_id}",),
            )
            for record in records
            if self.concept not in record.present(self.predicate)
        ]
