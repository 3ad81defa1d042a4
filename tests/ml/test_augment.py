"""Augmentation for training with tiny models: generated images of rare concepts join the training part only,
labelled with the concept and its ancestors, deterministically; ``enrich train --augment-card`` trains without
and with them and compares both on the test set.

The store holds the materials vocabulary of the classifier tests with an imbalanced collection (granite and
wool rare); record vectors are synthetic, put into the embedding cache under the tiny CLIP card's hash for its
image and text modalities, so the generated images are embedded by the same (tiny, random) CLIP model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from enrich.classify.augment import Augmentation, WithSynthetic, rare_concepts, synthesize
from enrich.classify.commands import HANDLERS
from enrich.classify.dataset import read_examples, record_groups
from enrich.classify.features import embedding_features
from enrich.classify.pipeline import TrainRequest, facet_trees, train_classifier
from enrich.classify.splits import split_records
from enrich.classify.train import TrainConfig
from enrich.generation.storage import generated_root
from enrich.ingest.errors import InputError
from enrich.models.cards import ModelSpec, load_spec
from enrich.settings import Settings
from enrich.store.embedded import EmbeddedStore
from tests.ingest.support import GRAPHS, make_settings
from tests.ml.test_classify_store import (
    LEAVES,
    V,
    command,
    ingest_lines,
    load_test_vocabulary,
    put_vectors,
    record_lines,
)
from tests.ml.tiny_diffusion import tiny_diffusion_spec

RARE = ("granite", "wool")
N_COMMON = 16  # records per common leaf
N_RARE = 5  # records per rare leaf
PER_CONCEPT = 3
BELOW = 5


@dataclass
class Collection:
    store: EmbeddedStore
    settings: Settings
    clip: ModelSpec
    clip_path: Path
    diffusion: ModelSpec
    diffusion_path: Path
    text_card_path: Path


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, tiny_clip: ModelSpec) -> Iterator[Collection]:
    root = tmp_path_factory.mktemp("augment")
    store = EmbeddedStore()
    load_test_vocabulary(store, root)
    leaves = [leaf for _, leaf in LEAVES]
    chosen = [leaf for leaf in leaves for _ in range(N_RARE if leaf in RARE else N_COMMON)]
    lines: list[str] = []
    for i, leaf in enumerate(chosen):
        lines += record_lines(i, f"Object {i}", leaf)
    ids = ingest_lines(store, root, lines)
    top_of = {leaf: top for top, leaf in LEAVES}
    truth = {ids[str(i)]: (top_of[leaf], leaf) for i, leaf in enumerate(chosen)}
    data_dir = root / "data"
    clip_path = root / "tiny-clip.yaml"
    tiny_clip.save(clip_path)
    clip = load_spec(clip_path)
    put_vectors(data_dir, clip, truth, "image", dim=32, seed=1)
    put_vectors(data_dir, clip, truth, "text", dim=32, seed=2)
    text_card_path = root / "synthetic-text.yaml"
    ModelSpec(name="synthetic-text", kind="text-encoder", source="local-dir:/nowhere", dim=32).save(text_card_path)
    put_vectors(data_dir, load_spec(text_card_path), truth, "text", dim=32, seed=3)
    diffusion = tiny_diffusion_spec(root / "diffusion")
    diffusion_path = root / "tiny-diffusion.yaml"
    diffusion.save(diffusion_path)
    settings = make_settings(data_dir=str(data_dir))
    yield Collection(store, settings, clip, clip_path, load_spec(diffusion_path), diffusion_path, text_card_path)
    store.close()


def fast(seed: int = 0) -> TrainConfig:
    return TrainConfig(epochs=6, min_support=1, seed=seed, hidden=32)


def augmentation(collection: Collection, per_concept: int = PER_CONCEPT) -> Augmentation:
    return Augmentation(collection.diffusion, per_concept, BELOW, collection.settings.data_dir, (collection.clip,))


def test_rare_concepts_get_generated_training_examples_only(collection: Collection) -> None:
    store, settings = collection.store, collection.settings
    facets = facet_trees(store, GRAPHS, ["materials"])
    _, tree = facets["materials"]
    examples = read_examples(store, GRAPHS, facets)["materials"]
    groups = record_groups(store, GRAPHS, [e.record_id for e in examples])
    split = split_records(groups, "in-domain", 0, 0.1, 0.2, 0.2)
    train_set = set(split.train)
    rare = rare_concepts(tree, [e for e in examples if e.record_id in train_set], BELOW)
    assert rare and set(rare) <= {V + leaf for leaf in RARE}

    provider = embedding_features(settings.data_dir, [collection.clip])
    first = synthesize(
        "materials",
        tree,
        [e for e in examples if e.record_id in train_set],
        provider.sources,
        augmentation(collection),
        0,
    )
    assert len(first.examples) == PER_CONCEPT * len(rare)
    for concept in rare:
        mine = [e for e in first.examples if concept in e.positives]
        assert len(mine) == PER_CONCEPT
        # The concept closed under its ancestors (granite → stone).
        assert all(e.positives == frozenset(tree.ancestor_closure([concept])) for e in mine)
        # ... the labels a real record of the concept carries.
        real = next(e for e in examples if concept in e.positives and e.record_id in train_set)
        assert all(e.positives == real.positives for e in mine)
        assert V + {"granite": "stone", "wool": "textile"}[concept.removeprefix(V)] in mine[0].positives
    prompts = sorted(first.prompts.values())
    assert any(p.startswith("an object made of granite") for p in prompts)
    assert len(set(prompts)) == len(prompts)
    # Both CLIP sources filled: image from the generated picture, text from the prompt.
    names = {s.name for s in provider.sources}
    assert all(set(v) == names for v in first.vectors.values())
    stored = list(generated_root(settings.data_dir).rglob("*.png"))
    assert len(stored) >= 1

    again = synthesize(
        "materials",
        tree,
        [e for e in examples if e.record_id in train_set],
        provider.sources,
        augmentation(collection),
        0,
    )
    assert again.prompts == first.prompts
    for rid, vectors in first.vectors.items():
        for name, vector in vectors.items():
            np.testing.assert_array_equal(vector, again.vectors[rid][name])
    assert len(list(generated_root(settings.data_dir).rglob("*.png"))) == len(stored)  # reused

    # The synthetic ids answer through the wrapper, real ids from the cache as before.
    wrapped = WithSynthetic(provider, first.vectors)
    ids = [split.train[0], *first.prompts]
    matrices, present = wrapped.features(ids)
    assert present.all()
    base, _ = provider.features(ids[:1])
    for name in names:
        np.testing.assert_array_equal(matrices[name][0], base[name][0])

    request = TrainRequest("augmented", ("materials",), ensemble=False, augment=augmentation(collection))
    model = train_classifier(store, GRAPHS, provider, request, fast())
    report = model.metrics["materials"]
    assert report["synthetic_records"] == PER_CONCEPT * len(rare)
    record = model.metrics["augmentation"]
    assert record["per_concept"] == PER_CONCEPT and record["below"] == BELOW
    assert record["card_hash"] == collection.diffusion.hash and len(record["prompts_hash"]) == 64
    plain = train_classifier(store, GRAPHS, provider, TrainRequest("plain", ("materials",), ensemble=False), fast())
    assert report["train_records"] == plain.metrics["materials"]["train_records"] + PER_CONCEPT * len(rare)
    assert report["validation_records"] == plain.metrics["materials"]["validation_records"]
    assert model.split == plain.split
    assert not any(rid.startswith("synthetic:") for part in model.split.parts.values() for rid in part)


def train(collection: Collection, *options: str) -> int:
    argv = ["train", "--facets", "materials", "--min-support", "1", "--epochs", "6", "--no-ensemble", *options]
    return HANDLERS["train"](command(*argv), collection.settings, collection.store, GRAPHS)


def test_train_command_compares_without_and_with(collection: Collection, capsys: pytest.CaptureFixture[str]) -> None:
    options = [
        "--features",
        str(collection.clip_path),
        "--augment-card",
        str(collection.diffusion_path),
        "--augment-per-concept",
        str(PER_CONCEPT),
        "--augment-below",
        str(BELOW),
    ]
    assert train(collection, "--output", "augmented", "--json", *options) == 0
    summary = json.loads(capsys.readouterr().out)
    tables = summary["augmentation"]["materials"]["in-domain"]
    assert set(tables) == {"without", "with", "difference"}
    for key, value in tables["difference"].items():
        assert value == pytest.approx(tables["with"][key] - tables["without"][key], abs=1e-5)
    assert tables["with"]["records"] == tables["without"]["records"]  # the same test records
    assert summary["facets"]["augmentation"]["per_concept"] == PER_CONCEPT
    directory = Path(summary["directory"])
    saved = json.loads((directory.parent / f"{directory.name}.augmentation.json").read_text())
    assert saved == summary["augmentation"]
    card = (directory / "card.yaml").read_text()
    assert "prompts_hash" in card and collection.diffusion.hash in card
    with capsys.disabled():  # the numbers of this run, for the record (tiny random models: no quality claim)
        print("\nwithout:", json.dumps(tables["without"]), "\nwith:", json.dumps(tables["with"]))

    assert train(collection, "--output", "augmented", *options) == 0  # same seed: same artefact, table printed
    out = capsys.readouterr().out
    assert "augmentation (test set metrics" in out and "materials [in-domain]" in out
    assert summary["hash"] in out  # deterministic: the same augmented artefact again


def test_augmentation_needs_an_image_card_and_a_text_to_image_card(collection: Collection) -> None:
    with pytest.raises(InputError, match="image features of a clip card"):
        train(
            collection, "--features", str(collection.text_card_path), "--augment-card", str(collection.diffusion_path)
        )
    with pytest.raises(InputError, match="not a text-to-image one"):
        train(collection, "--features", str(collection.clip_path), "--augment-card", str(collection.clip_path))
    with pytest.raises(InputError, match="at least 1"):
        train(
            collection,
            "--features",
            str(collection.clip_path),
            "--augment-card",
            str(collection.diffusion_path),
            "--augment-per-concept",
            "0",
        )
