"""The ``enrich train`` and ``enrich evaluate`` commands: arguments here, dispatch in :mod:`enrich.cli`.

Importing this module loads neither torch nor numpy (``enrich --help`` stays fast); handlers import what
they use. Handlers take ``(args, settings, store, graphs)`` and return an exit code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enrich.command_support import Handler, add_store_argument

if TYPE_CHECKING:
    from enrich.namespaces import Graphs
    from enrich.settings import Settings
    from enrich.store.base import Store


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = commands.add_parser(
        "train",
        help="train facet classifiers over record embeddings (saved under DATA_DIR/models/NAME-HASH)",
        description="Train one head per facet from the concepts records already carry (approved suggestions "
        "included, rejected ones as negatives), over the embed enricher's vectors of the given model cards; "
        "calibrate on the validation records and save a versioned artefact with its own card.",
    )
    train.add_argument("--facets", type=_names, required=True, help="comma-separated facet ids")
    train.add_argument(
        "--features", type=_names, required=True, metavar="CARD[,CARD]", help="model cards (bundled name or path)"
    )
    train.add_argument("--fusion", choices=["concat", "cross-attention"], default="concat")
    train.add_argument(
        "--hierarchy",
        choices=["multilabel", "conditional", "softmax"],
        default="multilabel",
        help="independent sigmoids (min over the path), P(c|parent) sigmoids, or a softmax per node",
    )
    train.add_argument("--calibration", choices=["temperature", "isotonic", "none"], default="temperature")
    train.add_argument(
        "--split",
        choices=["in-domain", "outer"],
        default="in-domain",
        help="outer: also hold out whole data providers as a second test set (EUFCC-340K)",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--epochs", type=int, default=60, help="most epochs (early stopping on validation mAP)")
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--learning-rate", type=float, default=2e-3)
    train.add_argument("--min-support", type=int, default=2, help="training records a concept needs (default 2)")
    train.add_argument(
        "--text-fields",
        type=_names,
        metavar="FIELD[,FIELD]",
        help="text of the lexical ensemble member and the baseline (default: the embed enricher's "
        "fields without the facets' target properties)",
    )
    train.add_argument(
        "--no-ensemble", action="store_true", help="do not fit the ensemble (heads + lexical + CLIP zero-shot)"
    )
    train.add_argument(
        "--augment-card",
        metavar="CARD",
        help="text-to-image card: generate training-only images of rare concepts, train without and with them "
        "(same split and seed) and compare on the test set(s); needs a clip card's image features",
    )
    train.add_argument(
        "--augment-per-concept", type=int, default=8, metavar="N", help="images per rare concept (default 8)"
    )
    train.add_argument(
        "--augment-below",
        type=int,
        default=10,
        metavar="K",
        help="a concept with fewer than K training records is rare (default 10)",
    )
    train.add_argument("--output", default="classifier", metavar="NAME", help="model name (default classifier)")
    train.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_store_argument(train)

    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate a trained model on its test sets next to a TF-IDF baseline (table, JSON, PNG plots)",
        description="R-Precision, Acc@1, Acc@10, AvgRankPos (EUFCC-340K), mAP and micro/macro F1 per facet and "
        "test set for the heads, a TF-IDF + logistic regression baseline trained on the same records, the "
        "lexical enricher and the ensemble; expected calibration error before and after calibration.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="model name, directory name under DATA_DIR/models, or path")
    evaluate.add_argument("--split", choices=["in-domain", "outer"], help="one test set (default: every one)")
    evaluate.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="where metrics.json, metrics.md and the PNGs go (default DATA_DIR/evaluations/MODEL)",
    )
    evaluate.add_argument("--no-baseline", action="store_true", help="skip the TF-IDF baseline")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON instead of a table")
    evaluate.add_argument(
        "--by-image-source",
        action="store_true",
        help="also report real-image, generated-image and text-only records apart (CLIP image features; "
        "records without a real image are scored with their generated image's vector)",
    )
    add_store_argument(evaluate)


def train(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from enrich.classify.artefact import save
    from enrich.classify.baseline import default_text_fields
    from enrich.classify.features import embedding_features
    from enrich.classify.pipeline import TrainRequest, facet_trees, train_classifier
    from enrich.classify.train import TrainConfig
    from enrich.embeddings.texts import expand_field
    from enrich.ingest.errors import InputError
    from enrich.models.cards import load_spec

    config = TrainConfig(
        fusion=args.fusion,
        hierarchy=args.hierarchy,
        calibration=args.calibration,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        min_support=args.min_support,
        seed=args.seed,
    )
    specs = [load_spec(name) for name in args.features]
    if args.text_fields:
        try:
            fields = tuple(expand_field(name) for name in args.text_fields)
        except ValueError as exc:
            raise InputError("--text-fields", str(exc)) from None
    else:
        targets = {facet.target_property for facet, _ in facet_trees(store, graphs, args.facets).values()}
        fields = default_text_fields(targets)
    # The first CLIP card among the features gives the zero-shot ensemble member (if it has image vectors).
    clip = next((spec for spec in specs if spec.kind == "clip"), None)
    request = TrainRequest(
        args.output,
        tuple(args.facets),
        args.split,
        fields,
        ensemble=not args.no_ensemble,
        zero_shot=clip.as_json() if clip is not None else None,
        data_dir=settings.data_dir,
    )
    provider = embedding_features(settings.data_dir, specs)
    compared: dict[str, Any] | None = None
    if args.augment_card:
        from dataclasses import replace

        from enrich.classify.augment import Augmentation, train_compared

        augment = Augmentation(
            load_spec(args.augment_card),
            args.augment_per_concept,
            args.augment_below,
            settings.data_dir,
            tuple(specs),
        )
        model, compared = train_compared(store, graphs, provider, replace(request, augment=augment), config)
    else:
        model = train_classifier(store, graphs, provider, request, config)
    directory = save(model, settings.data_dir)
    summary = {"model": model.name, "hash": model.hash, "directory": str(directory), "facets": model.metrics}
    if compared is not None:
        # Beside the artefact, not inside it: the artefact's files are hashed on its card.
        (directory.parent / f"{directory.name}.augmentation.json").write_text(
            json.dumps(compared, indent=2), encoding="utf-8"
        )
        summary["augmentation"] = compared
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"trained {model.name} ({model.hash}) → {directory}")
    print(
        f"features: {', '.join(source.name for source in model.sources)}; split {model.split.kind}, seed {config.seed}"
    )
    for facet_id, head in sorted(model.heads.items()):
        report = model.metrics[facet_id]
        line = (
            f"  {facet_id}: {len(head.space)} concepts, {report['train_records']} train / "
            f"{report['validation_records']} validation records, {len(head.history)} epochs"
        )
        validation = report.get("validation")
        if isinstance(validation, dict):
            line += (
                f"; validation R-Prec {validation['r_precision']:.3f} Acc@1 {validation['acc_at_1']:.3f} "
                f"ECE {validation['ece_uncalibrated']:.4f} → {validation['ece']:.4f} ({head.calibrator.method})"
            )
        print(line)
    if compared is not None:
        print_comparison(compared)
    return 0


def print_comparison(compared: dict[str, Any]) -> None:
    """Without / with augmentation / difference, per facet and test set, on the heads' main metrics."""
    from enrich.classify.metrics import HEADERS

    print("augmentation (test set metrics: without → with, difference):")
    for facet_id, sets in sorted(compared.items()):
        for test_set, tables in sorted(sets.items()):
            cells = [
                f"{header} {tables['without'][key]:.3f} → {tables['with'][key]:.3f} ({tables['difference'][key]:+.3f})"
                for key, header in HEADERS.items()
                if key in tables["difference"]
            ]
            print(f"  {facet_id} [{test_set}]: " + "; ".join(cells))


def evaluate(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from enrich.classify.artefact import load
    from enrich.classify.evaluate import evaluate_model, generated_sources, save_evaluation
    from enrich.classify.features import FeatureProvider, embedding_features_for
    from enrich.ingest.errors import InputError

    model = load(args.model, settings.data_dir)
    provider = embedding_features_for(settings.data_dir, model.sources)
    generated: FeatureProvider | None = None
    if args.by_image_source:
        sources = generated_sources(model.sources)
        if not sources:
            raise InputError("--by-image-source", f"the model {model.name} reads no image features (CLIP image)")
        generated = embedding_features_for(settings.data_dir, sources)
    test_sets = [args.split] if args.split else None
    evaluation = evaluate_model(
        model,
        store,
        graphs,
        provider,
        test_sets,
        baseline=not args.no_baseline,
        data_dir=settings.data_dir,
        generated=generated,
    )
    output = args.output or Path(settings.data_dir) / "evaluations" / f"{model.name}-{model.hash}"
    written = save_evaluation(evaluation, output)
    if args.json:
        print(json.dumps(evaluation.as_json()["rows"], indent=2))
    else:
        print(f"{model.name} ({model.hash})")
        print(evaluation.table())
        print("written: " + ", ".join(str(path) for path in written))
    return 0


#: Top-level command name → handler, for enrich.cli's COMMANDS.
HANDLERS: dict[str, Handler] = {"train": train, "evaluate": evaluate}
