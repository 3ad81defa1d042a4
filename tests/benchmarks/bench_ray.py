"""Records/s of a CPU-only enrichment (lexical + a tiny text embedding model) on N records: the local engine vs the
Ray engine with 2 workers per enricher, on this machine.

    python -m tests.benchmarks.bench_ray [--records 100000] [--batch 500] [--workers 2] [--workdir DIR]

Ingests N synthetic records (``synthetic_edm``) with the starter AAT and the Korean classes into an on-disk store
once, then gives each run a fresh copy of that directory, so every engine starts from the same data:

  local, embedded     ``run_enrichment`` in this process on the embedded store (the single-machine baseline)
  local, remote       ``run_enrichment`` in this process against ``oxigraph serve`` on a copy
  ray, remote         ``run_on_ray`` (a local Ray instance, all CPUs, ``--workers`` per enricher) against
                      ``oxigraph serve`` on another copy

Each run has its own data directory (so the embed workers really embed; nothing comes from a cache). The
tiny model is a random 2-layer BERT (``tests.ml.tiny``) saved and loaded through ``from_pretrained``. The runs
must agree on their counts; the script checks that. Prints a Markdown table, writes ``ray-results.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from enrich.jobs.ray_engine import RayOptions, run_on_ray
from enrich.jobs.run import EnricherSpec, RunDefinition, RunSummary, run_enrichment
from enrich.namespaces import Graphs
from enrich.settings import Settings
from enrich.store.embedded import EmbeddedStore
from enrich.store.remote import RemoteStore
from tests.benchmarks.bench_lexical import BASE_IRI, _prepare
from tests.conftest import _stop, _wait_until_ready, free_port, oxigraph_binary
from tests.ingest.support import make_settings
from tests.ml.tiny import tiny_text_encoder_spec


def _definition(card: Path) -> RunDefinition:
    return RunDefinition.of(
        [EnricherSpec("lexical"), EnricherSpec("embed", {"cards": [str(card)], "modalities": ["text"]})]
    )


def _settings(store: str, data_dir: Path) -> Settings:
    return make_settings(store=store, data_dir=str(data_dir), remote_timeout_s=600.0)


def _served(location: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = oxigraph_binary()
    if binary is None:
        raise SystemExit("the oxigraph server binary is not installed (pip install oxigraph)")
    bind = f"127.0.0.1:{free_port()}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "serve", "--location", str(location), "--bind", bind],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    _wait_until_ready(process, f"http://{bind}", log)
    return process, f"http://{bind}"


def _row(summary: RunSummary) -> dict[str, Any]:
    return {
        "seconds": round(summary.seconds, 2),
        "records_per_s": round(summary.records_per_second, 1),
        "records": summary.records_seen,
        "new": summary.counts.new,
        "retried": summary.retried,
    }


def raw_load(store_dir: Path, workdir: Path, prefix: str) -> dict[str, Any]:
    """The server's own write pace, the baseline for the runs' writes: the suggestion quads a run wrote (read
    from its store directory), loaded with one Graph Store Protocol POST into a fresh Oxigraph server."""
    import httpx
    from pyoxigraph import NamedNode, RdfFormat, Store, serialize

    source = Store.read_only(str(store_dir))
    quads = [q for q in source if isinstance(q.graph_name, NamedNode) and q.graph_name.value.startswith(prefix)]
    body = serialize(quads, format=RdfFormat.N_QUADS) or b""
    del source
    workdir.mkdir(parents=True, exist_ok=True)
    process, url = _served(workdir / "store", workdir / "server.log")
    try:
        started = time.perf_counter()
        response = httpx.post(
            f"{url}/store", content=body, headers={"Content-Type": "application/n-quads"}, timeout=3600.0
        )
        seconds = time.perf_counter() - started
        response.raise_for_status()
    finally:
        _stop(process)
    return {"quads": len(quads), "seconds": round(seconds, 2), "quads_per_s": round(len(quads) / seconds)}


def run(workdir: Path, records: int, batch: int, workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    (workdir / "base").mkdir(parents=True, exist_ok=True)
    store, graphs, ids = _prepare(workdir / "base", records)
    store.close()
    card = tiny_text_encoder_spec(workdir / "model").save(workdir / "model" / "tiny-bert.yaml")
    definition = _definition(card)
    results: dict[str, Any] = {
        "records": len(ids),
        "batch": batch,
        "workers": workers,
        "prepare_s": round(time.perf_counter() - started, 1),
    }
    graphs = Graphs(BASE_IRI)

    copy = workdir / "local-embedded"
    shutil.copytree(workdir / "base" / "store", copy / "store")
    embedded = EmbeddedStore(copy / "store")
    summary = run_enrichment(
        embedded, graphs, definition, batch_size=batch, settings=_settings(str(copy / "store"), copy / "data")
    )
    embedded.close()
    results["local_embedded"] = _row(summary)

    for label in ("local_remote", "ray_remote"):
        copy = workdir / label
        shutil.copytree(workdir / "base" / "store", copy / "store")
        process, url = _served(copy / "store", copy / "server.log")
        try:
            settings = _settings(url, copy / "data")
            remote = RemoteStore.from_base_url(url, settings)
            if label == "local_remote":
                summary = run_enrichment(remote, graphs, definition, batch_size=batch, settings=settings)
            else:
                options = RayOptions(workers=workers)
                summary = run_on_ray(remote, graphs, definition, options, batch_size=batch, settings=settings)
            remote.close()
        finally:
            _stop(process)
        results[label] = _row(summary)
    results["raw_gsp_load"] = raw_load(workdir / "ray_remote" / "store", workdir / "raw", graphs.suggestions(""))
    ray_seconds = results["ray_remote"]["seconds"]
    results["ray_remote"]["quads_per_s"] = round(results["raw_gsp_load"]["quads"] / ray_seconds)
    news = {results[k]["new"] for k in ("local_embedded", "local_remote", "ray_remote")}
    if len(news) != 1:
        raise SystemExit(f"the engines disagree on their counts: {results}")
    results["ray_vs_local_remote"] = round(
        results["ray_remote"]["records_per_s"] / results["local_remote"]["records_per_s"], 3
    )
    results["remote_vs_embedded"] = round(
        results["local_remote"]["records_per_s"] / results["local_embedded"]["records_per_s"], 3
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-ray-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = run(workdir, args.records, args.batch, args.workers)
    (workdir / "ray-results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"{results['records']:,} records, batch {results['batch']}, lexical + tiny text embed (CPU)\n")
    print("| engine | store | seconds | records/s | suggestions |")
    print("|---|---|---|---|---|")
    for key, engine, store in (
        ("local_embedded", "local", "embedded (disk)"),
        ("local_remote", "local", "Oxigraph server"),
        ("ray_remote", f"ray, {results['workers']} workers", "Oxigraph server"),
    ):
        row = results[key]
        print(f"| {engine} | {store} | {row['seconds']} | {row['records_per_s']:,} | {row['new']:,} |")
    raw = results["raw_gsp_load"]
    print(
        f"\nsuggestion quads: {raw['quads']:,}; one GSP POST into a fresh server: {raw['seconds']} s "
        f"({raw['quads_per_s']:,} quads/s); the ray run wrote {results['ray_remote']['quads_per_s']:,} quads/s"
    )
    print(f"ray / local on the server: {results['ray_vs_local_remote']}")
    print(f"server / embedded (local engine): {results['remote_vs_embedded']}")
    print(f"results: {workdir / 'ray-results.json'}")


if __name__ == "__main__":
    main()
