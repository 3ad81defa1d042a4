"""Enrichment run throughput end to end: records/s of ``run_enrichment`` with the lexical enricher
(registry paging + read views + enrich + SHACL-rule check + provenance write + checkpoint).

    python -m tests.benchmarks.bench_run [--records 10000] [--batch 500] [--workdir DIR]

Ingests N synthetic records (``synthetic_edm``) into an on-disk store with the starter AAT and the Korean
classes loaded, then times:
  first run    every suggestion is new (bulk-loaded)
  second run   every suggestion is pending already (updated in one transaction per batch and facet)
  resumed run  the first run of a fresh definition stopped after half of its batches, then resumed
Prints a Markdown table and writes ``run-results.json`` in the work directory.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from enrich.jobs import RunDefinition, Selection, list_runs, run_enrichment
from enrich.jobs import run as run_module
from tests.benchmarks.bench_lexical import _prepare


class _Stop(Exception):
    pass


def run(workdir: Path, records: int, batch: int) -> dict[str, Any]:
    started = time.perf_counter()
    store, graphs, ids = _prepare(workdir, records)
    prepare_s = time.perf_counter() - started
    definition = RunDefinition.of(["lexical"])
    results: dict[str, Any] = {"records": len(ids), "batch": batch, "prepare_s": prepare_s}
    for label in ("first", "second"):
        summary = run_enrichment(store, graphs, definition, batch_size=batch, auto_resume=False)
        results[label] = {
            "seconds": summary.seconds,
            "records_per_s": summary.records_per_second,
            "new": summary.counts.new,
            "updated": summary.counts.updated,
            "per_facet_new": {f: c.new for f, c in summary.per_facet.items()},
        }
    # Stop a run of another definition half-way (after its checkpoint), then time the resume.
    half = max(1, len(ids) // batch // 2)
    other = RunDefinition.of(["lexical"], None, Selection.of_dataset(_dataset(store, graphs)))
    save = run_module.save_checkpoint
    calls = {"n": 0}

    def stopping(*args: Any) -> None:
        save(*args)
        calls["n"] += 1
        if calls["n"] == half:
            raise _Stop

    run_module.save_checkpoint = stopping  # type: ignore[assignment]
    try:
        run_enrichment(store, graphs, other, batch_size=batch)
    except _Stop:
        pass
    finally:
        run_module.save_checkpoint = save
    summary = run_enrichment(store, graphs, other, batch_size=batch)
    results["resumed"] = {
        "seconds": summary.seconds,
        "records_after_checkpoint": summary.records_seen - half * batch,
        "records_per_s": (summary.records_seen - half * batch) / summary.seconds,
        "runs": len(list_runs(store, graphs)),
    }
    store.close()
    return results


def _dataset(store: Any, graphs: Any) -> str:
    from enrich.namespaces import ENR
    from enrich.store.base import text

    rows = store.select(f"SELECT ?d WHERE {{ GRAPH <{graphs.system}> {{ ?r <{ENR}dataset> ?d }} }} LIMIT 1")
    return text(rows[0]["d"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run(workdir, args.records, args.batch)
        (workdir / "run-results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    first = results["first"]
    print(
        f"{results['records']:,} records, batch {results['batch']}, {first['new']:,} suggestions "
        f"({', '.join(f'{f} {n:,}' for f, n in sorted(first['per_facet_new'].items()))}); "
        f"ingest + vocabularies {results['prepare_s']:.1f} s\n"
    )
    print("| run | seconds | records/s |\n|---|---:|---:|")
    print(f"| first (all new) | {first['seconds']:.1f} | {first['records_per_s']:,.0f} |")
    second = results["second"]
    print(f"| second (all updated) | {second['seconds']:.1f} | {second['records_per_s']:,.0f} |")
    resumed = results["resumed"]
    print(f"| resumed after half | {resumed['seconds']:.1f} | {resumed['records_per_s']:,.0f} |")


if __name__ == "__main__":
    main()
