"""The provenance writer's steps against every store kind: what a crash leaves, and that writing again completes it.

A crash is simulated by a store whose bulk load writes only the first lines of its N-Quads and then fails,
or whose atomic update fails; the batch is then written again, as a resumed job does.
"""

from __future__ import annotations

import pytest
from pyoxigraph import RdfFormat

from enrich.namespaces import DCTERMS, ENR, PROV, RDF, RDF_TYPE
from enrich.provenance import InvalidSuggestionBatch, ProvenanceWriter, WriteCounts
from enrich.store.base import RdfInput, Store, StoreError
from enrich.suggestion import Status, SuggestedValue, Suggestion
from tests.provenance.test_writer import (
    AAT,
    ALLOWED,
    BRASS,
    BRONZE,
    GRAPHS,
    LEXICAL,
    TIN,
    set_status,
    start,
    suggestion,
    values,
)

ONE_EACH = [
    RDF + "subject",
    RDF + "predicate",
    RDF + "object",
    ENR + "record",
    ENR + "facet",
    ENR + "confidence",
    ENR + "status",
]
BATCH_LINES = 22  # two new nodes of one enricher and one evidence each: 11 N-Quads lines per node


@pytest.fixture
def writer(store: Store) -> ProvenanceWriter:
    return ProvenanceWriter(store, GRAPHS, allowed=ALLOWED)


def crash_bulk_load_after(monkeypatch: pytest.MonkeyPatch, store: Store, lines: int) -> None:
    """The next bulk loads write their first ``lines`` lines, then fail as a killed process would."""
    real = store.bulk_load

    def partial(data: RdfInput, format: RdfFormat, graph: str | None = None, lenient: bool = False) -> None:
        assert isinstance(data, bytes)
        kept = data.splitlines(keepends=True)[:lines]
        if kept:
            real(b"".join(kept), format, graph, lenient)
        raise StoreError("simulated crash during the bulk load")

    monkeypatch.setattr(store, "bulk_load", partial)


def crash_updates(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    def fail(sparql_update: str) -> None:
        raise StoreError("simulated crash before the update")

    monkeypatch.setattr(store, "update", fail)


def on_other_cho(record: str, concept: str, confidence: float) -> Suggestion:
    cho = f"https://example.org/cho/{record}"
    return Suggestion(
        record, cho, DCTERMS + "medium", SuggestedValue(concept), "materials", confidence, "lexical", LEXICAL
    )


def assert_whole(store: Store, s: Suggestion, confidence: str, status: Status = Status.PENDING) -> None:
    node = GRAPHS.suggestion_node(s.suggestion_id)
    for predicate in ONE_EACH:
        assert len(values(store, node, predicate)) == 1, predicate
    assert values(store, node, RDF_TYPE) == sorted([ENR + "Suggestion", RDF + "Statement"])
    assert values(store, node, ENR + "confidence") == [confidence]
    assert values(store, node, ENR + "status") == [status.iri]


@pytest.mark.parametrize("lines", [0, 5, 8, 11, 16, BATCH_LINES])
def test_crash_during_the_bulk_load_is_completed_by_writing_again(
    store: Store, writer: ProvenanceWriter, monkeypatch: pytest.MonkeyPatch, lines: int
) -> None:
    crashed, resumed = start(writer), start(writer)
    first = [suggestion(BRONZE, confidence=0.9), suggestion(TIN, confidence=0.9)]
    with monkeypatch.context() as patch:
        crash_bulk_load_after(patch, store, lines)
        with pytest.raises(StoreError, match="simulated"):
            writer.write(crashed, first)
    # Nothing has a status yet: no suggestion exists for readers, and writing again treats both as new.
    assert store.select(f"SELECT ?n WHERE {{ GRAPH ?g {{ ?n <{ENR}status> ?s }} }}") == []
    again = [suggestion(BRONZE, confidence=0.6), suggestion(TIN, confidence=0.6)]
    assert writer.write(resumed, again) == WriteCounts(new=2)
    for s in again:
        assert_whole(store, s, "0.6")  # a confidence the crash left is replaced, not doubled
        assert resumed.iri in values(store, GRAPHS.suggestion_node(s.suggestion_id), PROV + "wasGeneratedBy")


def test_crash_before_the_update_leaves_new_nodes_without_status(
    store: Store, writer: ProvenanceWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashed = start(writer)
    with monkeypatch.context() as patch:
        crash_updates(patch, store)
        with pytest.raises(StoreError, match="simulated"):
            writer.write(crashed, [suggestion(confidence=0.9)])
    assert values(store, GRAPHS.suggestion_node(suggestion().suggestion_id), ENR + "status") == []
    assert writer.write(crashed, [suggestion(confidence=0.9)]) == WriteCounts(new=1)  # the same run, resumed
    assert_whole(store, suggestion(), "0.9")


def test_crash_before_the_update_keeps_a_pending_nodes_confidence(
    store: Store, writer: ProvenanceWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer.write(start(writer), [suggestion(confidence=0.9)])
    second = start(writer)
    with monkeypatch.context() as patch:
        crash_updates(patch, store)
        with pytest.raises(StoreError):
            writer.write(second, [suggestion(confidence=0.5, evidence=("b",))])
    assert_whole(store, suggestion(), "0.9")  # the old confidence, never none or two
    assert writer.write(second, [suggestion(confidence=0.5, evidence=("b",))]) == WriteCounts(updated=1)
    assert_whole(store, suggestion(), "0.5")
    assert "b" in values(store, GRAPHS.suggestion_node(suggestion().suggestion_id), ENR + "evidence")


@pytest.mark.parametrize("confidence", [1.0, 0.0, 0.5, 1e-05])
def test_same_confidence_again_stays_one_value(store: Store, writer: ProvenanceWriter, confidence: float) -> None:
    # Oxigraph gives decimals back canonical ("1.0" as "1"): the same number must not become two triples.
    writer.write(start(writer), [suggestion(confidence=confidence)])
    assert writer.write(start(writer), [suggestion(confidence=confidence)]) == WriteCounts(updated=1)
    [stored] = values(store, GRAPHS.suggestion_node(suggestion().suggestion_id), ENR + "confidence")
    assert float(stored) == confidence


def test_one_batch_with_every_case_across_records(store: Store, writer: ProvenanceWriter) -> None:
    pending, rejected, approved = suggestion(BRONZE), suggestion(TIN), suggestion(BRASS, record="r2")
    writer.write(start(writer), [pending, rejected, approved])
    set_status(store, rejected, Status.REJECTED)
    set_status(store, approved, Status.APPROVED)
    beside = on_other_cho("r2", BRONZE, 0.3)
    fresh = on_other_cho("r3", TIN, 0.2)
    batch = [
        suggestion(BRONZE, confidence=0.4),  # pending: updated
        suggestion(TIN, confidence=0.4),  # rejected: skipped
        suggestion(BRASS, confidence=0.4, record="r2"),  # approved: frozen
        beside,  # a new node in a record's graph that exists
        fresh,  # a new node in a record's graph that does not exist yet
    ]
    assert writer.write(start(writer), batch) == WriteCounts(new=2, updated=1, skipped_rejected=1, skipped_frozen=1)
    assert_whole(store, pending, "0.4")
    assert_whole(store, rejected, "0.8", Status.REJECTED)
    assert_whole(store, approved, "0.8", Status.APPROVED)
    assert_whole(store, beside, "0.3")
    assert_whole(store, fresh, "0.2")


def test_invalid_batch_with_updates_changes_nothing(store: Store, writer: ProvenanceWriter) -> None:
    first = start(writer)
    writer.write(first, [suggestion(confidence=0.9, evidence=("a",))])
    before = store.count_triples(GRAPHS.suggestions("r1"))
    with pytest.raises(InvalidSuggestionBatch):
        writer.write(start(writer), [suggestion(confidence=0.1, evidence=("b",)), suggestion(AAT + "300041620")])
    node = GRAPHS.suggestion_node(suggestion().suggestion_id)
    assert_whole(store, suggestion(), "0.9")
    assert values(store, node, ENR + "evidence") == ["a"]
    assert values(store, node, PROV + "wasGeneratedBy") == [first.iri]
    assert store.count_triples(GRAPHS.suggestions("r1")) == before


# -- receipts: a batch written again after its writer died counts as it did the first time ----------------------


def test_a_receipted_batch_written_again_returns_its_counts_and_writes_nothing(
    store: Store, writer: ProvenanceWriter
) -> None:
    run = start(writer)
    batch = [suggestion(BRONZE, 0.8), suggestion(TIN, 0.6)]
    first = writer.write(run, batch, receipt="stage 0 r1 r1 1 materials")
    assert first == WriteCounts(new=2)
    quads = store.count_triples()
    # The worker died after its commit, before answering: the retry gets the same counts, and nothing changes.
    assert writer.write(run, batch, receipt="stage 0 r1 r1 1 materials") == first
    assert store.count_triples() == quads
    assert writer.receipt_counts(run, "stage 0 r1 r1 1 materials") == first
    assert writer.receipt_counts(run, "stage 1 r1 r1 1 materials") is None
    # Without a receipt (or under another key) the same batch is a second write: its nodes are updated.
    assert writer.write(run, batch) == WriteCounts(updated=2)
    writer.finish(run, first)
    assert not store.ask(f"ASK {{ GRAPH <{GRAPHS.runs}> {{ ?receipt <{ENR}receiptOf> <{run.iri}> }} }}")
    assert values(store, run.iri, ENR + "newCount") == ["2"]


def test_a_receipt_is_committed_with_the_batch_or_not_at_all(
    store: Store, writer: ProvenanceWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash before the commit leaves no receipt, so the retry writes the batch (and counts it new)."""
    run = start(writer)
    batch = [suggestion(BRONZE, 0.8), suggestion(TIN, 0.6)]
    with monkeypatch.context() as patched:
        crash_bulk_load_after(patched, store, 5)
        with pytest.raises(StoreError, match="simulated crash"):
            writer.write(run, batch, receipt="stage 0 r1 r1 1 materials")
    assert writer.receipt_counts(run, "stage 0 r1 r1 1 materials") is None
    assert writer.write(run, batch, receipt="stage 0 r1 r1 1 materials") == WriteCounts(new=2)
    for s in batch:
        assert_whole(store, s, "0.8" if s.value.value == BRONZE else "0.6")
