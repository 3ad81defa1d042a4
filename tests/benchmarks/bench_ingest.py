"""Ingest benchmark: our ingest against a raw pyoxigraph bulk load, measured in the same run.

    python -m tests.benchmarks.bench_ingest --records 100000 [--workdir DIR] [--phases ...]

Phases (each in its own process, so peak RSS is per phase):
  raw-nt      pyoxigraph.Store.bulk_load of the N-Triples into the default graph (the baseline, (1))
  raw-nq      the same triples as N-Quads in one graph per record: the floor for our graph layout
  ingest      our ingest of the RDF/XML, validation off (2)
  validate    our ingest of the RDF/XML with SHACL validation on (3)
  reingest    (2) again onto its own store: every record unchanged, nothing written
Prints a Markdown table and writes ``results.json`` in the work directory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.benchmarks.synthetic_edm import write_n_triples, write_rdf_xml

ALL_PHASES = ["raw-nt", "raw-nq", "ingest", "validate", "reingest"]


def _phase(name: str, workdir: Path) -> dict[str, float]:
    """Run one phase in this process and return its figures."""
    import pyoxigraph

    from enrich.ingest import IngestOptions, Ingestor, documents
    from enrich.settings import Settings
    from enrich.store.embedded import EmbeddedStore

    rdf_xml, n_triples, n_quads = workdir / "records.rdf", workdir / "records.nt", workdir / "records.nq"
    store_dir = workdir / f"store-{name}"
    if name != "reingest":
        shutil.rmtree(store_dir, ignore_errors=True)
    started = time.perf_counter()
    if name in ("raw-nt", "raw-nq"):
        store = pyoxigraph.Store(str(store_dir))
        source, rdf_format = (
            (n_triples, pyoxigraph.RdfFormat.N_TRIPLES) if name == "raw-nt" else (n_quads, pyoxigraph.RdfFormat.N_QUADS)
        )
        store.bulk_load(path=str(source), format=rdf_format)
        store.flush()
        records = 0.0
    else:
        if name == "reingest":
            store_dir = workdir / "store-ingest"
        settings = Settings(store=str(store_dir))
        options = IngestOptions(validate=name == "validate", progress=False)
        with EmbeddedStore(store_dir) as embedded:
            report = Ingestor(embedded, settings, options).run(documents([str(rdf_xml)]))
        records = float(report.records)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "records": records, "peak_rss_mib": peak_kib / 1024}


def _prepare(workdir: Path, count: int) -> int:
    rdf_xml = workdir / "records.rdf"
    marker = workdir / f"generated-{count}"
    if not marker.exists():
        for stale in workdir.glob("generated-*"):
            stale.unlink()
        write_rdf_xml(rdf_xml, count)
        triples = write_n_triples(rdf_xml, workdir / "records.nt")
        _write_n_quads(workdir / "records.nt", workdir / "records.nq")
        marker.write_text(str(triples))
    return int(marker.read_text())


def _write_n_quads(n_triples: Path, n_quads: Path) -> None:
    """One graph per record, keyed like ours by the number in the subject IRI."""
    with n_triples.open() as source, n_quads.open("w") as out:
        for line in source:
            subject = line.split(" ", 1)[0]
            key = subject.rstrip(">").rsplit("/", 1)[-1].split(".")[0]
            out.write(f"{line[:-3]} <http://bench.example/graph/{key}> .\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("bench-out"))
    parser.add_argument("--phases", nargs="+", default=ALL_PHASES, choices=ALL_PHASES)
    parser.add_argument("--run-phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.run_phase:
        print(json.dumps(_phase(args.run_phase, args.workdir)))
        return

    triples = _prepare(args.workdir, args.records)
    results: dict[str, dict[str, float]] = {}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for phase in args.phases:
        command = [sys.executable, "-m", "tests.benchmarks.bench_ingest", "--workdir", str(args.workdir)]
        output = subprocess.run([*command, "--run-phase", phase], check=True, capture_output=True, text=True, env=env)
        results[phase] = json.loads(output.stdout.strip().splitlines()[-1])
        print(f"{phase}: {results[phase]['seconds']:.1f} s", file=sys.stderr)

    base = results.get("raw-nt", {}).get("seconds")
    print(f"\n{args.records:,} synthetic EDM records, {triples:,} triples, {os.cpu_count()} CPU(s)\n")
    print("| phase | seconds | records/s | ratio to raw N-Triples bulk load (1) | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for phase, figures in results.items():
        rate = args.records / figures["seconds"]
        ratio = f"{base / figures['seconds']:.2f}" if base else "n/a"
        print(f"| {phase} | {figures['seconds']:.1f} | {rate:,.0f} | {ratio} | {figures['peak_rss_mib']:,.0f} |")
    (args.workdir / "results.json").write_text(
        json.dumps({"records": args.records, "triples": triples, "phases": results}, indent=2)
    )


if __name__ == "__main__":
    main()
