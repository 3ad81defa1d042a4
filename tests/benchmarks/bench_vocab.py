"""Vocabulary benchmark on the whole 2014 AAT hierarchy (23,448 concepts, ../shared/data/aat/).

    python -m tests.benchmarks.bench_vocab [--workdir DIR]

Measures, each as the median of several runs in this process:
  json → tree         converting the nested JSON and building the label tree (the "< 2 s load" target)
  skos file → tree    the converted SKOS as N-Triples, parsed and built into a tree
  store → tree        reading the vocabulary graph back from an on-disk store and building the tree
  raw parse           pyoxigraph parsing the same N-Triples to a list, the baseline of the file path
  label index         building the label index of all concepts
  ancestors           one ancestor lookup, over every concept (the "< 1 ms" target), p50 / p99
  find                one label lookup (every concept's English label), p50 / p99
  facet tree          the Materials and Objects facet subtrees
Prints a Markdown table and writes ``vocab-results.json`` in the work directory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph

from enrich.namespaces import Graphs
from enrich.store.embedded import EmbeddedStore
from enrich.vocab import aat_json, loader
from enrich.vocab.facets import facet_tree, load_facets
from enrich.vocab.skos import read_skos
from enrich.vocab.tree import LabelTree

HIERARCHY = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "aat" / "mdlincoln_aat_hierarchy_2014-02.json"
)


def _median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _per_call_us(action: Callable[[str], object], keys: list[str]) -> tuple[float, float]:
    times = []
    for key in keys:
        started = time.perf_counter_ns()
        action(key)
        times.append(time.perf_counter_ns() - started)
    times.sort()
    return times[len(times) // 2] / 1000, times[int(len(times) * 0.99)] / 1000


def run(workdir: Path, runs: int) -> dict[str, float]:
    results: dict[str, float] = {}
    results["json → tree (s)"] = _median_seconds(lambda: LabelTree.from_vocabulary(aat_json.load_json(HIERARCHY)), runs)
    vocabulary = aat_json.load_json(HIERARCHY)
    n_triples = workdir / "aat-2014.nt"
    n_triples.write_text("\n".join(loader.vocabulary_triples(vocabulary)) + "\n", encoding="utf-8")
    results["raw parse of the SKOS N-Triples (s)"] = _median_seconds(
        lambda: list(pyoxigraph.parse(path=str(n_triples))), runs
    )
    results["skos file → tree (s)"] = _median_seconds(
        lambda: LabelTree.from_vocabulary(read_skos(pyoxigraph.parse(path=str(n_triples)))), runs
    )
    graphs = Graphs("https://data.example.org/")
    with EmbeddedStore(workdir / "store") as store:
        results["first load into the disk store (s)"] = loader.load(
            store, graphs, vocabulary, "aat-2014", "bench"
        ).seconds
        results["store → tree (s)"] = _median_seconds(lambda: loader.read_tree(store, graphs, "aat-2014"), runs)
    tree = LabelTree.from_vocabulary(vocabulary)
    results["label index (s)"] = _median_seconds(lambda: LabelTree.from_vocabulary(vocabulary).index, 1)
    concepts = list(tree.nodes)
    results["ancestors p50 (µs)"], results["ancestors p99 (µs)"] = _per_call_us(tree.ancestors, concepts)
    labels = [tree[c].label() for c in concepts]
    tree.find("warm-up")
    results["find p50 (µs)"], results["find p99 (µs)"] = _per_call_us(tree.find, labels)
    facets = load_facets()
    results["materials + objects facet trees (s)"] = _median_seconds(
        lambda: [facet_tree(facets[f], {"aat-2014": tree}) for f in ("materials", "object-types")], runs
    )
    results["concepts"] = len(tree)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, help="where to write files (default: a temporary directory)")
    parser.add_argument("--runs", type=int, default=5, help="runs per timing (median reported)")
    args = parser.parse_args()
    if not HIERARCHY.is_file():
        raise SystemExit(f"reference data not found: {HIERARCHY}")
    with tempfile.TemporaryDirectory() as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run(workdir, args.runs)
        (workdir / "vocab-results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print("| measure | value |\n|---|---:|")
    for name, value in results.items():
        print(f"| {name} | {value:,.3f} |" if isinstance(value, float) else f"| {name} | {value:,} |")


if __name__ == "__main__":
    main()
