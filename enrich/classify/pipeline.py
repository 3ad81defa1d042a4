"""``enrich train`` as a function: read the facets' examples from the store, split them, train and calibrate
one head per facet over the given features, fit the ensemble on the validation records.

The heads never see where features come from (a :class:`FeatureProvider`); the store is only read for the
labels, the providers of records (outer split) and the text of the lexical ensemble member.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from enrich.classify.artefact import TrainedClassifier, check_name
from enrich.classify.calibrate import expected_calibration_error
from enrich.classify.dataset import label_space, read_examples
from enrich.classify.ensemble import ZeroShot, fit_ensemble, members
from enrich.classify.features import FeatureProvider
from enrich.classify.metrics import facet_metrics
from enrich.classify.splits import SplitKind, data_hash, split_records
from enrich.classify.train import FacetData, FacetHead, TrainConfig, facet_data, train_head
from enrich.enrichers.base import RecordView, read_record_views
from enrich.ingest.errors import InputError
from enrich.namespaces import Graphs
from enrich.store.base import Store
from enrich.vocab import loader
from enrich.vocab.facets import Facet, facet_tree, get_facet, load_facets
from enrich.vocab.tree import LabelTree

if TYPE_CHECKING:
    from enrich.classify.augment import Augmentation

FacetTrees = Mapping[str, tuple[Facet, LabelTree]]


def facet_trees(store: Store, graphs: Graphs, facet_ids: Sequence[str]) -> dict[str, tuple[Facet, LabelTree]]:
    """Each facet with its tree over the vocabularies loaded in the store."""
    from enrich.vocab.loader import read_trees

    if not facet_ids:
        raise InputError("--facets", "name at least one facet to train")
    facets = load_facets()
    trees = read_trees(store, graphs)
    out = {}
    for facet_id in facet_ids:
        facet = get_facet(facets, facet_id)
        tree = facet_tree(facet, trees)
        if not any(node.selectable for node in tree.nodes.values()):
            raise InputError(facet_id, "no concept of this facet is in the store's vocabularies; load one first")
        out[facet_id] = (facet, tree)
    return out


@dataclass(frozen=True)
class TrainRequest:
    """What ``enrich train`` asks for, besides the training settings."""

    name: str
    facets: tuple[str, ...]
    split: SplitKind = "in-domain"
    text_fields: tuple[str, ...] = ()
    ensemble: bool = True
    #: The CLIP card (as JSON) of the zero-shot ensemble member, when its image vectors are among the features.
    zero_shot: Mapping[str, Any] | None = None
    data_dir: str | None = None  # where the zero-shot member caches its prompt vectors
    validation: float = 0.1
    test: float = 0.2
    outer: float = 0.2
    #: Generated training-only examples for rare concepts (``--augment-card``).
    augment: Augmentation | None = None


def head_report(head: FacetHead, data: FacetData) -> dict[str, object]:
    """Metrics of a head on one part, with the expected calibration error before and after calibration."""
    raw = head.probabilities(data.features, calibrated=False)
    calibrated = head.probabilities(data.features)
    report: dict[str, object] = dict(facet_metrics(calibrated, data.targets).as_json())
    report["ece_uncalibrated"] = round(expected_calibration_error(raw, data.targets, data.mask), 6)
    report["ece"] = round(expected_calibration_error(calibrated, data.targets, data.mask), 6)
    return report


def record_views(store: Store, graphs: Graphs, record_ids: Sequence[str], fields: Sequence[str]) -> list[RecordView]:
    """Views of the records in the order asked (a record gone since has an empty one)."""
    by_id = {view.record_id: view for view in read_record_views(store, graphs, record_ids, fields)}
    return [by_id.get(rid) or RecordView(rid, "", {}) for rid in record_ids]


def member_scores(
    store: Store,
    graphs: Graphs,
    model: TrainedClassifier,
    facet: Facet,
    tree: LabelTree,
    data: FacetData,
    heads: np.ndarray,
    data_dir: str | None = None,
) -> dict[str, np.ndarray]:
    """Every ensemble member's scores on ``data`` (the heads' are given)."""
    zero_shot = ZeroShot(model.zero_shot, data_dir) if model.zero_shot else None
    views = record_views(store, graphs, data.record_ids, model.text_fields)
    space = model.heads[facet.id].space
    return members(heads, space, facet, tree, views, data.features, model.text_fields, zero_shot)


def train_classifier(
    store: Store,
    graphs: Graphs,
    provider: FeatureProvider,
    request: TrainRequest,
    config: TrainConfig,
) -> TrainedClassifier:
    """Train, calibrate and (optionally) ensemble heads for the requested facets; nothing is saved."""
    check_name(request.name)
    facets = facet_trees(store, graphs, request.facets)
    examples = read_examples(store, graphs, facets)
    groups: dict[str, str] = {}
    for facet_examples in examples.values():
        groups.update((e.record_id, e.group) for e in facet_examples)
    if not groups:
        raise InputError(
            ",".join(request.facets), "no record carries a concept of these facets (approve suggestions first)"
        )
    split = split_records(groups, request.split, config.seed, request.validation, request.test, request.outer)
    text_fields = request.text_fields
    heads: dict[str, FacetHead] = {}
    validations: dict[str, FacetData] = {}
    metrics: dict[str, object] = {}
    train_set = set(split.train)
    prompts: dict[str, dict[str, str]] = {}
    for facet_id, (facet, tree) in facets.items():
        train_examples = [e for e in examples[facet_id] if e.record_id in train_set]
        train_ids: Sequence[str] = split.train
        train_provider: FeatureProvider = provider
        if request.augment is not None:
            from enrich.classify.augment import WithSynthetic, synthesize

            synthetic = synthesize(facet_id, tree, train_examples, provider.sources, request.augment, config.seed)
            prompts[facet_id] = synthetic.prompts
            train_examples += synthetic.examples
            train_ids = [*split.train, *synthetic.prompts]
            train_provider = WithSynthetic(provider, synthetic.vectors)
        space = label_space(facet, tree, train_examples, config.min_support)
        train = facet_data(train_examples, train_ids, space, train_provider, tree)
        validation = validations[facet_id] = facet_data(examples[facet_id], split.validation, space, provider, tree)
        head = heads[facet_id] = train_head(space, provider.sources, train, validation, config)
        report: dict[str, object] = {"train_records": len(train), "validation_records": len(validation)}
        if len(validation):
            report["validation"] = head_report(head, validation)
        if request.augment is not None:
            report["synthetic_records"] = len(prompts[facet_id])
        metrics[facet_id] = report
    if request.augment is not None:
        from enrich.classify.augment import prompts_hash

        # The card records the augmentation: same card, N, K and prompts give the same training data.
        metrics["augmentation"] = {
            "card": request.augment.card.name,
            "card_hash": request.augment.card.hash,
            "per_concept": request.augment.per_concept,
            "below": request.augment.below,
            "prompts_hash": prompts_hash(prompts),
            "synthetic_records": sum(len(found) for found in prompts.values()),
        }
    zero_shot = request.zero_shot if request.ensemble else None
    if zero_shot is not None and ZeroShot(zero_shot).source not in {s.name for s in provider.sources}:
        zero_shot = None  # no image vectors of that card: nothing to score
    model = TrainedClassifier(
        name=request.name,
        sources=provider.sources,
        config=config,
        heads=heads,
        split=split,
        data_hash=data_hash(examples, split),
        vocabulary=loader.vocabulary_snapshot(store, graphs),
        text_fields=text_fields,
        metrics=metrics,
        zero_shot=dict(zero_shot) if zero_shot is not None else None,
    )
    if request.ensemble:
        for facet_id, (facet, tree) in facets.items():
            head, validation = heads[facet_id], validations[facet_id]
            if not len(validation):
                continue
            heads_scores = head.probabilities(validation.features)
            scores = member_scores(store, graphs, model, facet, tree, validation, heads_scores, request.data_dir)
            if len(scores) > 1:
                model.ensemble[facet_id] = fit_ensemble(scores, validation.targets, validation.mask, head.space.parents)
    return model
