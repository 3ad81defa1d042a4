"""Facet heads trained on synthetic features that carry the label signal with noise: they must learn (held-out
metrics far above chance), keep the hierarchy, calibrate, be deterministic for a seed, and survive a save/load
round trip as a versioned artefact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from enrich.classify import artefact
from enrich.classify.calibrate import expected_calibration_error
from enrich.classify.dataset import Example, LabelSpace
from enrich.classify.features import ArrayFeatures, FeatureSource
from enrich.classify.hierarchy import closed_under_ancestors, is_consistent
from enrich.classify.metrics import facet_metrics
from enrich.classify.splits import Split
from enrich.classify.train import FacetData, FacetHead, TrainConfig, facet_data, train_head
from enrich.ingest.errors import InputError
from enrich.models.cards import load_spec

TOPS, CHILDREN = 4, 3  # 4 top concepts with 3 children each: 16 columns


def synthetic_space() -> LabelSpace:
    concepts: list[str] = []
    parents: list[int] = []
    for top in range(TOPS):
        concepts.append(f"http://example.org/c/{top}")
        parents.append(-1)
        at = len(concepts) - 1
        for child in range(CHILDREN):
            concepts.append(f"http://example.org/c/{top}-{child}")
            parents.append(at)
    depths = tuple(0 if p < 0 else 1 for p in parents)
    return LabelSpace(
        "materials", "http://purl.org/dc/terms/medium", tuple(concepts), tuple(parents), tuple(concepts), depths
    )


def leaves(space: LabelSpace) -> list[int]:
    return [i for i, p in enumerate(space.parents) if p >= 0]


@dataclass
class Task:
    space: LabelSpace
    examples: list[Example]
    provider: ArrayFeatures
    sources: tuple[FeatureSource, ...]


def synthetic_features(
    labels: dict[str, list[int]], space: LabelSpace, seed: int = 0, noise: float = 1.0
) -> tuple[ArrayFeatures, tuple[FeatureSource, ...]]:
    """An "image" (24-d) and a "text" (16-d) source: per record the sum of its concepts' random prototypes plus
    Gaussian noise, L2-normalised. ``labels``: record id → label columns."""
    rng = np.random.default_rng(seed)
    sources = (
        FeatureSource("synthetic", "synth0image", "image", 24),
        FeatureSource("synthetic", "synth0text", "text", 16),
    )
    data = {}
    ids = sorted(labels)
    for source in sources:
        prototypes = rng.normal(size=(len(space), source.dim))
        matrix = np.stack([prototypes[labels[rid]].sum(axis=0) for rid in ids])
        matrix += rng.normal(scale=noise * np.sqrt(len(space) / source.dim), size=matrix.shape)
        data[source] = (ids, (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32))
    return ArrayFeatures(data), sources


def synthetic_task(n: int = 480, seed: int = 0, noise: float = 1.0) -> Task:
    space = synthetic_space()
    rng = np.random.default_rng(seed)
    labels: dict[str, list[int]] = {}
    examples = []
    for i in range(n):
        leaf = leaves(space)[int(rng.integers(TOPS * CHILDREN))]
        columns = [space.parents[leaf], leaf]
        rid = f"rec{i:04d}"
        labels[rid] = columns
        examples.append(Example(rid, f"provider-{i % 4}", frozenset(space.concepts[c] for c in columns)))
    provider, sources = synthetic_features(labels, space, seed, noise)
    return Task(space, examples, provider, sources)


def parts(task: Task) -> tuple[FacetData, FacetData, FacetData]:
    ids = [e.record_id for e in task.examples]
    n = len(ids)
    cut = (int(n * 0.6), int(n * 0.8))
    return tuple(  # type: ignore[return-value]
        facet_data(task.examples, chunk, task.space, task.provider)
        for chunk in (ids[: cut[0]], ids[cut[0] : cut[1]], ids[cut[1] :])
    )


@pytest.fixture(scope="module")
def task() -> Task:
    return synthetic_task()


def chance_acc_at_1(data: FacetData) -> float:
    """Expected Acc@1 of a random ranking: the mean share of right concepts."""
    return float(np.mean(data.targets.sum(axis=1) / data.targets.shape[1]))


def fast(**overrides: object) -> TrainConfig:
    values: dict[str, object] = {"epochs": 40, "hidden": 64, "min_support": 1, "patience": 6}
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


def check_learned(head: FacetHead, test: FacetData) -> None:
    probs = head.probabilities(test.features)
    metrics = facet_metrics(probs, test.targets)
    chance = chance_acc_at_1(test)
    assert metrics.acc_at_1 >= 3 * chance, (metrics, chance)
    assert metrics.r_precision >= 3 * chance, (metrics, chance)
    assert metrics.mean_average_precision > 0.5
    assert is_consistent(probs, head.space.parents)
    for threshold in (0.2, 0.5, 0.8):
        assert closed_under_ancestors(probs >= threshold, head.space.parents)


@pytest.mark.parametrize(
    ("fusion", "hierarchy"),
    [("concat", "multilabel"), ("concat", "conditional"), ("concat", "softmax"), ("cross-attention", "multilabel")],
)
def test_heads_learn_and_keep_the_hierarchy(task: Task, fusion: str, hierarchy: str) -> None:
    train, validation, test = parts(task)
    head = train_head(task.space, task.sources, train, validation, fast(fusion=fusion, hierarchy=hierarchy))
    check_learned(head, test)
    assert head.history and "validation_loss" in head.history[0]


def test_same_seed_same_weights_other_seed_other_weights(task: Task) -> None:
    train, validation, _ = parts(task)
    config = fast(epochs=5, fusion="cross-attention")
    first = train_head(task.space, task.sources, train, validation, config).module.state_dict()
    second = train_head(task.space, task.sources, train, validation, config).module.state_dict()
    third = train_head(task.space, task.sources, train, validation, fast(epochs=5, fusion="cross-attention", seed=1))
    assert all(torch.equal(first[key], second[key]) for key in first)
    assert not all(torch.equal(first[key], third.module.state_dict()[key]) for key in first)


def test_training_leaves_the_callers_random_state_alone(task: Task) -> None:
    train, validation, _ = parts(task)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_head(task.space, task.sources, train, validation, fast(epochs=1))
    assert torch.equal(torch.rand(3), expected)


def test_temperature_calibration_tames_an_overfitted_head() -> None:
    # Few noisy records, a wide head, no regularisation, no early stopping: the head gets over-confident.
    noisy = synthetic_task(n=300, seed=4, noise=2.5)
    ids = [e.record_id for e in noisy.examples]
    train = facet_data(noisy.examples, ids[:80], noisy.space, noisy.provider)
    validation = facet_data(noisy.examples, ids[80:190], noisy.space, noisy.provider)
    test = facet_data(noisy.examples, ids[190:], noisy.space, noisy.provider)
    config = fast(epochs=150, early_stopping=False, hidden=256, dropout=0.0, weight_decay=0.0, learning_rate=1e-2)
    head = train_head(noisy.space, noisy.sources, train, validation, config)
    before = expected_calibration_error(head.probabilities(test.features, calibrated=False), test.targets)
    after = expected_calibration_error(head.probabilities(test.features), test.targets)
    assert head.calibrator.temperature > 1.5  # the fitted temperature softens the logits
    assert after < before


def test_isotonic_calibration_option(task: Task) -> None:
    train, validation, test = parts(task)
    head = train_head(task.space, task.sources, train, validation, fast(calibration="isotonic"))
    assert head.calibrator.method == "isotonic" and head.calibrator.thresholds
    check_learned(head, test)


def test_records_without_features_or_labels_are_left_out(task: Task) -> None:
    extra = [*task.examples[:5], Example("unknown-record", "p", frozenset({task.space.concepts[0]}))]
    data = facet_data(extra, [e.record_id for e in extra], task.space, task.provider)
    assert data.record_ids == [e.record_id for e in task.examples[:5]]
    with pytest.raises(InputError, match="no training record"):
        empty = facet_data([], [], task.space, task.provider)
        train_head(task.space, task.sources, empty, empty, fast())


def test_bad_settings_are_refused() -> None:
    with pytest.raises(InputError, match="unknown value 'mlp'"):
        TrainConfig(fusion="mlp")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="at least 1"):
        TrainConfig(epochs=0)


def trained_model(task: Task, name: str = "synthetic") -> artefact.TrainedClassifier:
    train, validation, _ = parts(task)
    head = train_head(task.space, task.sources, train, validation, fast(epochs=8))
    ids = tuple(e.record_id for e in task.examples)
    split = Split("in-domain", 0, ids[:288], ids[288:384], ids[384:])
    return artefact.TrainedClassifier(
        name=name,
        sources=task.sources,
        config=head.config,
        heads={"materials": head},
        split=split,
        data_hash="0" * 24,
        vocabulary="test@2024-01-01T00:00:00Z",
        text_fields=("http://purl.org/dc/elements/1.1/title",),
        metrics={"materials": {"train_records": len(train)}},
    )


def test_artefact_round_trip(task: Task, tmp_path: Path) -> None:
    model = trained_model(task)
    directory = artefact.save(model, tmp_path)
    assert directory == tmp_path / "models" / f"synthetic-{model.hash}"
    assert sorted(p.name for p in directory.iterdir()) == ["card.yaml", "heads.json", "weights.safetensors"]
    card = load_spec(directory / "card.yaml")
    assert card.kind == "classifier" and card.version == model.hash
    assert list(card.extra["facets"]["materials"]["concepts"]) == list(task.space.concepts)
    assert card.extra["features"][0]["card_hash"] == "synth0image"
    assert card.extra["training_data_hash"] == "0" * 24 and card.extra["seed"] == 0

    loaded = artefact.load("synthetic", tmp_path)  # by name: the newest artefact of that name
    assert loaded.hash == model.hash and loaded.model_card() == model.model_card()
    _, _, test = parts(task)
    expected = model.heads["materials"].probabilities(test.features)
    assert np.allclose(loaded.heads["materials"].probabilities(test.features), expected)
    assert loaded.split == model.split and loaded.text_fields == model.text_fields

    # The same model saved again is the same artefact; damaged weights are refused.
    assert artefact.save(model, tmp_path) == directory
    (directory / "weights.safetensors").write_bytes(b"not weights")
    with pytest.raises(InputError, match="does not match the hash"):
        artefact.load(directory, tmp_path)
    with pytest.raises(artefact.ModelNotFound, match="no trained model"):
        artefact.load("nothing-here", tmp_path)


def test_model_names_are_checked(task: Task, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="model name"):
        artefact.save(trained_model(task, name="../escape"), tmp_path)


def labels_of(examples: Sequence[Example], space: LabelSpace) -> dict[str, list[int]]:
    index = space.index
    return {e.record_id: [index[c] for c in e.positives if c in index] for e in examples}
