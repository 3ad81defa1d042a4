"""SPARQL endpoint benchmark: a 1,000-row SELECT through ``/sparql`` against the same query on the store,
then many concurrent clients.

    python -m tests.benchmarks.bench_sparql [--records 20000] [--repetitions 200] [--seconds 30] [--clients 16]

Synthetic EDM records (``synthetic_edm``) are ingested once into an on-disk store under ``--workdir`` (kept
for the next run). The paths compared run the same query on the same store object and, but for
``store.select``, end with the same thing: the SPARQL JSON results parsed into Python objects.

  direct     pyoxigraph ``Store.query`` + ``QuerySolutions.serialize`` (SPARQL JSON) + ``json.loads``;
             ``store.select`` (rows of pyoxigraph terms, no JSON) is shown beside it.
  endpoint   ``GET /sparql`` (Accept: application/sparql-results+json) from an ``httpx.Client`` to uvicorn on
             127.0.0.1 + ``json.loads`` of the body: HTTP on loopback, routing, the worker thread, the row
             cap, the time limit and the conversion of the results to the negotiated format included.

The paths take turns, repetition by repetition, so that they share whatever else the machine is doing.
Then ``--clients`` threads, each with its own ``httpx.Client``, send a mix of queries for ``--seconds`` to
the server running in another process; every answer is checked (status and row count), and errors,
throughput and latencies are reported. Prints Markdown tables and writes ``sparql-results.json`` in the
work directory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.benchmarks.synthetic_edm import BASE, write_rdf_xml
from tests.conftest import free_port

PREFIXES = "PREFIX dc: <http://purl.org/dc/elements/1.1/> PREFIX edm: <http://www.europeana.eu/schemas/edm/>\n"
#: Titles and types of 1,000 CHOs.
SELECT_1000 = PREFIXES + (
    "SELECT ?cho ?title ?type WHERE { GRAPH ?g { ?cho a edm:ProvidedCHO ; dc:title ?title ; edm:type ?type } } "
    "LIMIT 1000"
)
JSON_RESULTS = "application/sparql-results+json"
DIRECT = "direct: Store.query + serialise SPARQL JSON + json.loads"
SERVER_START_TIMEOUT_S = 60.0


# -- data ---------------------------------------------------------------------------------------------
def prepare(workdir: Path, records: int) -> Path:
    """An on-disk store holding ``records`` ingested synthetic records (made once, then reused)."""
    from enrich.ingest import IngestOptions, Ingestor, documents
    from enrich.settings import Settings
    from enrich.store.embedded import EmbeddedStore

    store_dir = workdir / f"store-{records}"
    marker = workdir / f"store-{records}.done"
    if marker.exists():
        return store_dir
    source = workdir / "records.rdf"
    write_rdf_xml(source, records)
    started = time.perf_counter()
    with EmbeddedStore(store_dir) as store:
        report = Ingestor(store, Settings(store=str(store_dir)), IngestOptions(validate=False, progress=False)).run(
            documents([str(source)])
        )
    print(f"ingested {report.records} records in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    source.unlink()
    marker.touch()
    return store_dir


# -- measuring ------------------------------------------------------------------------------------------
def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "n": len(ordered),
    }


def latencies(store_dir: Path, repetitions: int) -> dict[str, dict[str, float]]:
    """Latencies of the 1,000-row SELECT on each path; the endpoint is served from this process."""
    from pyoxigraph import QueryResultsFormat, QuerySolutions

    from api.app import create_app
    from enrich.settings import Settings
    from enrich.store.embedded import EmbeddedStore
    from tests.api.server import running

    app_settings = Settings(anonymous_read=True)
    with (
        EmbeddedStore(store_dir) as store,
        running(create_app(app_settings, store)) as base,
        httpx.Client(base_url=base, timeout=60) as client,
    ):

        def serialised() -> int:
            solutions = store.oxigraph.query(SELECT_1000)
            assert isinstance(solutions, QuerySolutions)
            body = solutions.serialize(format=QueryResultsFormat.JSON)
            assert body is not None
            return len(json.loads(body)["results"]["bindings"])

        def endpoint() -> int:
            response = client.get("/sparql", params={"query": SELECT_1000}, headers={"Accept": JSON_RESULTS})
            response.raise_for_status()
            return len(json.loads(response.content)["results"]["bindings"])

        paths: dict[str, Callable[[], int]] = {
            DIRECT: serialised,
            "direct: store.select (rows of pyoxigraph terms, no JSON)": lambda: len(store.select(SELECT_1000)),
            "endpoint: GET /sparql over HTTP + json.loads": endpoint,
        }
        seconds: dict[str, list[float]] = {name: [] for name in paths}
        for repetition in range(-max(10, repetitions // 10), repetitions):  # negative: warm-up
            for name, action in paths.items():
                started = time.perf_counter()
                rows = action()
                elapsed = time.perf_counter() - started
                if rows != 1000:
                    raise SystemExit(f"{name}: expected 1000 rows, got {rows}")
                if repetition >= 0:
                    seconds[name].append(elapsed)
    return {name: percentiles(values) for name, values in seconds.items()}


# -- the server, in its own process -----------------------------------------------------------------
def serve(store_dir: Path, port: int) -> None:
    import uvicorn

    from api.app import create_app
    from enrich.settings import Settings

    app = create_app(Settings(store=str(store_dir), anonymous_read=True))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws="none")


def start_server(store_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "tests.benchmarks.bench_sparql", "--serve", str(store_dir), "--port", str(port)]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


# -- concurrent clients -------------------------------------------------------------------------------
@dataclass
class Mix:
    """The queries the concurrent clients choose from, each with a check of its answer (row count)."""

    records: int
    tallies: dict[str, list[float]] = field(default_factory=dict)

    def pick(self, rng: random.Random) -> tuple[str, str, str, int | bool]:
        """(name, query, Accept, expected answer: a row count, ASK's boolean, or True for a non-empty graph)."""
        i = rng.randrange(self.records)
        cho = f"<{BASE}/cho/{i}>"
        choices: list[tuple[str, str, str, int | bool]] = [
            ("select 1,000 rows", SELECT_1000, JSON_RESULTS, 1000),
            (
                "title of one record",
                PREFIXES + f"SELECT ?t WHERE {{ GRAPH ?g {{ {cho} dc:title ?t }} }}",
                JSON_RESULTS,
                1,
            ),
            ("ask", f"ASK {{ GRAPH ?g {{ {cho} ?p ?o }} }}", JSON_RESULTS, True),
            (
                "100 rows as CSV",
                PREFIXES + f"SELECT ?cho ?type WHERE {{ GRAPH ?g {{ ?cho edm:type ?type }} }} OFFSET {i} LIMIT 100",
                "text/csv",
                min(100, self.records - i),
            ),
            (
                "construct one record",
                f"CONSTRUCT {{ {cho} ?p ?o }} WHERE {{ GRAPH ?g {{ {cho} ?p ?o }} }}",
                "text/turtle",
                True,
            ),
            (
                "count by type",
                PREFIXES + "SELECT ?type (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?c edm:type ?type } } GROUP BY ?type",
                JSON_RESULTS,
                3,
            ),
        ]
        return rng.choice(choices)


def check(response: httpx.Response, accept: str, expected: int | bool) -> None:
    response.raise_for_status()
    found: int | bool
    if accept == "text/csv":
        found = len(response.content.splitlines()) - 1
    elif accept == JSON_RESULTS:
        answer = json.loads(response.content)
        found = answer["boolean"] if "boolean" in answer else len(answer["results"]["bindings"])
    else:
        found = bool(response.content.strip())
    if found != expected or type(found) is not type(expected):
        raise ValueError(f"expected {expected!r}, got {found!r}")


def concurrent(base: str, records: int, clients: int, seconds: float) -> dict[str, Any]:
    mix = Mix(records)
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        latencies: dict[str, list[float]] = {}
        with httpx.Client(base_url=base, timeout=60) as client:
            while time.monotonic() < stop_at:
                name, query, accept, expected = mix.pick(rng)
                started = time.perf_counter()
                try:
                    check(client.get("/sparql", params={"query": query}, headers={"Accept": accept}), accept, expected)
                except (httpx.HTTPError, ValueError) as exc:
                    with lock:
                        errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    continue
                latencies.setdefault(name, []).append(time.perf_counter() - started)
        with lock:
            for name, values in latencies.items():
                mix.tallies.setdefault(name, []).extend(values)

    threads = [threading.Thread(target=client_loop, args=(seed,)) for seed in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    every = [value for values in mix.tallies.values() for value in values]
    return {
        "clients": clients,
        "seconds": elapsed,
        "queries": len(every),
        "errors": len(errors),
        "first_errors": errors[:5],
        "queries_per_s": len(every) / elapsed,
        "all": percentiles(every) if every else {},
        "by_query": {name: percentiles(values) for name, values in sorted(mix.tallies.items())},
    }


# -- report -------------------------------------------------------------------------------------------
def report(args: argparse.Namespace, latency: dict[str, dict[str, float]], load: dict[str, Any]) -> None:
    baseline = latency[DIRECT]["p50_ms"]
    print(f"\n{args.records:,} synthetic EDM records on disk, {os.cpu_count()} CPU(s)\n")
    print(f"1,000-row SELECT, {args.repetitions} repetitions each:\n")
    print("| path | p50 ms | p95 ms | p50 / direct p50 |")
    print("|---|---:|---:|---:|")
    for name, figures in latency.items():
        ratio = figures["p50_ms"] / baseline
        print(f"| {name} | {figures['p50_ms']:.2f} | {figures['p95_ms']:.2f} | {ratio:.2f} |")
    print(f"\n{load['clients']} concurrent clients for {load['seconds']:.0f} s, mixed queries:\n")
    print(
        f"queries: {load['queries']:,}, errors: {load['errors']}, throughput: {load['queries_per_s']:.1f} queries/s\n"
    )
    print("| query | count | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for name, figures in [*load["by_query"].items(), ("all", load["all"])]:
        if figures:
            print(f"| {name} | {figures['n']:,} | {figures['p50_ms']:.1f} | {figures['p95_ms']:.1f} |")
    for error in load["first_errors"]:
        print(f"error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workdir", type=Path, default=Path("bench-out") / "sparql")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    if args.records < 1000:
        parser.error("--records must be at least 1000 (the SELECT returns 1,000 rows)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    store_dir = prepare(args.workdir, args.records)
    # One process at a time opens the store directory: this one first, then the server's.
    latency = latencies(store_dir, args.repetitions)
    # Many clients: the server in its own process, so that it does not share an interpreter lock with them.
    process, base = start_server(store_dir)
    try:
        load = concurrent(base, args.records, args.clients, args.seconds)
    finally:
        process.terminate()
        process.wait(timeout=30)
    report(args, latency, load)
    results = {"records": args.records, "latency": latency, "concurrent": load}
    (args.workdir / "sparql-results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
