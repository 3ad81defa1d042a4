"""Classifier quality on the CMOA collection: our facet heads against the TF-IDF baseline, same split, all metrics.

    python -m tests.benchmarks.bench_classify [--records 5000] [--workdir bench-out/classify] [--epochs 60]

Steps (everything through the real code paths, CPU):

1. the first ``--records`` rows of the CMOA export (sorted by CMOA's UUIDs, so an arbitrary sample) are ingested
   with ``enrich ingest --mapping cmoa`` into an on-disk store, with the bundled starter AAT loaded first;
2. labels: **materials** are the concepts the mapping found in the ``medium`` column (on ``dcterms:medium``);
   **object-types** come from the ``classification`` column: the lexical enricher run on ``dc:type`` alone
   and its suggestions approved in bulk (what a cataloguer accepting classification matches would do);
3. features: the packaged all-MiniLM-L6-v2 (``minilm_spec``'s card) through the ``embed`` enricher, one card
   copy per facet so that each facet's input leaves out the field its labels come from:
   object-types read title + medium + department, materials read title + classification + department;
4. per facet, heads are trained (``enrich train``'s function: in-domain split, seed 0) with concatenation and
   cross-attention fusion and, for concatenation, the per-node softmax; each is evaluated (``enrich
   evaluate``'s function) on the same test records next to the TF-IDF + logistic regression baseline trained
   on the same training records over the same text, the lexical enricher and the heads + lexical ensemble.

CMOA has a single data provider, so the provider-held-out ("outer") split does not apply here.

Writes ``classify-results.json``, ``classify-results.md`` and each model's evaluation folder (metrics and the
PNG plots) under the work directory, and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

from enrich.classify.artefact import save
from enrich.classify.evaluate import Evaluation, evaluate_model, save_evaluation
from enrich.classify.features import embedding_features
from enrich.classify.metrics import HEADERS
from enrich.classify.pipeline import TrainRequest, train_classifier
from enrich.classify.train import TrainConfig
from enrich.jobs import RunDefinition, run_enrichment
from enrich.jobs.run import EnricherSpec
from enrich.models.cards import ModelSpec, load_spec
from enrich.namespaces import DC, DCTERMS, Graphs
from enrich.review import approve_all
from enrich.settings import Settings
from enrich.store.embedded import EmbeddedStore
from tests.ml.tiny import minilm_spec

CMOA_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "museums" / "cmoa" / "cmoa_objects_flat.csv"
#: Per facet: the text fields its features and baseline read (never the field its labels come from).
INPUTS: dict[str, tuple[str, ...]] = {
    "object-types": (DC + "title", DCTERMS + "medium", DCTERMS + "isPartOf"),
    "materials": (DC + "title", DC + "type", DCTERMS + "isPartOf"),
}
#: (fusion, hierarchy) variants trained per facet.
VARIANTS = (("concat", "multilabel"), ("cross-attention", "multilabel"), ("concat", "softmax"))


def _slice(workdir: Path, records: int) -> Path:
    out = workdir / f"cmoa-{records}.csv"
    if not out.is_file():
        with CMOA_CSV.open(newline="", encoding="utf-8") as source, out.open("w", newline="", encoding="utf-8") as sink:
            reader, writer = csv.reader(source), csv.writer(sink)
            writer.writerow(next(reader))
            writer.writerows(itertools.islice(reader, records))
    return out


def prepare(workdir: Path, records: int) -> tuple[EmbeddedStore, Settings, Graphs, dict[str, float]]:
    """The store with the CMOA rows and object-type labels (built once; reused while ``ready`` is there)."""
    from enrich.cli import main

    store_dir = workdir / "store"
    settings = Settings(store=str(store_dir), data_dir=str(workdir / "data"))  # type: ignore[call-arg]
    graphs = Graphs(settings.base_iri)
    timings: dict[str, float] = {}
    ready = workdir / f"ready-{records}"
    if not ready.is_file():
        started = time.perf_counter()
        csv_path = _slice(workdir, records)
        assert main(["vocab", "load", "--bundled", "aat-starter", "--store", str(store_dir)]) == 0
        report = str(workdir / "mapping-report.json")
        argv = ["ingest", "--mapping", "cmoa", str(csv_path), "--store", str(store_dir), "--mapping-report", report]
        assert main([*argv, "--no-validate", "--quiet"]) == 0
        timings["ingest_s"] = time.perf_counter() - started
        store = EmbeddedStore(store_dir)
        started = time.perf_counter()
        lexical = EnricherSpec("lexical", {"fields": {"object-types": [DC + "type"]}})
        run_enrichment(store, graphs, RunDefinition.of([lexical], ["object-types"]), settings=settings)
        approve_all(store, graphs, "bench-classify", 0.5, facet="object-types", comment="classification matches")
        timings["label_s"] = time.perf_counter() - started
        store.close()
        ready.write_text("ok\n")
    return EmbeddedStore(store_dir), settings, graphs, timings


def feature_card(workdir: Path, facet: str) -> tuple[ModelSpec, Path]:
    """The packaged MiniLM card under a facet-specific name (its own cache: the text it embeds differs)."""
    base = minilm_spec().as_json()
    base.update(name=f"all-minilm-l6-v2-{facet}-inputs", extra={"fields": list(INPUTS[facet])})
    path = ModelSpec(**base).save(workdir / f"minilm-{facet}.yaml")
    return load_spec(path), path


def embed(store: EmbeddedStore, graphs: Graphs, settings: Settings, card: Path, facet: str) -> float:
    """The embed enricher over every record (a re-run computes nothing: the cache has the vectors)."""
    started = time.perf_counter()
    config = {"cards": [str(card)], "modalities": ["text"], "fields": list(INPUTS[facet])}
    run_enrichment(store, graphs, RunDefinition.of([EnricherSpec("embed", config)], [facet]), settings=settings)
    return time.perf_counter() - started


def rows_of(evaluation: Evaluation, label: str, with_others: bool) -> list[dict[str, Any]]:
    out = []
    for row in evaluation.rows:
        if row.method != "heads" and not with_others:
            continue
        data = row.as_json()
        data["method"] = f"heads ({label})" if row.method == "heads" else row.method
        out.append(data)
    return out


def table(rows: list[dict[str, Any]]) -> str:
    head = ["facet", "method", "records", "concepts", *HEADERS.values(), "ECE uncal.", "ECE"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["facet"], row["method"], str(row["records"]), str(row["concepts"])]
        cells += [f"{row[k]:.2f}" if k == "avg_rank_position" else f"{row[k]:.3f}" for k in HEADERS]
        cells += [f"{row[k]:.4f}" if k in row else "" for k in ("ece_uncalibrated", "ece")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(workdir: Path, records: int, epochs: int) -> dict[str, Any]:
    import torch

    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    store, settings, graphs, timings = prepare(workdir, records)
    results: dict[str, Any] = {"records": records, "epochs": epochs, "threads": torch.get_num_threads()}
    results.update(timings)
    rows: list[dict[str, Any]] = []
    for facet, fields in INPUTS.items():
        card, card_path = feature_card(workdir, facet)
        results[f"embed_{facet}_s"] = embed(store, graphs, settings, card_path, facet)
        provider = embedding_features(settings.data_dir, [card])
        for i, (fusion, hierarchy) in enumerate(VARIANTS):
            started = time.perf_counter()
            config = TrainConfig(fusion=fusion, hierarchy=hierarchy, epochs=epochs, seed=0)  # type: ignore[arg-type]
            request = TrainRequest(f"cmoa-{facet}-{fusion}-{hierarchy}", (facet,), "in-domain", fields)
            model = train_classifier(store, graphs, provider, request, config)
            directory = save(model, settings.data_dir)
            train_s = time.perf_counter() - started
            evaluation = evaluate_model(model, store, graphs, provider, baseline=i == 0)
            save_evaluation(evaluation, workdir / "evaluations" / directory.name)
            label = f"{fusion}, {hierarchy}"
            rows += rows_of(evaluation, label, with_others=i == 0)
            results[f"train_{facet}_{fusion}_{hierarchy}_s"] = train_s
            results[f"model_{facet}_{fusion}_{hierarchy}"] = str(directory)
            report = model.metrics[facet]
            assert isinstance(report, dict)
            results[f"records_{facet}"] = {
                "train": report["train_records"],
                "validation": report["validation_records"],
                "test": evaluation.rows[0].metrics.records,
            }
    store.close()
    results["rows"] = rows
    (workdir / "classify-results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (workdir / "classify-results.md").write_text(table(rows) + "\n", encoding="utf-8")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--workdir", type=Path, default=Path("bench-out") / "classify")
    args = parser.parse_args()
    if not CMOA_CSV.is_file():
        raise SystemExit(f"the CMOA export is not at {CMOA_CSV}")
    results = run(args.workdir, args.records, args.epochs)
    print(table(results["rows"]))
    print(json.dumps({k: v for k, v in results.items() if k != "rows"}, indent=2))


if __name__ == "__main__":
    main()
