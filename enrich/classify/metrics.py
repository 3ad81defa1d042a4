"""Evaluation metrics for one facet: EUFCC-340K's ranking metrics, mAP and F1.

Each record's concepts are ranked by score (highest first; ties keep the label space's tree order). With
``G`` the record's ground-truth concepts (ancestor-closed, within the label space) and ``R = |G|``, over the
``N`` records that have at least one ground-truth concept:

- **R-Precision** = (1/N) Σ |top-R ∩ G| / R — precision at R (Manning, Raghavan & Schütze, *Introduction to
  Information Retrieval*, §8.4), the first metric of EUFCC-340K's tables;
- **Acc@k** = (1/N) Σ [top-k ∩ G ≠ ∅] — whether a right concept is among the first k (k = 1 and 10);
- **AvgRankPos** = (1/N) Σ (1/R) Σ_{g ∈ G} rank(g) — where the right concepts sit in the ranking, 1-based
  (lower is better);
- **mAP** = mean over concepts with a positive record of the average precision of the records ranked by that
  concept's score (AP = mean over the positive records of the precision at their rank);
- **micro / macro F1** of the predicted sets (score ≥ threshold; tree-consistent scores make every such
  set closed under ancestors), macro over the concepts with a positive record.

EUFCC-340K (Net et al., 2024, arXiv:2406.02380; github.com/cesc47/EUFCC-340K) reports R-Precision, Acc@1,
Acc@10 and AvgRP per model on its in-domain and out-of-domain ("outer") test sets, AvgRP lower is better.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

#: The ranking metrics' k for "Acc@10".
TOP_K = 10
THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class FacetMetrics:
    r_precision: float
    acc_at_1: float
    acc_at_10: float
    avg_rank_position: float
    mean_average_precision: float
    micro_f1: float
    macro_f1: float
    records: int
    concepts: int

    def as_json(self) -> dict[str, float | int]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


#: Column titles of the metrics table, in order (name in ``FacetMetrics`` → header).
HEADERS = {
    "r_precision": "R-Prec",
    "acc_at_1": "Acc@1",
    "acc_at_10": "Acc@10",
    "avg_rank_position": "AvgRP",
    "mean_average_precision": "mAP",
    "micro_f1": "µF1",
    "macro_f1": "MF1",
}


def rankings(scores: np.ndarray) -> np.ndarray:
    """Per row, the columns from highest to lowest score (stable: ties keep column order)."""
    return np.argsort(-scores, axis=1, kind="stable")


def ranking_metrics(scores: np.ndarray, targets: np.ndarray, k: int = TOP_K) -> dict[str, float]:
    """R-Precision, Acc@1, Acc@k and AvgRankPos over the rows with at least one positive."""
    rows = np.flatnonzero(targets.sum(axis=1) > 0)
    if rows.size == 0:
        return {"r_precision": 0.0, "acc_at_1": 0.0, "acc_at_10": 0.0, "avg_rank_position": 0.0}
    order = rankings(scores[rows])
    relevant = np.take_along_axis(targets[rows] > 0.5, order, axis=1)  # relevance in rank order
    r = relevant.sum(axis=1)
    hits_at_r = np.array([relevant[i, : r[i]].sum() for i in range(len(rows))])
    positions = np.arange(1, scores.shape[1] + 1)
    mean_rank = (relevant * positions).sum(axis=1) / r
    return {
        "r_precision": float(np.mean(hits_at_r / r)),
        "acc_at_1": float(np.mean(relevant[:, 0])),
        "acc_at_10": float(np.mean(relevant[:, :k].any(axis=1))),
        "avg_rank_position": float(np.mean(mean_rank)),
    }


def average_precision(scores: np.ndarray, targets: np.ndarray) -> float:
    """AP of one concept: records ranked by its score (stable), mean precision at each positive's rank."""
    positives = targets > 0.5
    if not positives.any():
        return 0.0
    order = np.argsort(-scores, kind="stable")
    hits = positives[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def mean_average_precision(scores: np.ndarray, targets: np.ndarray) -> float:
    columns = [c for c in range(scores.shape[1]) if (targets[:, c] > 0.5).any()]
    if not columns:
        return 0.0
    return float(np.mean([average_precision(scores[:, c], targets[:, c]) for c in columns]))


def f1_scores(scores: np.ndarray, targets: np.ndarray, threshold: float = THRESHOLD) -> tuple[float, float]:
    """(micro F1, macro F1 over the concepts with a positive) of the sets ``score >= threshold``."""
    predicted = scores >= threshold
    actual = targets > 0.5
    tp = (predicted & actual).sum(axis=0).astype(np.float64)
    fp = (predicted & ~actual).sum(axis=0).astype(np.float64)
    fn = (~predicted & actual).sum(axis=0).astype(np.float64)
    denominator = 2 * tp.sum() + fp.sum() + fn.sum()
    micro = float(2 * tp.sum() / denominator) if denominator else 0.0
    columns = actual.any(axis=0)
    if not columns.any():
        return micro, 0.0
    per_concept = np.where((2 * tp + fp + fn) > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1.0), 0.0)
    return micro, float(per_concept[columns].mean())


def facet_metrics(scores: np.ndarray, targets: np.ndarray, threshold: float = THRESHOLD) -> FacetMetrics:
    """Every metric over the records with at least one positive (rows without any are left out)."""
    rows = targets.sum(axis=1) > 0
    scores, targets = scores[rows], targets[rows]
    ranking = ranking_metrics(scores, targets)
    micro, macro = f1_scores(scores, targets, threshold)
    return FacetMetrics(
        r_precision=ranking["r_precision"],
        acc_at_1=ranking["acc_at_1"],
        acc_at_10=ranking["acc_at_10"],
        avg_rank_position=ranking["avg_rank_position"],
        mean_average_precision=mean_average_precision(scores, targets),
        micro_f1=micro,
        macro_f1=macro,
        records=int(rows.sum()),
        concepts=int(scores.shape[1]),
    )
