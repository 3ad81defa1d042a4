"""The provenance writer against every store kind: identity by triple, frozen states, runs, refused batches."""

from __future__ import annotations

import pytest

from enrich.namespaces import DCTERMS, ENR, PROV, Graphs
from enrich.provenance import FACET_BASE, InvalidSuggestionBatch, ProvenanceWriter, RunHandle, WriteCounts
from enrich.store.base import Store, text
from enrich.suggestion import ModelCard, Status, SuggestedValue, Suggestion

GRAPHS = Graphs("https://example.org/enrich")
AAT = "http://vocab.getty.edu/aat/"
BRONZE, BRASS, TIN = AAT + "300010957", AAT + "300010946", AAT + "300011020"
ALLOWED = {"materials": frozenset({BRONZE, BRASS, TIN})}
LEXICAL = ModelCard("lexical", "1.0", "cfg1")
CHO = "https://example.org/cho/1"


def suggestion(
    concept: str = BRONZE,
    confidence: float = 0.8,
    enricher: str = "lexical",
    evidence: tuple[str, ...] = ("matched 'bronze' in dcterms:medium",),
    record: str = "r1",
) -> Suggestion:
    return Suggestion(
        record, CHO, DCTERMS + "medium", SuggestedValue(concept), "materials", confidence, enricher, LEXICAL, evidence
    )


@pytest.fixture
def writer(store: Store) -> ProvenanceWriter:
    return ProvenanceWriter(store, GRAPHS, allowed=ALLOWED)


def start(writer: ProvenanceWriter, cards: tuple[ModelCard, ...] = (LEXICAL,)) -> RunHandle:
    return writer.start_run(["lexical"], cards, selection="dataset cmoa", vocabulary_snapshot="aat 2024-01")


def values(store: Store, node: str, predicate: str) -> list[str]:
    rows = store.select(f"SELECT ?o WHERE {{ GRAPH ?g {{ <{node}> <{predicate}> ?o }} }}")
    return sorted(text(row["o"]) for row in rows)


def set_status(store: Store, s: Suggestion, status: Status) -> None:
    node = GRAPHS.suggestion_node(s.suggestion_id)
    store.update(
        f"DELETE {{ GRAPH ?g {{ <{node}> <{ENR}status> ?s }} }} "
        f"INSERT {{ GRAPH ?g {{ <{node}> <{ENR}status> <{status.iri}> }} }} "
        f"WHERE {{ GRAPH ?g {{ <{node}> <{ENR}status> ?s }} }}"
    )


def test_new_suggestion_is_a_pending_statement_in_the_records_suggestion_graph(
    store: Store, writer: ProvenanceWriter
) -> None:
    run = start(writer)
    s = suggestion()
    assert writer.write(run, [s]) == WriteCounts(new=1)
    node = GRAPHS.suggestion_node(s.suggestion_id)
    graph = GRAPHS.suggestions("r1")
    assert store.ask(f"ASK {{ GRAPH <{graph}> {{ <{node}> a <{ENR}Suggestion> ; <{ENR}status> <{ENR}Pending> }} }}")
    assert values(store, node, ENR + "confidence") == ["0.8"]
    assert values(store, node, ENR + "facet") == [FACET_BASE + "materials"]
    assert values(store, node, ENR + "record") == [GRAPHS.record_node("r1")]
    assert values(store, node, PROV + "wasGeneratedBy") == [run.iri]
    assert values(store, node, "http://www.w3.org/1999/02/22-rdf-syntax-ns#object") == [BRONZE]


def test_same_triple_again_updates_the_pending_suggestion(store: Store, writer: ProvenanceWriter) -> None:
    first, second = start(writer), start(writer)
    writer.write(first, [suggestion(confidence=0.9, evidence=("a",))])
    counts = writer.write(second, [suggestion(confidence=0.6, evidence=("a", "b"))])
    assert counts == WriteCounts(updated=1)
    node = GRAPHS.suggestion_node(suggestion().suggestion_id)
    assert values(store, node, ENR + "confidence") == ["0.6"]  # the latest run's
    assert values(store, node, ENR + "evidence") == ["a", "b"]
    assert values(store, node, PROV + "wasGeneratedBy") == sorted([first.iri, second.iri])
    assert store.count_graphs(GRAPHS.base + "/graph/suggestions/") == 1
    assert len(store.select(f"SELECT ?s WHERE {{ GRAPH ?g {{ ?s a <{ENR}Suggestion> }} }}")) == 1


@pytest.mark.parametrize("status", [Status.APPROVED, Status.AUTO_ACCEPTED, Status.SUPERSEDED, Status.RETRACTED])
def test_reviewed_suggestions_are_frozen(store: Store, writer: ProvenanceWriter, status: Status) -> None:
    s = suggestion(confidence=0.9)
    writer.write(start(writer), [s])
    set_status(store, s, status)
    assert writer.write(start(writer), [suggestion(confidence=0.1, evidence=("new",))]) == WriteCounts(skipped_frozen=1)
    node = GRAPHS.suggestion_node(s.suggestion_id)
    assert values(store, node, ENR + "confidence") == ["0.9"]
    assert values(store, node, ENR + "status") == [status.iri]


def test_rejected_triple_is_never_suggested_again(store: Store, writer: ProvenanceWriter) -> None:
    s = suggestion()
    writer.write(start(writer), [s])
    set_status(store, s, Status.REJECTED)
    counts = writer.write(start(writer), [suggestion(enricher="other"), suggestion(concept=TIN)])
    assert counts == WriteCounts(new=1, skipped_rejected=1)
    assert values(store, GRAPHS.suggestion_node(s.suggestion_id), ENR + "enricher") == ["lexical"]


def test_agreeing_enrichers_make_one_node(store: Store, writer: ProvenanceWriter) -> None:
    batch = [suggestion(enricher="lexical", confidence=0.7), suggestion(enricher="clip", confidence=0.9)]
    assert writer.write(start(writer), batch) == WriteCounts(new=1)
    node = GRAPHS.suggestion_node(batch[0].suggestion_id)
    assert values(store, node, ENR + "enricher") == ["clip", "lexical"]
    assert values(store, node, ENR + "confidence") == ["0.9"]


def test_invalid_batch_writes_nothing_and_says_why(store: Store, writer: ProvenanceWriter) -> None:
    outside = suggestion(concept=AAT + "300041620")
    with pytest.raises(InvalidSuggestionBatch) as raised:
        writer.write(start(writer), [suggestion(), outside])
    assert [(p.node, p.rule) for p in raised.value.problems] == [
        (GRAPHS.suggestion_node(outside.suggestion_id), "SuggestionObjectInFacet")
    ]
    assert outside.suggestion_id in str(raised.value)
    assert store.count_graphs(GRAPHS.base + "/graph/suggestions/") == 0


def test_run_without_model_card_is_refused(store: Store, writer: ProvenanceWriter) -> None:
    with pytest.raises(InvalidSuggestionBatch, match="SuggestionGeneratedByModelRun"):
        writer.write(start(writer, cards=()), [suggestion()])
    assert store.count_graphs(GRAPHS.base + "/graph/suggestions/") == 0


def test_run_node_has_model_cards_and_counts(store: Store, writer: ProvenanceWriter) -> None:
    run = start(writer)
    counts = writer.write(run, [suggestion()]) + writer.write(run, [suggestion(concept=TIN), suggestion()])
    writer.finish(run, counts)
    assert counts == WriteCounts(new=2, updated=1)
    rows = store.select(
        f"SELECT * WHERE {{ GRAPH <{GRAPHS.runs}> {{ <{run.iri}> a <{PROV}Activity> , <{ENR}EnrichmentRun> ; "
        f"<{PROV}startedAtTime> ?start ; <{PROV}endedAtTime> ?end ; <{ENR}enricherName> ?enricher ; "
        f"<{ENR}recordSelection> ?selection ; <{ENR}vocabularySnapshot> ?snapshot ; "
        f"<{ENR}newCount> ?new ; <{ENR}updatedCount> ?updated ; <{ENR}skippedRejectedCount> ?rejected ; "
        f"<{ENR}skippedFrozenCount> ?frozen ; <{PROV}wasAssociatedWith> ?card . "
        f"?card <{ENR}modelName> ?name ; <{ENR}modelVersion> ?version ; <{ENR}configHash> ?hash }} }}"
    )
    assert len(rows) == 1
    row = {k: text(v) for k, v in rows[0].items()}
    assert (row["new"], row["updated"], row["rejected"], row["frozen"]) == ("2", "1", "0", "0")
    assert (row["name"], row["version"], row["hash"]) == ("lexical", "1.0", "cfg1")
    assert (row["enricher"], row["selection"], row["snapshot"]) == ("lexical", "dataset cmoa", "aat 2024-01")


def test_literal_suggestion_keeps_its_language(store: Store, writer: ProvenanceWriter) -> None:
    caption = Suggestion(
        "r1",
        CHO,
        "http://purl.org/dc/elements/1.1/description",
        SuggestedValue('a "bronze" bowl\nwith handles', is_iri=False, language="en"),
        "description",
        0.4,
        "translate",
        ModelCard("opus-mt-nl-en", "2"),
        ("translated from nl by opus-mt-nl-en",),
    )
    assert writer.write(start(writer, cards=(caption.model,)), [caption]) == WriteCounts(new=1)
    rows = store.select(
        f"SELECT ?o WHERE {{ GRAPH ?g {{ <{GRAPHS.suggestion_node(caption.suggestion_id)}> "
        "<http://www.w3.org/1999/02/22-rdf-syntax-ns#object> ?o } }"
    )
    literal = rows[0]["o"]
    assert text(literal) == 'a "bronze" bowl\nwith handles'
    assert getattr(literal, "language", None) == "en"


def test_a_provider_iri_with_a_space_is_written_as_ingest_kept_it(writer: ProvenanceWriter, store: Store) -> None:
    # Real Europeana records have CHO IRIs with spaces; ingest keeps them, so suggestions about them must work.
    odd = Suggestion(
        "r-space",
        "https://example.org/cho/with space",
        DCTERMS + "medium",
        SuggestedValue(BRONZE),
        "materials",
        0.8,
        "lexical",
        LEXICAL,
    )
    assert writer.write(start(writer), [odd]).new == 1
    assert values(store, GRAPHS.suggestion_node(odd.suggestion_id), ENR + "status") == [Status.PENDING.iri]
