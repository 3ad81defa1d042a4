"""The ``enrich`` command line, run as a real process against real stores (embedded and Oxigraph server)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import httpx
import pyoxigraph
import pytest
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat

from enrich.ingest.records import record_id
from tests.cli.support import (
    COMMAND_TIMEOUT_S,
    ENRICH,
    EXPORT_CHOS,
    EXPORT_FORMATS,
    GRAPHS,
    HERITAGE,
    MUSEUM_CHOS,
    MUSEUM_SAMPLE,
    RDF_SAMPLES,
    SAMPLES,
    SCAN_CHO,
    SCAN_SAMPLE,
    SampleCounts,
    as_triples,
    assert_summary,
    canonical,
    clean_env,
    demo_counts,
    enrich,
    ok,
    parse_stats,
    without_one,
)

OK, FAILURE, USAGE, BAD_INPUT, INVALID_RECORDS, STORE_FAILURE, NOT_FOUND = 0, 1, 2, 3, 4, 5, 6
#: The exit codes the README documents (130: interrupted).
DOCUMENTED_EXIT_CODES = {OK, FAILURE, USAGE, BAD_INPUT, INVALID_RECORDS, STORE_FAILURE, NOT_FOUND, 130}
#: The scan sample with an EDM type that is not in the EDM list.
INVALID_SCAN = SCAN_SAMPLE.read_text(encoding="utf-8").replace('edm:type "3D"', 'edm:type "4D"')


def record_graphs(quads: Iterable[Quad]) -> dict[str, set[Quad]]:
    """The record graphs among ``quads``, each as canonical triples."""
    graphs: dict[str, list[Quad]] = {}
    for quad in quads:
        name = quad.graph_name
        if isinstance(name, NamedNode) and name.value.startswith(GRAPHS.record_prefix):
            graphs.setdefault(name.value, []).append(quad)
    return {name: as_triples(quads) for name, quads in graphs.items()}


def read_record_graphs(store_dir: Path) -> dict[str, set[Quad]]:
    """Every record graph of an embedded store, read directly (the CLI process has exited)."""
    store = pyoxigraph.Store.read_only(str(store_dir))
    try:
        return record_graphs(store.quads_for_pattern(None, None, None, None))
    finally:
        del store


def remote_record_graphs(base_url: str) -> dict[str, set[Quad]]:
    """Every record graph of an Oxigraph server, from one N-Quads dump of its store."""
    response = httpx.get(f"{base_url}/store", headers={"Accept": "application/n-quads"}, timeout=30)
    response.raise_for_status()
    return record_graphs(pyoxigraph.parse(response.content, RdfFormat.N_QUADS))


@dataclass
class DemoStore:
    path: Path
    graphs: dict[str, set[Quad]]
    counts: SampleCounts


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    """An embedded store holding the bundled samples, read but never changed by the tests that use it."""
    workdir = tmp_path_factory.mktemp("demo")
    path = workdir / "store"
    result = ok("demo", "--store", path, cwd=workdir)
    return DemoStore(path, read_record_graphs(path), demo_counts(result.stdout))


def drop_all(base_url: str) -> None:
    """Empty the session's Oxigraph server (other tests use it too)."""
    response = httpx.post(
        f"{base_url}/update",
        content=b"DROP ALL",
        headers={"Content-Type": "application/sparql-update"},
        timeout=10,
    )
    response.raise_for_status()


def server_has_graph(base_url: str, graph: str) -> bool:
    response = httpx.post(
        f"{base_url}/query",
        content=f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}".encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
        timeout=10,
    )
    response.raise_for_status()
    answer: bool = response.json()["boolean"]
    return answer


def embedded_quads(store_dir: Path) -> int:
    """Quads in an embedded store, read beside the process that may hold it open."""
    try:
        store = pyoxigraph.Store.read_only(str(store_dir))
    except OSError:
        return 0  # not created yet
    return len(store)


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + COMMAND_TIMEOUT_S
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"enrich exited with {process.returncode} before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def interrupted_ingest(tmp_path: Path, store: str, ready: Callable[[], bool]) -> tuple[int, str]:
    """Ingest the scan sample and then stdin that never ends; once ``ready``, send Ctrl-C (SIGINT).

    One record per batch: a remote store gets the scan record before the process waits on stdin (the
    embedded store streams every batch into one bulk load, so there only the journal shows up early).
    """
    process = subprocess.Popen(
        [str(ENRICH), "ingest", str(SCAN_SAMPLE), "-", "--format", "turtle", "--store", store],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(ENRICH_INGEST_BATCH_RECORDS="1"),
    )
    try:
        assert process.stdin is not None
        process.stdin.write(b"<http://example.org/a> <http://example.org/b> ")  # and no more
        process.stdin.flush()
        wait_for(ready, process, "the ingest to get going")
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=COMMAND_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stderr.decode("utf-8")


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- help and usage ------------------------------------------------------------------------------
COMMAND_OPTIONS = {
    "demo": ["--store"],
    "ingest": [
        "INPUT",
        "--store",
        "--format",
        "--dataset",
        "--base-iri",
        "--no-validate",
        "--skip-invalid",
        "--report",
        "--progress",
        "--quiet",
    ],
    "delete": ["RECORD", "--store"],
    "stats": ["--store"],
    "export": ["RECORD", "--format", "--output", "--store", *EXPORT_FORMATS],
    "recover": ["--store"],
}


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = ok("--help", cwd=tmp_path)
    assert result.stdout.startswith("usage: enrich")
    for option in ("--help", "--version", *COMMAND_OPTIONS):
        assert option in result.stdout, result.stdout


@pytest.mark.parametrize("command", sorted(COMMAND_OPTIONS))
def test_command_help_lists_its_options(tmp_path: Path, command: str) -> None:
    result = ok(command, "--help", cwd=tmp_path)
    assert result.stdout.startswith(f"usage: enrich {command}")
    for option in COMMAND_OPTIONS[command]:
        assert option in result.stdout, result.stdout
    assert not list(tmp_path.iterdir()), "--help created files"


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    result = enrich(cwd=tmp_path)
    assert result.returncode == USAGE, result.describe()
    assert "usage: enrich" in result.stdout + result.stderr


def test_unknown_command_and_option_are_usage_errors(tmp_path: Path) -> None:
    for args in (["frobnicate"], ["stats", "--no-such-option"], ["export", "x", "--format", "csv"]):
        result = enrich(*args, cwd=tmp_path)
        assert result.returncode == USAGE, result.describe()
        assert "usage: enrich" in result.stderr


def test_version_matches_the_installed_distribution(tmp_path: Path) -> None:
    assert ok("--version", cwd=tmp_path).stdout.strip() == version("heritage-enrich")


# -- demo, ingest, stats -------------------------------------------------------------------------
def test_demo_ingests_and_enriches_the_sample_records(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = ok("demo", "--store", store, cwd=tmp_path)
    expected = demo_counts(result.stdout)
    records = expected.records
    assert f"ingested the bundled samples into {store}" in result.stdout
    assert_summary(
        result.stdout, documents=expected.documents, records=records, new=records, updated=0, unchanged=0, invalid=0
    )
    stats = parse_stats(result.stdout)
    assert (stats.records, stats.deleted) == (records, 0)
    assert stats.sections["providers"] == expected.providers
    assert stats.sections["EDM types"] == expected.edm_types
    # The main job enriches the samples: lexical suggestions with provenance, ready for review.
    assert f"suggestions: {expected.suggestions} new, 0 updated" in result.stdout
    assert f"  materials: {expected.materials_suggestions} new" in result.stdout
    # A second run finds every record unchanged and every suggestion already there (only its run is new).
    again = ok("demo", "--store", store, cwd=tmp_path)
    assert_summary(again.stdout, records=records, new=0, updated=0, unchanged=records, invalid=0)
    assert f"suggestions: 0 new, {expected.suggestions} updated" in again.stdout
    repeated = parse_stats(again.stdout)
    assert (repeated.records, repeated.record_triples, repeated.sections) == (
        stats.records,
        stats.record_triples,
        stats.sections,
    )


def test_ingest_then_stats(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = ok("ingest", MUSEUM_SAMPLE, "--store", store, "--dataset", "museum-2024", cwd=tmp_path)
    assert_summary(first.stdout, documents=1, records=3, new=3, updated=0, unchanged=0, invalid=0)
    ok("ingest", SCAN_SAMPLE, "--store", store, cwd=tmp_path)

    stats = parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout)
    assert (stats.records, stats.deleted) == (4, 0)
    assert stats.sections["providers"] == {HERITAGE: 4}
    assert stats.sections["data providers"] == {
        "Example Museum of Asian Art": 2,
        "Example Archaeology Unit": 1,
        "http://data.example-library.org/organisation/library": 1,
    }
    assert stats.sections["datasets"] == {"museum-2024": 3, "default": 1}
    assert stats.sections["EDM types"] == {"IMAGE": 2, "3D": 1, "TEXT": 1}
    assert 0 < stats.record_triples < stats.triples
    assert stats.record_triples == sum(len(g) for g in read_record_graphs(store).values())


def test_ingest_into_a_memory_store(tmp_path: Path) -> None:
    """``--store :memory:`` (documented) once deadlocked: journalling inside Oxigraph's in-memory bulk load."""
    for inputs in ([SCAN_SAMPLE], [SAMPLES]):
        result = enrich("ingest", *inputs, "--store", ":memory:", cwd=tmp_path, timeout=60)
        assert result.returncode == OK, result.describe()
    demo = enrich("demo", "--store", ":memory:", cwd=tmp_path, timeout=60)
    assert demo.returncode == OK, demo.describe()
    assert parse_stats(demo.stdout).records == demo_counts(demo.stdout).records
    assert not list(tmp_path.iterdir()), "a memory store left files behind"


def test_identical_repeat_of_a_record_is_ingested_once(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = ok("ingest", SCAN_SAMPLE, SCAN_SAMPLE, "--store", store, cwd=tmp_path)
    assert_summary(result.stdout, documents=2, records=2, new=1)
    assert SCAN_CHO in result.stderr
    assert parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout).records == 1


def test_store_from_the_environment(tmp_path: Path) -> None:
    store = tmp_path / "env-store"
    env = clean_env(ENRICH_STORE=str(store))
    assert enrich("ingest", SCAN_SAMPLE, cwd=tmp_path, env=env).returncode == OK
    assert parse_stats(enrich("stats", cwd=tmp_path, env=env).stdout).records == 1
    assert parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout).records == 1


# -- export --------------------------------------------------------------------------------------
def test_demo_store_holds_one_graph_per_sample_record(demo_store: DemoStore) -> None:
    assert set(demo_store.graphs) == {GRAPHS.record(record_id(cho)) for cho in demo_store.counts.chos}


@pytest.mark.parametrize("format_name", sorted(EXPORT_FORMATS))
def test_export_round_trips_a_record_of_each_kind(tmp_path: Path, demo_store: DemoStore, format_name: str) -> None:
    for cho in EXPORT_CHOS:
        graph = GRAPHS.record(record_id(cho))
        data = ok("export", record_id(cho), "--format", format_name, "--store", demo_store.path, cwd=tmp_path)
        quads = list(pyoxigraph.parse(data.stdout_bytes, EXPORT_FORMATS[format_name]))
        if format_name == "nquads":
            assert {q.graph_name for q in quads} == {NamedNode(graph)}
        else:
            assert {q.graph_name for q in quads} == {DefaultGraph()}
        assert as_triples(quads) == demo_store.graphs[graph], f"{format_name} export of {cho}"
        assert any(q.subject == NamedNode(cho) for q in quads)


def test_export_by_provided_cho_iri(tmp_path: Path, demo_store: DemoStore) -> None:
    for cho in (MUSEUM_CHOS[0], SCAN_CHO):
        by_iri = ok("export", cho, "--format", "ntriples", "--store", demo_store.path, cwd=tmp_path)
        by_id = ok("export", record_id(cho), "--format", "ntriples", "--store", demo_store.path, cwd=tmp_path)
        assert by_iri.stdout_bytes == by_id.stdout_bytes
        triples = as_triples(pyoxigraph.parse(by_iri.stdout_bytes, RdfFormat.N_TRIPLES))
        assert triples == demo_store.graphs[GRAPHS.record(record_id(cho))]


def test_export_to_a_file(tmp_path: Path, demo_store: DemoStore) -> None:
    target = tmp_path / "record.ttl"
    printed = ok("export", SCAN_CHO, "--store", demo_store.path, cwd=tmp_path)
    written = ok("export", SCAN_CHO, "--store", demo_store.path, "--output", target, cwd=tmp_path)
    assert written.stdout_bytes == b""
    assert target.read_bytes() == printed.stdout_bytes
    # Turtle is the default format, and keeps the non-ASCII text intact.
    turtle = as_triples(pyoxigraph.parse(target.read_bytes(), RdfFormat.TURTLE))
    assert turtle == demo_store.graphs[GRAPHS.record(record_id(SCAN_CHO))]
    korean = ok("export", MUSEUM_CHOS[0], "--store", demo_store.path, cwd=tmp_path).stdout
    assert "청자 상감 운학문 주자 (靑磁象嵌雲鶴文注子)" in korean


@pytest.mark.parametrize("reference", ["no-such-record", "http://data.example-museum.org/object/none"])
def test_export_of_an_unknown_record_is_not_found(tmp_path: Path, demo_store: DemoStore, reference: str) -> None:
    result = enrich("export", reference, "--store", demo_store.path, cwd=tmp_path)
    assert result.returncode == NOT_FOUND, result.describe()
    assert result.stdout == ""
    assert f"no record {reference!r} in {demo_store.path}" in result.stderr


# -- delete --------------------------------------------------------------------------------------
def test_delete_then_stats(tmp_path: Path) -> None:
    store = tmp_path / "store"
    expected = demo_counts(ok("demo", "--store", store, cwd=tmp_path).stdout)
    result = ok("delete", SCAN_CHO, "--store", store, cwd=tmp_path)
    assert result.stdout.strip() == f"deleted {record_id(SCAN_CHO)}"

    stats = parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout)
    assert (stats.records, stats.deleted) == (expected.records - 1, 1)
    assert stats.sections["EDM types"] == without_one(expected.edm_types, "3D")
    assert stats.sections["providers"] == without_one(expected.providers, HERITAGE)
    assert GRAPHS.record(record_id(SCAN_CHO)) not in read_record_graphs(store)

    gone = enrich("export", SCAN_CHO, "--store", store, cwd=tmp_path)
    assert gone.returncode == NOT_FOUND, gone.describe()
    unknown = enrich("delete", "no-such-record", "--store", store, cwd=tmp_path)
    assert unknown.returncode == NOT_FOUND, unknown.describe()
    assert "no record 'no-such-record'" in unknown.stderr

    # Ingesting the record again brings it back.
    ok("ingest", SCAN_SAMPLE, "--store", store, cwd=tmp_path)
    stats = parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout)
    assert (stats.records, stats.deleted) == (expected.records, 0)
    assert stats.sections["EDM types"] == expected.edm_types


# -- stdin ---------------------------------------------------------------------------------------
def test_ingest_from_stdin_with_format(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = ok("ingest", "-", "--format", "turtle", "--store", store, cwd=tmp_path, stdin=SCAN_SAMPLE.read_bytes())
    assert_summary(result.stdout, documents=1, records=1, new=1)
    stats = parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout)
    assert stats.records == 1
    assert stats.sections["EDM types"] == {"3D": 1}


def test_ingest_from_stdin_needs_format(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = enrich("ingest", "-", "--store", store, cwd=tmp_path, stdin=SCAN_SAMPLE.read_bytes())
    assert result.returncode == BAD_INPUT, result.describe()
    assert "--format" in result.stderr
    assert "stdin" in result.stderr
    assert "nothing was written" in result.stderr
    assert parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout).records == 0


# -- invalid and malformed input -----------------------------------------------------------------
def test_invalid_record_fails_the_whole_ingest(tmp_path: Path) -> None:
    store = tmp_path / "store"
    bad = tmp_path / "bad.ttl"
    bad.write_text(INVALID_SCAN, encoding="utf-8")
    # The valid museum records in the same run are not written either.
    result = enrich("ingest", MUSEUM_SAMPLE, bad, "--store", store, cwd=tmp_path)
    assert result.returncode == INVALID_RECORDS, result.describe()
    assert f"<{SCAN_CHO}>" in result.stderr
    assert "ChoEdmTypeInList" in result.stderr
    assert "must be exactly one of TEXT, IMAGE, SOUND, VIDEO or 3D" in result.stderr
    assert "nothing was written" in result.stderr
    assert "--skip-invalid" in result.stderr
    for cho in MUSEUM_CHOS:
        assert cho not in result.stderr

    stats = parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout)
    assert (stats.records, stats.deleted, stats.triples) == (0, 0, 0)


def test_skip_invalid_writes_the_report(tmp_path: Path) -> None:
    store = tmp_path / "store"
    bad = tmp_path / "bad.ttl"
    bad.write_text(INVALID_SCAN, encoding="utf-8")
    report_path = tmp_path / "report.json"
    result = ok("ingest", MUSEUM_SAMPLE, bad, "--store", store, "--skip-invalid", "--report", report_path, cwd=tmp_path)
    assert_summary(result.stdout, records=4, new=3, updated=0, unchanged=0, invalid=1)
    assert f"1 invalid record(s) skipped; see {report_path}" in result.stderr

    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert (report["documents"], report["records"], report["new"]) == (2, 4, 3)
    [invalid] = report["invalid"]
    assert invalid["record_id"] == record_id(SCAN_CHO)
    assert invalid["cho"] == SCAN_CHO
    assert invalid["source"] == str(bad)
    [violation] = invalid["violations"]
    assert violation["focus"] == SCAN_CHO
    assert violation["shape"].endswith("#ChoEdmTypeInList")
    assert violation["value"] == '"4D"'

    stats = parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout)
    assert stats.records == 3
    assert stats.sections["EDM types"] == {"IMAGE": 2, "TEXT": 1}


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("broken.ttl", "<http://example.org/a> <http://example.org/b> garbage .\n", "broken.ttl:1"),
        ("broken.rdf", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="x">\n<unclosed>\n', "broken.rdf"),
    ],
)
def test_malformed_input_writes_nothing(tmp_path: Path, name: str, content: str, where: str) -> None:
    store = tmp_path / "store"
    broken = tmp_path / name
    broken.write_text(content, encoding="utf-8")
    # A valid document read before the broken one is rolled back with it.
    result = enrich("ingest", SCAN_SAMPLE, broken, "--store", store, cwd=tmp_path)
    assert result.returncode == BAD_INPUT, result.describe()
    assert where in result.stderr
    assert "nothing was written" in result.stderr
    stats = parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout)
    assert (stats.records, stats.triples) == (0, 0)


def test_no_validate_imports_an_invalid_record(tmp_path: Path) -> None:
    store = tmp_path / "store"
    bad = tmp_path / "bad.ttl"
    bad.write_text(INVALID_SCAN, encoding="utf-8")
    result = ok("ingest", bad, "--no-validate", "--store", store, cwd=tmp_path)
    assert_summary(result.stdout, records=1, new=1, invalid=0)
    assert parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout).sections["EDM types"] == {"4D": 1}


def test_ingest_a_zip_archive(tmp_path: Path) -> None:
    archive = tmp_path / "samples.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(MUSEUM_SAMPLE, "export/museum.rdf")
        zipped.write(SCAN_SAMPLE, "export/scan.ttl")
        zipped.writestr("export/README.txt", "not RDF, skipped")
    result = ok("ingest", archive, "--store", tmp_path / "store", cwd=tmp_path)
    assert_summary(result.stdout, documents=2, records=4, new=4)


def test_unwritable_report_path_is_reported_cleanly(tmp_path: Path) -> None:
    store = tmp_path / "store"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    report = blocker / "report.json"  # cannot be created, whatever the command tries
    result = enrich("ingest", SCAN_SAMPLE, "--store", store, "--report", report, cwd=tmp_path)
    records = parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout).records
    assert "Traceback" not in result.stderr, result.describe()
    assert str(report) in result.stderr
    assert result.returncode in DOCUMENTED_EXIT_CODES
    # Either the ingest failed and wrote nothing, or it succeeded (and warned about the report).
    assert (result.returncode == OK) == (records == 1), result.describe()


def test_unwritable_export_output_is_reported_cleanly(tmp_path: Path, demo_store: DemoStore) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    target = blocker / "record.ttl"  # cannot be created, whatever the command tries
    result = enrich("export", SCAN_CHO, "--store", demo_store.path, "--output", target, cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.describe()
    assert str(target) in result.stderr
    assert result.returncode in DOCUMENTED_EXIT_CODES - {OK}


def test_missing_input_file(tmp_path: Path) -> None:
    result = enrich("ingest", tmp_path / "absent.rdf", "--store", tmp_path / "store", cwd=tmp_path)
    assert result.returncode == BAD_INPUT, result.describe()
    assert "absent.rdf: no such file or directory" in result.stderr


# -- remote store --------------------------------------------------------------------------------
def test_remote_store_reports_the_same_as_embedded(tmp_path: Path, oxigraph_server: str) -> None:
    drop_all(oxigraph_server)
    embedded = tmp_path / "store"
    records = RDF_SAMPLES.records  # a folder ingest reads the RDF samples only
    for store in (oxigraph_server, str(embedded)):
        result = ok("ingest", SAMPLES, "--store", store, "--dataset", "samples", cwd=tmp_path)
        assert_summary(result.stdout, documents=RDF_SAMPLES.documents, records=records, new=records)

    remote_stats = parse_stats(ok("stats", "--store", oxigraph_server, cwd=tmp_path).stdout)
    embedded_stats = parse_stats(ok("stats", "--store", embedded, cwd=tmp_path).stdout)
    assert remote_stats == embedded_stats
    assert (remote_stats.records, remote_stats.sections["datasets"]) == (records, {"samples": records})
    # Every record graph is the same on both; the exports of a record of each kind match too.
    assert remote_record_graphs(oxigraph_server) == read_record_graphs(embedded)

    for cho in EXPORT_CHOS:
        exports = [
            ok("export", cho, "--format", "nquads", "--store", store, cwd=tmp_path).stdout_bytes
            for store in (oxigraph_server, embedded)
        ]
        remote, local = (canonical(pyoxigraph.parse(data, RdfFormat.N_QUADS)) for data in exports)
        assert remote == local

    # Deleting and recovering work over HTTP too.
    ok("delete", SCAN_CHO, "--store", oxigraph_server, cwd=tmp_path)
    stats = parse_stats(ok("stats", "--store", oxigraph_server, cwd=tmp_path).stdout)
    assert (stats.records, stats.deleted) == (records - 1, 1)
    assert ok("recover", "--store", oxigraph_server, cwd=tmp_path).stdout.strip() == "nothing to recover"


@pytest.mark.parametrize("command", [["stats"], ["ingest", str(SCAN_SAMPLE)], ["export", SCAN_CHO]])
def test_unreachable_remote_store_is_a_store_failure(tmp_path: Path, command: list[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = enrich(*command, "--store", url, cwd=tmp_path)
    assert result.returncode == STORE_FAILURE, result.describe()
    assert url in result.stderr
    assert "Traceback" not in result.stderr


def test_locked_embedded_store_is_a_store_failure(tmp_path: Path) -> None:
    store = tmp_path / "store"
    held = pyoxigraph.Store(str(store))  # RocksDB allows one writer process at a time
    try:
        result = enrich("stats", "--store", store, cwd=tmp_path)
    finally:
        del held
    assert result.returncode == STORE_FAILURE, result.describe()
    assert f"cannot open the embedded store at {store}" in result.stderr


# -- interrupts and recover -------------------------------------------------------------------------------------
def test_recover_on_a_clean_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    missing = enrich("recover", "--store", store, cwd=tmp_path)
    assert missing.returncode == STORE_FAILURE and "no store at" in missing.stderr, missing.describe()
    assert not store.exists(), "commands that only read must not create a store at a mistyped path"
    expected = demo_counts(ok("demo", "--store", store, cwd=tmp_path).stdout)
    assert ok("recover", "--store", store, cwd=tmp_path).stdout.strip() == "nothing to recover"
    assert parse_stats(ok("stats", "--store", store, cwd=tmp_path).stdout).records == expected.records


def test_ctrl_c_rolls_back_an_embedded_ingest(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ok("ingest", MUSEUM_SAMPLE, "--store", store, cwd=tmp_path)
    before_stats = ok("stats", "--store", store, cwd=tmp_path).stdout
    before_graphs = read_record_graphs(store)
    before_quads = embedded_quads(store)

    returncode, stderr = interrupted_ingest(
        tmp_path,
        str(store),
        lambda: embedded_quads(store) > before_quads,  # the journal has begun
    )
    assert returncode == 130, stderr
    assert "interrupted; the ingest was rolled back." in stderr
    assert ok("stats", "--store", store, cwd=tmp_path).stdout == before_stats
    assert read_record_graphs(store) == before_graphs
    assert ok("recover", "--store", store, cwd=tmp_path).stdout.strip() == "nothing to recover"


def test_ctrl_c_rolls_back_a_remote_ingest(tmp_path: Path, oxigraph_server: str) -> None:
    drop_all(oxigraph_server)
    ok("ingest", MUSEUM_SAMPLE, "--store", oxigraph_server, cwd=tmp_path)
    before = ok("stats", "--store", oxigraph_server, cwd=tmp_path).stdout
    scan_graph = GRAPHS.record(record_id(SCAN_CHO))

    returncode, stderr = interrupted_ingest(
        tmp_path, oxigraph_server, lambda: server_has_graph(oxigraph_server, scan_graph)
    )
    assert returncode == 130, stderr
    assert "interrupted; the ingest was rolled back." in stderr
    assert not server_has_graph(oxigraph_server, scan_graph)
    assert ok("stats", "--store", oxigraph_server, cwd=tmp_path).stdout == before
    assert ok("recover", "--store", oxigraph_server, cwd=tmp_path).stdout.strip() == "nothing to recover"
