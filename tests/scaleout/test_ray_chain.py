"""The CATS chain of issue 7 (translate → generate → embed → classify, tiny offline models) run by the local engine
and by the Ray engine over the same Korean records: the same suggestions, the same generated images.

This is the chain whose steps read each other's output through the store (generate prompts with this run's
pending translations, embed reads the generated web resources), so it checks that the Ray engine writes a
batch's step before the next step reads the batch. Both runs use the same data directory path, emptied in
between, so the content-addressed image paths (and so the suggestion nodes) can be compared, and the Ray
workers recompute everything (no translation, image or embedding comes from a cache).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from enrich.jobs.ray_engine import RayOptions, run_on_ray
from enrich.jobs.run import EnricherSpec, RunDefinition, RunSummary, run_enrichment
from enrich.models.cards import load_spec
from enrich.namespaces import ENR
from enrich.store.base import Store
from tests.ingest.support import ingest, make_settings
from tests.jobs.support import GRAPHS, suggestion_state
from tests.ml.test_chain import RECORDS, _edm, _train_classifier
from tests.ml.test_classify_store import load_test_vocabulary
from tests.ml.tiny import tiny_clip_spec
from tests.ml.tiny_diffusion import tiny_diffusion_spec
from tests.ml.tiny_translation import tiny_marian_spec
from tests.scaleout.test_ray_engine import _split


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Ray starts its workers with OMP_NUM_THREADS=1; the local run uses one thread too, so that both compute
    in the same order and the generated PNGs come out byte for byte the same."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _images(data_dir: Path) -> dict[str, str]:
    return {
        path.relative_to(data_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data_dir.rglob("*.png"))
    }


def test_the_cats_chain_on_ray_writes_what_the_local_engine_writes(
    ray_instance: Any, remote_store: Store, oxigraph_server: str, tmp_path: Path, one_torch_thread: None
) -> None:
    photo = tmp_path / "box.png"
    Image.new("RGB", (40, 40), (120, 80, 40)).save(photo)
    source = tmp_path / "records.nt"
    source.write_text(_edm(photo), encoding="utf-8")
    marian = tiny_marian_spec(tmp_path / "marian").save(tmp_path / "tiny-marian.yaml")
    diffusion = tiny_diffusion_spec(tmp_path / "diffusion").save(tmp_path / "tiny-diffusion.yaml")
    clip = tiny_clip_spec(tmp_path / "clip").save(tmp_path / "tiny-clip.yaml")
    (tmp_path / "labelled").mkdir()
    _, artefact = _train_classifier(tmp_path / "labelled", load_spec(clip))
    definition = RunDefinition.of(
        [
            EnricherSpec("translate", {"card": str(marian), "threshold": 0.0, "fields": ["dc:title"]}),
            EnricherSpec("generate", {"card": str(diffusion)}),
            EnricherSpec("embed", {"cards": [str(clip)], "modalities": ["image"]}),
            EnricherSpec("classify", {"model": str(artefact), "min_confidence": 0.0, "ensemble": False}),
        ]
    )
    data_dir = tmp_path / "data"
    settings = make_settings(store=oxigraph_server, data_dir=str(data_dir))
    results: dict[str, tuple[RunSummary, dict[str, tuple[str, ...]], dict[str, str]]] = {}
    for engine in ("local", "ray"):
        remote_store.update("DROP ALL")
        shutil.rmtree(data_dir, ignore_errors=True)
        ingest(remote_store, [source])
        load_test_vocabulary(remote_store, tmp_path)
        if engine == "local":
            summary = run_enrichment(remote_store, GRAPHS, definition, settings=settings, batch_size=2)
        else:
            options = RayOptions(workers=1)  # 4 enrichers + a writer on 2 CPUs
            summary = run_on_ray(remote_store, GRAPHS, definition, options, settings=settings, batch_size=2)
        results[engine] = (summary, suggestion_state(remote_store), _images(data_dir))

    local, local_state, local_images = results["local"]
    ray, ray_state, ray_images = results["ray"]
    assert len(local_images) == len(RECORDS) and ray_images == local_images
    local_rest, local_confidences = _split(local_state)
    ray_rest, ray_confidences = _split(ray_state)
    assert ray_rest == local_rest
    enrichers = {v.split('"')[1] for values in ray_rest.values() for v in values if v.startswith(f"{ENR}enricher ")}
    assert {"translate", "generate", "classify"} <= enrichers
    worst = max(abs(ray_confidences[n] - local_confidences[n]) for n in local_confidences)
    assert worst < 1e-6, f"confidences differ by up to {worst}"
    assert (ray.records_seen, ray.counts, ray.per_facet) == (local.records_seen, local.counts, local.per_facet)
