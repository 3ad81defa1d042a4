"""Translation pipeline efficiency: records/s of a whole ``translate`` run vs bare ``generate()`` on the same
inputs, in the same process.

    python -m tests.benchmarks.bench_translate [--records 400] [--rounds 3] [--threads 1] [--d-model 32]
                                               [--workdir DIR]

N synthetic Korean records (a title and a description each, drawn from catalogue-like phrases, so texts
repeat a little as in real collections), in an embedded store. The model is a tiny random MarianMT built
here (tests/ml/tiny_translation: SentencePiece trained in-process, ``--d-model`` wide, 2+2 layers): nothing
is downloaded, and ``max_new_tokens`` is fixed, so every text generates the same number of tokens in both.

  bare generate  ``model.generate()`` alone over the unique texts, tokenised beforehand, shortest first in
                 the card's batch size (what the enricher sends), greedy, with scores
  end to end     ``run_enrichment`` with the translate enricher into an empty cache (threshold 0, so every
                 translation is written): paging, reading records, grouping, cache look-ups and writes,
                 generate + scoring + decoding, suggestions, provenance writes, checkpoints; the model's
                 load time (measured apart) is subtracted
  cached rerun   the same run again in a fresh store's run (every text is in the cache: no generate call)

efficiency = end-to-end records/s ÷ bare-generate records/s (goal ≥ 0.8): median over ``--rounds``, A-B order
alternating. A tiny model generates in milliseconds, so this is the hardest case for the pipeline's own
overheads; a real model's generate dominates far more. Prints a Markdown table, writes translate-results.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from enrich.ingest import IngestOptions, Ingestor, documents
from enrich.jobs import EnricherSpec, RunDefinition, run_enrichment
from enrich.models.cards import ModelSpec
from enrich.namespaces import DC, EDM, ORE, RDF_TYPE, Graphs
from enrich.records_admin import list_records
from enrich.settings import Settings
from enrich.store.embedded import EmbeddedStore
from tests.ingest.support import BASE_IRI, make_settings

EX = "http://bench.example.org/"
RUN_BATCH = 256
MAX_NEW_TOKENS = 12
PERIODS = ["고려", "조선", "통일신라", "삼국시대", "대한제국", "근대"]
WARES = ["백자", "청자", "분청사기", "금동", "나전 칠기", "목가구", "불화", "민화", "서예"]
SHAPES = ["달항아리", "매병", "병", "상자", "보살상", "병풍", "화첩", "접시", "연적", "향로"]
MOTIFS = ["운학문", "모란문", "어문", "연화문", "용문", "초화문", "포도문"]


def _settings(workdir: Path, name: str) -> Settings:
    return make_settings(store=str(workdir / name / "store"), data_dir=str(workdir / name / "data"))


def _records(count: int) -> list[tuple[str, str]]:
    rng = random.Random(11)
    out = []
    for i in range(count):
        period, ware, shape, motif = rng.choice(PERIODS), rng.choice(WARES), rng.choice(SHAPES), rng.choice(MOTIFS)
        title = f"{ware} {motif} {shape}"
        description = f"{period} 시대의 {ware} {shape}. {motif}이 새겨져 있다. 소장품 번호 {i % 97}."
        out.append((title, description))
    return out


def _store(workdir: Path, name: str, records: list[tuple[str, str]]) -> tuple[EmbeddedStore, Settings]:
    settings = _settings(workdir, name)
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (title, description) in enumerate(records):
        cho, agg = f"<{EX}cho/{i}>", f"<{EX}agg/{i}>"
        lines += [
            f"{cho} <{RDF_TYPE}> <{EDM}ProvidedCHO> .",
            f'{cho} <{DC}title> "{title}"@ko .',
            f'{cho} <{DC}description> "{description}"@ko .',
            f'{cho} <{DC}type> "object"@en .',
            f'{cho} <{EDM}type> "IMAGE" .',
            f"{agg} <{RDF_TYPE}> <{ORE}Aggregation> .",
            f"{agg} <{EDM}aggregatedCHO> {cho} .",
            f"{agg} <{EDM}isShownAt> <{EX}page/{i}> .",
            f'{agg} <{EDM}dataProvider> "Bench Museum" .',
            f'{agg} <{EDM}provider> "Bench Aggregator" .',
            f"{agg} <{EDM}rights> <http://creativecommons.org/licenses/by/4.0/> .",
        ]
    source = folder / "records.nt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = EmbeddedStore(Path(settings.store))
    Ingestor(store, settings, IngestOptions(validate=False, progress=False)).run(documents([str(source)]))
    assert len(list_records(store, Graphs(BASE_IRI), limit=len(records) + 1)) == len(records)
    return store, settings


def _bare(spec: ModelSpec, texts: list[str]) -> float:
    """Seconds of ``generate()`` alone over ``texts`` in the enricher's batches (tokenised beforehand)."""
    import torch

    from enrich.translation.base import generation_settings, load_translator

    translator: Any = load_translator(spec)
    ordered = sorted(set(texts), key=lambda t: (len(t), t))
    size = spec.batch_size
    batches = [
        translator.tokenizer(ordered[i : i + size], return_tensors="pt", padding=True, truncation=True)
        for i in range(0, len(ordered), size)
    ]
    settings = generation_settings(spec)
    started = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            translator.model.generate(**batch, **settings)
    return time.perf_counter() - started


def _end_to_end(workdir: Path, name: str, records: list[tuple[str, str]], card: Path) -> dict[str, float]:
    from enrich.models.cards import load_spec
    from enrich.translation.base import load_translator

    store, settings = _store(workdir, name, records)
    config = {"card": str(card), "threshold": 0.0, "fields": ["dc:title", "dc:description"]}
    definition = RunDefinition.of([EnricherSpec("translate", config)])
    started = time.perf_counter()
    load_translator(load_spec(card))
    load_s = time.perf_counter() - started
    graphs = Graphs(BASE_IRI)
    first = run_enrichment(store, graphs, definition, batch_size=RUN_BATCH, auto_resume=False, settings=settings)
    again = run_enrichment(store, graphs, definition, batch_size=RUN_BATCH, auto_resume=False, settings=settings)
    assert first.finished and again.finished
    written = first.counts.new
    store.close()
    shutil.rmtree(workdir / name, ignore_errors=True)
    return {"seconds": first.seconds - load_s, "cached": again.seconds - load_s, "load": load_s, "written": written}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--d-model", type=int, default=32)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    from tests.ml.tiny_translation import tiny_marian_spec

    torch.set_num_threads(args.threads)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-translate-"))
    workdir.mkdir(parents=True, exist_ok=True)
    spec = tiny_marian_spec(workdir / "model", max_new_tokens=MAX_NEW_TOKENS, d_model=args.d_model)
    card = spec.save(workdir / "tiny-marian.yaml")
    records = _records(args.records)
    texts = [text for pair in records for text in pair]
    unique = len(set(texts))
    _bare(spec, texts[:64])  # warm-up: first-call allocations and lazy imports are nobody's cost

    bare, e2e, cached = [], [], []
    load = written = 0.0
    for i in range(args.rounds):
        order = ("bare", "e2e") if i % 2 == 0 else ("e2e", "bare")
        for step in order:
            if step == "bare":
                bare.append(_bare(spec, texts))
            else:
                result = _end_to_end(workdir, f"run-{i}", records, card)
                e2e.append(result["seconds"])
                cached.append(result["cached"])
                load, written = result["load"], result["written"]
    bare_rps = args.records / statistics.median(bare)
    e2e_rps = args.records / statistics.median(e2e)
    cached_rps = args.records / statistics.median(cached)
    results = {
        "machine": platform.machine(),
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "threads": args.threads,
        "records": args.records,
        "texts": len(texts),
        "unique_texts": unique,
        "suggestions_written": written,
        "d_model": args.d_model,
        "max_new_tokens": MAX_NEW_TOKENS,
        "bare_generate_s": bare,
        "end_to_end_s": e2e,
        "cached_rerun_s": cached,
        "model_load_s": load,
        "bare_records_per_s": bare_rps,
        "end_to_end_records_per_s": e2e_rps,
        "cached_records_per_s": cached_rps,
        "efficiency": e2e_rps / bare_rps,
    }
    (workdir / "translate-results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(
        f"{args.records} records, {len(texts)} texts ({unique} unique), d_model {args.d_model}, "
        f"{MAX_NEW_TOKENS} new tokens, {results['device']}, {args.threads} thread(s)\n"
    )
    print("| pipeline | median s | records/s |")
    print("|---|---:|---:|")
    print(f"| bare generate() | {statistics.median(bare):.3f} | {bare_rps:,.1f} |")
    print(f"| end to end (translate run, load excluded) | {statistics.median(e2e):.3f} | {e2e_rps:,.1f} |")
    print(f"| cached rerun | {statistics.median(cached):.3f} | {cached_rps:,.1f} |")
    print(f"\nefficiency (end to end ÷ bare) = {results['efficiency']:.2f} (goal ≥ 0.8); model load {load:.2f} s")


if __name__ == "__main__":
    main()
