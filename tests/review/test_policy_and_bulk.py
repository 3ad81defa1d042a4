"""Auto-accept policies as data, and bulk approval: each one update request, recorded on every suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich import review
from enrich.ingest.errors import InputError
from enrich.namespaces import DCTERMS, ENR
from enrich.review import Policy
from enrich.store.base import Store
from enrich.suggestion import Status
from tests.review.support import (
    BRASS,
    BRONZE,
    GRAPHS,
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


@pytest.fixture
def prepared(store: Store, tmp_path: Path) -> Store:
    prepare(store, tmp_path)
    return store


def test_policies_are_data_and_the_latest_one_counts(prepared: Store) -> None:
    assert review.list_policies(prepared, GRAPHS) == {}
    first = review.set_policy(prepared, GRAPHS, Policy("materials", 0.9))
    second = review.set_policy(prepared, GRAPHS, Policy("materials", 0.8, min_enrichers=2))
    assert first != second
    assert review.list_policies(prepared, GRAPHS) == {"materials": Policy("materials", 0.8, 2)}
    # The earlier policy's description stays: suggestions it accepted still point to it.
    assert prepared.ask(f"ASK {{ GRAPH <{GRAPHS.system}> {{ <{first}> a <{ENR}AutoAcceptPolicy> }} }}")


@pytest.mark.parametrize(
    "make", [lambda: Policy("materials", 1.5), lambda: Policy("materials", 0.5, 0), lambda: Policy("nosuch", 0.5)]
)
def test_bad_policies_are_refused(prepared: Store, make: object) -> None:
    with pytest.raises(InputError):
        review.set_policy(prepared, GRAPHS, make())  # type: ignore[operator]


def test_auto_accept_by_threshold_and_agreeing_enrichers(prepared: Store) -> None:
    ids = suggest(
        prepared,
        suggestion(BRONZE, confidence=0.95),
        suggestion(BRONZE, confidence=0.9, enricher="clip"),  # agrees on bronze: two enrichers
        suggestion(BRASS, confidence=0.97),  # one enricher only
        suggestion(WOOD, confidence=0.5),  # below the threshold
        suggestion(VESSEL, confidence=0.99, facet="object-types", predicate=DCTERMS + "type"),  # other facet
        suggestion(BRONZE, record="r2", confidence=0.99, enricher="clip"),
        suggestion(BRONZE, record="r2", confidence=0.99),
    )
    bronze, brass, wood, vessel, r2_bronze = ids[0], ids[2], ids[3], ids[4], ids[5]
    policy = Policy("materials", 0.9, min_enrichers=2)
    candidates = review.auto_accept_candidates(prepared, GRAPHS, policy)
    assert [row.id for row in candidates] == sorted([bronze, r2_bronze], key=lambda i: (i != r2_bronze, i))
    assert candidates[0].enrichers == ("clip", "lexical")
    counting = CountingStore(prepared)
    done = review.auto_accept(counting, GRAPHS, policy)  # type: ignore[arg-type]
    assert len(counting.updates) == 1
    assert sorted(done.moved) == sorted([bronze, r2_bronze])
    assert status_of(prepared, bronze) == [Status.AUTO_ACCEPTED]
    assert [status_of(prepared, i) for i in (brass, wood, vessel)] == [[Status.PENDING]] * 3
    for sid in (bronze, r2_bronze):
        node = GRAPHS.suggestion_node(sid)
        assert prepared.ask(f"ASK {{ GRAPH ?g {{ <{node}> <{ENR}acceptedByPolicy> <{policy.iri(GRAPHS)}> }} }}")
    assert (cho("r1"), DCTERMS + "medium", BRONZE) in enrichment(prepared, "r1")
    assert (cho("r2"), DCTERMS + "medium", BRONZE) in enrichment(prepared, "r2")
    assert datestamp(prepared, "r1") > OLD_DATESTAMP
    assert prepared.ask(f"ASK {{ GRAPH <{GRAPHS.system}> {{ <{policy.iri(GRAPHS)}> <{ENR}minEnrichers> 2 }} }}")
    # With one enricher enough, brass goes too; nothing accepted twice.
    again = review.auto_accept(prepared, GRAPHS, Policy("materials", 0.9))
    assert again.moved == (brass,)


def test_auto_accept_uses_the_stored_policy(prepared: Store) -> None:
    with pytest.raises(InputError, match="no auto-accept policy"):
        review.policy_for(prepared, GRAPHS, "materials")
    review.set_policy(prepared, GRAPHS, Policy("materials", 0.6))
    (sid,) = suggest(prepared, suggestion(WOOD, confidence=0.7))
    review.auto_accept(prepared, GRAPHS, review.policy_for(prepared, GRAPHS, "materials"))
    assert status_of(prepared, sid) == [Status.AUTO_ACCEPTED]


def test_approve_all_is_one_transaction_filtered_by_facet_provider_dataset(prepared: Store) -> None:
    r1_bronze, r1_wood, r1_vessel, r2_bronze = suggest(
        prepared,
        suggestion(BRONZE, confidence=0.9),
        suggestion(WOOD, confidence=0.4),
        suggestion(VESSEL, confidence=0.9, facet="object-types", predicate=DCTERMS + "type"),
        suggestion(BRONZE, record="r2", confidence=0.95),
    )
    counting = CountingStore(prepared)
    done = review.approve_all(counting, GRAPHS, "ann", 0.8, facet="materials", provider="Museum A")  # type: ignore[arg-type]
    assert len(counting.updates) == 1
    assert done.moved == (r1_bronze,)
    assert status_of(prepared, r2_bronze) == [Status.PENDING]
    done = review.approve_all(prepared, GRAPHS, "ann", 0.3, dataset="ds1")
    assert sorted(done.moved) == sorted([r1_wood, r1_vessel])
    assert (cho("r1"), DCTERMS + "type", VESSEL) in enrichment(prepared)
    assert review.approve_all(prepared, GRAPHS, "ann", 0.3, dataset="ds1").moved == ()
