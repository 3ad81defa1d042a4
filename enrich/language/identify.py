"""Offline language identification of short catalogue texts: py3langid's model, overruled by script where the
script decides (Hangul → Korean, kana → Japanese), and no verdict on texts too short to judge.

py3langid ships its model in the wheel (nothing is downloaded); it gives ISO 639-1 codes where they exist.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from enrich.enrichers.base import FieldValue, RecordView
from enrich.language.scripts import HANGUL, HANJA, KANA, MINOR_SHARE, ScriptProfile, script_profile

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Fewer weighted letters than this: no verdict (a word or two says little about a language).
MIN_LETTERS = 12
#: A Hangul syllable, a Hanja or a kana carries about as much as a short Latin word: each counts this much.
CJK_WEIGHT = 3
#: A declared tag is contradicted only by a verdict at least this sure.
CONTRADICTION_CONFIDENCE = 0.8
#: Tags that say nothing about the language of the text.
UNUSABLE_TAGS = frozenset({"", "und", "mul", "zxx", "mis"})
#: Sinitic languages the model tells apart by vocabulary; catalogue Hanja is not Cantonese or Wu, so their
#: probabilities are added into ``zh``.
SINITIC = frozenset({"zh", "yue", "wuu"})

_lock = threading.Lock()
_identifier: Any = None


def _model() -> Any:
    """py3langid's identifier with normalised probabilities, loaded once (about 0.5 s) and shared."""
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


@dataclass(frozen=True, slots=True)
class Identification:
    """A verdict: ``language`` is an ISO 639 code, or ``None`` when the text is too short (``reason`` says so)."""

    language: str | None
    confidence: float
    script: str
    reason: str

    def __iter__(self) -> Any:  # unpacks as (language, confidence), the shape callers mostly want
        return iter((self.language, self.confidence))


def weighted_letters(profile: ScriptProfile) -> int:
    return profile.latin + profile.other + CJK_WEIGHT * (profile.hangul + profile.hanja + profile.kana)


def identify(text: str, min_letters: int = MIN_LETTERS) -> Identification:
    """The language of ``text`` with a confidence in [0, 1] and the script it is written in."""
    profile = script_profile(text)
    script = profile.label
    if weighted_letters(profile) < min_letters:
        return Identification(None, 0.0, script, f"too short ({profile.letters} letters)")
    if profile.share(HANGUL) >= MINOR_SHARE:
        # Only Korean is written in Hangul; mixed Hangul+Hanja is classical or older Korean, whatever the
        # identifier thinks of the ideographs. Confidence: the share of letters in Korean scripts.
        return Identification("ko", profile.share(HANGUL) + profile.share(HANJA), script, "Hangul script")
    if profile.share(KANA) >= MINOR_SHARE:
        return Identification("ja", profile.share(KANA) + profile.share(HANJA), script, "kana script")
    ranked: Sequence[tuple[str, float]] = _model().rank(text)
    scores: dict[str, float] = {}
    for code, probability in ranked:
        key = "zh" if code in SINITIC else code
        scores[key] = scores.get(key, 0.0) + float(probability)
    language = max(scores, key=lambda code: scores[code])
    return Identification(language, min(1.0, scores[language]), script, "py3langid")


def primary_subtag(tag: str | None) -> str:
    return (tag or "").split("-")[0].lower()


def usable_tag(tag: str | None) -> bool:
    return primary_subtag(tag) not in UNUSABLE_TAGS


def tag_contradicted(tag: str | None, found: Identification, threshold: float = CONTRADICTION_CONFIDENCE) -> bool:
    """Whether a sure verdict names another language than the declared tag (``en`` on Korean text).

    Pure Hanja tagged ``ko`` or ``ja`` is not contradicted: Korean and Japanese records write names and classical
    text in ideographs the identifier can only call Chinese.
    """
    if not usable_tag(tag) or found.language is None or found.confidence < threshold:
        return False
    declared = primary_subtag(tag)
    if declared in SINITIC:
        declared = "zh"
    if found.script == HANJA and declared in {"ko", "ja"}:
        return False
    return declared != found.language


class LiteralLanguage(NamedTuple):
    """A literal whose language had to be found: where it is, the verdict, and the script."""

    predicate: str
    value: FieldValue
    language: str
    confidence: float
    script: str


def literal_languages(
    view: RecordView,
    fields: Collection[str] | None = None,
    *,
    min_letters: int = MIN_LETTERS,
    threshold: float = CONTRADICTION_CONFIDENCE,
) -> list[LiteralLanguage]:
    """The literals of ``view`` (on ``fields``, or every predicate) with no usable language tag or a tag the
    text contradicts, each with its detected language. Literals too short for a verdict are left out, and so
    are those whose tag stands."""
    found: list[LiteralLanguage] = []
    for predicate in sorted(fields if fields is not None else view.values):
        for value in view.literals(predicate):
            verdict = identify(value.text, min_letters)
            if verdict.language is None:
                continue
            if not usable_tag(value.language) or tag_contradicted(value.language, verdict, threshold):
                found.append(LiteralLanguage(predicate, value, verdict.language, verdict.confidence, verdict.script))
    return found
