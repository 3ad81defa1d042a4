"""Metric, hierarchy and calibration functions of the classifiers, checked against hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from enrich.classify.calibrate import (
    Calibrator,
    expected_calibration_error,
    fit_calibrator,
    reliability,
)
from enrich.classify.ensemble import combine, fit_weights
from enrich.classify.hierarchy import (
    closed_under_ancestors,
    compose,
    group_softmax,
    is_consistent,
    path_minimum,
    path_product,
    propagate_up,
)
from enrich.classify.metrics import (
    average_precision,
    f1_scores,
    facet_metrics,
    mean_average_precision,
    ranking_metrics,
)

# Three records, four concepts (flat). Worked by hand in the comments of the tests below.
SCORES = np.array(
    [
        [0.9, 0.8, 0.1, 0.3],  # A: ranking 0, 1, 3, 2
        [0.2, 0.7, 0.6, 0.1],  # B: ranking 1, 2, 0, 3
        [0.95, 0.1, 0.2, 0.0],  # C: ranking 0, 2, 1, 3
    ],
    dtype=np.float32,
)
TARGETS = np.array(
    [
        [1, 0, 1, 0],  # A: {0, 2}
        [0, 0, 1, 0],  # B: {2}
        [0, 1, 0, 0],  # C: {1}
    ],
    dtype=np.float32,
)


def test_ranking_metrics_by_hand() -> None:
    found = ranking_metrics(SCORES, TARGETS)
    # R-Precision: A top-2 {0, 1} ∩ {0, 2} = 1 → 1/2; B top-1 {1} → 0; C top-1 {0} → 0.
    assert found["r_precision"] == pytest.approx((0.5 + 0 + 0) / 3)
    # Acc@1: only A's first concept (0) is right.
    assert found["acc_at_1"] == pytest.approx(1 / 3)
    # Acc@10 over 4 concepts: every record has a right concept somewhere.
    assert found["acc_at_10"] == pytest.approx(1.0)
    # AvgRankPos: A ranks 1 and 4 → 2.5; B rank 2; C rank 3.
    assert found["avg_rank_position"] == pytest.approx((2.5 + 2 + 3) / 3)
    # Acc@2: A yes, B yes (2 is second), C no (0, 2).
    assert ranking_metrics(SCORES, TARGETS, k=2)["acc_at_10"] == pytest.approx(2 / 3)


def test_average_precision_and_map_by_hand() -> None:
    # concept 0: scores C .95, A .9, B .2 → the one positive (A) at rank 2 → AP 1/2
    assert average_precision(SCORES[:, 0], TARGETS[:, 0]) == pytest.approx(0.5)
    # concept 2: B .6, C .2, A .1 → positives at ranks 1 and 3 → (1 + 2/3) / 2
    assert average_precision(SCORES[:, 2], TARGETS[:, 2]) == pytest.approx(5 / 6)
    # concept 1: the positive C is last of three → 1/3; concept 3 has no positive and is left out.
    assert mean_average_precision(SCORES, TARGETS) == pytest.approx((1 / 2 + 1 / 3 + 5 / 6) / 3)


def test_f1_by_hand() -> None:
    # At 0.5: predicted A {0, 1}, B {1, 2}, C {0}; true A {0, 2}, B {2}, C {1}.
    # concept 0: tp 1 fp 1 fn 0 → 2/3; concept 1: tp 0 fp 2 fn 1 → 0; concept 2: tp 1 fp 0 fn 1 → 2/3.
    micro, macro = f1_scores(SCORES, TARGETS)
    assert micro == pytest.approx(2 * 2 / (2 * 2 + 3 + 2))
    assert macro == pytest.approx((2 / 3 + 0 + 2 / 3) / 3)


def test_facet_metrics_leave_out_records_without_labels() -> None:
    scores = np.vstack([SCORES, [[0.5, 0.5, 0.5, 0.5]]]).astype(np.float32)
    targets = np.vstack([TARGETS, [[0, 0, 0, 0]]]).astype(np.float32)
    metrics = facet_metrics(scores, targets)
    assert metrics.records == 3 and metrics.concepts == 4
    assert metrics.acc_at_1 == pytest.approx(1 / 3)
    assert metrics.mean_average_precision == pytest.approx(5 / 9)


def test_ties_keep_tree_order() -> None:
    # Equal scores: the earlier column (a parent comes before its children) ranks first.
    found = ranking_metrics(np.array([[0.4, 0.4]], dtype=np.float32), np.array([[1, 0]], dtype=np.float32))
    assert found["acc_at_1"] == 1.0


# -- hierarchy ---------------------------------------------------------------------------------------------

PARENTS = (-1, 0, 1, -1)  # 0 → 1 → 2, and 3 alone


def test_path_minimum_and_product() -> None:
    raw = np.array([[0.5, 0.9, 0.7, 0.2]], dtype=np.float32)
    assert path_minimum(raw, PARENTS)[0].tolist() == pytest.approx([0.5, 0.5, 0.5, 0.2])
    assert path_product(raw, PARENTS)[0].tolist() == pytest.approx([0.5, 0.45, 0.315, 0.2])
    lexical = np.array([[0.0, 0.0, 0.6, 0.1]], dtype=np.float32)
    assert propagate_up(lexical, PARENTS)[0].tolist() == pytest.approx([0.6, 0.6, 0.6, 0.1])


def test_group_softmax_normalises_siblings() -> None:
    parents = (-1, -1, 0, 0, 0)  # two top concepts; three children under the first
    logits = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
    conditional = group_softmax(logits, parents)
    assert conditional[:, :2].sum(axis=1) == pytest.approx(np.ones(6))
    assert conditional[:, 2:].sum(axis=1) == pytest.approx(np.ones(6))


@pytest.mark.parametrize("mode", ["multilabel", "conditional", "softmax"])
def test_every_mode_gives_consistent_scores_and_closed_sets(mode: str) -> None:
    parents = (-1, 0, 0, 1, 1, -1, 5)
    logits = np.random.default_rng(1).normal(scale=3.0, size=(50, 7)).astype(np.float32)
    scores = compose(logits, parents, mode)  # type: ignore[arg-type]
    assert is_consistent(scores, parents)
    for threshold in (0.1, 0.3, 0.5):
        assert closed_under_ancestors(scores >= threshold, parents)


def test_columns_must_come_in_tree_order() -> None:
    with pytest.raises(ValueError, match="tree order"):
        path_minimum(np.zeros((1, 2), dtype=np.float32), (1, -1))


# -- calibration -----------------------------------------------------------------------------------------


def test_expected_calibration_error_by_hand() -> None:
    probs = np.array([[0.05, 0.85, 0.85, 0.85]], dtype=np.float32)
    targets = np.array([[0, 1, 1, 0]], dtype=np.float32)
    # bin [0, 0.1]: confidence 0.05, positive rate 0 → 0.05 x 1/4; bin (0.8, 0.9]: 0.85 vs 2/3 → (0.85 - 2/3) x 3/4
    ece = expected_calibration_error(probs, targets, bins=10)
    assert ece == pytest.approx(0.05 / 4 + (0.85 - 2 / 3) * 3 / 4, abs=1e-6)
    bins = reliability(probs, targets, bins=10)
    assert [b.count for b in bins] == [1, 0, 0, 0, 0, 0, 0, 0, 3, 0]
    # A mask leaves entries out: without the wrong 0.85 it is 0.05 x 1/3 + 0.15 x 2/3.
    mask = np.array([[1, 1, 1, 0]], dtype=np.float32)
    assert expected_calibration_error(probs, targets, mask, bins=10) == pytest.approx(0.05 / 3 + 0.15 * 2 / 3, abs=1e-6)


def overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from sigmoid(z), logits reported as 5·z: a deliberately over-confident model."""
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=1.5, size=(n, 6))
    targets = (rng.random(size=z.shape) < 1 / (1 + np.exp(-z))).astype(np.float32)
    return (5.0 * z).astype(np.float32), targets


@pytest.mark.parametrize("method", ["temperature", "isotonic"])
def test_calibration_lowers_ece_on_an_overconfident_model(method: str) -> None:
    parents = (-1, -1, -1, -1, -1, -1)
    val_logits, val_targets = overconfident(2000, 0)
    test_logits, test_targets = overconfident(2000, 1)
    calibrator = fit_calibrator(method, val_logits, val_targets, np.ones_like(val_targets), parents, "multilabel")  # type: ignore[arg-type]
    before = expected_calibration_error(Calibrator().probabilities(test_logits, parents, "multilabel"), test_targets)
    after = expected_calibration_error(calibrator.probabilities(test_logits, parents, "multilabel"), test_targets)
    assert before > 0.1
    assert after < before / 3
    if method == "temperature":
        assert calibrator.temperature == pytest.approx(5.0, rel=0.15)
    assert Calibrator.from_json(calibrator.as_json()) == calibrator


def test_calibration_keeps_the_hierarchy() -> None:
    parents = (-1, 0, 1)
    logits, targets = overconfident(500, 2)
    logits, targets = logits[:, :3], targets[:, :3]
    for method in ("temperature", "isotonic"):
        calibrator = fit_calibrator(method, logits, targets, np.ones_like(targets), parents, "multilabel")  # type: ignore[arg-type]
        assert is_consistent(calibrator.probabilities(logits, parents, "multilabel"), parents)
    assert not math.isnan(
        fit_calibrator("temperature", logits, targets, np.ones_like(targets), parents, "softmax").temperature
    )


# -- ensemble ------------------------------------------------------------------------------------------------


def test_ensemble_weights_prefer_the_informative_member() -> None:
    rng = np.random.default_rng(3)
    targets = (rng.random((200, 5)) < 0.3).astype(np.float32)
    members = {"heads": rng.random((200, 5)).astype(np.float32), "lexical": targets * 0.8 + 0.1}
    weights = fit_weights(members, targets, (-1,) * 5)
    assert weights["lexical"] > weights["heads"]
    assert sum(weights.values()) == pytest.approx(1.0)
    mixed = combine(members, weights, (-1,) * 5)
    assert mean_average_precision(mixed, targets) >= mean_average_precision(members["heads"], targets)
