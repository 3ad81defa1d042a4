"""Calibration per facet, fitted on the validation records, so that a suggestion's confidence is a probability.

- ``temperature``: logits divided by one T per facet before the hierarchy is applied, T chosen to minimise
  the validation log-loss (Guo et al. 2017, "On Calibration of Modern Neural Networks");
- ``isotonic``: a monotone map fitted on the validation probabilities (Zadrozny & Elkan 2002).

Both first take off the per-concept shift that the class-imbalance weighting put into the logits (a positive
weighted w moves the loss's optimum logit up by log w), then apply their map. Both maps are non-decreasing,
so a calibrated concept still never outscores its ancestors.

Reliability is reported as the expected calibration error (ECE) over every known (record, concept) pair:
the probabilities are put into equal-width bins and ECE = Σ_b (n_b / n) · |mean confidence_b - positive rate_b|.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from enrich.classify.hierarchy import HierarchyMode, compose

CalibrationMethod = Literal["none", "temperature", "isotonic"]
CALIBRATION_METHODS: tuple[CalibrationMethod, ...] = ("none", "temperature", "isotonic")
ECE_BINS = 15
_EPS = 1e-6


@dataclass(frozen=True)
class Calibrator:
    """Logits → calibrated, tree-consistent probabilities for one facet."""

    method: CalibrationMethod = "none"
    temperature: float = 1.0
    thresholds: tuple[float, ...] = ()
    values: tuple[float, ...] = ()
    #: Per concept, subtracted from the logits first: the log(pos_weight) shift of the weighted training loss.
    offsets: tuple[float, ...] = ()

    def probabilities(self, logits: np.ndarray, parents: Sequence[int], mode: HierarchyMode) -> np.ndarray:
        shifted = logits - np.asarray(self.offsets, dtype=np.float32) if self.offsets else logits
        probs = compose(shifted / self.temperature, parents, mode)
        return self.map_probabilities(probs)

    def map_probabilities(self, probs: np.ndarray) -> np.ndarray:
        """The isotonic map (identity for the other methods)."""
        if self.method != "isotonic" or not self.thresholds:
            return probs
        mapped = np.interp(probs, np.asarray(self.thresholds), np.asarray(self.values))
        return np.asarray(mapped, dtype=np.float32)

    def as_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "temperature": self.temperature,
            "thresholds": list(self.thresholds),
            "values": list(self.values),
            "offsets": list(self.offsets),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Calibrator:
        method = str(data.get("method", "none"))
        if method not in CALIBRATION_METHODS:
            raise ValueError(f"unknown calibration method {method!r}")
        thresholds = data.get("thresholds") or []
        values = data.get("values") or []
        offsets = data.get("offsets") or []
        assert isinstance(thresholds, list) and isinstance(values, list) and isinstance(offsets, list)
        return cls(
            method,
            float(str(data.get("temperature", 1.0))),
            tuple(float(x) for x in thresholds),
            tuple(float(y) for y in values),
            tuple(float(o) for o in offsets),
        )


def log_loss(probs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean binary log-loss over the known entries."""
    p = np.clip(probs.astype(np.float64), _EPS, 1.0 - _EPS)
    losses = -(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p))
    weights = np.ones_like(losses) if mask is None else mask.astype(np.float64)
    return float((losses * weights).sum() / max(weights.sum(), 1.0))


def fit_temperature(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray, parents: Sequence[int], mode: HierarchyMode
) -> float:
    """The T in [0.05, 20] that minimises the validation log-loss of the tree-consistent probabilities."""
    from scipy.optimize import minimize_scalar

    def loss(log_t: float) -> float:
        return log_loss(compose(logits / math.exp(log_t), parents, mode), targets, mask)

    found = minimize_scalar(loss, bounds=(math.log(0.05), math.log(20.0)), method="bounded", options={"xatol": 1e-4})
    best = float(found.x)
    # The bounded search never tries T = 1 exactly; keep it when it is as good (no change is the safer map).
    return 1.0 if loss(0.0) <= loss(best) else round(math.exp(best), 6)


def fit_isotonic(
    probs: np.ndarray, targets: np.ndarray, mask: np.ndarray
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Breakpoints of the non-decreasing map from validation probabilities to positive rates."""
    from sklearn.isotonic import IsotonicRegression

    known = mask.astype(bool).ravel()
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    model.fit(probs.ravel()[known].astype(np.float64), targets.ravel()[known].astype(np.float64))
    return tuple(float(x) for x in model.X_thresholds_), tuple(float(y) for y in model.y_thresholds_)


def fit_calibrator(
    method: CalibrationMethod,
    logits: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    parents: Sequence[int],
    mode: HierarchyMode,
    offsets: Sequence[float] = (),
) -> Calibrator:
    """A calibrator fitted on validation logits (the identity when there is nothing to fit on).

    ``offsets`` (the training loss's prior shift per concept) are taken off the logits before fitting."""
    if method == "none" or not mask.any():
        return Calibrator()
    shift = tuple(float(o) for o in offsets)
    shifted = logits - np.asarray(shift, dtype=np.float32) if shift else logits
    if method == "temperature":
        return Calibrator("temperature", fit_temperature(shifted, targets, mask, parents, mode), offsets=shift)
    if method == "isotonic":
        thresholds, values = fit_isotonic(compose(shifted, parents, mode), targets, mask)
        return Calibrator("isotonic", 1.0, thresholds, values, shift)
    raise ValueError(f"unknown calibration method {method!r} (known: {', '.join(CALIBRATION_METHODS)})")


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    low: float
    high: float
    confidence: float
    positive_rate: float
    count: int


def reliability(
    probs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None, bins: int = ECE_BINS
) -> list[ReliabilityBin]:
    """Equal-width bins of the known (record, concept) pairs: mean confidence and positive rate in each."""
    known = np.ones(probs.shape, dtype=bool) if mask is None else mask.astype(bool)
    p = probs[known].astype(np.float64)
    t = targets[known].astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Right-closed bins, the first one closed on both sides: 0.0 and 1.0 both land in a bin.
    which = np.clip(np.searchsorted(edges, p, side="left") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        out.append(
            ReliabilityBin(
                float(edges[b]),
                float(edges[b + 1]),
                float(p[inside].mean()) if n else 0.0,
                float(t[inside].mean()) if n else 0.0,
                n,
            )
        )
    return out


def expected_calibration_error(
    probs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None, bins: int = ECE_BINS
) -> float:
    table = reliability(probs, targets, mask, bins)
    total = sum(b.count for b in table)
    if total == 0:
        return 0.0
    return float(sum(b.count / total * abs(b.confidence - b.positive_rate) for b in table))
