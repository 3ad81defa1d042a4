"""The ``language`` enricher: ``dc:language`` for TEXT records that lack it, from the languages of their texts.

It writes nothing else; the per-literal verdicts are what other enrichers (translation) read through
:func:`enrich.language.literal_languages`.

The value: EDM wants an ISO 639 code as a plain literal, but a literal suggestion must carry a language tag
(it says what the text is), so the code is written as ``"ko"@zxx`` — BCP 47 ``zxx``, "no linguistic content",
is the honest tag for a code. (A plain or ``xsd:language`` literal needs the suggestion model and the writer's
language rule to accept it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from enrich.embeddings.texts import DEFAULT_TEXT_FIELDS
from enrich.enrichers.base import Enricher, RecordView
from enrich.ingest.errors import InputError
from enrich.language.identify import MIN_LETTERS, identify, tag_contradicted, usable_tag, weighted_letters
from enrich.language.scripts import script_profile
from enrich.namespaces import DC, EDM
from enrich.suggestion import SuggestedValue, Suggestion

#: The tag of a suggested language code (see the module docstring).
CODE_TAG = "zxx"
#: Below this the record's language is not suggested.
DEFAULT_MIN_CONFIDENCE = 0.5
FACET = "language"


class LanguageEnricher(Enricher):
    name = "language"
    version = "1"

    def __init__(
        self,
        fields: Sequence[str] | str = DEFAULT_TEXT_FIELDS,
        min_confidence: float | str = DEFAULT_MIN_CONFIDENCE,
        min_letters: int | str = MIN_LETTERS,
    ) -> None:
        # --set language.fields=a,b and numbers arrive as strings from the command line.
        self.fields = (
            tuple(f.strip() for f in fields.split(",") if f.strip()) if isinstance(fields, str) else tuple(fields)
        )
        try:
            self.min_confidence = float(min_confidence)
            self.min_letters = int(min_letters)
        except ValueError as exc:
            raise InputError("language", f"min_confidence and min_letters must be numbers ({exc})") from None
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InputError("language.min_confidence", f"must be in [0, 1], not {self.min_confidence}")
        if self.min_letters < 1:
            raise InputError("language.min_letters", f"must be at least 1, not {self.min_letters}")
        if not self.fields:
            raise InputError("language.fields", "name at least one field (predicate IRI)")
        self.reads = (*self.fields, EDM + "type", DC + "language")

    @classmethod
    def from_config(cls, **config: Any) -> Self:
        unknown = sorted(set(config) - {"fields", "min_confidence", "min_letters"})
        if unknown:
            raise InputError(", ".join(unknown), "unknown setting(s) of the language enricher")
        return cls(**config)

    def settings(self) -> dict[str, Any]:
        return {"fields": list(self.fields), "min_confidence": self.min_confidence, "min_letters": self.min_letters}

    def enrich(self, records: Sequence[RecordView]) -> list[Suggestion]:
        card = self.model_card()
        out: list[Suggestion] = []
        for record in records:
            if not _is_text(record) or record.values.get(DC + "language"):
                continue
            verdict = self.record_language(record)
            if verdict is None:
                continue
            language, confidence, evidence = verdict
            if confidence < self.min_confidence:
                continue
            out.append(
                Suggestion(
                    record_id=record.record_id,
                    subject=record.cho,
                    predicate=DC + "language",
                    value=SuggestedValue(language, is_iri=False, language=CODE_TAG),
                    facet=FACET,
                    confidence=round(confidence, 4),
                    enricher=self.name,
                    model=card,
                    evidence=tuple(evidence),
                )
            )
        return out

    def record_language(self, record: RecordView) -> tuple[str, float, list[str]] | None:
        """The record's language from its literals: each votes for its language (a sound declared tag, else
        the identifier's verdict) with its weighted letter count times its confidence. Confidence is the
        winner's share of all votes; the evidence names the literals that voted for it."""
        votes: dict[str, float] = {}
        weight_total = 0.0
        evidence: dict[str, list[str]] = {}
        for predicate in self.fields:
            for value in record.literals(predicate):
                found = identify(value.text, self.min_letters)
                weight = float(weighted_letters(script_profile(value.text)))
                if usable_tag(value.language) and not tag_contradicted(value.language, found):
                    language, sureness, how = (value.language or "").split("-")[0].lower(), 1.0, "declared tag"
                elif found.language is not None:
                    language, sureness, how = found.language, found.confidence, f"identified, {found.script} script"
                else:
                    continue
                votes[language] = votes.get(language, 0.0) + weight * sureness
                weight_total += weight
                short = value.text if len(value.text) <= 60 else value.text[:57] + "..."
                evidence.setdefault(language, []).append(
                    f"{predicate} {short!r}: {language} ({how}, confidence {sureness:.2f})"
                )
        if not votes or weight_total == 0:
            return None
        best = max(votes, key=lambda code: votes[code])
        return best, min(1.0, votes[best] / weight_total), evidence[best]


def _is_text(record: RecordView) -> bool:
    return any(value.text.strip().upper() == "TEXT" for value in record.values.get(EDM + "type", ()))
