"""``enrich evaluate`` as a function: a trained model's heads on its test sets, next to a TF-IDF baseline
trained on the same training records in the same call, the lexical enricher alone and the ensemble.

Every method is scored on the same records (the test records with features and labels), with the metrics of
:mod:`enrich.classify.metrics`; the heads' expected calibration error is reported before and after
calibration, with the reliability bins for the diagram.

With ``by_image_source`` (``enrich evaluate --by-image-source``) each test set is also split by where the
records' image vectors come from, for the model's CLIP image sources: ``real-image`` (a vector of a real
image), ``generated-image`` (no real image, but a vector of an image generated from the text) and
``text-only`` (neither), each scored like ``all``. The generated-image records are scored with their
generated vector in place of the missing real one (issue 7: generated images feed classification, flagged so
that their results can be read apart); without the option nothing changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from enrich.classify.artefact import TrainedClassifier
from enrich.classify.baseline import TfidfBaseline, record_texts
from enrich.classify.calibrate import ReliabilityBin, expected_calibration_error, reliability
from enrich.classify.dataset import read_examples
from enrich.classify.ensemble import ensemble_probabilities
from enrich.classify.features import FeatureProvider, FeatureSource
from enrich.classify.metrics import HEADERS, FacetMetrics, facet_metrics
from enrich.classify.pipeline import facet_trees, member_scores
from enrich.classify.train import FacetData, facet_data
from enrich.embeddings.cache import GENERATED_IMAGE
from enrich.ingest.errors import InputError
from enrich.namespaces import Graphs
from enrich.store.base import Store

METHODS = ("heads", "tfidf-baseline", "lexical", "zero-shot", "ensemble")
IMAGE_SOURCES = ("real-image", "generated-image", "text-only")


@dataclass(frozen=True, slots=True)
class EvaluationRow:
    facet: str
    test_set: str
    method: str
    metrics: FacetMetrics
    ece: float | None = None
    ece_uncalibrated: float | None = None
    #: "all", or with ``by_image_source`` one of :data:`IMAGE_SOURCES`
    image_source: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"facet": self.facet, "test_set": self.test_set, "method": self.method}
        if self.image_source is not None:
            data["image_source"] = self.image_source
        data.update(self.metrics.as_json())
        if self.ece is not None:
            data["ece"] = round(self.ece, 6)
        if self.ece_uncalibrated is not None:
            data["ece_uncalibrated"] = round(self.ece_uncalibrated, 6)
        return data


@dataclass
class Evaluation:
    model: str
    model_hash: str
    rows: list[EvaluationRow] = field(default_factory=list)
    #: "facet / test set" → {"uncalibrated": bins, "calibrated": bins}
    reliability: dict[str, dict[str, list[ReliabilityBin]]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "model_hash": self.model_hash,
            "rows": [row.as_json() for row in self.rows],
            "reliability": {
                key: {kind: [vars_of(b) for b in bins] for kind, bins in diagram.items()}
                for key, diagram in self.reliability.items()
            },
        }

    def table(self) -> str:
        """A Markdown table: one line per facet, test set and method."""
        split = any(row.image_source is not None for row in self.rows)
        head = ["facet", "test set", *(["images"] if split else []), "method", "records"]
        head += [*HEADERS.values(), "ECE uncal.", "ECE"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in self.rows:
            m = row.metrics
            values = [getattr(m, key) for key in HEADERS]
            cells = [row.facet, row.test_set, *([row.image_source or "all"] if split else []), row.method]
            cells.append(str(m.records))
            cells += [
                f"{v:.2f}" if key == "avg_rank_position" else f"{v:.3f}" for key, v in zip(HEADERS, values, strict=True)
            ]
            cells += [f"{e:.4f}" if e is not None else "" for e in (row.ece_uncalibrated, row.ece)]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def vars_of(item: ReliabilityBin) -> dict[str, float | int]:
    return {
        "low": item.low,
        "high": item.high,
        "confidence": item.confidence,
        "positive_rate": item.positive_rate,
        "count": item.count,
    }


def evaluate_model(
    model: TrainedClassifier,
    store: Store,
    graphs: Graphs,
    provider: FeatureProvider,
    test_sets: Sequence[str] | None = None,
    baseline: bool = True,
    data_dir: str | None = None,
    generated: FeatureProvider | None = None,
) -> Evaluation:
    """Score the model's heads (and the baseline, the other members, the ensemble) on its chosen test sets.

    ``generated`` (the generated-image vectors of the model's image sources, see :func:`generated_sources`)
    turns on the split by image source: rows per group beside ``all``, image features from generated images
    where a record has no real one."""
    from enrich.vocab.loader import read_trees

    available = model.split.test_sets()
    wanted = list(test_sets) if test_sets else available
    for name in wanted:
        if name not in available:
            hint = " (train with --split outer to hold out providers)" if name == "outer" else ""
            raise InputError("--split", f"the model has no {name} test set{hint}; it has: {', '.join(available)}")
    facets = facet_trees(store, graphs, sorted(model.heads))
    trees = read_trees(store, graphs)  # concept labels in the text, as the embed enricher writes them
    parts = {name: model.split.parts[name] for name in ("train", *wanted)}
    examples = read_examples(store, graphs, facets, record_ids=sorted({rid for p in parts.values() for rid in p}))
    evaluation = Evaluation(model.name, model.hash)
    if generated is not None:
        provider = _WithGenerated(provider, generated)
    for facet_id, head in sorted(model.heads.items()):
        facet, tree = facets[facet_id]
        tfidf: TfidfBaseline | None = None
        if baseline and model.text_fields:
            train = facet_data(examples[facet_id], model.split.train, head.space, provider, tree)
            train_texts = record_texts(store, graphs, train.record_ids, model.text_fields, trees)
            tfidf = TfidfBaseline(head.space.parents).fit(train_texts, train.targets, train.mask)
        for test_set in wanted:
            test = facet_data(examples[facet_id], parts[test_set], head.space, provider, tree)
            if not len(test):
                continue
            texts = record_texts(store, graphs, test.record_ids, model.text_fields, trees) if tfidf else []
            baseline_scores = tfidf.predict(texts) if tfidf else None
            first = len(evaluation.rows)
            scored = _score(evaluation, model, facet_id, test_set, test, baseline_scores)
            scores = member_scores(store, graphs, model, facet, tree, test, scored, data_dir)
            _add_members(evaluation, model, facet_id, test_set, test, scores)
            if isinstance(provider, _WithGenerated):
                evaluation.rows[first:] = [replace(row, image_source="all") for row in evaluation.rows[first:]]
                groups = provider.groups(test.record_ids)
                for group in IMAGE_SOURCES:
                    picked = np.flatnonzero(groups == group)
                    if not len(picked):
                        continue
                    part = _subset(test, picked)
                    start = len(evaluation.rows)
                    base = baseline_scores[picked] if baseline_scores is not None else None
                    _score(evaluation, model, facet_id, test_set, part, base, f" / {group}")
                    _add_members(evaluation, model, facet_id, test_set, part, {k: v[picked] for k, v in scores.items()})
                    evaluation.rows[start:] = [replace(row, image_source=group) for row in evaluation.rows[start:]]
    return evaluation


def generated_sources(sources: Sequence[FeatureSource]) -> list[FeatureSource]:
    """The generated-image counterparts of a model's real-image sources (same card, same dimension)."""
    return [replace(s, modality=GENERATED_IMAGE) for s in sources if s.modality == "image"]


class _WithGenerated:
    """The model's features, with a record's generated-image vector standing in for a missing real one."""

    def __init__(self, real: FeatureProvider, generated: FeatureProvider) -> None:
        self._real = real
        self._generated = generated

    @property
    def sources(self) -> tuple[FeatureSource, ...]:
        return self._real.sources

    def _both(self, record_ids: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
        """The real features and presence, whether each record has a real and a generated image vector."""
        matrices, present = self._real.features(record_ids)
        images = [j for j, s in enumerate(self.sources) if s.modality == "image"]
        real = np.asarray(present[:, images].any(axis=1), dtype=bool)
        gen_matrices, gen_present = self._generated.features(record_ids)
        has_generated = np.asarray(gen_present.any(axis=1), dtype=bool)
        for j in images:
            source = self.sources[j]
            stand_in = (
                ~present[:, j]
                & gen_present[:, self._generated.sources.index(replace(source, modality=GENERATED_IMAGE))]
            )
            matrices[source.name][stand_in] = gen_matrices[f"{source.card}:{GENERATED_IMAGE}"][stand_in]
            present[stand_in, j] = True
        return matrices, present, real, np.asarray(has_generated & ~real, dtype=bool)

    def features(self, record_ids: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        matrices, present, _, _ = self._both(record_ids)
        return matrices, present

    def groups(self, record_ids: Sequence[str]) -> np.ndarray:
        """Per record, its group of :data:`IMAGE_SOURCES`."""
        _, _, real, generated = self._both(record_ids)
        return np.where(real, "real-image", np.where(generated, "generated-image", "text-only"))


def _subset(data: FacetData, picked: np.ndarray) -> FacetData:
    return FacetData(
        [data.record_ids[i] for i in picked],
        {name: m[picked] for name, m in data.features.items()},
        data.targets[picked],
        data.mask[picked],
    )


def _score(
    evaluation: Evaluation,
    model: TrainedClassifier,
    facet_id: str,
    test_set: str,
    test: FacetData,
    baseline_scores: np.ndarray | None,
    group: str = "",
) -> np.ndarray:
    """Rows and reliability bins of the heads (and the baseline); the heads' calibrated probabilities."""
    head = model.heads[facet_id]
    known = test.mask.min(axis=1) > 0.5  # ranking metrics need records whose labels are all known
    raw = head.probabilities(test.features, calibrated=False)
    calibrated = head.probabilities(test.features)
    evaluation.reliability[f"{facet_id} / {test_set}{group}"] = {
        "uncalibrated": reliability(raw, test.targets, test.mask),
        "calibrated": reliability(calibrated, test.targets, test.mask),
    }
    ece = expected_calibration_error(calibrated, test.targets, test.mask)
    ece_raw = expected_calibration_error(raw, test.targets, test.mask)
    metrics = facet_metrics(calibrated[known], test.targets[known])
    evaluation.rows.append(EvaluationRow(facet_id, test_set, "heads", metrics, ece, ece_raw))
    if baseline_scores is not None:
        metrics = facet_metrics(baseline_scores[known], test.targets[known])
        ece = expected_calibration_error(baseline_scores, test.targets, test.mask)
        evaluation.rows.append(EvaluationRow(facet_id, test_set, "tfidf-baseline", metrics, ece))
    return calibrated


def _add_members(
    evaluation: Evaluation,
    model: TrainedClassifier,
    facet_id: str,
    test_set: str,
    test: FacetData,
    scores: Mapping[str, np.ndarray],
) -> None:
    """Rows of each other ensemble member alone, and of the fitted ensemble."""
    known = test.mask.min(axis=1) > 0.5
    for name, member in sorted(scores.items()):
        if name != "heads":
            evaluation.rows.append(
                EvaluationRow(facet_id, test_set, name, facet_metrics(member[known], test.targets[known]))
            )
    fitted = model.ensemble.get(facet_id)
    if fitted:
        mixed = ensemble_probabilities(scores, fitted, model.heads[facet_id].space.parents)
        metrics = facet_metrics(mixed[known], test.targets[known])
        ece = expected_calibration_error(mixed, test.targets, test.mask)
        evaluation.rows.append(EvaluationRow(facet_id, test_set, "ensemble", metrics, ece))


def save_evaluation(evaluation: Evaluation, output: Path) -> list[Path]:
    """``metrics.json``, ``metrics.md`` and the PNG plots in ``output``; the paths written."""
    from enrich.classify.report import plot_reliability, plot_scores

    output.mkdir(parents=True, exist_ok=True)
    written = [output / "metrics.json", output / "metrics.md"]
    written[0].write_text(json.dumps(evaluation.as_json(), indent=2) + "\n", encoding="utf-8")
    written[1].write_text(evaluation.table() + "\n", encoding="utf-8")
    written.append(plot_scores(evaluation, output / "scores.png"))
    written.append(plot_reliability(evaluation, output / "reliability.png"))
    return written
