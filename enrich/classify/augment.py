"""Augmentation for training: generated images of rare concepts as extra, training-only examples.

For each facet, a concept with fewer than ``below`` positive training records gets ``per_concept`` images
from a text-to-image card, prompted with the zero-shot templates of the facet (``prompts.yaml``: "a photo
of a {label}", …) filled with the concept's English label. Each image is embedded with the image CLIP card
among the training features; a text source gets the prompt embedded with its card (the prompt is the
synthetic record's only text). Labels are the concept closed under its ancestors. Synthetic examples join
the training part only: validation and test records stay real, so the with/without comparison is fair.

Images are content-addressed under ``{data_dir}/generated/`` and a per-card index maps each prompt to its
image, so a repeated run (or the second training of a comparison) generates nothing again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from enrich.classify.dataset import Example
from enrich.classify.features import FeatureProvider, FeatureSource
from enrich.ingest.errors import InputError
from enrich.vocab.tree import LabelTree

if TYPE_CHECKING:
    from enrich.classify.artefact import TrainedClassifier
    from enrich.classify.pipeline import TrainRequest
    from enrich.classify.train import TrainConfig
    from enrich.models.cards import ModelSpec
    from enrich.namespaces import Graphs
    from enrich.store.base import Store

SYNTHETIC_PREFIX = "synthetic:"
OPTION = "--augment-card"


@dataclass(frozen=True)
class Augmentation:
    """What to generate: ``per_concept`` images for each concept with fewer than ``below`` training records."""

    card: ModelSpec  # text-to-image
    per_concept: int
    below: int
    data_dir: str
    #: The feature cards of the training (the image CLIP card embeds the images, text cards the prompts).
    feature_cards: tuple[ModelSpec, ...] = ()

    def __post_init__(self) -> None:
        if self.card.kind != "text-to-image":
            raise InputError(OPTION, f"{self.card.name} is a {self.card.kind} card, not a text-to-image one")
        for option, number in (("--augment-per-concept", self.per_concept), ("--augment-below", self.below)):
            if number < 1:
                raise InputError(option, f"must be at least 1, not {number}")


def class_prompts(tree: LabelTree, facet_id: str, concept: str, count: int, seed: int) -> list[str]:
    """``count`` English prompts for a concept: the facet's templates in turn (starting at one the seed
    picks), numbered variants once every template is used, so each prompt, hence each image, differs."""
    from enrich.similarity.zero_shot import LABEL, load_templates, templates_for

    templates = templates_for(load_templates(), facet_id, "en")
    label = tree[concept].label(("en",))
    out = []
    for i in range(count):
        text = templates[(seed + i) % len(templates)].replace(LABEL, label)
        rounds = i // len(templates)
        out.append(text if rounds == 0 else f"{text}, variant {rounds + 1}")
    return out


def rare_concepts(tree: LabelTree, train_examples: Sequence[Example], below: int) -> list[str]:
    """Selectable concepts with at least one and fewer than ``below`` positive training records, in tree
    order (a concept with none has nothing to say it belongs to this collection)."""
    support: dict[str, int] = {}
    for example in train_examples:
        for iri in example.positives:
            support[iri] = support.get(iri, 0) + 1
    ordered = [iri for root in tree.roots for iri in (root, *tree.descendants(root))]
    return [iri for iri in ordered if tree[iri].selectable and 0 < support.get(iri, 0) < below]


@dataclass
class Synthetic:
    """One facet's generated training examples and their feature vectors (by record id, then source)."""

    examples: list[Example]
    prompts: dict[str, str]  # record id → prompt
    vectors: dict[str, dict[str, np.ndarray]]


def synthetic_id(facet_id: str, concept: str, prompt: str) -> str:
    digest = hashlib.sha256(f"{facet_id}\n{concept}\n{prompt}".encode()).hexdigest()[:16]
    return f"{SYNTHETIC_PREFIX}{facet_id}:{digest}"


def image_source(sources: Sequence[FeatureSource], cards: Sequence[ModelSpec]) -> tuple[FeatureSource, ModelSpec]:
    """The image features of a CLIP card among the training features: generated images go there."""
    by_hash = {card.hash: card for card in cards}
    for source in sources:
        card = by_hash.get(source.card_hash)
        if source.modality == "image" and card is not None and card.kind == "clip":
            return source, card
    raise InputError(
        OPTION,
        "augmentation needs image features of a clip card among --features (records embedded with its image "
        "tower) to embed the generated images",
    )


def synthesize(
    facet_id: str,
    tree: LabelTree,
    train_examples: Sequence[Example],
    sources: Sequence[FeatureSource],
    augmentation: Augmentation,
    seed: int,
) -> Synthetic:
    """Generated examples for the facet's rare concepts, embedded for every feature source it can fill."""
    from enrich.models.encoders import load_image_encoder, load_text_encoder

    image, image_card = image_source(sources, augmentation.feature_cards)
    by_hash = {card.hash: card for card in augmentation.feature_cards}
    examples: list[Example] = []
    prompts: dict[str, str] = {}
    for concept in rare_concepts(tree, train_examples, augmentation.below):
        positives = frozenset(tree.ancestor_closure([concept]))
        for prompt in class_prompts(tree, facet_id, concept, augmentation.per_concept, seed):
            rid = synthetic_id(facet_id, concept, prompt)
            examples.append(Example(rid, rid, positives))
            prompts[rid] = prompt
    vectors: dict[str, dict[str, np.ndarray]] = {rid: {} for rid in prompts}
    if not prompts:
        return Synthetic(examples, prompts, vectors)
    ids, texts = list(prompts), list(prompts.values())
    pictures = generated_images(augmentation, texts)
    matrix = np.asarray(load_image_encoder(image_card).encode_images(pictures), dtype=np.float32)
    for rid, row in zip(ids, matrix, strict=True):
        vectors[rid][image.name] = row
    for source in sources:
        card = by_hash.get(source.card_hash)
        if source.modality != "text" or card is None:
            continue  # no card to embed the prompt with: the source stays absent (zeros), as for a record
        embedded = np.asarray(load_text_encoder(card).encode_texts(texts), dtype=np.float32)
        for rid, row in zip(ids, embedded, strict=True):
            vectors[rid][source.name] = row
    return Synthetic(examples, prompts, vectors)


def _index_path(augmentation: Augmentation) -> Path:
    from enrich.generation.storage import generated_root

    return generated_root(augmentation.data_dir) / "prompts" / f"{augmentation.card.hash}.json"


def generated_images(augmentation: Augmentation, prompts: Sequence[str]) -> list[Any]:
    """A PIL image per prompt: from the store when this card made it before, else generated and stored."""
    from PIL import Image

    from enrich.generation.pipeline import load_text_to_image, png_bytes
    from enrich.generation.storage import image_path, store_png

    index_file = _index_path(augmentation)
    index: dict[str, str] = json.loads(index_file.read_text("utf-8")) if index_file.is_file() else {}
    missing = [
        p for p in dict.fromkeys(prompts) if p not in index or not image_path(augmentation.data_dir, index[p]).is_file()
    ]
    if missing:
        pipeline = load_text_to_image(augmentation.card)
        for start in range(0, len(missing), augmentation.card.batch_size):
            batch = missing[start : start + augmentation.card.batch_size]
            for prompt, picture in zip(batch, pipeline.images(batch), strict=True):
                index[prompt] = store_png(augmentation.data_dir, png_bytes(picture))[0]
        index_file.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader (another training) never sees half an index.
        partial = index_file.with_suffix(".json.tmp")
        partial.write_text(json.dumps(index, indent=1, sort_keys=True), encoding="utf-8")
        partial.replace(index_file)
    out = []
    for prompt in prompts:
        with Image.open(image_path(augmentation.data_dir, index[prompt])) as picture:
            out.append(picture.convert("RGB"))
    return out


class WithSynthetic:
    """A feature provider that answers synthetic record ids from their generated vectors, and every other id
    from the wrapped provider."""

    def __init__(self, base: FeatureProvider, vectors: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        self._base = base
        self._vectors = vectors

    @property
    def sources(self) -> tuple[FeatureSource, ...]:
        return self._base.sources

    def features(self, record_ids: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        matrices, present = self._base.features(record_ids)
        for i, rid in enumerate(record_ids):
            for j, source in enumerate(self.sources):
                vector = self._vectors.get(rid, {}).get(source.name)
                if vector is not None:
                    matrices[source.name][i] = vector
                    present[i, j] = True
        return matrices, present


def prompts_hash(prompts: Mapping[str, Mapping[str, str]]) -> str:
    """SHA-256 of every facet's prompts (sorted), for the model card."""
    data = {facet: sorted(found.values()) for facet, found in sorted(prompts.items())}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def comparison(without: Mapping[str, Any], augmented: Mapping[str, Any]) -> dict[str, Any]:
    """Per facet and test set, both metric tables and their difference (with minus without) on every number."""
    out: dict[str, Any] = {}
    for facet_id, sets in augmented.items():
        for test_set, metrics in sets.items():
            before = without.get(facet_id, {}).get(test_set, {})
            diff = {
                key: round(float(value) - float(before[key]), 6)
                for key, value in metrics.items()
                if isinstance(value, int | float) and isinstance(before.get(key), int | float)
            }
            out.setdefault(facet_id, {})[test_set] = {"without": before, "with": metrics, "difference": diff}
    return out


def test_metrics(store: Store, graphs: Graphs, model: TrainedClassifier, provider: FeatureProvider) -> dict[str, Any]:
    """The heads' metrics on each held-out test set of the model's split, per facet."""
    from enrich.classify.dataset import read_examples
    from enrich.classify.pipeline import facet_trees, head_report
    from enrich.classify.train import facet_data

    facets = facet_trees(store, graphs, sorted(model.heads))
    examples = read_examples(store, graphs, facets)
    out: dict[str, Any] = {}
    for facet_id, head in sorted(model.heads.items()):
        tree = facets[facet_id][1]
        for test_set in model.split.test_sets():
            test = facet_data(examples[facet_id], model.split.parts[test_set], head.space, provider, tree)
            if len(test):
                out.setdefault(facet_id, {})[test_set] = {"records": len(test), **head_report(head, test)}
    return out


def train_compared(
    store: Store, graphs: Graphs, provider: FeatureProvider, request: TrainRequest, config: TrainConfig
) -> tuple[TrainedClassifier, dict[str, Any]]:
    """Train without, then with the request's augmentation (same split, same seed); the augmented model and
    the comparison of both on the held-out test set(s)."""
    from enrich.classify.pipeline import train_classifier

    if request.augment is None:
        raise InputError(OPTION, "no augmentation requested")
    plain = train_classifier(store, graphs, provider, replace(request, augment=None), config)
    augmented = train_classifier(store, graphs, provider, request, config)
    compared = comparison(
        test_metrics(store, graphs, plain, provider), test_metrics(store, graphs, augmented, provider)
    )
    return augmented, compared


__all__ = [
    "Augmentation",
    "Synthetic",
    "WithSynthetic",
    "class_prompts",
    "comparison",
    "image_source",
    "prompts_hash",
    "rare_concepts",
    "synthesize",
    "test_metrics",
    "train_compared",
]
