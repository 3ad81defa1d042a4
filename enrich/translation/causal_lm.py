"""Instruction-tuned decoder LLMs through ``AutoModelForCausalLM``: the card's prompt (``extra.prompt``, else
:data:`~enrich.translation.prompts.DEFAULT_PROMPT`) in the tokenizer's chat template, greedy decoding, and
the reply as the translation. Such a model reads any source language, so ``supports`` only checks the
card's optional ``extra.source_languages`` / ``extra.target_languages`` lists.
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
    sequence_confidences,
    unavailable,
)
from enrich.translation.prompts import DEFAULT_PROMPT, render
from enrich.translation.seq2seq import _languages


class CausalLMTranslator(Translator):
    def __init__(self, spec: ModelSpec) -> None:
        prompt = spec.extra.get("prompt", DEFAULT_PROMPT)
        if not isinstance(prompt, str) or "{text}" not in prompt:
            raise InputError(spec.name, "extra.prompt must be text with a {text} placeholder")
        self.prompt = prompt
        self.system = spec.extra.get("system")
        self.sources = _languages(spec, "source_languages")
        self.targets = _languages(spec, "target_languages")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder, revision = model_folder(spec)
        self.where = placement(spec)
        try:
            self.tokenizer: Any = AutoTokenizer.from_pretrained(folder, revision=revision)
            model: Any = AutoModelForCausalLM.from_pretrained(folder, revision=revision, dtype=self.where.dtype)
        except (OSError, ValueError) as exc:
            raise unavailable(spec, exc) from exc
        if not getattr(self.tokenizer, "chat_template", None):
            raise InputError(spec.name, "the tokenizer has no chat template (a causal-lm card needs an instruct model)")
        # Left padding: every prompt in a batch then ends where generation starts.
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = model.to(self.where.device).eval()
        self._spec = spec
        self._dim = int(getattr(self.model.config, "hidden_size", 0) or 1)
        self.max_tokens = max_tokens(spec)
        self.settings = generation_settings(spec) | {"pad_token_id": self.tokenizer.pad_token_id}

    def supports(self, source: str, target: str) -> bool:
        source, target = base_language(source), base_language(target)
        return (not self.sources or source in self.sources) and (not self.targets or target in self.targets)

    def messages(self, text: str, source: str, target: str) -> list[dict[str, str]]:
        turns = [{"role": "system", "content": str(self.system)}] if self.system else []
        return [*turns, {"role": "user", "content": render(self.prompt, text, source, target)}]

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[Translation]:
        import torch

        if not texts:
            return []
        if not self.supports(source, target):
            raise InputError(self._spec.name, f"the card does not translate {source} into {target}")
        prompts = [
            self.tokenizer.apply_chat_template(
                self.messages(text, source, target), tokenize=False, add_generation_prompt=True
            )
            for text in texts
        ]
        batch = self.tokenizer(
            prompts,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.max_tokens,
            add_special_tokens=False,
        ).to(self.where.device)
        with torch.inference_mode():
            out = self.model.generate(**batch, **self.settings)
            scores = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
        self.generate_calls += 1
        generated = out.sequences[:, batch["input_ids"].shape[1] :]
        confidences = sequence_confidences(scores, generated, eos_ids(self.model, self.tokenizer))
        decoded = self.tokenizer.batch_decode(generated, skip_special_tokens=True)
        return [Translation(text.strip(), conf) for text, conf in zip(decoded, confidences, strict=True)]


__all__ = ["CausalLMTranslator"]
