"""The interface both backends share, and the confidence they both compute.

Confidence is the length-normalised sequence probability: exp(mean log-probability of the generated
tokens, end-of-sequence included, padding after it left out). It is in (0, 1], comparable across lengths,
and the per-language thresholds of the enricher are read against it.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from enrich.ingest.errors import InputError
from enrich.models.cards import ModelSpec
from enrich.models.runtime import LoadedModel, ModelUnavailable, local_dir, placement, split_revision, unavailable

if TYPE_CHECKING:
    import torch

#: Tokens generated per text unless the card's ``preprocessing.max_new_tokens`` says otherwise.
DEFAULT_MAX_NEW_TOKENS = 256
#: Tokens of source text fed to the model (``preprocessing.max_tokens``); longer text is cut.
DEFAULT_MAX_TOKENS = 512


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    confidence: float


class Translator(LoadedModel, ABC):
    """Texts in one source language → their translations into the target, in order."""

    #: How many times :meth:`translate` called ``generate()`` (the cache tests read it).
    generate_calls: int = 0

    @abstractmethod
    def supports(self, source: str, target: str) -> bool:
        """Whether the model can translate from ``source`` into ``target`` (ISO 639-1 tags)."""

    @abstractmethod
    def translate(self, texts: Sequence[str], source: str, target: str) -> list[Translation]:
        """One greedy translation per text (deterministic for a given model and input)."""


def base_language(tag: str) -> str:
    """``ko-Kore`` → ``ko``: models know languages, not regional or script subtags."""
    return tag.lower().split("-")[0]


def model_folder(spec: ModelSpec) -> tuple[str, str | None]:
    """What ``from_pretrained`` gets for the card's source: a folder, or a hub id with its revision."""
    if spec.scheme == "local-dir":
        return str(local_dir(spec)), None
    if spec.scheme == "hf-hub":
        return split_revision(spec.location)
    raise ModelUnavailable(spec.name, f"a translation card needs a local-dir: or hf-hub: source, not {spec.source}")


@contextmanager
def quiet_loading() -> Iterator[None]:
    # MarianTokenizer recommends sacremoses with a UserWarning; it only normalises punctuation, and the
    # warning would otherwise surface in every run (and fail tests that treat warnings as errors).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
        yield


def sequence_confidences(scores: torch.Tensor, generated: torch.Tensor, eos_ids: Sequence[int]) -> list[float]:
    """exp(mean log-prob) per row over the generated tokens up to and including the first end-of-sequence.

    ``scores`` are ``compute_transition_scores(..., normalize_logits=True)``, aligned with ``generated``.
    """
    import torch

    is_end = torch.zeros_like(generated, dtype=torch.bool)
    for eos in eos_ids:
        is_end |= generated == eos
    # A token counts while no end-of-sequence came before it (the first EOS itself counts).
    ended_before = (torch.cumsum(is_end.int(), dim=1) - is_end.int()) > 0
    keep = ~ended_before
    log_probs = torch.where(keep, scores.float(), torch.zeros_like(scores, dtype=torch.float32))
    counts = keep.sum(dim=1).clamp(min=1)
    means = log_probs.sum(dim=1) / counts
    return [min(1.0, max(math.exp(m), 1e-12)) for m in means.tolist()]


def eos_ids(model: Any, tokenizer: Any | None = None) -> list[int]:
    """The model's end-of-sequence ids (a generation config may list several, e.g. chat models' end-of-turn)."""
    value = model.generation_config.eos_token_id
    ids = [value] if isinstance(value, int) else list(value or [])
    if tokenizer is not None and tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return sorted(set(ids))


def generation_settings(spec: ModelSpec) -> dict[str, Any]:
    """Greedy decoding (reproducible) with the card's length limit."""
    max_new = spec.preprocessing.get("max_new_tokens", DEFAULT_MAX_NEW_TOKENS)
    if not isinstance(max_new, int) or isinstance(max_new, bool) or max_new < 1:
        raise InputError(spec.name, f"preprocessing.max_new_tokens must be a positive integer, not {max_new!r}")
    return {
        "max_new_tokens": max_new,
        "do_sample": False,
        "num_beams": 1,
        "output_scores": True,
        "return_dict_in_generate": True,
    }


def max_tokens(spec: ModelSpec) -> int:
    value = spec.preprocessing.get("max_tokens", DEFAULT_MAX_TOKENS)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(spec.name, f"preprocessing.max_tokens must be a positive integer, not {value!r}")
    return value


def load_translator(spec: ModelSpec) -> Translator:
    """The backend the card names (``extra.backend``), loaded onto the card's device."""
    if spec.kind != "translation":
        raise InputError(spec.name, f"a {spec.kind} card does not translate (kind: translation)")
    backend = spec.extra.get("backend", "seq2seq")
    if backend == "seq2seq":
        from enrich.translation.seq2seq import Seq2SeqTranslator

        return Seq2SeqTranslator(spec)
    if backend == "causal-lm":
        from enrich.translation.causal_lm import CausalLMTranslator

        return CausalLMTranslator(spec)
    raise InputError(spec.name, f"extra.backend must be seq2seq or causal-lm, not {backend!r}")


__all__ = [
    "Translation",
    "Translator",
    "base_language",
    "eos_ids",
    "generation_settings",
    "load_translator",
    "max_tokens",
    "model_folder",
    "placement",
    "quiet_loading",
    "sequence_confidences",
    "unavailable",
]
