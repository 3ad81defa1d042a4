"""Provenance writer benchmark: writer triples/s against a raw bulk load of the same triples.

    python -m tests.benchmarks.bench_provenance [--suggestions 100000] [--batch 5000] [--workdir DIR]

Four passes; the writer's go into one on-disk store, the raw load into a fresh one (``--workdir``, or a
temporary directory):
  writer (new)            ProvenanceWriter.write of every batch into an empty store (all suggestions new)
  writer (re-run)         the same batches again from a second run (all suggestions pending: updates)
  writer (recalibrated)   the same batches from a third run with other confidences (every confidence replaced)
  raw bulk load           the quads the first pass produced, dumped as N-Quads and bulk-loaded by pyoxigraph
The target is writer (new) / raw bulk load >= 0.5 in triples/s; every rate is the first pass's suggestion
triples over the pass's seconds. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
import time
from pathlib import Path

import pyoxigraph

from enrich.namespaces import DCTERMS, ENR, Graphs
from enrich.provenance import ProvenanceWriter, WriteCounts
from enrich.store.base import text
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import ModelCard, SuggestedValue, Suggestion

GRAPHS = Graphs("https://example.org/enrich")
AAT = "http://vocab.getty.edu/aat/"
CARD = ModelCard("lexical", "1.0", "bench")


def make_suggestions(count: int, seed: int = 7) -> tuple[list[Suggestion], dict[str, frozenset[str]]]:
    rng = random.Random(seed)
    concepts = [f"{AAT}{300010000 + i}" for i in range(2000)]
    out = []
    for i in range(count):
        record = f"rec{i // 5}"  # five suggestions per record
        concept = concepts[(i * 7919) % len(concepts)]
        out.append(
            Suggestion(
                record,
                f"https://example.org/cho/{record}",
                DCTERMS + "medium",
                SuggestedValue(concept),
                "materials",
                round(rng.random(), 3),
                "lexical",
                CARD,
                (f"matched '{concept[-5:]}' in dcterms:medium",),
            )
        )
    return out, {"materials": frozenset(concepts)}


def write_all(writer: ProvenanceWriter, suggestions: list[Suggestion], batch: int) -> tuple[float, WriteCounts]:
    run = writer.start_run(["lexical"], [CARD], "bench", "synthetic")
    counts = WriteCounts()
    started = time.perf_counter()
    for start in range(0, len(suggestions), batch):
        counts = counts + writer.write(run, suggestions[start : start + batch])
    elapsed = time.perf_counter() - started
    writer.finish(run, counts)
    return elapsed, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suggestions", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    suggestions, allowed = make_suggestions(args.suggestions)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        store = EmbeddedStore(workdir / "writer")
        writer = ProvenanceWriter(store, GRAPHS, allowed=allowed)
        new_s, new_counts = write_all(writer, suggestions, args.batch)
        prefix = GRAPHS.base + "/graph/suggestions/"
        triples = store.count_triples() - store.count_triples(GRAPHS.runs)
        dump = workdir / "suggestions.nq"
        _dump(store, dump, prefix)  # the raw baseline loads exactly what the first pass produced
        rerun_s, rerun_counts = write_all(writer, suggestions, args.batch)
        recalibrated = [dataclasses.replace(s, confidence=round(1 - s.confidence, 3)) for s in suggestions]
        recalibrated_s, recalibrated_counts = write_all(writer, recalibrated, args.batch)
        confidences = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{ENR}confidence> ?c }} }}")
        if int(text(confidences[0]["n"])) != len({s.suggestion_id for s in suggestions}):
            raise SystemExit("the re-runs left a node with no or several confidences")
        store.close()
        raw = pyoxigraph.Store(str(workdir / "raw"))
        started = time.perf_counter()
        raw.bulk_load(path=str(dump), format=pyoxigraph.RdfFormat.N_QUADS)
        raw_s = time.perf_counter() - started
        if len(raw) != triples:
            raise SystemExit(f"the raw load holds {len(raw)} quads, the writer wrote {triples}")
    raw_rate = triples / raw_s
    print(f"{args.suggestions} suggestions, batches of {args.batch}, {triples} suggestion triples\n")
    print("| pass | seconds | triples/s | vs raw bulk load | counts |")
    print("|---|---:|---:|---:|---|")
    passes = (
        ("writer (new)", new_s, new_counts),
        ("writer (re-run)", rerun_s, rerun_counts),
        ("writer (recalibrated)", recalibrated_s, recalibrated_counts),
    )
    for name, seconds, counts in passes:
        rate = triples / seconds
        print(f"| {name} | {seconds:.2f} | {rate:,.0f} | {rate / raw_rate:.2f} | {counts} |")
    print(f"| raw bulk load | {raw_s:.2f} | {raw_rate:,.0f} | 1.00 | |")


def _dump(store: EmbeddedStore, path: Path, prefix: str) -> None:
    rows = store.select(
        f'SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'
    )
    quads = (pyoxigraph.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows)  # type: ignore[arg-type]
    pyoxigraph.serialize(quads, output=str(path), format=pyoxigraph.RdfFormat.N_QUADS)


if __name__ == "__main__":
    main()
