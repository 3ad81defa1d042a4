"""Embedding pipeline efficiency: records/s of a whole ``embed`` run vs the bare model forward, same inputs.

    python -m tests.benchmarks.bench_embed [--images 256] [--texts 2000] [--image-size 640x480] [--rounds 2]
                                           [--threads N] [--workdir DIR]

(a) images: N synthetic JPEG photographs on disk (one per record, linked by ``edm:isShownBy`` as ``file:``
    URLs), embedded with a ViT-B-32-sized open_clip model, randomly initialised (``open_clip:ViT-B-32``: no
    weights are available offline, and the architecture is what sets the speed);
(b) texts: N synthetic records' titles, descriptions, subjects, types and media, embedded with the packaged
    all-MiniLM-L6-v2.

For each, in the same process:
  bare forward   the encoder's forward pass alone over inputs already decoded, preprocessed and tokenized,
                 in the batches the pipeline uses
  end to end     ``run_enrichment`` with the embed enricher into an empty cache: registry paging, reading
                 the records and their image links, reading/decoding/preprocessing images (thread pool),
                 batching, forward, cache writes, checkpoints
  cached rerun   the same run again (everything is in the cache)
efficiency = end-to-end records/s ÷ bare-forward records/s (goal ≥ 0.8), the median over ``--rounds`` pairs
run in A-B-B-A order. As the wall clock of a shared machine is noisy, the share of each run's own wall time
spent in the encoder's forward is printed beside it (1.0 would be a pipeline that adds nothing). The model is
loaded once, before either is timed. The device and dtype follow the card policy (CUDA + bf16/fp16 when
present).
Prints a Markdown table and writes ``embed-results.json`` in the work directory.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from enrich.ingest import IngestOptions, Ingestor, documents
from enrich.jobs import EnricherSpec, RunDefinition, run_enrichment
from enrich.models.cards import ModelSpec, load_spec
from enrich.namespaces import Graphs
from enrich.records_admin import list_records
from enrich.settings import Settings
from enrich.store.embedded import EmbeddedStore
from tests.benchmarks.synthetic_edm import BASE, write_rdf_xml
from tests.ingest.support import BASE_IRI, make_settings

RUN_BATCH = 256


def _settings(workdir: Path, name: str) -> Settings:
    return make_settings(store=str(workdir / name / "store"), data_dir=str(workdir / name / "data"))


def _photos(folder: Path, count: int, size: tuple[int, int]) -> None:
    """JPEGs with shapes on a gradient: real decode cost, varied content."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    for i in range(count):
        image = Image.merge("RGB", (gradient, gradient.rotate(90 * (i % 4)), Image.new("L", size, i % 256)))
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = rng.randrange(width), rng.randrange(height)
            box = (x, y, x + rng.randrange(20, width // 2), y + rng.randrange(20, height // 2))
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
        image.save(folder / f"{i}.jpg", quality=90)


def _store(workdir: Path, name: str, records: int, media: Path | None) -> tuple[EmbeddedStore, Settings, list[str]]:
    """An on-disk store of synthetic records; with ``media``, their images are files there."""
    settings = _settings(workdir, name)
    source = workdir / name / "records.rdf"
    source.parent.mkdir(parents=True, exist_ok=True)
    write_rdf_xml(source, records)
    if media is not None:
        text = source.read_text(encoding="utf-8").replace(f"{BASE}/media/", media.as_uri() + "/")
        source.write_text(text, encoding="utf-8")
    store = EmbeddedStore(Path(settings.store))
    Ingestor(store, settings, IngestOptions(validate=False, progress=False)).run(documents([str(source)]))
    ids = [rid for rid, _, _, _ in list_records(store, Graphs(BASE_IRI), limit=records)]
    return store, settings, ids


def _run(store: EmbeddedStore, settings: Settings, definition: RunDefinition) -> None:
    summary = run_enrichment(
        store, Graphs(BASE_IRI), definition, batch_size=RUN_BATCH, auto_resume=False, settings=settings
    )
    assert summary.finished


def bench_images(workdir: Path, count: int, size: tuple[int, int], rounds: int) -> dict[str, Any]:
    import torch

    from enrich.embeddings.images import decode_image
    from enrich.models.encoders import PixelEncoder, load_image_encoder

    media = workdir / "media"
    _photos(media, count, size)
    store, settings, ids = _store(workdir, "images", count, media)
    spec = ModelSpec(name="vit-b-32-random", kind="clip", source="open_clip:ViT-B-32", dim=512, batch_size=32)
    started = time.perf_counter()
    encoder = load_image_encoder(spec)
    load_s = time.perf_counter() - started
    assert isinstance(encoder, PixelEncoder)

    # Bare forward: every image decoded and preprocessed beforehand, then only the model, in the same batches.
    size_hint = getattr(encoder, "image_size", None)
    started = time.perf_counter()
    pixels = [
        encoder.preprocess(decode_image(str(p), p.read_bytes(), 50_000_000, size_hint))
        for p in sorted(media.glob("*.jpg"), key=lambda p: int(p.stem))
    ]
    # What one process decodes and preprocesses a second: how many CPU cores a GPU replica needs to be fed.
    decode_per_s = len(pixels) / (time.perf_counter() - started)
    batches = [torch.stack(pixels[i : i + spec.batch_size]) for i in range(0, len(pixels), spec.batch_size)]
    # Warm-up: the first pass of each batch shape builds the CPU kernels for it (seconds for ViT-B/32).
    for shape in {len(batch): batch for batch in batches}.values():
        encoder.encode_pixels(shape)

    def bare() -> None:
        for batch in batches:
            encoder.encode_pixels(batch)

    card = str(spec.save(workdir / "vit-b-32-random.yaml"))
    definition = RunDefinition.of([EnricherSpec("embed", {"cards": [card], "modalities": ["image"]})])
    timings = _rounds(store, settings, definition, bare, (encoder, "encode_pixels"), rounds)
    store.close()
    return {**_row("images", spec, len(ids), load_s, timings), "decode_preprocess_per_s": decode_per_s}


def bench_texts(workdir: Path, count: int, rounds: int) -> dict[str, Any]:
    from enrich.embeddings.texts import RecordText
    from enrich.enrichers.base import read_record_views
    from enrich.models.encoders import load_text_encoder
    from enrich.models.text_backends import TransformersTextEncoder

    store, settings, ids = _store(workdir, "texts", count, None)
    spec = load_spec("all-minilm-l6-v2")
    started = time.perf_counter()
    encoder = load_text_encoder(spec)
    load_s = time.perf_counter() - started
    assert isinstance(encoder, TransformersTextEncoder)

    # Bare forward: the texts the pipeline embeds, tokenized beforehand in the batches it makes (each run
    # batch's texts sorted by length, cut into the card's batch size).
    record_text = RecordText()
    views = read_record_views(store, Graphs(BASE_IRI), ids, frozenset(record_text.fields))
    inputs = []
    for start in range(0, len(views), RUN_BATCH):
        texts = sorted((record_text(view) for view in views[start : start + RUN_BATCH]), key=len, reverse=True)
        inputs += [encoder.tokenize(texts[i : i + spec.batch_size]) for i in range(0, len(texts), spec.batch_size)]
    # Warm-up: every padded length is a new shape whose CPU kernels the first pass builds; the runs see the same.
    for batch in inputs:
        encoder.forward(batch)

    def bare() -> None:
        for batch in inputs:
            encoder.forward(batch)

    definition = RunDefinition.of([EnricherSpec("embed", {"cards": ["all-minilm-l6-v2"], "modalities": ["text"]})])
    timings = _rounds(store, settings, definition, bare, (encoder, "forward"), rounds)
    store.close()
    return _row("texts", spec, len(ids), load_s, timings)


def _rounds(
    store: EmbeddedStore,
    settings: Settings,
    definition: RunDefinition,
    bare: Callable[[], None],
    forward: tuple[object, str],
    rounds: int,
) -> dict[str, list[float]]:
    """Bare forward and end-to-end run, ``rounds`` pairs in A-B-B-A order (a neighbour's load that rises or
    falls on a shared machine then weighs on both alike), each run into an empty cache; then one cached rerun.
    Inside each run the encoder's forward is timed too (``forward_in_run``)."""
    owner, name = forward
    original = getattr(owner, name)
    inside = [0.0]

    def timed_forward(*args: object) -> object:
        started = time.perf_counter()
        try:
            return original(*args)
        finally:
            inside[0] += time.perf_counter() - started

    def end_to_end(data_dir: str) -> float:
        inside[0] = 0.0
        started = time.perf_counter()
        _run(store, settings.model_copy(update={"data_dir": data_dir}), definition)
        return time.perf_counter() - started

    timings: dict[str, list[float]] = {"bare": [], "end_to_end": [], "forward_in_run": []}
    setattr(owner, name, timed_forward)
    try:
        for round_ in range(rounds):
            for step in ("bare", "end_to_end") if round_ % 2 == 0 else ("end_to_end", "bare"):
                if step == "bare":
                    started = time.perf_counter()
                    bare()
                    timings["bare"].append(time.perf_counter() - started)
                else:
                    timings["end_to_end"].append(end_to_end(f"{settings.data_dir}-{round_}"))
                    timings["forward_in_run"].append(inside[0])
        timings["cached"] = [end_to_end(f"{settings.data_dir}-{rounds - 1}")]
    finally:
        delattr(owner, name)
    return timings


def _row(kind: str, spec: ModelSpec, n: int, load_s: float, timings: dict[str, list[float]]) -> dict[str, Any]:
    from enrich.models.runtime import placement

    where = placement(spec)
    ratios = [b / e for b, e in zip(timings["bare"], timings["end_to_end"], strict=True)]
    shares = [f / e for f, e in zip(timings["forward_in_run"], timings["end_to_end"], strict=True)]
    return {
        "kind": kind,
        "model": spec.source,
        "device": f"{where.device}/{str(where.dtype).removeprefix('torch.')}",
        "records": n,
        "batch_size": spec.batch_size,
        "load_s": round(load_s, 2),
        "seconds": timings,
        "bare_forward_records_per_s": n / statistics.median(timings["bare"]),
        "end_to_end_records_per_s": n / statistics.median(timings["end_to_end"]),
        "cached_rerun_records_per_s": n / timings["cached"][0],
        "efficiency": statistics.median(ratios),
        "efficiency_per_pair": ratios,
        "forward_share_of_run": statistics.median(shares),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--image-size", default="640x480", help="WIDTHxHEIGHT of the synthetic photographs")
    parser.add_argument("--rounds", type=int, default=2, help="bare/end-to-end pairs per input (medians reported)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    width, height = (int(v) for v in args.image_size.split("x"))
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        rows = []
        if args.images:
            rows.append(bench_images(workdir, args.images, (width, height), args.rounds))
        if args.texts:
            rows.append(bench_texts(workdir, args.texts, args.rounds))
        results = {"machine": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads()}
        results["rows"] = rows  # type: ignore[assignment]
        (workdir / "embed-results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"torch threads: {torch.get_num_threads()}, image size {width}x{height}, {args.rounds} pairs\n")
    print(
        "| input | model | device | records | bare forward rec/s | end to end rec/s | efficiency "
        "| forward share of run | cached rerun rec/s |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['kind']} | {row['model']} | {row['device']} | {row['records']:,} | "
            f"{row['bare_forward_records_per_s']:,.1f} | {row['end_to_end_records_per_s']:,.1f} | "
            f"{row['efficiency']:.2f} | {row['forward_share_of_run']:.2f} | {row['cached_rerun_records_per_s']:,.0f} |"
        )
    for row in rows:
        if "decode_preprocess_per_s" in row:
            print(f"\nimages decoded and preprocessed by one process: {row['decode_preprocess_per_s']:,.1f}/s")


if __name__ == "__main__":
    main()
