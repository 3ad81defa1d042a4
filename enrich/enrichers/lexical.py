"""Lexical enricher: record field values ↔ facet vocabulary labels (all languages, normalised).

Each configured field of a record is cut into segments (at ``; , | . ! ? :`` and line breaks), folded
word by word (:func:`enrich.vocab.labels.fold`) and spotted against the facet's label index: windows of
up to ``index.max_words`` words, longest first, non-overlapping, the last word also tried in the English
singular. A span's confidence is

    quality(match, label kind) * context(field kind, whole or inside) * shortness penalty * share

where ``share`` splits the span among its k candidate concepts by quality (ambiguity gives several
weaker suggestions, not silence). The same concept found through several fields combines as a noisy-OR.
Concepts the record already has on the facet's target property are not suggested again; guide terms are
not in the index, so they are never suggested.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Self

from enrich.enrichers.base import Enricher, RecordView
from enrich.namespaces import DC, DCTERMS, EDM, SKOS, Graphs
from enrich.store.base import Store
from enrich.suggestion import ModelCard, SuggestedValue, Suggestion
from enrich.vocab.facets import Facet, facet_tree, get_facet, load_facets
from enrich.vocab.labels import Candidate, LabelIndex, LabelKind, MatchKind, fold, singular_forms

#: Fields read per facet when the configuration names none: the facet's own property first.
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "materials": (DCTERMS + "medium", DC + "format", DC + "description", DC + "title"),
    "object-types": (DC + "type", DC + "title", DC + "description"),
    "subjects": (DC + "subject", DC + "title", DCTERMS + "alternative", DC + "description"),
    "disciplines": (DC + "subject", DC + "type"),
    "styles-periods": (DCTERMS + "temporal", DC + "title", DC + "description"),
    "korean-periods": (DCTERMS + "temporal", DC + "title", DC + "description"),
    "korean-materials": (DCTERMS + "medium", DC + "title", DC + "description"),
    "korean-lifestyle": (DC + "subject", DC + "type", DC + "title", DC + "description"),
}
#: How good a match is, by how it was reached: exact preferred > alternative > singular > unqualified.
QUALITY: dict[tuple[MatchKind, LabelKind], float] = {
    ("exact", "pref"): 0.90,
    ("exact", "alt"): 0.80,
    ("singular", "pref"): 0.72,
    ("singular", "alt"): 0.66,
    ("unqualified", "pref"): 0.60,
    ("unqualified", "alt"): 0.55,
}
#: How telling the place of a match is: (field kind, span is the whole value/segment) → factor.
CONTEXT: dict[tuple[str, bool], float] = {
    ("controlled", True): 1.00,
    ("controlled", False): 0.85,
    ("title", True): 0.85,
    ("title", False): 0.70,
    ("description", True): 0.80,
    ("description", False): 0.55,
}
_FIELD_KIND = {DC + "title": "title", DCTERMS + "alternative": "title", DC + "description": "description"}
#: Labels that are also everyday words in descriptions: a match on them alone says little.
_STOP_WORDS = (
    "a an and at by for from in of on the to with set sets top base part parts side back front body cover "
    "form type style group piece work works object objects item items other unknown various mixed general"
)
STOP_LABELS = frozenset(_STOP_WORDS.split())
SHORT_PENALTY = 0.6
_ORDER: dict[MatchKind, int] = {"exact": 0, "singular": 1, "unqualified": 2}
_SEGMENT = re.compile(r"[;,|.!?:\n]+")
_WORD = re.compile(r"\w+")
_CURIES = {DC: "dc:", DCTERMS: "dcterms:", EDM: "edm:", SKOS: "skos:"}


@dataclass(frozen=True, slots=True)
class Spot:
    """A span of one field value that names one or more concepts."""

    start: int  # character offsets in the (NFC) value
    end: int
    whole: bool
    key: str
    candidates: tuple[tuple[Candidate, MatchKind], ...]  # with the effective match kind


def _tokens(segment: str, offset: int) -> list[tuple[str, int, int]]:
    """Folded words of a segment with the character span of the raw word each came from."""
    out = []
    for match in _WORD.finditer(segment):
        for part in fold(match.group()).split():
            out.append((part, offset + match.start(), offset + match.end()))
    return out


@lru_cache(maxsize=65536)
def _singulars(word: str) -> tuple[str, ...]:
    return tuple(singular_forms(word))


@lru_cache(maxsize=8192)
def _segments(value: str) -> tuple[tuple[tuple[str, int, int], ...], ...]:
    """The tokens of each non-empty segment of a value (cached: every facet reads the same fields)."""
    text = unicodedata.normalize("NFC", value)
    segments = []
    position = 0
    for piece in _SEGMENT.split(text):
        found = text.find(piece, position)
        tokens = _tokens(piece, found)
        position = found + len(piece)
        if tokens:
            segments.append(tuple(tokens))
    return tuple(segments)


@lru_cache(maxsize=8192)
def _windows(words: tuple[str, ...], max_words: int) -> tuple[tuple[int, int, tuple[tuple[str, bool], ...]], ...]:
    """(width, start, probe keys) of every window, widest first: each facet probes the same keys."""
    out = []
    for width in range(min(max_words, len(words)), 0, -1):
        for start in range(len(words) - width + 1):
            window = words[start : start + width]
            keys = [(" ".join(window), False)]
            for form in _singulars(window[-1]):
                keys.append((" ".join([*window[:-1], form]), True))
            out.append((width, start, tuple(keys)))
    return tuple(out)


def _window_candidates(index: LabelIndex, keys: tuple[tuple[str, bool], ...]) -> list[tuple[Candidate, MatchKind]]:
    """Candidates of a window's probe keys, one per concept (best first); a match reached through the
    window's singular counts as at best a singular match."""
    if not any(index.has_key(probe) for probe, _ in keys):
        return []
    best: dict[str, tuple[Candidate, MatchKind]] = {}
    for probe, derived in keys:
        for candidate in index.lookup_key(probe):
            kind: MatchKind = candidate.match
            if derived and _ORDER[kind] < _ORDER["singular"]:
                kind = "singular"
            rank = (_ORDER[kind], 0 if candidate.label_kind == "pref" else 1)
            held = best.get(candidate.concept)
            if held is None or rank < (_ORDER[held[1]], 0 if held[0].label_kind == "pref" else 1):
                best[candidate.concept] = (candidate, kind)
    return sorted(best.values(), key=lambda ck: (_ORDER[ck[1]], ck[0].label_kind != "pref", ck[0].concept))


def spot(index: LabelIndex, value: str, controlled: bool = True) -> list[Spot]:
    """Non-overlapping label spans in one field value, longest first, in text order.

    ``whole`` is set when the span is a whole segment of a controlled field, or the whole value of free
    text.
    """
    segments = _segments(value)
    spots: list[Spot] = []
    for tokens in segments:
        words = tuple(word for word, _, _ in tokens)
        claimed = [False] * len(words)
        for width, start, keys in _windows(words, index.max_words):
            if any(claimed[start : start + width]):
                continue
            candidates = _window_candidates(index, keys)
            if not candidates:
                continue
            claimed[start : start + width] = [True] * width
            covers = width == len(words) and (controlled or len(segments) == 1)
            spots.append(
                Spot(
                    tokens[start][1],
                    tokens[start + width - 1][2],
                    covers,
                    " ".join(words[start : start + width]),
                    tuple(candidates),
                )
            )
    return sorted(spots, key=lambda s: s.start)


def _curie(iri: str) -> str:
    for namespace, prefix in _CURIES.items():
        if iri.startswith(namespace):
            return prefix + iri.removeprefix(namespace)
    return f"<{iri}>"


def _excerpt(value: str, start: int, end: int, room: int = 30) -> str:
    """The value for evidence: whole when short, else the span with some context either side."""
    value = unicodedata.normalize("NFC", value)
    if len(value) <= 2 * room + (end - start) + 2:
        return value
    left, right = max(0, start - room), min(len(value), end + room)
    return ("…" if left else "") + value[left:right].strip() + ("…" if right < len(value) else "")


def evidence_text(predicate: str, value: str, spot_: Spot, candidate: Candidate, kind: MatchKind, k: int) -> str:
    """E.g. ``dcterms:medium "oil on canvas": span "canvas" = prefLabel "canvas"@en``."""
    text = unicodedata.normalize("NFC", value)
    language = f"@{candidate.language}" if candidate.language else ""
    label = f'{candidate.label_kind}Label "{candidate.label}"{language}'
    notes: list[str] = [] if kind == "exact" else [kind]
    if k > 1:
        notes.append(f"1 of {k} concepts")
    suffix = f" ({', '.join(notes)})" if notes else ""
    span = text[spot_.start : spot_.end]
    return f'{_curie(predicate)} "{_excerpt(value, spot_.start, spot_.end)}": span "{span}" = {label}{suffix}'


class LexicalEnricher(Enricher):
    name = "lexical"
    version = "1"

    def __init__(
        self,
        indexes: Mapping[str, LabelIndex],
        *,
        facets: Mapping[str, Facet] | None = None,
        fields: Mapping[str, Sequence[str]] | None = None,
        min_confidence: float = 0.05,
        vocabulary: str = "",
    ) -> None:
        known = facets if facets is not None else load_facets()
        self.facets = {facet_id: get_facet(known, facet_id) for facet_id in sorted(indexes)}
        self.indexes = dict(indexes)
        configured = fields or {}
        self.fields: dict[str, tuple[str, ...]] = {
            facet_id: tuple(
                configured.get(facet_id)
                or DEFAULT_FIELDS.get(facet_id)
                or (facet.target_property, DC + "title", DC + "description")
            )
            for facet_id, facet in self.facets.items()
        }
        self.min_confidence = min_confidence
        self.vocabulary = vocabulary
        self.reads = frozenset(
            {p for ps in self.fields.values() for p in ps} | {f.target_property for f in self.facets.values()}
        )

    @classmethod
    def from_store(cls, store: Store, graphs: Graphs, facet_ids: Sequence[str] | None = None, **options: Any) -> Self:
        """Indexes of the given facets (default: every facet with concepts in the store's vocabularies)."""
        from enrich.vocab.loader import read_trees

        facets = load_facets()
        trees = read_trees(store, graphs)
        indexes = {}
        for facet_id in facet_ids if facet_ids is not None else sorted(facets):
            tree = facet_tree(get_facet(facets, facet_id), trees)
            if facet_ids is not None or any(node.selectable for node in tree.nodes.values()):
                indexes[facet_id] = tree.index
        options.setdefault("vocabulary", ",".join(sorted(trees)))
        return cls(indexes, facets=facets, **options)

    @classmethod
    def from_config(cls, **config: Any) -> Self:
        """Either ``indexes=`` (facet id → LabelIndex) or ``store=`` and ``graphs=`` (and ``facet_ids=``)."""
        if "indexes" in config:
            return cls(**config)
        if "store" not in config or "graphs" not in config:
            raise TypeError("the lexical enricher needs indexes=…, or store=… and graphs=…")
        return cls.from_store(**config)

    def settings(self) -> dict[str, Any]:
        return {
            "facets": {
                facet_id: {
                    "target": facet.target_property,
                    "fields": list(self.fields[facet_id]),
                    "keys": len(self.indexes[facet_id]),
                }
                for facet_id, facet in self.facets.items()
            },
            "min_confidence": self.min_confidence,
            "vocabulary": self.vocabulary,
            "quality": {f"{m}/{k}": q for (m, k), q in QUALITY.items()},
            "context": {f"{f}/{w}": c for (f, w), c in CONTEXT.items()},
            "stop_labels": sorted(STOP_LABELS),
        }

    def enrich(self, records: Sequence[RecordView]) -> list[Suggestion]:
        card = self.model_card()
        out: list[Suggestion] = []
        for record in records:
            for facet in self.facets.values():
                out += self._facet_suggestions(record, facet, card)
        return out

    def _facet_suggestions(self, record: RecordView, facet: Facet, card: ModelCard) -> list[Suggestion]:
        index = self.indexes[facet.id]
        present = record.present(facet.target_property)
        # concept → (confidences by (field, span key), evidence)
        found: dict[str, tuple[dict[tuple[str, str], float], list[str]]] = {}
        for predicate in self.fields[facet.id]:
            kind = _FIELD_KIND.get(predicate, "controlled")
            for value in record.literals(predicate):
                for spot_ in spot(index, value.text, controlled=kind == "controlled"):
                    self._score_spot(found, present, predicate, kind, value.text, spot_)
        suggestions = []
        for concept, (scores, evidence) in found.items():
            miss = 1.0
            for score in scores.values():
                miss *= 1.0 - score
            confidence = round(min(0.99, 1.0 - miss), 4)
            if confidence < self.min_confidence:
                continue
            suggestions.append(
                Suggestion(
                    record_id=record.record_id,
                    subject=record.cho,
                    predicate=facet.target_property,
                    value=SuggestedValue(concept),
                    facet=facet.id,
                    confidence=confidence,
                    enricher=self.name,
                    model=card,
                    evidence=tuple(evidence),
                )
            )
        return sorted(suggestions, key=lambda s: (-s.confidence, s.value.value))

    @staticmethod
    def _score_spot(
        found: dict[str, tuple[dict[tuple[str, str], float], list[str]]],
        present: frozenset[str],
        predicate: str,
        kind: str,
        value: str,
        spot_: Spot,
    ) -> None:
        qualities = [QUALITY[(match, candidate.label_kind)] for candidate, match in spot_.candidates]
        total = sum(qualities)
        k = len(spot_.candidates)
        context = CONTEXT[(kind, spot_.whole)]
        short = spot_.key in STOP_LABELS or (spot_.key.isascii() and len(spot_.key) <= 3)
        for (candidate, match), quality in zip(spot_.candidates, qualities, strict=True):
            if candidate.concept in present:
                continue
            score = quality * context * (SHORT_PENALTY if short else 1.0) * (quality / total)
            scores, evidence = found.setdefault(candidate.concept, ({}, []))
            slot = (predicate, spot_.key)
            if score > scores.get(slot, 0.0):
                if slot not in scores:
                    evidence.append(evidence_text(predicate, value, spot_, candidate, match, k))
                scores[slot] = score
