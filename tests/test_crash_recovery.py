"""A process killed in the middle of an ingest leaves nothing half-written behind.

The ingest runs as a real ``enrich ingest`` process, is SIGKILLed while it writes, and the store is
then recovered and compared with what it held before, triple for triple.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyoxigraph import Triple

from enrich.ingest import IngestOptions, Ingestor, documents
from enrich.ingest.journal import unfinished_ingests
from enrich.namespaces import Graphs
from enrich.settings import Settings
from enrich.store.embedded import EmbeddedStore
from tests.benchmarks.synthetic_edm import write_rdf_xml

ENRICH = str(Path(sys.executable).parent / "enrich")
RECORD_V1 = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:edm="http://www.europeana.eu/schemas/edm/" xmlns:ore="http://www.openarchives.org/ore/terms/">
  <edm:ProvidedCHO rdf:about="http://crash.example/cho/a">
    <dc:title xml:lang="en">{title}</dc:title><dc:type>vase</dc:type><edm:type>IMAGE</edm:type>
  </edm:ProvidedCHO>
  <ore:Aggregation rdf:about="http://crash.example/agg/a">
    <edm:aggregatedCHO rdf:resource="http://crash.example/cho/a"/>
    <edm:dataProvider>Crash Museum</edm:dataProvider><edm:provider>Crash Aggregator</edm:provider>
    <edm:isShownAt rdf:resource="http://crash.example/a"/>
    <edm:rights rdf:resource="http://creativecommons.org/publicdomain/zero/1.0/"/>
  </ore:Aggregation>
</rdf:RDF>
"""


def _snapshot(store: EmbeddedStore) -> dict[str, set[Triple]]:
    return {graph: set(store.read_graph(graph)) for graph in store.named_graphs()}


def _ingest_until_killed(store_dir: Path, inputs: list[Path], records_before_kill: int) -> None:
    env = {**os.environ, "ENRICH_INGEST_BATCH_RECORDS": "200", "ENRICH_STORE": str(store_dir)}
    process = subprocess.Popen(
        [ENRICH, "ingest", *map(str, inputs), "--no-validate", "--progress"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    seen = b""
    try:
        while time.monotonic() < deadline:
            chunk = os.read(process.stderr.fileno(), 4096)
            if not chunk:
                pytest.fail(f"the ingest ended before it could be killed: {seen.decode(errors='replace')}")
            seen += chunk
            counts = [int(part.split(b" ")[0].replace(b",", b"")) for part in seen.split(b"\r") if b"records/s" in part]
            if counts and counts[-1] >= records_before_kill:
                break
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL


@pytest.mark.slow
@pytest.mark.parametrize("records_before_kill", [400, 3000])
def test_killed_ingest_rolls_back_to_the_exact_previous_state(tmp_path: Path, records_before_kill: int) -> None:
    store_dir = tmp_path / "store"
    first = tmp_path / "a-v1.rdf"
    first.write_text(RECORD_V1.format(title="First version"), encoding="utf-8")
    settings = Settings(store=str(store_dir))
    graphs = Graphs(settings.base_iri)
    with EmbeddedStore(store_dir) as store:
        Ingestor(store, settings, IngestOptions(progress=False)).run(documents([str(first)]))
        before = _snapshot(store)
        triples_before = store.count_triples()

    changed = tmp_path / "a-v2.rdf"
    changed.write_text(RECORD_V1.format(title="Second version"), encoding="utf-8")
    bulk = tmp_path / "bulk.rdf"
    write_rdf_xml(bulk, 20_000)
    _ingest_until_killed(store_dir, [changed, bulk], records_before_kill)

    with EmbeddedStore(store_dir) as store:
        pending = unfinished_ingests(store, graphs)
        assert pending and not pending[0][1], "the killed ingest must be left in the journal, uncommitted"
        assert store.count_triples() != triples_before, "the kill came too late to test anything"

    recovered = subprocess.run([ENRICH, "recover", "--store", str(store_dir)], capture_output=True, text=True)
    assert recovered.returncode == 0, recovered.stderr
    assert "rolled back" in recovered.stdout

    with EmbeddedStore(store_dir) as store:
        assert _snapshot(store) == before
        assert store.count_triples() == triples_before
        assert unfinished_ingests(store, graphs) == []


def test_an_interrupted_ingest_is_recovered_by_the_next_ingest(tmp_path: Path) -> None:
    """The embedded store belongs to one process, so the next ingest may roll back a stale journal itself."""
    store_dir = tmp_path / "store"
    source = tmp_path / "a.rdf"
    source.write_text(RECORD_V1.format(title="Only version"), encoding="utf-8")
    settings = Settings(store=str(store_dir))
    graphs = Graphs(settings.base_iri)
    with EmbeddedStore(store_dir) as store:
        from enrich.ingest.journal import IngestJournal

        stale = IngestJournal(store, graphs, "stale-test")
        stale.begin("simulated crash")
        stale.prepare_batch(["ghost-000000000000"], [])
        store.update(f"INSERT DATA {{ GRAPH <{graphs.record('ghost-000000000000')}> {{ <urn:x> <urn:y> <urn:z> }} }}")
        report = Ingestor(store, settings, IngestOptions(progress=False)).run(documents([str(source)]))
        assert any("rolled back" in warning for warning in report.warnings)
        assert not store.graph_exists(graphs.record("ghost-000000000000"))
        assert report.new == 1
        assert unfinished_ingests(store, graphs) == []
