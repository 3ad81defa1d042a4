"""Similarity search benchmark: top-10 over N unit vectors (default 1M x 512), exact and HNSW.

    python -m tests.benchmarks.bench_similarity --vectors 1000000 --dim 512 [--queries 200] [--workdir DIR]

The vectors are synthetic but shaped like image embeddings: clusters in a low-dimensional latent space mapped
into ``dim`` dimensions, plus noise (uniform random vectors have no neighbours worth the name, and no ANN graph
does well on them). The queries are fresh draws from the same distribution, not rows of the index.

Measured through :class:`enrich.similarity.index.VectorIndex`, as the CLI and the API use it:
  write          normalising and writing the index files (plus building the HNSW graph for ``ann``)
  open           opening the written index (memory-mapped: no vector is read)
  first query    the first query after opening (pages the matrix in)
  p50 / p95      per-query latency over the queries, top-10
  recall@10      share of the exact float32 top-10 found, averaged over the queries
  filtered       p50 with an allowed set of 1% and of 20% of the records
Variants: exact float32 (numpy), exact float16 (torch's half product), and HNSW (usearch, float16 graph).
Prints a Markdown table (and writes ``similarity-results.json`` into ``--workdir`` when one is given).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from enrich.similarity.index import IndexOptions, VectorIndex, ann_available

K = 10
LATENT = 64


def synthetic_vectors(count: int, dim: int, seed: int, clusters: int = 1024) -> npt.NDArray[np.float32]:
    """Clustered unit vectors (the same clusters and projection for every seed: queries match the index)."""
    shape = np.random.default_rng(12345)
    basis = shape.standard_normal((LATENT, dim), dtype=np.float32) / np.sqrt(LATENT)
    centres = shape.standard_normal((clusters, LATENT), dtype=np.float32)
    rng = np.random.default_rng(seed)
    out = np.empty((count, dim), dtype=np.float32)
    for start in range(0, count, 100_000):  # in blocks: the temporaries stay small at 1M rows
        n = min(100_000, count - start)
        latent = centres[rng.integers(0, clusters, n)] + 0.5 * rng.standard_normal((n, LATENT), dtype=np.float32)
        block = latent @ basis + 0.15 * rng.standard_normal((n, dim), dtype=np.float32)
        out[start : start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _latencies(index: VectorIndex, queries: npt.NDArray[np.float32], **options: Any) -> list[float]:
    times = []
    for query in queries:
        started = time.perf_counter()
        index.search(query, K, **options)
        times.append(time.perf_counter() - started)
    return times


def _pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def _folder_mib(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file()) / 1024**2


def measure(
    name: str,
    folder: Path,
    ids: list[str],
    matrix: npt.NDArray[np.float32],
    queries: npt.NDArray[np.float32],
    options: IndexOptions,
    truth: list[set[str]] | None,
) -> tuple[dict[str, Any], list[set[str]]]:
    started = time.perf_counter()
    VectorIndex.write(folder, ids, matrix, options)
    write_s = time.perf_counter() - started
    started = time.perf_counter()
    index = VectorIndex.open(folder)
    open_ms = (time.perf_counter() - started) * 1000
    rss_open = _rss_mib()
    started = time.perf_counter()
    index.search(queries[0], K)
    first_ms = (time.perf_counter() - started) * 1000
    times = _latencies(index, queries)
    found = [{rid for rid, _ in index.search(query, K)} for query in queries]
    recall = statistics.mean(len(f & t) / K for f, t in zip(found, truth, strict=True)) if truth is not None else 1.0
    rng = np.random.default_rng(7)
    filtered = {}
    for share in (0.01, 0.2):
        allowed = {ids[i] for i in rng.choice(len(ids), max(K, int(len(ids) * share)), replace=False)}
        filtered[f"filtered_{share:g}_p50_ms"] = _pct(_latencies(index, queries[:50], filter_ids=allowed), 0.5)
    figures = {
        "variant": name,
        "write_s": round(write_s, 2),
        "open_ms": round(open_ms, 2),
        "first_query_ms": round(first_ms, 2),
        "p50_ms": round(_pct(times, 0.5), 2),
        "p95_ms": round(_pct(times, 0.95), 2),
        "recall_at_10": round(recall, 4),
        "disk_mib": round(_folder_mib(folder), 1),
        "rss_after_open_mib": round(rss_open, 1),
        **{key: round(value, 2) for key, value in filtered.items()},
    }
    return figures, found


def run(count: int, dim: int, queries: int, workdir: Path, threads: int, skip_ann: bool) -> list[dict[str, Any]]:
    started = time.perf_counter()
    matrix = synthetic_vectors(count, dim, seed=1)
    asked = synthetic_vectors(queries, dim, seed=2)
    print(f"generated {count:,} x {dim} vectors in {time.perf_counter() - started:.1f} s", flush=True)
    ids = [f"rec-{i:07d}" for i in range(count)]
    results = []
    exact, truth = measure("exact float32", workdir / "f32", ids, matrix, asked, IndexOptions(ann_min_vectors=0), None)
    results.append(exact)
    print(exact, flush=True)
    half, _ = measure(
        "exact float16",
        workdir / "f16",
        ids,
        matrix,
        asked,
        IndexOptions(storage="float16", ann_min_vectors=0),
        truth,
    )
    results.append(half)
    print(half, flush=True)
    if not skip_ann and ann_available():
        options = IndexOptions(ann_min_vectors=1, threads=threads)
        graph, _ = measure("HNSW (usearch f16, M=16)", workdir / "ann", ids, matrix, asked, options, truth)
        results.append(graph)
        print(graph, flush=True)
    for figures in results:
        figures["peak_rss_mib"] = round(_peak_mib(), 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=0, help="threads for the HNSW build (0: every core)")
    parser.add_argument("--skip-ann", action="store_true", help="measure the exact variants only")
    parser.add_argument("--workdir", type=Path, help="where the indexes go (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run(args.vectors, args.dim, args.queries, workdir, args.threads, args.skip_ann)
        if args.workdir:
            (workdir / "similarity-results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\n{args.vectors:,} x {args.dim} vectors, top-{K}, {args.queries} queries, {os.cpu_count()} CPUs\n")
    columns = ["variant", "write s", "open ms", "first ms", "p50 ms", "p95 ms", "recall@10", "1% filter p50"]
    columns += ["20% filter p50", "disk MiB"]
    print("| " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['variant']} | {r['write_s']} | {r['open_ms']} | {r['first_query_ms']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['recall_at_10']} | {r['filtered_0.01_p50_ms']} | {r['filtered_0.2_p50_ms']} | "
            f"{r['disk_mib']} |"
        )
    print(f"\npeak RSS {results[-1]['peak_rss_mib']:,.0f} MiB")


if __name__ == "__main__":
    main()
