"""OAI-PMH harvest benchmark: a full ``ListRecords`` harvest of ``edm`` against pyoxigraph's own RDF/XML.

    python -m tests.benchmarks.bench_oai [--records 100000] [--page-size 100] [--workdir DIR]

Ingests N synthetic EDM records (``synthetic_edm``, validation off) into an on-disk store (not timed; a
``--workdir`` that already holds a store of N records is reused), then in the same run:
  harvest    ``create_app`` served by uvicorn on 127.0.0.1 in a process of its own; a plain httpx client
             asks ``ListRecords metadataPrefix=edm`` and follows the resumption tokens to the end (the
             first page includes building the harvest's snapshot of the registry). The server's RSS is
             sampled after every page (psutil), to show memory flat across pages.
  baseline   every record graph read from the same store (Oxigraph's index scan) and serialised by
             ``pyoxigraph.serialize(..., RDF_XML)``, in this process, after the harvest (warm caches).
Prints a Markdown table and writes ``oai-results.json`` in the work directory; the goal is harvest /
baseline >= 0.3 and >= 1,000 records/s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pyoxigraph
from lxml import etree

from enrich.ingest import IngestOptions, Ingestor, documents
from enrich.namespaces import ENR, Graphs
from enrich.settings import Settings
from enrich.store.base import text
from enrich.store.embedded import EmbeddedStore
from tests.benchmarks.synthetic_edm import write_rdf_xml
from tests.conftest import free_port

BASE_IRI = "https://data.heritage-enrich.example/"
GRAPHS = Graphs(BASE_IRI)
OAI = "{http://www.openarchives.org/OAI/2.0/}"
START_TIMEOUT_S = 60.0


def build_store(workdir: Path, records: int) -> tuple[Path, float]:
    """The store of N synthetic records (reused when the work directory has it); seconds spent building."""
    store_dir, marker = workdir / "store", workdir / "store-records.txt"
    if store_dir.is_dir() and marker.is_file() and marker.read_text() == str(records):
        return store_dir, 0.0
    started = time.perf_counter()
    source = workdir / "records.rdf"
    write_rdf_xml(source, records)
    settings = Settings(store=str(store_dir), base_iri=BASE_IRI)
    with EmbeddedStore(store_dir) as store:
        Ingestor(store, settings, IngestOptions(validate=False, progress=False)).run(documents([str(source)]))
    source.unlink()
    marker.write_text(str(records))
    return store_dir, time.perf_counter() - started


def _serve(store_dir: Path, page_size: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "ENRICH_STORE": str(store_dir),
        "ENRICH_BASE_IRI": BASE_IRI,
        "ENRICH_OAI_PAGE_SIZE": str(page_size),
    }
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise SystemExit(f"the server exited with {process.returncode}")
                try:
                    if client.get(f"{url}/health").status_code == 200:
                        return process, f"{url}/oai"
                except httpx.TransportError:
                    time.sleep(0.1)
        raise SystemExit(f"the server did not start within {START_TIMEOUT_S} s")
    except BaseException:
        process.kill()
        process.wait()
        raise


def harvest(url: str, server_pid: int) -> dict[str, Any]:
    """A full ListRecords harvest following the tokens; records, seconds and the server's RSS per page."""
    server = psutil.Process(server_pid)
    rss: list[int] = []
    records = pages = 0
    first_page_s = 0.0
    params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": "edm"}
    started = time.perf_counter()
    with httpx.Client(timeout=600) as client:
        while True:
            response = client.get(url, params=params)
            response.raise_for_status()
            root = etree.fromstring(response.content)
            error = root.find(f"{OAI}error")
            if error is not None:
                raise SystemExit(f"OAI-PMH error {error.get('code')}: {error.text}")
            pages += 1
            records += sum(1 for _ in root.iter(f"{OAI}record"))
            rss.append(server.memory_info().rss)
            if pages == 1:
                first_page_s = time.perf_counter() - started
            token = root.findtext(f"{OAI}ListRecords/{OAI}resumptionToken")
            if not token:
                break
            params = {"verb": "ListRecords", "resumptionToken": token}
    seconds = time.perf_counter() - started
    return {"records": records, "pages": pages, "seconds": seconds, "first_page_s": first_page_s, "rss": rss}


def baseline(store_dir: Path) -> dict[str, Any]:
    """pyoxigraph's RDF/XML of every record graph, read from the same store in record-id order."""
    with EmbeddedStore(store_dir) as store:
        rows = store.select(f"SELECT ?r WHERE {{ GRAPH <{GRAPHS.system}> {{ ?r a <{ENR}Record> }} }}")
        ids = sorted(text(row["r"]).removeprefix(GRAPHS.record_node("")) for row in rows)
        native = store.oxigraph
        size = 0
        started = time.perf_counter()
        for rid in ids:
            graph = pyoxigraph.NamedNode(GRAPHS.record(rid))
            triples = [q.triple for q in native.quads_for_pattern(None, None, None, graph)]
            size += len(pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.RDF_XML) or b"")
        seconds = time.perf_counter() - started
    return {"records": len(ids), "seconds": seconds, "bytes": size}


def run(workdir: Path, records: int, page_size: int) -> dict[str, Any]:
    store_dir, build_s = build_store(workdir, records)
    process, url = _serve(store_dir, page_size)
    try:
        harvested = harvest(url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    if harvested["records"] != records:
        raise SystemExit(f"the harvest brought {harvested['records']} records, the store holds {records}")
    base = baseline(store_dir)
    rss = harvested.pop("rss")
    mib = [value / 2**20 for value in rss]
    results = {
        "records": records,
        "page_size": page_size,
        "build_s": build_s,
        "harvest": harvested,
        "harvest_rate": records / harvested["seconds"],
        "baseline": base,
        "baseline_rate": base["records"] / base["seconds"],
        "rss_mib": {
            "after_first_page": mib[0],
            "median": statistics.median(mib),
            "last_page": mib[-1],
            "peak": max(mib),
        },
    }
    results["ratio"] = results["harvest_rate"] / results["baseline_rate"]
    (workdir / "oai-results.json").write_text(json.dumps(results, indent=2))
    return results


def render(results: dict[str, Any]) -> str:
    harvested, rss = results["harvest"], results["rss_mib"]
    built = f"{results['build_s']:.1f} s" if results["build_s"] else "reused"
    lines = [
        f"{results['records']:,} synthetic records, pages of {results['page_size']}, store built: {built}",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| harvest: ListRecords edm, {harvested['pages']:,} pages, seconds | {harvested['seconds']:.1f} |",
        f"| harvest records/s | {results['harvest_rate']:,.0f} |",
        f"| first page (builds the harvest's snapshot), seconds | {harvested['first_page_s']:.2f} |",
        f"| baseline: read graph + pyoxigraph RDF/XML, seconds | {results['baseline']['seconds']:.1f} |",
        f"| baseline records/s | {results['baseline_rate']:,.0f} |",
        f"| ratio harvest / baseline | {results['ratio']:.2f} |",
        f"| server RSS MiB after the first page | {rss['after_first_page']:,.0f} |",
        f"| server RSS MiB, median over pages | {rss['median']:,.0f} |",
        f"| server RSS MiB after the last page | {rss['last_page']:,.0f} |",
        f"| server RSS MiB, peak | {rss['peak']:,.0f} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=Settings.model_fields["oai_page_size"].default)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run(workdir, args.records, args.page_size)
    print(render(results))
    return results


if __name__ == "__main__":
    main()
