"""Generation pipeline efficiency: records/s of a whole ``generate`` run vs the bare pipeline call on the
same prompts, in the same process.

    python -m tests.benchmarks.bench_generate [--records 64] [--rounds 2] [--card CARD] [--threads N]
                                              [--workdir DIR]

N synthetic records without images (English title, type, material, period; a web page link only) are
ingested once. Without ``--card`` the pipeline is the tiny random StableDiffusionPipeline of the tests
(32 x 32, 2 steps, CPU); with ``--card`` any text-to-image card (e.g. ``sdxl-turbo`` on a GPU).

  bare pipeline   the diffusers pipeline call alone, on the prompts the run builds, in the card's batches
  end to end      ``run_enrichment`` with the generate enricher into an empty data directory: registry
                  paging, reading the records and their image links, translation look-ups, prompts, the
                  pipeline, PNG encoding, content-addressed files, WebResource triples, suggestions and
                  provenance, checkpoints
  rerun           the same run again (every image is found already made: nothing is generated)

efficiency = end-to-end records/s / bare records/s (goal >= 0.8), the median over ``--rounds`` pairs in
A-B-B-A order. The pipeline is loaded once, before anything is timed (the enricher takes it from the
process's cache). Prints a Markdown table and writes ``generate-results.json`` in the work directory.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from enrich.enrichers.base import read_record_views
from enrich.generation.pipeline import load_text_to_image
from enrich.generation.prompts import READS, record_prompts
from enrich.jobs import EnricherSpec, RunDefinition, run_enrichment
from enrich.models.cards import find_card, load_spec
from enrich.models.runtime import placement
from enrich.namespaces import DC, DCTERMS, EDM, ORE, RDF_TYPE, Graphs
from enrich.records_admin import list_records
from enrich.settings import Settings
from enrich.store.embedded import EmbeddedStore
from tests.ingest.support import BASE_IRI, make_settings

GRAPHS = Graphs(BASE_IRI)
RUN_BATCH = 64
EX = "http://example.org/"
KINDS = ["jar", "bowl", "vase", "bell", "mirror", "brush pot", "ewer", "incense burner"]
MATERIALS = ["celadon", "porcelain", "bronze", "lacquered wood", "stoneware", "silver", "jade"]
PERIODS = ["Goryeo dynasty", "Joseon dynasty", "Three Kingdoms period", "Unified Silla"]


def write_records(path: Path, count: int) -> None:
    """Records without any image: English text, type, material, a period literal, a web page."""
    lines: list[str] = []
    for n in range(count):
        cho, agg = f"<{EX}cho/{n}>", f"<{EX}agg/{n}>"
        kind, material, period = KINDS[n % len(KINDS)], MATERIALS[n % len(MATERIALS)], PERIODS[n % len(PERIODS)]
        lines += [
            f"{cho} <{RDF_TYPE}> <{EDM}ProvidedCHO> .",
            f'{cho} <{DC}title> "{material.capitalize()} {kind} no. {n}"@en .',
            f'{cho} <{DC}description> "A {kind} of {material} with incised decoration, {period}."@en .',
            f'{cho} <{DC}type> "{kind}"@en .',
            f'{cho} <{DCTERMS}medium> "{material}"@en .',
            f'{cho} <{DCTERMS}temporal> "{period}"@en .',
            f'{cho} <{EDM}type> "IMAGE" .',
            f"{agg} <{RDF_TYPE}> <{ORE}Aggregation> .",
            f"{agg} <{EDM}aggregatedCHO> {cho} .",
            f"{agg} <{EDM}isShownAt> <{EX}page/{n}> .",
            f'{agg} <{EDM}dataProvider> "Example Museum" .',
            f'{agg} <{EDM}provider> "Example Aggregator" .',
            f"{agg} <{EDM}rights> <http://creativecommons.org/licenses/by/4.0/> .",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _settings(workdir: Path) -> Settings:
    return make_settings(store=str(workdir / "store"), data_dir=str(workdir / "data"))


def bench(workdir: Path, records: int, rounds: int, card: str | None) -> dict[str, Any]:
    from enrich.ingest import IngestOptions, Ingestor, documents

    if card is None:
        from tests.ml.tiny_diffusion import tiny_diffusion_spec

        card_path = tiny_diffusion_spec(workdir / "tiny").save(workdir / "tiny-diffusion.yaml")
    else:
        card_path = find_card(card)
    spec = load_spec(card_path)
    settings = _settings(workdir)
    source = workdir / "records.nt"
    write_records(source, records)
    store = EmbeddedStore()
    Ingestor(store, settings, IngestOptions(progress=False, dataset="bench")).run(documents([str(source)]))

    started = time.perf_counter()
    model = load_text_to_image(spec)
    load_s = time.perf_counter() - started
    ids = [rid for rid, _, _, _ in list_records(store, GRAPHS, records + 1)]
    views = read_record_views(store, GRAPHS, ids, READS)
    prompts = [p.text for p in record_prompts(store, GRAPHS, views, model.settings.prompt_suffix)]
    assert len(prompts) == records
    batches = [prompts[i : i + spec.batch_size] for i in range(0, len(prompts), spec.batch_size)]
    model.images(batches[0])  # warm-up: the first call builds kernels and allocates

    def bare() -> float:
        started = time.perf_counter()
        for batch in batches:
            model.images(batch)
        return time.perf_counter() - started

    definition = RunDefinition.of([EnricherSpec("generate", {"card": str(card_path)})])

    def end_to_end(data_dir: str) -> float:
        started = time.perf_counter()
        summary = run_enrichment(
            store, GRAPHS, definition, settings=settings.model_copy(update={"data_dir": data_dir}), batch_size=RUN_BATCH
        )
        assert summary.finished
        return time.perf_counter() - started

    timings: dict[str, list[float]] = {"bare": [], "end_to_end": []}
    for round_ in range(rounds):
        for step in ("bare", "end_to_end") if round_ % 2 == 0 else ("end_to_end", "bare"):
            if step == "bare":
                timings["bare"].append(bare())
            else:
                # A fresh data directory and a fresh store state per round: nothing is reused.
                store.update(f"DROP SILENT GRAPH <{GRAPHS.runs}>")
                for rid in ids:
                    store.update(f"DROP SILENT GRAPH <{GRAPHS.suggestions(rid)}>")
                timings["end_to_end"].append(end_to_end(f"{settings.data_dir}-{round_}"))
    timings["rerun"] = [end_to_end(f"{settings.data_dir}-{rounds - 1}")]
    store.close()

    where = placement(spec)
    ratios = [b / e for b, e in zip(timings["bare"], timings["end_to_end"], strict=True)]
    return {
        "model": spec.source if card else "tiny StableDiffusionPipeline (random, 2.8 M params)",
        "device": f"{where.device}/{str(where.dtype).removeprefix('torch.')}",
        "size": f"{model.settings.width}x{model.settings.height}",
        "steps": model.settings.steps,
        "records": records,
        "batch_size": spec.batch_size,
        "load_s": round(load_s, 2),
        "seconds": timings,
        "bare_records_per_s": records / statistics.median(timings["bare"]),
        "end_to_end_records_per_s": records / statistics.median(timings["end_to_end"]),
        "rerun_records_per_s": records / timings["rerun"][0],
        "efficiency": statistics.median(ratios),
        "efficiency_per_pair": ratios,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--card", help="a text-to-image card name or path (default: the tiny test pipeline)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-generate-"))
    workdir.mkdir(parents=True, exist_ok=True)
    row = bench(workdir, args.records, args.rounds, args.card)
    row["machine"] = f"{platform.machine()}, {platform.processor() or platform.system()}"
    (workdir / "generate-results.json").write_text(json.dumps(row, indent=2), encoding="utf-8")
    print(f"model: {row['model']} ({row['device']}, {row['size']}, {row['steps']} steps, batch {row['batch_size']})")
    print("| records | load s | bare rec/s | end-to-end rec/s | efficiency | rerun rec/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {row['records']} | {row['load_s']} | {row['bare_records_per_s']:.2f} | "
        f"{row['end_to_end_records_per_s']:.2f} | {row['efficiency']:.2f} | {row['rerun_records_per_s']:.1f} |"
    )


if __name__ == "__main__":
    main()
