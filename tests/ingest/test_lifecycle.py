"""A record's life across ingests: unchanged, updated, deleted, back again; duplicates, orphans,
streaming record splitting, and the all-or-nothing rollback."""

from __future__ import annotations

import subprocess
import sys
from itertools import chain
from pathlib import Path

import pyoxigraph
import pytest
from pyoxigraph import Literal, NamedNode, RdfFormat

from enrich.ingest import InputError, ValidationFailed
from enrich.ingest.records import Record, RecordNotSplittable, RecordSplitter, record_id
from enrich.namespaces import ENR, XSD
from enrich.records_admin import RecordNotFound, delete_records, stats
from enrich.store.base import Store
from tests.ingest.support import (
    EX,
    GRAPHS,
    RECORD_TRIPLES,
    cho,
    datestamp_of,
    ingest,
    journal_is_clean,
    make_settings,
    ntriples_record,
    only,
    record_graph,
    record_graphs,
    record_text,
    registry_entry,
    registry_nodes,
    snapshot,
    wait_for_next_second,
    write_record,
)

TRUE = Literal("true", datatype=NamedNode(f"{XSD}boolean"))
FALSE = Literal("false", datatype=NamedNode(f"{XSD}boolean"))
DC_TITLE = "http://purl.org/dc/elements/1.1/title"


def has_title(store: Store, n: int, title: str) -> bool:
    return store.ask(f'ASK {{ GRAPH <{record_graph(cho(n))}> {{ <{cho(n)}> <{DC_TITLE}> "{title}"@en }} }}')


def assert_functional_registry(store: Store, n: int) -> None:
    """One value each for what a record has exactly one of."""
    entry = registry_entry(store, record_id(cho(n)))
    for key in ("type", "cho", "recordGraph", "datestamp", "checksum", "deleted", "source"):
        only(entry, key)


def test_unchanged_then_updated(store: Store, tmp_path: Path) -> None:
    first = ingest(store, [write_record(tmp_path, "one.ttl", n=1), write_record(tmp_path, "two.nt", "ntriples", n=2)])
    assert (first.records, first.new, first.updated, first.unchanged) == (2, 2, 0, 0)
    stamp_1, stamp_2 = datestamp_of(store, record_id(cho(1))), datestamp_of(store, record_id(cho(2)))
    checksum_1 = only(registry_entry(store, record_id(cho(1))), "checksum")
    before = snapshot(store)

    wait_for_next_second()
    again = ingest(store, [tmp_path / "one.ttl", tmp_path / "two.nt"])
    assert (again.records, again.new, again.updated, again.unchanged) == (2, 0, 0, 2)
    assert snapshot(store) == before  # datestamps included
    assert datestamp_of(store, record_id(cho(1))) == stamp_1

    edited = write_record(tmp_path, "one-edited.ttl", n=1, title="Bronze bell from Kraków, restored")
    changed = ingest(store, [edited, tmp_path / "two.nt"])
    assert (changed.records, changed.new, changed.updated, changed.unchanged) == (2, 0, 1, 1)
    assert not has_title(store, 1, "Bronze bell from Kraków")
    assert has_title(store, 1, "Bronze bell from Kraków, restored")
    assert store.count_triples(record_graph(cho(1))) == RECORD_TRIPLES
    assert datestamp_of(store, record_id(cho(1))) > stamp_1
    assert datestamp_of(store, record_id(cho(2))) == stamp_2
    entry = registry_entry(store, record_id(cho(1)))
    assert only(entry, "checksum") != checksum_1
    assert only(entry, "source") == Literal(str(edited))
    assert_functional_registry(store, 1)
    assert record_graphs(store) == sorted([record_graph(cho(1)), record_graph(cho(2))])
    assert journal_is_clean(store)


def test_delete_and_come_back(store: Store, tmp_path: Path) -> None:
    path = write_record(tmp_path, "one.ttl", n=1)
    ingest(store, [path, write_record(tmp_path, "two.ttl", n=2)])
    rid = record_id(cho(1))
    stamp = datestamp_of(store, rid)

    wait_for_next_second()
    assert delete_records(store, GRAPHS, [cho(1)]) == [rid]  # by the object's IRI
    assert not store.graph_exists(record_graph(cho(1)))
    assert store.count_triples(record_graph(cho(1))) == 0
    entry = registry_entry(store, rid)
    assert only(entry, "deleted") == TRUE
    assert only(entry, "checksum") == Literal("")
    deleted_at = datestamp_of(store, rid)
    assert deleted_at > stamp
    assert only(entry, "cho") == NamedNode(cho(1))  # the registry keeps the record as deleted (OAI-PMH)
    numbers = stats(store, GRAPHS)
    assert (numbers.records, numbers.deleted, numbers.record_triples) == (1, 1, RECORD_TRIPLES)
    assert store.graph_exists(record_graph(cho(2)))

    with pytest.raises(RecordNotFound) as caught:
        delete_records(store, GRAPHS, [cho(2), cho(99)])
    assert str(caught.value) == f"no record {cho(99)!r} in {store.location}; nothing was deleted"
    assert store.graph_exists(record_graph(cho(2)))  # none is deleted when one is unknown
    with pytest.raises(RecordNotFound):
        delete_records(store, GRAPHS, [record_id(cho(99))])

    back = ingest(store, [path])
    assert (back.records, back.new, back.updated, back.unchanged) == (1, 0, 1, 0)
    assert store.count_triples(record_graph(cho(1))) == RECORD_TRIPLES
    entry = registry_entry(store, rid)
    assert only(entry, "deleted") == FALSE
    assert only(entry, "checksum").value != ""
    assert datestamp_of(store, rid) >= deleted_at
    assert_functional_registry(store, 1)
    assert stats(store, GRAPHS).deleted == 0
    assert journal_is_clean(store)


def test_delete_by_record_id(store: Store, tmp_path: Path) -> None:
    ingest(store, [write_record(tmp_path, "one.ttl", n=1)])
    rid = record_id(cho(1))
    assert delete_records(store, GRAPHS, [rid]) == [rid]
    assert only(registry_entry(store, rid), "deleted") == TRUE
    assert record_graphs(store) == []


def test_conflicting_copies_in_one_run_write_nothing(store: Store, tmp_path: Path) -> None:
    ingest(store, [write_record(tmp_path, "earlier.ttl", n=3)])
    before = snapshot(store)
    first = write_record(tmp_path, "a.ttl", n=1)
    second = write_record(tmp_path, "b.nt", "ntriples", n=1, title="Another title")
    with pytest.raises(InputError) as caught:
        ingest(store, [first, second])
    assert caught.value.source == str(second)
    assert str(caught.value) == (
        f"{second}: record <{cho(1)}> was already read, with different content, from {first}; "
        "ingest the two separately, in the order you mean"
    )
    assert snapshot(store) == before
    assert journal_is_clean(store)


def test_identical_copies_in_one_run_are_one_record(store: Store, tmp_path: Path) -> None:
    first = write_record(tmp_path, "a.ttl", n=1)
    second = write_record(tmp_path, "b.rdf", "rdfxml", n=1)
    report = ingest(store, [first, second])
    assert (report.records, report.new) == (2, 1)
    assert report.warnings == [f"{second}: record <{cho(1)}> repeats the identical copy in {first}"]
    assert only(registry_entry(store, record_id(cho(1))), "source") == Literal(str(first))


def test_triples_outside_any_record_are_reported(store: Store, tmp_path: Path) -> None:
    stray = f"<{EX}stray>"
    path = tmp_path / "mixed.nt"
    path.write_text(
        ntriples_record(1)
        + f'{stray} <{DC_TITLE}> "Not part of any record" .\n'
        + ntriples_record(2)
        + f'{stray} <http://purl.org/dc/elements/1.1/date> "1900" .\n'
        + f'<{EX}other> <{DC_TITLE}> "Neither" .\n',
        encoding="utf-8",
    )
    report = ingest(store, [path])
    assert (report.records, report.new, report.orphan_triples) == (2, 2, 3)
    assert report.warnings == [
        f"{path}: 3 triple(s) about 2 resource(s) belong to no record and were not imported (first: <{EX}other>)"
    ]
    assert not store.ask(f"ASK {{ GRAPH ?g {{ {stray} ?p ?o }} }}")
    assert store.count_triples(record_graph(cho(1))) == RECORD_TRIPLES
    assert store.count_triples(record_graph(cho(2))) == RECORD_TRIPLES


def test_a_one_record_document_keeps_everything_it_holds(store: Store, tmp_path: Path) -> None:
    """By design: in a document with one record, even unlinked resources belong to that record."""
    path = tmp_path / "single.nt"
    path.write_text(ntriples_record(1) + f'<{EX}img/extra.jpg> <{DC_TITLE}> "Unlinked view" .\n', encoding="utf-8")
    report = ingest(store, [path])
    assert (report.new, report.orphan_triples, report.warnings) == (1, 0, [])
    assert store.count_triples(record_graph(cho(1))) == RECORD_TRIPLES + 1


def test_validation_can_be_switched_off(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "thin.nt"
    path.write_text(
        "\n".join(line for line in ntriples_record(1).splitlines() if "rights" not in line) + "\n", encoding="utf-8"
    )
    with pytest.raises(ValidationFailed, match=r"\[AggregationRights\]"):
        ingest(store, [path], report_path=tmp_path / "report.json")
    assert record_graphs(store) == []
    report = ingest(store, [path], validate=False)
    assert (report.new, report.invalid) == (1, [])
    assert store.count_triples(record_graph(cho(1))) == RECORD_TRIPLES - 1


# -- streaming record splitting -------------------------------------------------------------------------


def nt_lines(text: str) -> list[str]:
    """Lines as the ingest hands them to the splitter: Oxigraph's N-Triples serialisation."""
    triples = [q.triple for q in pyoxigraph.parse(text.encode("utf-8"), RdfFormat.N_TRIPLES)]
    return pyoxigraph.serialize(triples, format=RdfFormat.N_TRIPLES).decode("utf-8").split("\n")


def split(lines: list[str], window: int) -> tuple[list[tuple[str, str, int]], list[str]]:
    splitter = RecordSplitter("dump.nt", window=window)
    records: list[Record] = list(chain(splitter.feed(lines), splitter.finish()))
    return sorted((r.cho, r.checksum, len(r.lines)) for r in records), splitter.orphans


MANY = nt_lines("".join(ntriples_record(i) for i in range(12)))


@pytest.mark.parametrize("window", [3, 7, 16, 17, 40, 100])
def test_contiguous_records_split_alike_in_any_window(window: int) -> None:
    whole, orphans = split(MANY, 10**9)
    assert len(whole) == 12
    assert orphans == []
    assert {size for _, _, size in whole} == {RECORD_TRIPLES}
    assert split(MANY, window) == (whole, [])


def moved_to_end(lines: list[str], subject: str, marker: str) -> list[str]:
    [index] = [i for i, line in enumerate(lines) if line.startswith(subject) and marker in line]
    return [*lines[:index], *lines[index + 1 :], lines[index]]


def test_an_object_waits_for_a_late_link_from_its_aggregation() -> None:
    """Until something points at it, an object is not complete: it waits, even to the end of the file."""
    lines = moved_to_end(MANY, f"<{EX}agg/0>", "aggregatedCHO")
    assert split(lines, 7) == split(MANY, 10**9)


def test_late_part_of_a_record_is_an_error() -> None:
    lines = moved_to_end(MANY, f"<{EX}cho/0>", "22-rdf-syntax-ns#type")
    assert split(lines, 10**9)[0] == split(MANY, 10**9)[0]  # read whole, the order does not matter
    with pytest.raises(RecordNotSplittable) as caught:
        split(lines, 7)
    assert str(caught.value) == (
        f"dump.nt: statements about <{EX}cho/0> appear after its record was already read (more than a window "
        "apart); split the file per record or keep each record's elements together"
    )


@pytest.mark.parametrize(("subject", "marker"), [(f"<{EX}cho/0>", "/title>"), (f"<{EX}agg/0>", "rights")])
def test_late_statement_about_an_emitted_record_is_an_error(subject: str, marker: str) -> None:
    with pytest.raises(RecordNotSplittable):
        split(moved_to_end(MANY, subject, marker), 7)


def test_shared_contextual_entity_is_copied_into_every_record() -> None:
    concept = f'<{EX}concept/bronze> <http://www.w3.org/2004/02/skos/core#prefLabel> "bronze"@en .\n'
    medium = "<http://purl.org/dc/terms/medium>"
    lines = nt_lines(
        concept + "".join(ntriples_record(i) + f"<{EX}cho/{i}> {medium} <{EX}concept/bronze> .\n" for i in range(12))
    )
    whole, orphans = split(lines, 10**9)
    assert {size for _, _, size in whole} == {RECORD_TRIPLES + 2}
    assert split(lines, 7) == (whole, orphans)


# -- all or nothing -------------------------------------------------------------------------------------


def test_failure_after_written_batches_restores_everything(store: Store, tmp_path: Path) -> None:
    ingest(store, [write_record(tmp_path, "v1.ttl", n=1), write_record(tmp_path, "other.ttl", n=3)])
    before = snapshot(store)
    graph_before = sorted(str(t) for t in store.read_graph(record_graph(cho(1))) if "_:" not in str(t))
    entry_before = registry_entry(store, record_id(cho(1)))

    changed = tmp_path / "run" / "v2-and-new.nt"
    changed.parent.mkdir()
    changed.write_text(ntriples_record(1, title="Second version") + ntriples_record(2), encoding="utf-8")
    broken = tmp_path / "run" / "z-broken.ttl"
    broken.write_text(record_text("turtle", 4) + "<http://example.org/cho/4> dc:title .\n", encoding="utf-8")
    settings = make_settings(ingest_batch_records=1)  # record 1's replacement and record 2 are written first
    with pytest.raises(InputError) as caught:
        ingest(store, [changed, broken], settings=settings)
    assert caught.value.source == str(broken)
    assert caught.value.line == len(record_text("turtle", 4).splitlines()) + 1

    assert snapshot(store) == before
    assert sorted(str(t) for t in store.read_graph(record_graph(cho(1))) if "_:" not in str(t)) == graph_before
    assert has_title(store, 1, "Bronze bell from Kraków")
    assert not has_title(store, 1, "Second version")
    assert registry_entry(store, record_id(cho(1))) == entry_before
    assert not store.graph_exists(record_graph(cho(2)))
    assert registry_nodes(store) == sorted(GRAPHS.record_node(record_id(cho(n))) for n in (1, 3))
    assert journal_is_clean(store)
    assert not store.ask(f"ASK {{ GRAPH ?g {{ ?s <{ENR}touched> ?o }} }}")


def test_ingest_into_an_in_memory_store_finishes(tmp_path: Path) -> None:
    """Regression: journalling from inside the in-memory store's bulk load used to deadlock (run in a child
    process, so a hang fails this test instead of stalling the suite)."""
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from enrich.store.embedded import EmbeddedStore\n"
        "from tests.ingest.support import ingest, make_settings, write_record\n"
        "folder = Path(sys.argv[1])\n"
        "paths = [write_record(folder, f'r{n}.ttl', n=n) for n in range(3)]\n"
        "store = EmbeddedStore()\n"
        "first = ingest(store, paths, settings=make_settings(ingest_batch_records=1))\n"
        "second = ingest(store, paths[:1] + [write_record(folder, 'r1b.ttl', n=1, title='New')])\n"
        "print(first.new, second.unchanged, second.updated)\n"
    )
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path)], cwd=repo, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "1", "1"]


def test_link_to_a_shared_entity_dropped_from_the_context_is_an_error() -> None:
    """Shared entities are kept while they fit; a record linking to one dropped earlier stops the ingest."""
    concept = f'<{EX}concept/bronze> <http://www.w3.org/2004/02/skos/core#prefLabel> "bronze"@en .\n'
    medium = "<http://purl.org/dc/terms/medium>"
    records = "".join(ntriples_record(i) + f"<{EX}cho/{i}> {medium} <{EX}concept/bronze> .\n" for i in range(12))
    lines = nt_lines(concept + records)
    roomy = RecordSplitter("dump.nt", window=7, context_lines=1_000)
    assert len(list(chain(roomy.feed(lines), roomy.finish()))) == 12
    # Other records' web resources push the concept out of a context of a few lines.
    cramped = RecordSplitter("dump.nt", window=7, context_lines=2)
    with pytest.raises(RecordNotSplittable) as caught:
        list(chain(cramped.feed(lines), cramped.finish()))
    assert f"links to <{EX}concept/bronze>, described too far back" in str(caught.value)


def _web_resource_before_aggregation(n: int) -> str:
    """A record laid out as many EDM files are: object, then its web resources, then the aggregation."""
    lines = ntriples_record(n).splitlines()
    obj = [line for line in lines if line.startswith((f"<{EX}cho/", "_:"))]
    web = [line for line in lines if line.startswith(f"<{EX}img/")]
    aggregation = [line for line in lines if line.startswith(f"<{EX}agg/")]
    return "\n".join(obj + web + aggregation) + "\n"


@pytest.mark.parametrize("window", [3, 5, 7, 11, 16])
def test_object_whose_aggregation_comes_after_a_window_boundary_waits_for_it(window: int) -> None:
    lines = nt_lines("".join(_web_resource_before_aggregation(i) for i in range(12)))
    whole, orphans = split(lines, 10**9)
    assert len(whole) == 12
    assert split(lines, window) == (whole, orphans)
