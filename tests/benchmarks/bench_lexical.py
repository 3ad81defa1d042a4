"""Lexical enrichment throughput: records/s over N synthetic EDM records, with and without the store read.

    python -m tests.benchmarks.bench_lexical [--records 10000] [--batch 500] [--workdir DIR]

Ingests N synthetic records (``synthetic_edm``: title, description and medium naming a material) into an
on-disk store with the bundled starter AAT and Korean classes loaded, then measures, each over all records
in batches:
  read views       read_record_views (one SELECT per batch)
  enrich only      LexicalEnricher.enrich on views already in memory (all facets with concepts)
  read + enrich    both, as a run would do them
Prints a Markdown table and writes ``lexical-results.json`` in the work directory.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from enrich.enrichers.base import RecordView, read_record_views
from enrich.enrichers.lexical import LexicalEnricher
from enrich.ingest import IngestOptions, Ingestor, documents
from enrich.namespaces import Graphs
from enrich.records_admin import list_records
from enrich.settings import Settings
from enrich.store.embedded import EmbeddedStore
from enrich.vocab import loader
from tests.benchmarks.synthetic_edm import write_rdf_xml

BASE_IRI = "https://data.heritage-enrich.example/"


def _prepare(workdir: Path, records: int) -> tuple[EmbeddedStore, Graphs, list[str]]:
    settings = Settings(base_iri=BASE_IRI, store=str(workdir / "store"))  # type: ignore[call-arg]
    graphs = Graphs(BASE_IRI)
    source = workdir / "records.rdf"
    write_rdf_xml(source, records)
    store = EmbeddedStore(workdir / "store")
    Ingestor(store, settings, IngestOptions(validate=False, progress=False)).run(documents([str(source)]))
    for name in ("aat-starter", "korean-museum-classes"):
        path = loader.bundled_vocabulary(name)
        loader.load(store, graphs, loader.read_file(path), name, str(path))
    ids = [rid for rid, _, _, _ in list_records(store, graphs, limit=records)]
    return store, graphs, ids


def run(workdir: Path, records: int, batch: int) -> dict[str, float]:
    started = time.perf_counter()
    store, graphs, ids = _prepare(workdir, records)
    prepare_s = time.perf_counter() - started
    lexical = LexicalEnricher.from_store(store, graphs)
    batches = [ids[i : i + batch] for i in range(0, len(ids), batch)]

    started = time.perf_counter()
    views: list[list[RecordView]] = [read_record_views(store, graphs, b, lexical.reads) for b in batches]
    read_s = time.perf_counter() - started

    started = time.perf_counter()
    suggestions = sum(len(lexical.enrich(v)) for v in views)
    enrich_s = time.perf_counter() - started

    started = time.perf_counter()
    for b in batches:
        lexical.enrich(read_record_views(store, graphs, b, lexical.reads))
    both_s = time.perf_counter() - started
    store.close()
    n = len(ids)
    return {
        "records": n,
        "facets": len(lexical.facets),
        "suggestions": suggestions,
        "prepare_s": prepare_s,
        "read_records_per_s": n / read_s,
        "enrich_records_per_s": n / enrich_s,
        "read_and_enrich_records_per_s": n / both_s,
    }


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
        (workdir / "lexical-results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(
        f"{results['records']:,} records, {results['facets']} facets, {results['suggestions']:,} suggestions "
        f"(ingest + vocabularies: {results['prepare_s']:.1f} s)\n"
    )
    print("| step | records/s |\n|---|---:|")
    for label, key in (
        ("read views (store)", "read_records_per_s"),
        ("enrich only (in memory)", "enrich_records_per_s"),
        ("read + enrich", "read_and_enrich_records_per_s"),
    ):
        print(f"| {label} | {results[key]:,.0f} |")


if __name__ == "__main__":
    main()
