"""Scores that respect the tree: a concept never outscores its ancestors, so any threshold gives a set of
concepts closed under ancestors (a valid root-to-node path for every concept in it).

Columns follow :class:`~enrich.classify.dataset.LabelSpace`: ``parents[c]`` is the column of the nearest
ancestor (-1 at the top), and every parent comes before its children, so one pass left to right sees each
parent's final score before its children.

Three ways to get there, one per training mode of the heads:

- ``multilabel``: independent sigmoids, then ``score(c) = min over the path`` (:func:`path_minimum`);
- ``conditional``: each sigmoid is P(c | parent), ``score(c) = product over the path`` (:func:`path_product`);
- ``softmax`` (EUFCC's hierarchical softmax per node): a softmax over each node's children gives
  P(c | parent), again multiplied along the path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

HierarchyMode = Literal["multilabel", "conditional", "softmax"]
HIERARCHY_MODES: tuple[HierarchyMode, ...] = ("multilabel", "conditional", "softmax")


def _check_order(parents: Sequence[int]) -> None:
    for column, parent in enumerate(parents):
        if parent >= column:
            raise ValueError(f"column {column} comes before its parent {parent}: columns must be in tree order")


def path_minimum(scores: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """Each column capped by its parent's (already capped) column."""
    _check_order(parents)
    out = np.array(scores, dtype=np.float32, copy=True)
    for column, parent in enumerate(parents):
        if parent >= 0:
            np.minimum(out[:, column], out[:, parent], out=out[:, column])
    return out


def path_product(conditionals: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """P(c) = P(c | parent) · P(parent), down the tree."""
    _check_order(parents)
    out = np.array(conditionals, dtype=np.float32, copy=True)
    for column, parent in enumerate(parents):
        if parent >= 0:
            out[:, column] *= out[:, parent]
    return out


def sibling_groups(parents: Sequence[int]) -> np.ndarray:
    """Group id per column for the per-node softmax: 0 for the top level, ``parent + 1`` below."""
    return np.asarray([parent + 1 for parent in parents], dtype=np.int64)


def group_softmax(logits: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """P(c | parent): a softmax over the columns that share a parent."""
    groups = sibling_groups(parents)
    out = np.empty_like(logits, dtype=np.float32)
    for group in np.unique(groups):
        columns = np.flatnonzero(groups == group)
        block = logits[:, columns] - logits[:, columns].max(axis=1, keepdims=True)
        weights = np.exp(block)
        out[:, columns] = weights / weights.sum(axis=1, keepdims=True)
    return out


def sigmoid(values: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(values, dtype=np.float64))), dtype=np.float32)


def compose(logits: np.ndarray, parents: Sequence[int], mode: HierarchyMode) -> np.ndarray:
    """Consistent probabilities from a head's logits, by its training mode."""
    if mode == "multilabel":
        return path_minimum(sigmoid(logits), parents)
    if mode == "conditional":
        return path_product(sigmoid(logits), parents)
    if mode == "softmax":
        return path_product(group_softmax(logits, parents), parents)
    raise ValueError(f"unknown hierarchy mode {mode!r} (known: {', '.join(HIERARCHY_MODES)})")


def is_consistent(scores: np.ndarray, parents: Sequence[int], tolerance: float = 1e-6) -> bool:
    """Whether no concept outscores its parent in any row."""
    return all(
        bool(np.all(scores[:, column] <= scores[:, parent] + tolerance))
        for column, parent in enumerate(parents)
        if parent >= 0
    )


def closed_under_ancestors(predicted: np.ndarray, parents: Sequence[int]) -> bool:
    """Whether every predicted concept's parent is predicted too (boolean matrix)."""
    return all(
        bool(np.all(~predicted[:, column] | predicted[:, parent]))
        for column, parent in enumerate(parents)
        if parent >= 0
    )


def propagate_up(scores: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """Each parent at least as high as its best child (for scores found per concept, such as lexical matches:
    evidence for "oil paint" is evidence for "paint")."""
    _check_order(parents)
    out = np.array(scores, dtype=np.float32, copy=True)
    for column in range(len(parents) - 1, -1, -1):
        parent = parents[column]
        if parent >= 0:
            np.maximum(out[:, parent], out[:, column], out=out[:, parent])
    return out
