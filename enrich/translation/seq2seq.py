"""Encoder-decoder translation models through ``AutoModelForSeq2SeqLM`` (transformers 5 has no translation
pipeline, so this calls ``generate()`` itself).

``extra.family`` says how languages are chosen:

``marian``   one model per language pair (Helsinki-NLP/opus-mt-*): ``extra.source_languages`` and
             ``extra.target_languages`` list what the card's model reads and writes.
``nllb``     one model, FLORES-200 codes (``kor_Hang``): the tokenizer's ``src_lang`` and the target code
             forced as the first generated token.
``m2m100``   the same with plain ISO 639-1 codes (``__ko__``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from enrich.ingest.errors import InputError
from enrich.models.cards import ModelSpec
from enrich.translation.base import (
    Translation,
    Translator,
    base_language,
    eos_ids,
    generation_settings,
    max_tokens,
    model_folder,
    placement,
    quiet_loading,
    sequence_confidences,
    unavailable,
)

#: ISO 639-1 → FLORES-200 code, for the languages our collections and their readers use.
NLLB_CODES = {
    "ko": "kor_Hang",
    "en": "eng_Latn",
    "ja": "jpn_Jpan",
    "zh": "zho_Hans",
    "fr": "fra_Latn",
    "de": "deu_Latn",
    "es": "spa_Latn",
    "it": "ita_Latn",
    "nl": "nld_Latn",
    "pt": "por_Latn",
    "ru": "rus_Cyrl",
}
FAMILIES = ("marian", "nllb", "m2m100")


def _languages(spec: ModelSpec, key: str) -> frozenset[str]:
    value = spec.extra.get(key, ())
    if isinstance(value, str):
        value = (value,)
    return frozenset(base_language(str(tag)) for tag in value)


class Seq2SeqTranslator(Translator):
    def __init__(self, spec: ModelSpec) -> None:
        self.family = str(spec.extra.get("family", "marian"))
        if self.family not in FAMILIES:
            raise InputError(spec.name, f"extra.family must be one of {', '.join(FAMILIES)}, not {self.family!r}")
        self.sources = _languages(spec, "source_languages")
        self.targets = _languages(spec, "target_languages")
        if self.family == "marian" and not (self.sources and self.targets):
            raise InputError(spec.name, "a marian card lists extra.source_languages and extra.target_languages")
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        folder, revision = model_folder(spec)
        self.where = placement(spec)
        try:
            with quiet_loading():
                self.tokenizer: Any = AutoTokenizer.from_pretrained(folder, revision=revision)
                model: Any = AutoModelForSeq2SeqLM.from_pretrained(folder, revision=revision, dtype=self.where.dtype)
        except (OSError, ValueError) as exc:
            raise unavailable(spec, exc) from exc
        self.model = model.to(self.where.device).eval()
        self._spec = spec
        self._dim = int(self.model.config.d_model)
        self.max_tokens = max_tokens(spec)
        self.settings = generation_settings(spec)

    def _code(self, language: str) -> str | None:
        if self.family == "nllb":
            return NLLB_CODES.get(language)
        return language

    def supports(self, source: str, target: str) -> bool:
        source, target = base_language(source), base_language(target)
        if self.sources and source not in self.sources:
            return False
        if self.targets and target not in self.targets:
            return False
        if self.family == "marian":
            return True
        codes = [self._code(source), self._code(target)]
        if self.family == "m2m100":
            codes = [f"__{code}__" for code in codes]
        unk = self.tokenizer.unk_token_id
        return all(code is not None and self.tokenizer.convert_tokens_to_ids(code) != unk for code in codes)

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[Translation]:
        import torch

        if not texts:
            return []
        if not self.supports(source, target):
            raise InputError(self._spec.name, f"the model does not translate {source} into {target}")
        extra: dict[str, Any] = {}
        if self.family != "marian":
            self.tokenizer.src_lang = self._code(base_language(source))
            target_code = self._code(base_language(target))
            token = f"__{target_code}__" if self.family == "m2m100" else target_code
            extra["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(token)
        batch = self.tokenizer(
            list(texts), return_tensors="pt", padding=True, truncation=True, max_length=self.max_tokens
        ).to(self.where.device)
        with torch.inference_mode():
            out = self.model.generate(**batch, **self.settings, **extra)
            scores = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
        self.generate_calls += 1
        # The decoder start token is given, not generated; so is NLLB/M2M100's forced target-language code,
        # whose probability of 1 would otherwise flatter every confidence.
        given = 1 if self.family == "marian" else 2
        generated = out.sequences[:, given:]
        scores = scores[:, given - 1 :]
        confidences = sequence_confidences(scores, generated, eos_ids(self.model, self.tokenizer))
        decoded = self.tokenizer.batch_decode(generated, skip_special_tokens=True)
        return [Translation(text.strip(), conf) for text, conf in zip(decoded, confidences, strict=True)]


__all__ = ["NLLB_CODES", "Seq2SeqTranslator"]
