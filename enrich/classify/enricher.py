"""The ``classify`` enricher: a trained model's heads (or its ensemble) turned into suggestions.

Configuration (``enrich run --enrichers classify`` with a config, or the REST runs API):

- ``model`` — the trained model: a directory, its ``card.yaml``, a directory name under
  ``{data_dir}/models``, or a model name (its most recent training);
- ``min_confidence`` (default 0.2) and ``top_k`` (default 5): per record and facet, the most probable
  concepts at or above the threshold, at most ``top_k``;
- ``ensemble`` (default true): use the ensemble fitted at training time when the model has one (heads +
  lexical on the model's text fields + CLIP zero-shot on the records' image vectors, by the fitted weights);
- ``facets``: a subset of the model's facets.

Features are read from the embedding cache for each batch (records without any vector get no suggestion:
run the ``embed`` enricher first). Confidence is the calibrated probability; because calibrated scores are
tree-consistent, the suggested concepts of a record, with what it already has, are closed under ancestors
within the label space (ties put parents first). The suggestions' model card is the trained model's: its
name and artefact hash, so provenance names the exact weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import numpy as np

from enrich.classify.artefact import TrainedClassifier, load
from enrich.classify.ensemble import ZeroShot, ensemble_probabilities, fitted_weights, members
from enrich.classify.features import CachedFeatures, FeatureProvider
from enrich.enrichers.base import Enricher, EnrichmentContext, RecordView
from enrich.ingest.errors import InputError
from enrich.suggestion import ModelCard, SuggestedValue, Suggestion
from enrich.vocab.facets import Facet, facet_tree
from enrich.vocab.tree import LabelTree

DEFAULT_MIN_CONFIDENCE = 0.2
DEFAULT_TOP_K = 5


class ClassifyEnricher(Enricher):
    name = "classify"
    version = "1"
    needs_context = True
    uses_accelerator = True

    def __init__(
        self,
        model: TrainedClassifier,
        provider: FeatureProvider,
        *,
        facets: dict[str, tuple[Facet, LabelTree]],
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        top_k: int = DEFAULT_TOP_K,
        ensemble: bool = True,
        data_dir: str | None = None,
    ) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            raise InputError("min_confidence", f"must be in [0, 1], not {min_confidence}")
        if top_k < 1:
            raise InputError("top_k", f"must be at least 1, not {top_k}")
        self.model = model
        self.provider = provider
        self.facets = facets
        self.min_confidence = min_confidence
        self.top_k = top_k
        self.use_ensemble = ensemble
        self.zero_shot = ZeroShot(model.zero_shot, data_dir) if model.zero_shot else None
        self.reads = frozenset({facet.target_property for facet, _ in facets.values()} | set(model.text_fields))

    @classmethod
    def from_config(cls, **config: Any) -> Self:
        context = config.pop("context", None)
        if not isinstance(context, EnrichmentContext):
            raise TypeError("the classify enricher needs context=EnrichmentContext (runs pass it)")
        reference = config.pop("model", None)
        if not reference:
            raise InputError("model", "name the trained model (a name, directory or card) in the enricher's config")
        wanted = config.pop("facets", None)
        unknown = sorted(set(config) - {"min_confidence", "top_k", "ensemble"})
        if unknown:
            raise InputError(", ".join(unknown), "unknown setting(s) of the classify enricher")
        model = load(str(reference), context.settings.data_dir)
        facet_ids = list(wanted) if wanted else sorted(model.heads)
        facets: dict[str, tuple[Facet, LabelTree]] = {}
        for facet_id in facet_ids:
            if facet_id not in model.heads:
                raise InputError(facet_id, f"the model has no head for this facet (it has: {', '.join(model.heads)})")
            facet = context.facets[facet_id]
            facets[facet_id] = (facet, facet_tree(facet, context.trees))
        provider = CachedFeatures(context.settings.data_dir, model.sources)
        return cls(model, provider, facets=facets, data_dir=context.settings.data_dir, **config)

    def settings(self) -> dict[str, Any]:
        return {
            "model": self.model.name,
            "hash": self.model.hash,
            "facets": sorted(self.facets),
            "min_confidence": self.min_confidence,
            "top_k": self.top_k,
            "ensemble": self.use_ensemble,
        }

    def model_card(self) -> ModelCard:
        return self.model.model_card()

    def enrich(self, records: Sequence[RecordView]) -> list[Suggestion]:
        if not records:
            return []
        features, present = self.provider.features([r.record_id for r in records])
        keep = np.flatnonzero(present.any(axis=1))
        if keep.size == 0:
            return []
        kept = [records[int(i)] for i in keep]
        inputs = {name: matrix[keep] for name, matrix in features.items()}
        card = self.model_card()
        out: list[Suggestion] = []
        for facet_id, (facet, tree) in sorted(self.facets.items()):
            head = self.model.heads[facet_id]
            probs = head.probabilities(inputs)
            how = f"{head.calibrator.method} calibration"
            fitted = self.model.ensemble.get(facet_id) if self.use_ensemble else None
            if fitted:
                weights = fitted_weights(fitted)
                scores = members(
                    probs, head.space, facet, tree, kept, inputs, self.model.text_fields, self.zero_shot, weights
                )
                probs = ensemble_probabilities(scores, fitted, head.space.parents)
                how = "ensemble " + " + ".join(f"{k} x {v:g}" for k, v in sorted(weights.items()) if v)
            for row, record in enumerate(kept):
                out += self._suggestions(record, facet, head.space.concepts, head.space.depths, probs[row], card, how)
        return out

    def _suggestions(
        self,
        record: RecordView,
        facet: Facet,
        concepts: Sequence[str],
        depths: Sequence[int],
        probs: np.ndarray,
        card: ModelCard,
        how: str,
    ) -> list[Suggestion]:
        present = record.present(facet.target_property)
        ranked = sorted(
            (i for i in range(len(concepts)) if probs[i] >= self.min_confidence and concepts[i] not in present),
            key=lambda i: (-float(probs[i]), depths[i], concepts[i]),
        )[: self.top_k]
        sources = ", ".join(source.name for source in self.model.sources)
        return [
            Suggestion(
                record_id=record.record_id,
                subject=record.cho,
                predicate=facet.target_property,
                value=SuggestedValue(concepts[i]),
                facet=facet.id,
                confidence=round(min(1.0, max(0.0, float(probs[i]))), 4),
                enricher=self.name,
                model=card,
                evidence=(
                    f"classifier {self.model.name} ({self.model.hash}): p={float(probs[i]):.3f}, {how}; "
                    f"features {sources}",
                ),
            )
            for i in ranked
        ]
