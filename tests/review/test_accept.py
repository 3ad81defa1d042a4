"""Approve, correct and retract: the enrichment graph, the concept entity, the datestamp and the review event,
each action in one update request."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich import review
from enrich.namespaces import DCTERMS, ENR, PROV, RDF, RDFS, SKOS
from enrich.review import Decision, Reason
from enrich.store.base import Store, text
from enrich.suggestion import Status, SuggestedValue, suggestion_id
from tests.review.support import (
    BRASS,
    BRONZE,
    GRAPHS,
    METAL,
    OLD_DATESTAMP,
    VESSEL,
    WOOD,
    CountingStore,
    cho,
    datestamp,
    enrichment,
    prepare,
    status_of,
    suggest,
    suggestion,
)

MEDIUM = DCTERMS + "medium"


@pytest.fixture
def prepared(store: Store, tmp_path: Path) -> Store:
    prepare(store, tmp_path)
    return store


def event_facts(store: Store, event: str) -> dict[str, set[str]]:
    rows = store.select(f"SELECT ?p ?o WHERE {{ GRAPH ?g {{ <{event}> ?p ?o }} }}")
    facts: dict[str, set[str]] = {}
    for row in rows:
        facts.setdefault(text(row["p"]), set()).add(text(row["o"]))
    return facts


def test_approve_writes_triple_concept_datestamp_and_event_in_one_update(prepared: Store) -> None:
    (sid,) = suggest(prepared, suggestion(BRONZE))
    counting = CountingStore(prepared)
    done = review.approve(counting, GRAPHS, sid, "https://example.org/people/ann", comment="clearly bronze")  # type: ignore[arg-type]
    assert len(counting.updates) == 1
    assert status_of(prepared, sid) == [Status.APPROVED]
    assert enrichment(prepared) == {
        (cho("r1"), MEDIUM, BRONZE),
        (BRONZE, RDF + "type", SKOS + "Concept"),
        (BRONZE, SKOS + "prefLabel", "bronze"),
        (BRONZE, SKOS + "altLabel", "bronze alloy"),
        (BRONZE, SKOS + "broader", METAL),
    }
    assert datestamp(prepared) > OLD_DATESTAMP
    assert datestamp(prepared, "r2") == OLD_DATESTAMP
    facts = event_facts(prepared, done.event)
    assert facts[RDF + "type"] == {ENR + "Review", PROV + "Activity"}
    assert facts[ENR + "reviewer"] == {"https://example.org/people/ann"}
    assert facts[ENR + "decision"] == {Decision.APPROVE.iri}
    assert facts[ENR + "fromStatus"] == {Status.PENDING.iri}
    assert facts[ENR + "toStatus"] == {Status.APPROVED.iri}
    assert facts[PROV + "used"] == {GRAPHS.suggestion_node(sid)}
    assert facts[RDFS + "comment"] == {"clearly bronze"}
    assert PROV + "endedAtTime" in facts
    # The event lives beside the suggestion, in the record's suggestions graph.
    assert prepared.ask(f"ASK {{ GRAPH <{GRAPHS.suggestions('r1')}> {{ <{done.event}> ?p ?o }} }}")


def test_a_literal_suggestion_is_approved_without_a_concept(prepared: Store) -> None:
    from enrich.suggestion import ModelCard, Suggestion

    s = Suggestion(
        "r1", cho("r1"), DCTERMS + "description", SuggestedValue("A bowl", False, "en"), "materials", 0.7, "mt",
        ModelCard("mt", "1"), ("translated",),
    )  # fmt: skip
    (sid,) = suggest(prepared, s)
    review.approve(prepared, GRAPHS, sid, "ann")
    assert enrichment(prepared) == {(cho("r1"), DCTERMS + "description", "A bowl")}


def test_reject_records_the_reason_and_leaves_the_enrichment_graph_alone(prepared: Store) -> None:
    (sid,) = suggest(prepared, suggestion(BRONZE))
    done = review.reject(prepared, GRAPHS, sid, "ann", Reason.TOO_SPECIFIC, comment="cannot tell the alloy")
    assert event_facts(prepared, done.event)[ENR + "reason"] == {ENR + "TooSpecific"}
    assert enrichment(prepared) == set()
    assert datestamp(prepared) == OLD_DATESTAMP


def test_correct_supersedes_and_approves_the_reviewers_concept(prepared: Store) -> None:
    (sid,) = suggest(prepared, suggestion(BRONZE))
    counting = CountingStore(prepared)
    done = review.correct(counting, GRAPHS, sid, METAL, "ann", reason="too-specific")  # type: ignore[arg-type]
    assert len(counting.updates) == 1
    new_id = suggestion_id(cho("r1"), MEDIUM, SuggestedValue(METAL))
    assert done.created == new_id
    assert status_of(prepared, sid) == [Status.SUPERSEDED]
    assert status_of(prepared, new_id) == [Status.APPROVED]
    new = review.get_suggestion(prepared, GRAPHS, new_id)
    assert (new.subject, new.predicate, new.value, new.facet, new.record_id) == (
        cho("r1"),
        MEDIUM,
        METAL,
        "materials",
        "r1",
    )
    node, original = GRAPHS.suggestion_node(new_id), GRAPHS.suggestion_node(sid)
    assert prepared.ask(
        f"ASK {{ GRAPH <{GRAPHS.suggestions('r1')}> {{ <{node}> <{PROV}wasDerivedFrom> <{original}> ; "
        f"<{PROV}wasGeneratedBy> <{done.event}> . <{done.event}> <{PROV}generated> <{node}> }} }}"
    )
    triples = enrichment(prepared)
    assert (cho("r1"), MEDIUM, METAL) in triples
    assert (cho("r1"), MEDIUM, BRONZE) not in triples
    assert (METAL, SKOS + "prefLabel", "metaal") in triples
    assert datestamp(prepared) > OLD_DATESTAMP


def test_correct_takes_over_a_pending_suggestion_of_the_corrected_triple(prepared: Store) -> None:
    bronze, metal = suggest(prepared, suggestion(BRONZE), suggestion(METAL, confidence=0.3))
    review.correct(prepared, GRAPHS, bronze, METAL, "ann")
    assert status_of(prepared, metal) == [Status.APPROVED]
    assert review.get_suggestion(prepared, GRAPHS, metal).confidence == 1.0


@pytest.mark.parametrize(
    ("concept", "problem"),
    [(VESSEL, "not a concept of the facet 'materials'"), ("not an iri", "not an absolute IRI"), (BRONZE, "itself")],
)
def test_correct_stays_in_the_facets_tree(prepared: Store, concept: str, problem: str) -> None:
    (sid,) = suggest(prepared, suggestion(BRONZE))
    before = prepared.count_triples()
    with pytest.raises(review.ReviewError, match=problem):
        review.correct(prepared, GRAPHS, sid, concept, "ann")
    assert prepared.count_triples() == before


def test_retract_removes_the_triple_and_an_unused_concept(prepared: Store) -> None:
    bronze, wood = suggest(prepared, suggestion(BRONZE), suggestion(WOOD))
    review.approve(prepared, GRAPHS, bronze, "ann")
    review.approve(prepared, GRAPHS, wood, "ann")
    prepared.update(
        f"DELETE WHERE {{ GRAPH <{GRAPHS.system}> {{ <{GRAPHS.record_node('r1')}> <{ENR}datestamp> ?d }} }} ; "
        f"INSERT DATA {{ GRAPH <{GRAPHS.system}> {{ <{GRAPHS.record_node('r1')}> <{ENR}datestamp> "
        f'"{OLD_DATESTAMP}"^^<http://www.w3.org/2001/XMLSchema#dateTime> }} }}'
    )
    counting = CountingStore(prepared)
    review.retract(counting, GRAPHS, bronze, "ann", reason="wrong-concept")  # type: ignore[arg-type]
    assert len(counting.updates) == 1
    assert status_of(prepared, bronze) == [Status.RETRACTED]
    triples = enrichment(prepared)
    assert not any(BRONZE in t for t in triples)
    assert (cho("r1"), MEDIUM, WOOD) in triples
    assert (WOOD, SKOS + "prefLabel", "wood") in triples
    assert datestamp(prepared) > OLD_DATESTAMP


def test_retract_keeps_a_concept_another_enrichment_triple_uses(prepared: Store) -> None:
    medium, subject = suggest(prepared, suggestion(BRONZE), suggestion(BRONZE, predicate=DCTERMS + "subject"))
    review.approve(prepared, GRAPHS, medium, "ann")
    review.approve(prepared, GRAPHS, subject, "ann")
    review.retract(prepared, GRAPHS, medium, "ann")
    triples = enrichment(prepared)
    assert (cho("r1"), DCTERMS + "subject", BRONZE) in triples
    assert (BRONZE, SKOS + "prefLabel", "bronze") in triples
    assert (cho("r1"), MEDIUM, BRONZE) not in triples


def test_retract_an_auto_accepted_suggestion_then_reopen(prepared: Store) -> None:
    (sid,) = suggest(prepared, suggestion(BRASS, confidence=0.95))
    review.auto_accept(prepared, GRAPHS, review.Policy("materials", 0.9))
    assert (cho("r1"), MEDIUM, BRASS) in enrichment(prepared)
    review.retract(prepared, GRAPHS, sid, "ann")
    assert enrichment(prepared) == set()
    done = review.reopen(prepared, GRAPHS, sid, "ann", comment="look again")
    assert status_of(prepared, sid) == [Status.PENDING]
    assert event_facts(prepared, done.event)[ENR + "decision"] == {Decision.REOPEN.iri}
