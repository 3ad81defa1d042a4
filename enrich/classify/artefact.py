"""Trained heads as versioned artefacts: ``{data_dir}/models/{name}-{hash}/``.

A directory holds three files:

- ``weights.safetensors`` — every facet head's state dict (keys ``{facet}/{parameter}``);
- ``heads.json`` — what turns weights into suggestions: the feature sources, the training settings, per
  facet its label space (concept IRIs in column order, their parents, labels), calibration, training
  history and ensemble weights, the split's record ids and the text fields of the baseline;
- ``card.yaml`` — the model card (:class:`enrich.models.cards.ModelSpec`, kind ``classifier``): the feature
  cards by name and hash, the facets with their concepts, the vocabulary snapshot, the training data hash,
  the seed, validation metrics, and the SHA-256 of both other files.

The ``hash`` (in the directory name, the card's ``version`` and provenance's ``config_hash``) is the
SHA-256 of the weights and ``heads.json``: the same training (same data, features, settings and seed)
gives the same artefact, anything else a new one beside it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from enrich.classify.calibrate import Calibrator
from enrich.classify.dataset import LabelSpace
from enrich.classify.features import FeatureSource
from enrich.classify.splits import Split
from enrich.classify.train import INFERENCE_BATCH, FacetHead, TrainConfig, new_module, pick_device
from enrich.ingest.errors import InputError
from enrich.models.cards import MAX_CARD_BYTES, ModelCardError, ModelSpec, load_spec
from enrich.suggestion import ModelCard

WEIGHTS = "weights.safetensors"
HEADS = "heads.json"
CARD = "card.yaml"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ModelNotFound(InputError):
    """No trained model matches the reference."""


@dataclass
class TrainedClassifier:
    """Heads for one or more facets over the same feature sources, with what they were trained on."""

    name: str
    sources: tuple[FeatureSource, ...]
    config: TrainConfig
    heads: dict[str, FacetHead]
    split: Split
    data_hash: str
    vocabulary: str
    text_fields: tuple[str, ...]
    metrics: dict[str, Any] = field(default_factory=dict)
    #: facet → fitted ensemble: member weights and calibration (see :mod:`enrich.classify.ensemble`).
    ensemble: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The CLIP card (as JSON) of the zero-shot ensemble member, if there is one.
    zero_shot: dict[str, Any] | None = None
    hash: str = ""
    directory: Path | None = None

    def model_card(self) -> ModelCard:
        """What provenance records for suggestions from these heads."""
        return ModelCard(name=self.name, version=self.hash or "unsaved", config_hash=self.hash)

    def heads_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sources": [source.as_json() for source in self.sources],
            "config": self.config.as_json(),
            "facets": {
                facet_id: {
                    "space": head.space.as_json(),
                    "calibration": head.calibrator.as_json(),
                    "history": head.history,
                }
                for facet_id, head in sorted(self.heads.items())
            },
            "split": self.split.as_json(),
            "data_hash": self.data_hash,
            "vocabulary": self.vocabulary,
            "text_fields": list(self.text_fields),
            "metrics": self.metrics,
            "ensemble": self.ensemble,
            "zero_shot": self.zero_shot,
        }


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(name, "a model name is 1-64 letters, digits, '.', '_' or '-', starting alphanumeric")
    return name


def models_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "models"


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _weights(model: TrainedClassifier) -> dict[str, torch.Tensor]:
    return {
        f"{facet_id}/{key}": tensor.detach().cpu().contiguous()
        for facet_id, head in sorted(model.heads.items())
        for key, tensor in head.module.state_dict().items()
    }


def save(model: TrainedClassifier, data_dir: str | Path) -> Path:
    """Write the artefact (atomically: into a fresh folder, renamed into place) and return its directory."""
    from safetensors.torch import save as save_weights

    check_name(model.name)
    weights = save_weights(_weights(model))
    heads = _canonical(model.heads_json())
    digest = hashlib.sha256(weights + b"\0" + heads).hexdigest()[:16]
    root = models_dir(data_dir)
    target = root / f"{model.name}-{digest}"
    model.hash, model.directory = digest, target
    if (target / CARD).is_file():  # the same training again: the artefact is already there
        return target
    staging = root / f".staging-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        (staging / WEIGHTS).write_bytes(weights)
        (staging / HEADS).write_bytes(heads)
        _card(model, weights, heads).save(staging / CARD)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _card(model: TrainedClassifier, weights: bytes, heads: bytes) -> ModelSpec:
    facets: dict[str, Any] = {}
    for facet_id, head in sorted(model.heads.items()):
        facets[facet_id] = {
            "target": head.space.target,
            "concepts": list(head.space.concepts),
            "calibration": head.calibrator.method,
            "temperature": head.calibrator.temperature,
        }
    extra: dict[str, Any] = {
        "features": [source.as_json() for source in model.sources],
        "facets": facets,
        "vocabulary": model.vocabulary,
        "training_data_hash": model.data_hash,
        "split": {"kind": model.split.kind, "held_out_providers": list(model.split.held_out_groups)},
        "seed": model.config.seed,
        "fusion": model.config.fusion,
        "hierarchy": model.config.hierarchy,
        "metrics": model.metrics,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "heads_sha256": hashlib.sha256(heads).hexdigest(),
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    spec = ModelSpec(
        name=model.name,
        kind="classifier",
        source="local-dir:.",
        version=model.hash,
        batch_size=INFERENCE_BATCH,
        dtype="float32",
        preprocessing={"features": [source.name for source in model.sources]},
        extra=extra,
    )
    if len(_canonical(spec.as_json())) > MAX_CARD_BYTES // 2:
        # A very large label space: the concepts stay in heads.json, the card names it (and its hash).
        for facet in facets.values():
            facet["concepts"] = f"{len(facet['concepts'])} concepts in {HEADS}"
        spec = ModelSpec(**{**spec.as_json(), "extra": extra})
    return spec


def find_model(reference: str | Path, data_dir: str | Path) -> Path:
    """A trained model's directory from a path (directory or its card), a directory name under
    ``{data_dir}/models``, or a model name (its most recently trained artefact)."""
    path = Path(reference)
    if path.is_file() and path.name == CARD:
        return path.parent
    if (path / CARD).is_file():
        return path
    root = models_dir(data_dir)
    if (root / str(reference) / CARD).is_file():
        return root / str(reference)
    if _NAME.match(str(reference)):
        candidates = [d for d in root.glob(f"{reference}-*") if (d / CARD).is_file()]
        if candidates:
            return max(candidates, key=lambda d: ((d / CARD).stat().st_mtime_ns, d.name))
    known = sorted(d.name for d in root.glob("*") if (d / CARD).is_file()) if root.is_dir() else []
    raise ModelNotFound(
        str(reference), f"no trained model of that name or path (in {root}: {', '.join(known) or 'none'})"
    )


def load(reference: str | Path, data_dir: str | Path, device: torch.device | None = None) -> TrainedClassifier:
    """Read an artefact back (checking its files against the card's hashes) with its heads ready to score."""
    from safetensors.torch import load as load_weights

    directory = find_model(reference, data_dir)
    try:
        spec = load_spec(directory / CARD)
    except ModelCardError as exc:
        raise InputError(str(directory / CARD), exc.problem) from None
    if spec.kind != "classifier":
        raise InputError(str(directory / CARD), f"a {spec.kind} card, not a trained classifier")
    try:
        weights = (directory / WEIGHTS).read_bytes()
        heads_bytes = (directory / HEADS).read_bytes()
    except OSError as exc:
        raise InputError(str(directory), f"incomplete model artefact: {exc.strerror or exc}") from None
    for name, data, key in ((WEIGHTS, weights, "weights_sha256"), (HEADS, heads_bytes, "heads_sha256")):
        if hashlib.sha256(data).hexdigest() != spec.extra.get(key):
            raise InputError(str(directory / name), "does not match the hash on the model card (changed or damaged)")
    data = json.loads(heads_bytes)
    sources = tuple(FeatureSource.from_json(s) for s in data["sources"])
    config = TrainConfig(**data["config"])
    state = load_weights(weights)
    device = device or pick_device()
    heads: dict[str, FacetHead] = {}
    for facet_id, facet in data["facets"].items():
        space = LabelSpace.from_json(facet["space"])
        module = new_module(space, sources, config)
        prefix = f"{facet_id}/"
        module.load_state_dict({k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)})
        module.to(device).eval()
        heads[facet_id] = FacetHead(
            space, sources, config, module, Calibrator.from_json(facet["calibration"]), facet.get("history", [])
        )
    return TrainedClassifier(
        name=data["name"],
        sources=sources,
        config=config,
        heads=heads,
        split=Split.from_json(data["split"]),
        data_hash=data["data_hash"],
        vocabulary=data["vocabulary"],
        text_fields=tuple(data["text_fields"]),
        metrics=data.get("metrics") or {},
        ensemble=data.get("ensemble") or {},
        zero_shot=data.get("zero_shot"),
        hash=spec.version,
        directory=directory,
    )
