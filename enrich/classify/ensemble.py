"""Ensembles per facet: a weighted mean of members' scores, weights fitted on the validation records.

Members (each a records x concepts matrix over the facet's label space):

- ``heads`` — the trained heads' calibrated probabilities;
- ``lexical`` — the lexical enricher's confidences on the same text fields (a match on a concept is
  evidence for its ancestors too, so parents take their best child's score);
- ``zero-shot`` — CLIP prompt scores per concept from the records' image vectors, when a CLIP card's image
  vectors are among the features (:func:`enrich.similarity.zero_shot.zero_shot_matrix`; records without an
  image score 0).

The weights are searched on a grid over the simplex (steps of 0.1) for the best validation mAP (ties: more
weight on the heads); the mixed scores are made tree-consistent (min over the path) and calibrated with
an isotonic map fitted on the same validation records, since a mix of probabilities is not one.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from enrich.classify.calibrate import Calibrator, fit_isotonic
from enrich.classify.dataset import LabelSpace
from enrich.classify.hierarchy import path_minimum, propagate_up
from enrich.classify.metrics import mean_average_precision
from enrich.enrichers.base import FieldValue, RecordView
from enrich.vocab.facets import Facet
from enrich.vocab.tree import LabelTree

MEMBERS = ("heads", "lexical", "zero-shot")
GRID_STEPS = 10


def text_only(view: RecordView, fields: Sequence[str]) -> RecordView:
    """The view with only the literals of ``fields``: the lexical member must not see (and so skip) the
    concepts a record already has, which are what it is evaluated against."""
    values: dict[str, list[FieldValue]] = {
        field: [v for v in view.values.get(field, ()) if not v.is_iri] for field in fields if field in view.values
    }
    return RecordView(view.record_id, view.cho, values)


def lexical_scores(
    views: Sequence[RecordView], space: LabelSpace, facet: Facet, tree: LabelTree, fields: Sequence[str]
) -> np.ndarray:
    """The lexical enricher's confidences as a records x concepts matrix (0 where it found nothing)."""
    from enrich.enrichers.lexical import LexicalEnricher

    lexical = LexicalEnricher(
        {facet.id: tree.index}, facets={facet.id: facet}, fields={facet.id: list(fields)}, min_confidence=0.0
    )
    rows = {view.record_id: i for i, view in enumerate(views)}
    columns = space.index
    out = np.zeros((len(views), len(space)), dtype=np.float32)
    for suggestion in lexical.enrich([text_only(view, fields) for view in views]):
        column = columns.get(suggestion.value.value)
        if column is not None:
            out[rows[suggestion.record_id], column] = max(
                out[rows[suggestion.record_id], column], suggestion.confidence
            )
    return propagate_up(out, space.parents)


@dataclass(frozen=True)
class ZeroShot:
    """The zero-shot member: a CLIP card (as its JSON) whose image vectors are among the features."""

    card: Mapping[str, Any]
    data_dir: str | None = None  # the prompt vectors' cache (``{data_dir}/embeddings``)

    @property
    def source(self) -> str:
        """The feature source holding the records' image vectors."""
        return f"{self.card['name']}:image"

    def scores(
        self, space: LabelSpace, facet: Facet, tree: LabelTree, features: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        from enrich.embeddings import EmbeddingCache, embeddings_root
        from enrich.models.cards import ModelSpec
        from enrich.models.encoders import load_text_encoder
        from enrich.similarity.zero_shot import zero_shot_matrix

        images = features[self.source]
        out = np.zeros((len(images), len(space)), dtype=np.float32)
        has_image = np.linalg.norm(images, axis=1) > 0  # a record without an image has a zero row
        if has_image.any():
            encoder = load_text_encoder(ModelSpec.from_mapping(self.card, "zero-shot card"))
            cache = EmbeddingCache(embeddings_root(self.data_dir)) if self.data_dir else None
            concepts, scores = zero_shot_matrix(encoder, tree, images[has_image], facet.id, cache=cache)
            columns = space.index
            for j, iri in enumerate(concepts):
                if iri in columns:
                    out[has_image, columns[iri]] = scores[:, j]
        return out


def members(
    heads: np.ndarray,
    space: LabelSpace,
    facet: Facet,
    tree: LabelTree,
    views: Sequence[RecordView],
    features: Mapping[str, np.ndarray],
    text_fields: Sequence[str],
    zero_shot: ZeroShot | None = None,
    wanted: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Every member's scores for the same records (``views`` and ``features`` rows in one order); with
    ``wanted`` (fitted weights), only the members that weigh something."""

    def needed(name: str) -> bool:
        return wanted is None or wanted.get(name, 0.0) > 0.0

    out = {"heads": heads}
    if text_fields and needed("lexical"):
        out["lexical"] = lexical_scores(views, space, facet, tree, text_fields)
    if zero_shot is not None and zero_shot.source in features and needed("zero-shot"):
        out["zero-shot"] = zero_shot.scores(space, facet, tree, features)
    return out


def _grid(n: int) -> list[tuple[float, ...]]:
    """Weight vectors on the simplex in steps of 1/GRID_STEPS, the first member's weight descending."""
    points = [
        tuple(k / GRID_STEPS for k in combo)
        for combo in itertools.product(range(GRID_STEPS + 1), repeat=n)
        if sum(combo) == GRID_STEPS
    ]
    return sorted(points, key=lambda p: tuple(-w for w in p))


def combine(members: Mapping[str, np.ndarray], weights: Mapping[str, float], parents: Sequence[int]) -> np.ndarray:
    """Σ weight · scores over the members, made tree-consistent."""
    total = sum(weights.get(name, 0.0) * scores for name, scores in members.items())
    return path_minimum(np.asarray(total, dtype=np.float32), parents)


def fit_weights(scores: Mapping[str, np.ndarray], targets: np.ndarray, parents: Sequence[int]) -> dict[str, float]:
    """The grid point with the best validation mAP (members in :data:`MEMBERS` order, heads first)."""
    names = [name for name in MEMBERS if name in scores] + sorted(set(scores) - set(MEMBERS))
    best: tuple[float, dict[str, float]] = (-1.0, {})
    for point in _grid(len(names)):
        weights = dict(zip(names, point, strict=True))
        score = mean_average_precision(combine(scores, weights, parents), targets)
        if score > best[0] + 1e-9:
            best = (score, weights)
    return best[1]


def fit_ensemble(
    scores: Mapping[str, np.ndarray], targets: np.ndarray, mask: np.ndarray, parents: Sequence[int]
) -> dict[str, object]:
    """Weights and the isotonic calibration of the mix, both from the validation records."""
    known = mask.min(axis=1) > 0.5  # ranking needs records whose labels are all known
    weights = fit_weights({k: v[known] for k, v in scores.items()}, targets[known], parents)
    thresholds, values = fit_isotonic(combine(scores, weights, parents), targets, mask)
    return {"weights": weights, "calibration": Calibrator("isotonic", 1.0, thresholds, values).as_json()}


def fitted_weights(fitted: Mapping[str, object]) -> dict[str, float]:
    weights = fitted["weights"]
    assert isinstance(weights, Mapping)
    return {str(k): float(v) for k, v in weights.items()}


def ensemble_probabilities(
    scores: Mapping[str, np.ndarray], fitted: Mapping[str, object], parents: Sequence[int]
) -> np.ndarray:
    calibration = fitted["calibration"]
    assert isinstance(calibration, Mapping)
    mixed = combine(scores, fitted_weights(fitted), parents)
    return Calibrator.from_json(calibration).map_probabilities(mixed)
