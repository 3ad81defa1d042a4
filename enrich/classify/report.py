"""The PNG plots of ``enrich evaluate`` (matplotlib, Agg backend: no display needed).

- ``scores.png``: per facet and test set, R-Precision, Acc@1, Acc@10, mAP and F1 of every method side by side;
- ``reliability.png``: per facet and test set, the heads' reliability diagram before and after calibration
  (mean confidence against positive rate per bin; the diagonal is perfect calibration), ECE in the title.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from enrich.classify.calibrate import ReliabilityBin

if TYPE_CHECKING:
    from enrich.classify.evaluate import Evaluation, EvaluationRow

#: Metrics in the bar chart (all in [0, 1], higher is better; AvgRP is in the table only).
PLOTTED = {
    "r_precision": "R-Prec",
    "acc_at_1": "Acc@1",
    "acc_at_10": "Acc@10",
    "mean_average_precision": "mAP",
    "micro_f1": "µF1",
    "macro_f1": "MF1",
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_scores(evaluation: Evaluation, path: Path) -> Path:
    plt = _pyplot()
    # One panel per facet and test set, and with --by-image-source per group of records too.
    panels = sorted({(row.facet, _test_set(row)) for row in evaluation.rows})
    figure, axes = plt.subplots(len(panels) or 1, 1, figsize=(11, 3.2 * max(len(panels), 1)), squeeze=False)
    for axis, (facet, test_set) in zip(axes[:, 0], panels, strict=False):
        rows = [row for row in evaluation.rows if (row.facet, _test_set(row)) == (facet, test_set)]
        width = 0.8 / max(len(rows), 1)
        for i, row in enumerate(rows):
            values = [getattr(row.metrics, key) for key in PLOTTED]
            positions = [x + i * width for x in range(len(PLOTTED))]
            axis.bar(positions, values, width=width, label=row.method)
        axis.set_xticks([x + 0.4 - width / 2 for x in range(len(PLOTTED))], list(PLOTTED.values()))
        axis.set_ylim(0, 1)
        axis.set_title(f"{facet} — {test_set} test ({rows[0].metrics.records if rows else 0} records)")
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _test_set(row: EvaluationRow) -> str:
    """The row's test set, with its group of records when split by image source ("in-domain / text-only"),
    as the reliability diagrams are keyed."""
    source = row.image_source
    return f"{row.test_set} / {source}" if source and source != "all" else row.test_set


def _diagram(axis: Any, bins: list[ReliabilityBin], label: str, marker: str) -> None:
    used = [b for b in bins if b.count]
    axis.plot([b.confidence for b in used], [b.positive_rate for b in used], marker=marker, label=label)


def plot_reliability(evaluation: Evaluation, path: Path) -> Path:
    plt = _pyplot()
    keys = sorted(evaluation.reliability)
    figure, axes = plt.subplots(1, len(keys) or 1, figsize=(4.2 * max(len(keys), 1), 4.2), squeeze=False)
    eces = {(row.facet, _test_set(row)): row for row in evaluation.rows if row.method == "heads"}
    for axis, key in zip(axes[0], keys, strict=False):
        diagram = evaluation.reliability[key]
        axis.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect")
        _diagram(axis, diagram["uncalibrated"], "before calibration", "o")
        _diagram(axis, diagram["calibrated"], "after calibration", "s")
        facet, _, test_set = key.partition(" / ")
        row = eces.get((facet, test_set))
        subtitle = f"\nECE {row.ece_uncalibrated:.4f} → {row.ece:.4f}" if row and row.ece is not None else ""
        axis.set_title(f"{key}{subtitle}", fontsize="small")
        axis.set_xlabel("mean confidence")
        axis.set_ylabel("positive rate")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
