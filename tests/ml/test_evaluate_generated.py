"""``enrich evaluate --by-image-source``: real-image, generated-image and text-only records scored apart.

Over the synthetic collection of :mod:`tests.ml.test_classify_store`, a synthetic CLIP card gives every record
a text vector, a third of them a real-image vector and another third only a generated-image vector (cache
modality ``generated-image``, as ``embed`` writes them); the rest have no image at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from enrich.classify import artefact
from enrich.classify.evaluate import Evaluation, evaluate_model, generated_sources
from enrich.classify.features import embedding_features_for
from enrich.classify.metrics import FacetMetrics
from enrich.embeddings.cache import GENERATED_IMAGE
from enrich.ingest.errors import InputError
from enrich.models.cards import ModelSpec, load_spec
from tests.ml import test_classify_store as base
from tests.ml.test_classify_store import GRAPHS, Collection, command, put_vectors, train
from tests.ml.test_classify_store import HANDLERS as COMMANDS

# The synthetic collection's fixture, built again (module scope) for this module's vectors.
collection = base.collection

GROUPS = ("real-image", "generated-image", "text-only")


def clip_card(collection: Collection, tmp_path: Path) -> Path:
    """A CLIP card with text vectors for all, real images for a third, generated images for another third."""
    path = tmp_path / "synthetic-clip.yaml"
    ModelSpec(name="synthetic-clip", kind="clip", source="local-dir:/nowhere", dim=24).save(path)
    card = load_spec(path)
    data_dir = Path(collection.settings.data_dir)
    ids = sorted(collection.truth)
    put_vectors(data_dir, card, collection.truth, "text")
    put_vectors(data_dir, card, {rid: collection.truth[rid] for rid in ids[0::3]}, "image", seed=1)
    put_vectors(data_dir, card, {rid: collection.truth[rid] for rid in ids[1::3]}, GENERATED_IMAGE, seed=1)
    return path


def test_evaluate_reports_each_image_source_apart(
    collection: Collection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        train(
            collection,
            "clip-heads",
            "--epochs 20 --seed 1 --no-ensemble",
            features=str(clip_card(collection, tmp_path)),
        )
        == 0
    )
    model = artefact.load("clip-heads", collection.settings.data_dir)
    assert {s.modality for s in model.sources} == {"image", "text"}  # trained on real images only
    capsys.readouterr()

    plain = tmp_path / "plain"
    assert (
        COMMANDS["evaluate"](
            command("evaluate", "clip-heads", "--output", str(plain)), collection.settings, collection.store, GRAPHS
        )
        == 0
    )
    assert "| materials | in-domain | heads |" in capsys.readouterr().out  # no option: output as before
    assert all("image_source" not in row for row in json.loads((plain / "metrics.json").read_text())["rows"])

    split = tmp_path / "split"
    args = command("evaluate", "clip-heads", "--by-image-source", "--output", str(split), "--no-baseline")
    assert COMMANDS["evaluate"](args, collection.settings, collection.store, GRAPHS) == 0
    out = capsys.readouterr().out
    assert "| materials | in-domain | all | heads |" in out
    assert all(f"| materials | in-domain | {group} | heads |" in out for group in GROUPS)
    assert "| images |" in (split / "metrics.md").read_text()
    rows = json.loads((split / "metrics.json").read_text())["rows"]
    heads = {r["image_source"]: r for r in rows if r["method"] == "heads"}
    assert set(heads) == {"all", *GROUPS}
    assert sum(heads[g]["records"] for g in GROUPS) == heads["all"]["records"]
    assert all(heads[g]["records"] > 0 for g in GROUPS)
    reliability = json.loads((split / "metrics.json").read_text())["reliability"]
    assert {"materials / in-domain", *(f"materials / in-domain / {g}" for g in GROUPS)} <= set(reliability)


def test_generated_vectors_stand_in_for_missing_real_images(collection: Collection, tmp_path: Path) -> None:
    assert (
        train(
            collection,
            "clip-stand-in",
            "--epochs 20 --seed 2 --no-ensemble",
            features=str(clip_card(collection, tmp_path)),
        )
        == 0
    )
    model = artefact.load("clip-stand-in", collection.settings.data_dir)
    data_dir = collection.settings.data_dir
    provider = embedding_features_for(data_dir, model.sources)
    generated = embedding_features_for(data_dir, generated_sources(model.sources))
    # Without any generated vector the generated-image records fall into text-only (and score as before).
    nothing = embedding_features_for(str(tmp_path / "empty"), generated_sources(model.sources))
    with_generated = evaluate_model(model, collection.store, GRAPHS, provider, baseline=False, generated=generated)
    without = evaluate_model(model, collection.store, GRAPHS, provider, baseline=False, generated=nothing)
    plain = evaluate_model(model, collection.store, GRAPHS, provider, baseline=False)

    def heads(evaluation: Evaluation, source: str | None) -> FacetMetrics:
        rows = evaluation.rows
        return {r.image_source: r.metrics for r in rows if r.method == "heads" and r.test_set == "in-domain"}[source]

    assert heads(plain, None) == heads(without, "all")  # the split changes nothing of "all" without stand-ins
    assert "generated-image" not in {r.image_source for r in without.rows}
    assert (
        heads(with_generated, "generated-image").records + heads(with_generated, "text-only").records
        == heads(without, "text-only").records
    )
    assert heads(with_generated, "all") != heads(without, "all")  # the stand-in vectors change the scores


def test_by_image_source_needs_image_features(collection: Collection) -> None:
    assert train(collection, "text-heads", "--epochs 2 --no-ensemble") == 0
    with pytest.raises(InputError, match="reads no image features"):
        COMMANDS["evaluate"](
            command("evaluate", "text-heads", "--by-image-source"), collection.settings, collection.store, GRAPHS
        )
