"""The ``translate`` enricher: record text in other languages → suggested translations into the target.

Configuration (``enrich run --enrichers translate --set translate.key=value``):

``card``        a ``kind: translation`` card, bundled name or path (default ``opus-mt-ko-en``)
``fields``      predicates to translate (IRIs or ``dc:title``-style names; default titles, descriptions,
                subjects and materials)
``target``      the language to translate into (default ``en``)
``threshold``   confidence below which nothing is suggested (default 0.3); ``thresholds`` overrides it per
                source language (``{"ko": 0.4}``)
``batch_size``  texts per ``generate()`` call (default the card's)
``glossary``    a glossary (bundled name such as ``korean-museum``, or a YAML path) whose terms are protected
                (seq2seq: placeholders restored afterwards; causal LM: the English term written into the
                prompt) and recorded as evidence; a term the model loses lowers the confidence

A literal's language is its tag; an untagged literal gets one from :func:`enrich.language.identify` (too
short to judge: left alone). Literals already in the target language are skipped, and so is
a field that already has a value in the target language (it has its translation). Each suggestion is the
same predicate with the translation tagged with the target language; its evidence names the source literal
and its language, and the glossary terms found in it.

Models load when the enricher is built (a card that cannot load stops the run before anything is written).
Translations are cached by (card hash, source language, target language, text) under
``{data_dir}/translations/``: a re-run, or the same text in another record, generates nothing again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from enrich.embeddings.texts import expand_field
from enrich.enrichers.base import Enricher, EnrichmentContext, RecordView
from enrich.ingest.errors import InputError
from enrich.language import identify
from enrich.language.glossary import Glossary, GlossaryMatch, Mode, apply, load_glossary, restore
from enrich.models.cards import ModelSpec, load_spec
from enrich.namespaces import DC, DCTERMS
from enrich.suggestion import SuggestedValue, Suggestion
from enrich.translation import translations_root
from enrich.translation.base import Translation, Translator, base_language, load_translator
from enrich.translation.cache import TranslationCache

DEFAULT_CARD = "opus-mt-ko-en"
DEFAULT_FIELDS: tuple[str, ...] = (DC + "title", DC + "description", DC + "subject", DCTERMS + "medium")
DEFAULT_THRESHOLD = 0.3
#: The facet id translation suggestions are filed under (they are literals: no vocabulary applies).
FACET = "translation"
#: Source texts longer than this are not translated (descriptions of whole catalogues are not titles).
MAX_SOURCE_CHARS = 4000
_SETTINGS = frozenset({"context", "card", "fields", "target", "threshold", "thresholds", "batch_size", "glossary"})


@dataclass(frozen=True, slots=True)
class _Item:
    record_id: str
    subject: str
    predicate: str
    text: str
    language: str


def _number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError("translate", f"{name} must be a number in [0, 1], not {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise InputError("translate", f"{name} must be in [0, 1], not {value!r}")
    return number


class TranslateEnricher(Enricher):
    name = "translate"
    version = "1"
    needs_context = True
    uses_accelerator = True

    def __init__(
        self,
        context: EnrichmentContext,
        card: str | ModelSpec = DEFAULT_CARD,
        fields: Sequence[str] = DEFAULT_FIELDS,
        target: str = "en",
        threshold: float = DEFAULT_THRESHOLD,
        thresholds: Mapping[str, float] | None = None,
        batch_size: int | None = None,
        glossary: str | Glossary | None = None,
        translator: Translator | None = None,
    ) -> None:
        self.spec = card if isinstance(card, ModelSpec) else load_spec(card)
        if isinstance(fields, str):
            fields = [fields]
        try:
            self.fields = tuple(expand_field(f) for f in fields)
        except ValueError as exc:
            raise InputError("translate", str(exc)) from None
        if not self.fields:
            raise InputError("translate", "name at least one field to translate")
        if not isinstance(target, str) or not target.strip():
            raise InputError("translate", f"target must be a language tag, not {target!r}")
        self.target = base_language(target)
        self.threshold = _number("threshold", threshold)
        if thresholds is not None and not isinstance(thresholds, Mapping):
            raise InputError("translate", "thresholds must map a language tag to a number")
        self.thresholds = {base_language(k): _number(f"thresholds.{k}", v) for k, v in (thresholds or {}).items()}
        size = self.spec.batch_size if batch_size is None else batch_size
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise InputError("translate", f"batch_size must be a positive whole number, not {batch_size!r}")
        self.batch_size = size
        self.glossary = load_glossary(glossary) if isinstance(glossary, str) else glossary
        # An MT model copies a placeholder through and the English term goes in afterwards; an instruction
        # LLM reads the English term in the prompt itself.
        self.glossary_mode: Mode = "replace" if self.spec.extra.get("backend") == "causal-lm" else "placeholder"
        self.translator = translator if translator is not None else load_translator(self.spec)
        self.cache = TranslationCache(translations_root(context.settings.data_dir))
        self.reads = frozenset(self.fields)
        self.generated = 0  # texts this enricher sent to the model (the rest came from the cache)

    @classmethod
    def from_config(cls, **config: Any) -> Self:
        unknown = sorted(set(config) - _SETTINGS)
        if unknown:
            raise InputError(
                "translate",
                f"unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(_SETTINGS - {'context'}))})",
            )
        return cls(**config)

    def settings(self) -> dict[str, Any]:
        return {
            "card": self.spec.name,
            "card_hash": self.spec.hash,
            "fields": list(self.fields),
            "target": self.target,
            "threshold": self.threshold,
            "thresholds": dict(sorted(self.thresholds.items())),
            "glossary": None if self.glossary is None else f"{self.glossary.name}:{self.glossary.hash}",
        }

    def threshold_for(self, language: str) -> float:
        return self.thresholds.get(language, self.threshold)

    def _items(self, records: Sequence[RecordView]) -> list[_Item]:
        items: list[_Item] = []
        for view in records:
            for predicate in self.fields:
                literals = view.literals(predicate)
                if any(base_language(v.language or "") == self.target for v in literals):
                    continue  # the field already says it in the target language
                for value in literals:
                    text = value.text.strip()
                    if not text or len(text) > MAX_SOURCE_CHARS:
                        continue
                    language = base_language(value.language) if value.language else None
                    if language is None:  # untagged: ask the identifier (no verdict on very short text)
                        guessed = identify(text).language
                        language = base_language(guessed) if guessed else None
                    if language is None or language == self.target:
                        continue
                    items.append(_Item(view.record_id, view.cho, predicate, text, language))
        return items

    def translations(self, texts: Sequence[str], language: str) -> dict[str, Translation]:
        """Translations of ``texts`` from ``language``: cached ones, the rest generated (shortest first, so a
        batch pads little) and cached."""
        card = self.spec.hash
        done = self.cache.get(card, language, self.target, texts)
        todo = sorted({t for t in texts if t not in done}, key=lambda t: (len(t), t))
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            made = dict(zip(chunk, self.translator.translate(chunk, language, self.target), strict=True))
            self.generated += len(chunk)
            self.cache.put(card, language, self.target, made)
            done.update(made)
        return done

    def _glossary_input(self, text: str, language: str) -> tuple[str, list[GlossaryMatch]]:
        """The text the model reads: glossary terms swapped out when the glossary is for this pair."""
        glossary = self.glossary
        if glossary is None or base_language(glossary.source_language) != language:
            return text, []
        if base_language(glossary.target_language) != self.target:
            return text, []
        return apply(text, glossary, self.glossary_mode)

    def enrich(self, records: Sequence[RecordView]) -> list[Suggestion]:
        by_language: dict[str, list[_Item]] = {}
        for item in self._items(records):
            by_language.setdefault(item.language, []).append(item)
        card = self.model_card()
        out: list[Suggestion] = []
        for language, items in sorted(by_language.items()):
            if not self.translator.supports(language, self.target):
                continue
            inputs = {item.text: self._glossary_input(item.text, language) for item in items}
            # The cache is keyed by what the model read, so a glossary edit never reuses a stale output.
            done = self.translations([model_input for model_input, _ in inputs.values()], language)
            floor = self.threshold_for(language)
            for item in items:
                model_input, matches = inputs[item.text]
                translation = done[model_input]
                result, confidence = translation.text, translation.confidence
                if matches and self.glossary_mode == "placeholder":
                    result, lost = restore(result, matches)
                    # A term the model dropped is a term missing from the translation: trust it less.
                    confidence *= 1.0 - len(lost) / len(matches)
                if confidence < floor or not result.strip() or result == item.text:
                    continue
                evidence = [f"translated from {language}: {item.text}"]
                if self.glossary is not None:
                    evidence += list(dict.fromkeys(match.evidence(self.glossary) for match in matches))
                out.append(
                    Suggestion(
                        record_id=item.record_id,
                        subject=item.subject,
                        predicate=item.predicate,
                        value=SuggestedValue(result.strip(), is_iri=False, language=self.target),
                        facet=FACET,
                        confidence=max(0.0, min(1.0, confidence)),
                        enricher=self.name,
                        model=card,
                        evidence=tuple(evidence),
                    )
                )
        return out


__all__ = ["DEFAULT_CARD", "DEFAULT_FIELDS", "FACET", "TranslateEnricher"]
