"""Training facet heads: mini-batches in a seeded order, AdamW, early stopping on the validation mAP, then
calibration on the validation records.

Deterministic for a seed on the CPU: torch's generator is seeded inside a forked RNG state (the caller's
random state is left alone), the batch order comes from a numpy ``Generator`` and
``torch.use_deterministic_algorithms`` is on while training (on CUDA only where torch has deterministic
kernels). Two trainings with the same data, features and seed give identical weights.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from enrich.classify.calibrate import CALIBRATION_METHODS, CalibrationMethod, Calibrator, fit_calibrator
from enrich.classify.dataset import Example, LabelSpace
from enrich.classify.features import FeatureProvider, FeatureSource
from enrich.classify.heads import FUSIONS, Fusion, HierarchyLoss, build_head
from enrich.classify.hierarchy import HIERARCHY_MODES, HierarchyMode, compose
from enrich.classify.metrics import mean_average_precision
from enrich.ingest.errors import InputError
from enrich.vocab.tree import LabelTree

INFERENCE_BATCH = 1024


@dataclass(frozen=True)
class TrainConfig:
    fusion: Fusion = "concat"
    hierarchy: HierarchyMode = "multilabel"
    calibration: CalibrationMethod = "temperature"
    epochs: int = 60
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    hidden: int = 256
    dropout: float = 0.1
    width: int = 64  # cross-attention: token width
    tokens: int = 4  # cross-attention: learned tokens per source
    attention_heads: int = 4
    patience: int = 8  # epochs without a better validation mAP before stopping
    early_stopping: bool = True  # stop after ``patience`` and keep the best validation epoch's weights
    max_pos_weight: float = 30.0
    min_support: int = 2  # training records a concept needs to get a column
    seed: int = 0

    def __post_init__(self) -> None:
        choices = (("--fusion", self.fusion, FUSIONS), ("--hierarchy", self.hierarchy, HIERARCHY_MODES))
        for option, value, known in (*choices, ("--calibration", self.calibration, CALIBRATION_METHODS)):
            if value not in known:
                raise InputError(option, f"unknown value {value!r} (known: {', '.join(known)})")
        for option, number in (("--epochs", self.epochs), ("--batch-size", self.batch_size), ("--tokens", self.tokens)):
            if number < 1:
                raise InputError(option, f"must be at least 1, not {number}")
        if self.learning_rate <= 0 or not 0 <= self.dropout < 1:
            raise InputError("--learning-rate/--dropout", "the learning rate must be > 0 and dropout in [0, 1)")

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class FacetData:
    """One facet's examples in one part of the split, with their features (records without any dropped)."""

    record_ids: list[str]
    features: dict[str, np.ndarray]
    targets: np.ndarray
    mask: np.ndarray

    def __len__(self) -> int:
        return len(self.record_ids)


def facet_data(
    examples: Sequence[Example],
    record_ids: Sequence[str],
    space: LabelSpace,
    provider: FeatureProvider,
    tree: LabelTree | None = None,
) -> FacetData:
    wanted = set(record_ids)
    chosen = [e for e in examples if e.record_id in wanted]
    matrices, present = provider.features([e.record_id for e in chosen])
    keep = np.asarray(present.any(axis=1), dtype=bool) if present.size else np.zeros(len(chosen), dtype=bool)
    targets, mask = space.targets(chosen, tree)
    keep &= mask.any(axis=1)
    return FacetData(
        [e.record_id for e, k in zip(chosen, keep, strict=True) if k],
        {name: m[keep] for name, m in matrices.items()},
        targets[keep],
        mask[keep],
    )


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextmanager
def deterministic(seed: int) -> Iterator[None]:
    """Seeded torch RNG and deterministic kernels for the block; the caller's state comes back after."""
    previous = torch.are_deterministic_algorithms_enabled()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices), warnings.catch_warnings():
        # On CUDA some kernels have no deterministic version: use them anyway, without a warning per call.
        warnings.simplefilter("ignore", UserWarning)
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=torch.cuda.is_available())
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(previous)


@dataclass
class FacetHead:
    """A trained head with its label space and calibration: features in, consistent probabilities out."""

    space: LabelSpace
    sources: tuple[FeatureSource, ...]
    config: TrainConfig
    module: nn.Module
    calibrator: Calibrator = field(default_factory=Calibrator)
    history: list[dict[str, float]] = field(default_factory=list)

    def logits(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        names = [source.name for source in self.sources]
        missing = [name for name in names if name not in features]
        if missing:
            raise InputError(", ".join(missing), "the head needs these feature sources")
        n = len(features[names[0]])
        device = next(self.module.parameters()).device
        self.module.eval()
        out = np.zeros((n, len(self.space)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, n, INFERENCE_BATCH):
                batch = [
                    torch.from_numpy(np.ascontiguousarray(features[name][start : start + INFERENCE_BATCH])).to(device)
                    for name in names
                ]
                out[start : start + INFERENCE_BATCH] = self.module(batch).float().cpu().numpy()
        return out

    def probabilities(self, features: Mapping[str, np.ndarray], calibrated: bool = True) -> np.ndarray:
        calibrator = self.calibrator if calibrated else Calibrator()
        return calibrator.probabilities(self.logits(features), self.space.parents, self.config.hierarchy)


def new_module(space: LabelSpace, sources: Sequence[FeatureSource], config: TrainConfig) -> nn.Module:
    return build_head(
        config.fusion,
        [source.dim for source in sources],
        len(space),
        hidden=config.hidden,
        dropout=config.dropout,
        width=config.width,
        tokens=config.tokens,
        heads=config.attention_heads,
    )


def _tensors(
    data: FacetData, names: Sequence[str], device: torch.device
) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    inputs = [torch.from_numpy(np.ascontiguousarray(data.features[name])).to(device) for name in names]
    return inputs, torch.from_numpy(data.targets).to(device), torch.from_numpy(data.mask).to(device)


def train_head(
    space: LabelSpace,
    sources: Sequence[FeatureSource],
    train: FacetData,
    validation: FacetData,
    config: TrainConfig,
    device: torch.device | None = None,
) -> FacetHead:
    """Train one facet's head, keep the weights of the best validation epoch, then fit the calibrator."""
    if len(train) == 0:
        raise InputError(space.facet, "no training record with features and labels for this facet")
    if len(space) == 0:
        raise InputError(space.facet, f"no concept has {config.min_support} training records (lower --min-support)")
    device = device or pick_device()
    names = [source.name for source in sources]
    with deterministic(config.seed):
        module = new_module(space, sources, config).to(device)
        x_train, y_train, m_train = _tensors(train, names, device)
        loss_fn = HierarchyLoss(config.hierarchy, space.parents, y_train, m_train, config.max_pos_weight).to(device)
        has_validation = len(validation) > 0
        x_val, y_val, m_val = _tensors(validation if has_validation else train, names, device)
        optimiser = torch.optim.AdamW(module.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        order = np.random.default_rng(config.seed)
        # Model selection on the validation mAP: the loss weighs positives up (imbalance) and keeps rising as
        # the head grows confident, long before its ranking of concepts stops improving.
        known_val = validation.mask.min(axis=1) > 0.5
        best_score, best_state, stale = -1.0, _state(module), 0
        history: list[dict[str, float]] = []
        for epoch in range(config.epochs):
            module.train()
            total = 0.0
            permutation = order.permutation(len(train))
            for start in range(0, len(train), config.batch_size):
                rows = torch.from_numpy(permutation[start : start + config.batch_size]).to(device)
                optimiser.zero_grad()
                loss = loss_fn(module([x[rows] for x in x_train]), y_train[rows], m_train[rows])
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(rows)
            record = {"epoch": float(epoch + 1), "train_loss": total / len(train)}
            if has_validation:
                module.eval()
                with torch.inference_mode():
                    logits = module(x_val)
                    record["validation_loss"] = float(loss_fn(logits, y_val, m_val))
                probs = compose(logits.float().cpu().numpy(), space.parents, config.hierarchy)
                record["validation_map"] = mean_average_precision(probs[known_val], validation.targets[known_val])
                if record["validation_map"] > best_score + 1e-4:
                    best_score, best_state, stale = record["validation_map"], _state(module), 0
                else:
                    stale += 1
            history.append(record)
            if has_validation and config.early_stopping and stale >= config.patience:
                break
        if has_validation and config.early_stopping:
            module.load_state_dict(best_state)
    head = FacetHead(space, tuple(sources), config, module, history=history)
    if has_validation:
        head.calibrator = fit_calibrator(
            config.calibration,
            head.logits(validation.features),
            validation.targets,
            validation.mask,
            space.parents,
            config.hierarchy,
            loss_fn.prior_offsets(),
        )
    return head


def _state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in module.state_dict().items()}
