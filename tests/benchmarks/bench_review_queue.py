"""Review queue benchmark: ``GET /review/queue`` at 100k pending suggestions, against a plain store query.

    python -m tests.benchmarks.bench_review_queue [--records 30000] [--pending 100000] [--repetitions 50]

The store (on disk under ``--workdir``, kept for the next run): ``--records`` synthetic EDM records
(``synthetic_edm``) in two datasets, ``--pending`` Pending suggestions over them (1 to 6 per record, six
facets, two enrichers, random confidences) written by the provenance writer, and a few hundred review
decisions (a bulk approval of the most confident, single approvals and rejections) so that the statistics
have something to show.

Measured in one run, on one store object, in turns so that both share whatever else the machine does:

  /review/queue   over HTTP from an ``httpx.Client`` to uvicorn on 127.0.0.1 (the summary warm): the first
                  page, a page 200 pages deep (by the cursor of the ``next`` links), a filtered page
                  (facet, dataset, minimum confidence), and a filtered page whose filter is new every time
                  (the ordering computed afresh from the summary);
  /review/stats   the dashboard's numbers;
  after a review  an approval through ``enrich.review``, then the first page and the stats (the summary and
                  what was derived from it brought up to date record by record), once ``MARGIN_S`` has
                  passed since the store was built (until then every refresh also reads the datestamps the
                  ingest wrote);
  plain query     the SPARQL GROUP BY the route would run without the summary, for the same three pages
                  (page rows only, no count), with ``store.select``;
  stamp           the one query every request asks to learn whether anything changed.

The cold start (the first request building the summary) is timed once. Prints Markdown tables and writes
``review-queue-results.json`` in the work directory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.benchmarks.bench_sparql import percentiles
from tests.benchmarks.synthetic_edm import BASE, write_rdf_xml

FACETS = ("materials", "object-types", "subjects", "styles-periods", "korean-materials", "korean-periods")
ENRICHERS = ("lexical", "zero-shot")
DATASETS = ("collection-a", "collection-b")
PAGE = 50
DEEP = 200
DECISIONS = 200
#: Review actions timed (each one is slow at this size: enrich.review reads every suggestion).
REVIEW_ACTIONS = 10
FILTERED = {"facet": "materials", "dataset": "collection-b", "min_confidence": "0.5"}


# -- data ---------------------------------------------------------------------------------------------
def prepare(workdir: Path, records: int, pending: int) -> Path:
    """The store, made once per (records, pending) and then reused."""
    from enrich.ingest import IngestOptions, Ingestor, documents
    from enrich.namespaces import Graphs
    from enrich.provenance import ProvenanceWriter, WriteCounts
    from enrich.settings import Settings
    from enrich.store.embedded import EmbeddedStore

    store_dir = workdir / f"store-{records}-{pending}"
    marker = workdir / f"store-{records}-{pending}.done"
    if marker.exists():
        return store_dir
    settings = Settings(store=str(store_dir))
    graphs = Graphs(settings.base_iri)
    started = time.perf_counter()
    with EmbeddedStore(store_dir) as store:
        half = records // 2
        for dataset, start, count in ((DATASETS[0], 0, half), (DATASETS[1], half, records - half)):
            source = workdir / f"{dataset}.rdf"
            write_rdf_xml(source, count, start)
            options = IngestOptions(validate=False, progress=False, dataset=dataset)
            Ingestor(store, settings, options).run(documents([str(source)]))
            source.unlink()
        suggestions = _suggestions(records, pending + DECISIONS)
        writer = ProvenanceWriter(store, graphs)
        run = writer.start_run(list(ENRICHERS), [s.model for s in suggestions[: len(ENRICHERS)]], "bench", "synthetic")
        counts = WriteCounts()
        for start in range(0, len(suggestions), 5000):
            counts = counts + writer.write(run, suggestions[start : start + 5000])
            if start == 0:
                _decide(store, graphs)  # while the store is small: a single review action reads every suggestion
        writer.finish(run, counts)
    print(f"built the store in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    marker.touch()
    return store_dir


def _suggestions(records: int, count: int) -> list[Any]:
    """``count`` distinct suggestions, 1 to 6 per record, the first of each enricher first."""
    from enrich.ingest.records import record_id
    from enrich.namespaces import DC
    from enrich.suggestion import ModelCard, SuggestedValue, Suggestion

    rng = random.Random(11)
    cards = [ModelCard(name, "1") for name in ENRICHERS]
    found: dict[str, Suggestion] = {}
    i = 0
    while len(found) < count:
        cho = f"{BASE}/cho/{i % records}"
        for _ in range(rng.randint(1, 6)):
            card = cards[0] if rng.random() < 0.6 or i == 0 else cards[1]
            value = SuggestedValue(f"http://vocab.getty.edu/aat/{300010000 + rng.randrange(5000)}")
            confidence = round(rng.random(), 4)
            suggestion = Suggestion(
                record_id(cho), cho, DC + "subject", value, rng.choice(FACETS), confidence, card.name, card
            )
            found.setdefault(suggestion.suggestion_id, suggestion)
        i += 1
    ordered = list(found.values())[:count]
    firsts = [next(s for s in ordered if s.enricher == name) for name in ENRICHERS]
    return firsts + [s for s in ordered if s not in firsts]


def _decide(store: Any, graphs: Any) -> None:
    """A bulk approval of the most confident suggestions, and single approvals and rejections."""
    from enrich import review
    from enrich.suggestion import Status

    done = review.approve_all(store, graphs, "bench", 0.99)
    rows = review.list_suggestions(store, graphs, Status.PENDING, limit=DECISIONS - done.count, offset=100)
    for i, row in enumerate(rows):
        if i % 3:
            review.reject(store, graphs, row.id, "bench", "wrong-concept")
        else:
            review.approve(store, graphs, row.id, "bench")


# -- measuring ------------------------------------------------------------------------------------------
def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _baseline_query(graphs: Any, filtered: bool, offset: int) -> str:
    from enrich.namespaces import ENR
    from enrich.provenance import facet_iri

    extra = ""
    if filtered:
        extra = (
            f"?node <{ENR}facet> <{facet_iri(FILTERED['facet'])}> . FILTER(?c >= {FILTERED['min_confidence']}) "
            f'GRAPH <{graphs.system}> {{ ?rn <{ENR}dataset> ?ds FILTER(STR(?ds) = "{FILTERED["dataset"]}") }}'
        )
    return (
        f"SELECT ?rn (COUNT(?node) AS ?n) (MAX(?c) AS ?top) WHERE {{ GRAPH ?g {{ ?node <{ENR}status> "
        f"<{ENR}Pending> ; <{ENR}record> ?rn ; <{ENR}confidence> ?c }} {extra} }} GROUP BY ?rn "
        f"ORDER BY DESC(?top) DESC(?rn) LIMIT {PAGE} OFFSET {offset}"
    )


def measure(store_dir: Path, repetitions: int, built_at: float) -> dict[str, Any]:
    from api.app import create_app
    from enrich import review
    from enrich.namespaces import Graphs
    from enrich.review_summary import MARGIN_S, read_stamp
    from enrich.settings import Settings
    from enrich.store.embedded import EmbeddedStore
    from enrich.suggestion import Status
    from tests.api.server import running

    settings = Settings(store=str(store_dir), anonymous_read=True)
    graphs = Graphs(settings.base_iri)
    with (
        EmbeddedStore(store_dir) as store,
        running(create_app(settings, store)) as base,
        httpx.Client(base_url=base, timeout=120) as client,
    ):

        def get(url: str, **params: str | int) -> dict[str, Any]:
            response = client.get(url, params=params)
            response.raise_for_status()
            answer: dict[str, Any] = response.json()
            return answer

        cold_s = _timed(lambda: get("/review/queue", limit=PAGE))
        first = get("/review/queue", limit=PAGE)
        deep_url = str(first["next"])
        for _ in range(DEEP - 2):
            following = get(deep_url)["next"]
            if following is None:  # a small store: its last page
                break
            deep_url = str(following)
        filtered = get("/review/queue", limit=PAGE, **FILTERED)
        paths: dict[str, Callable[[], object]] = {
            "/review/queue first page": lambda: get("/review/queue", limit=PAGE),
            f"/review/queue page {DEEP}": lambda: get(deep_url),
            "/review/queue filtered": lambda: get("/review/queue", limit=PAGE, **FILTERED),
            "/review/stats": lambda: get("/review/stats"),
            "stamp query alone": lambda: read_stamp(store, graphs),
        }
        seconds: dict[str, list[float]] = {name: [] for name in [*paths, "/review/queue filtered, new filter"]}
        seconds["first page after a review action"] = []
        pending = review.list_suggestions(store, graphs, Status.PENDING, limit=REVIEW_ACTIONS, offset=5000)
        for repetition in range(-5, repetitions):
            for name, action in paths.items():
                elapsed = _timed(action)
                if repetition >= 0:
                    seconds[name].append(elapsed)
            new_filter = {**FILTERED, "min_confidence": f"{0.3 + (repetition + 5) * 0.0007:.4f}"}
            elapsed = _timed(lambda: get("/review/queue", limit=PAGE, **new_filter))  # noqa: B023
            if repetition >= 0:
                seconds["/review/queue filtered, new filter"].append(elapsed)
        # Right after an ingest, every refresh also reads the datestamps of the last MARGIN_S: the steady
        # state is measured once that has passed.
        time.sleep(max(0.0, MARGIN_S - (time.time() - built_at)))
        seconds["/review/stats after a review action"] = []
        for row in pending[:REVIEW_ACTIONS]:
            review.approve(store, graphs, row.id, "bench")
            seconds["first page after a review action"].append(_timed(lambda: get("/review/queue", limit=PAGE)))
            seconds["/review/stats after a review action"].append(_timed(lambda: get("/review/stats")))
        baseline: dict[str, list[float]] = {"first page": [], f"page {DEEP}": [], "filtered": []}
        for _ in range(max(3, repetitions // 10)):
            baseline["first page"].append(_timed(lambda: store.select(_baseline_query(graphs, False, 0))))
            deep = _baseline_query(graphs, False, (DEEP - 1) * PAGE)
            baseline[f"page {DEEP}"].append(_timed(lambda: store.select(deep)))  # noqa: B023
            baseline["filtered"].append(_timed(lambda: store.select(_baseline_query(graphs, True, 0))))
    return {
        "cold_s": cold_s,
        "total_records": first["total"],
        "filtered_records": filtered["total"],
        "endpoint": {name: percentiles(values) for name, values in seconds.items()},
        "plain_query": {name: percentiles(values) for name, values in baseline.items()},
    }


def report(args: argparse.Namespace, results: dict[str, Any]) -> None:
    print(f"\n{args.records:,} records, {args.pending:,} pending suggestions, {os.cpu_count()} CPU(s)")
    print(f"queue: {results['total_records']:,} records; filtered ({FILTERED}): {results['filtered_records']:,}")
    print(f"cold start (first request builds the summary): {results['cold_s']:.2f} s\n")
    print("| path | p50 ms | p95 ms | n |\n|---|---:|---:|---:|")
    for group in ("endpoint", "plain_query"):
        for name, figures in results[group].items():
            label = name if group == "endpoint" else f"plain store query: {name}"
            print(f"| {label} | {figures['p50_ms']:.1f} | {figures['p95_ms']:.1f} | {figures['n']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--repetitions", type=int, default=50)
    parser.add_argument("--workdir", type=Path, default=Path("bench-out") / "review-queue")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    store_dir = prepare(args.workdir, args.records, args.pending)
    built_at = store_dir.with_suffix(".done").stat().st_mtime
    results = measure(store_dir, args.repetitions, built_at)
    report(args, results)
    results.update(records=args.records, pending=args.pending)
    (args.workdir / "review-queue-results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
