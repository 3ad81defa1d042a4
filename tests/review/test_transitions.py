"""The state machine: every legal move works through the store, every illegal one is refused and writes nothing."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from enrich import review
from enrich.review import TRANSITIONS, IllegalTransition, Policy, ReviewConflict, SuggestionNotFound
from enrich.store.base import Store
from enrich.suggestion import Status
from tests.review.support import BRASS, BRONZE, GRAPHS, METAL, prepare, status_of, suggest, suggestion

LEGAL = {
    (Status.PENDING, Status.APPROVED),
    (Status.PENDING, Status.REJECTED),
    (Status.PENDING, Status.SUPERSEDED),
    (Status.PENDING, Status.AUTO_ACCEPTED),
    (Status.APPROVED, Status.RETRACTED),
    (Status.AUTO_ACCEPTED, Status.RETRACTED),
    (Status.REJECTED, Status.PENDING),
    (Status.RETRACTED, Status.PENDING),
}


@pytest.mark.parametrize(("current", "wanted"), list(itertools.product(Status, Status)))
def test_the_transition_table(current: Status, wanted: Status) -> None:
    assert (wanted in TRANSITIONS[current]) == ((current, wanted) in LEGAL)
    if (current, wanted) in LEGAL:
        review.check_transition("s1", current, wanted)
    else:
        with pytest.raises(IllegalTransition, match=f"from {current} to {wanted}"):
            review.check_transition("s1", current, wanted)


@pytest.fixture
def prepared(store: Store, tmp_path: Path) -> Store:
    prepare(store, tmp_path)
    return store


def bring_to(store: Store, sid: str, status: Status) -> None:
    """Drive a fresh Pending suggestion to ``status`` through legal moves only."""
    if status is Status.APPROVED:
        review.approve(store, GRAPHS, sid, "ann")
    elif status is Status.REJECTED:
        review.reject(store, GRAPHS, sid, "ann", "too-broad")
    elif status is Status.SUPERSEDED:
        review.correct(store, GRAPHS, sid, METAL, "ann")
    elif status is Status.AUTO_ACCEPTED:
        review.auto_accept(store, GRAPHS, Policy("materials", 0.5))
    elif status is Status.RETRACTED:
        review.approve(store, GRAPHS, sid, "ann")
        review.retract(store, GRAPHS, sid, "ann")
    assert status_of(store, sid) == [status]


ACTIONS = {
    Status.APPROVED: lambda store, sid: review.approve(store, GRAPHS, sid, "bob"),
    Status.REJECTED: lambda store, sid: review.reject(store, GRAPHS, sid, "bob", "other"),
    Status.SUPERSEDED: lambda store, sid: review.correct(store, GRAPHS, sid, BRASS, "bob"),
    Status.RETRACTED: lambda store, sid: review.retract(store, GRAPHS, sid, "bob"),
    Status.PENDING: lambda store, sid: review.reopen(store, GRAPHS, sid, "bob"),
}


@pytest.mark.parametrize(("current", "wanted"), [(c, w) for c in Status for w in ACTIONS])
def test_every_move_through_the_store(prepared: Store, current: Status, wanted: Status) -> None:
    (sid,) = suggest(prepared, suggestion(BRONZE))
    bring_to(prepared, sid, current)
    before = prepared.count_triples()
    if (current, wanted) in LEGAL:
        ACTIONS[wanted](prepared, sid)
        assert status_of(prepared, sid) == [wanted]
    else:
        with pytest.raises(IllegalTransition, match=f"{sid}: cannot go from {current} to {wanted}"):
            ACTIONS[wanted](prepared, sid)
        assert prepared.count_triples() == before
        assert status_of(prepared, sid) == [current]


def test_an_unknown_suggestion(prepared: Store) -> None:
    with pytest.raises(SuggestionNotFound, match="nosuch: no such suggestion"):
        review.approve(prepared, GRAPHS, "nosuch", "ann")


def test_a_stale_expected_status_is_a_conflict(prepared: Store) -> None:
    (sid,) = suggest(prepared, suggestion())
    review.reject(prepared, GRAPHS, sid, "ann", "wrong-concept")
    with pytest.raises(ReviewConflict, match="expected Pending, it is now Rejected"):
        review.approve(prepared, GRAPHS, sid, "bob", expected=Status.PENDING)


def test_reasons_come_from_the_list_only(prepared: Store) -> None:
    (sid,) = suggest(prepared, suggestion())
    before = prepared.count_triples()
    with pytest.raises(review.ReviewError, match="unknown review reason"):
        review.reject(prepared, GRAPHS, sid, "ann", "ugly")
    assert prepared.count_triples() == before
    assert [review.Reason.parse(n) for n in ("too broad", "TooBroad", "too-broad")] == [review.Reason.TOO_BROAD] * 3
    assert {r.slug for r in review.Reason} == {
        "wrong-concept", "too-broad", "too-specific", "not-visible", "duplicate", "other",
    }  # fmt: skip


def test_a_rejected_triple_reopened_is_suggested_again(prepared: Store) -> None:
    (sid,) = suggest(prepared, suggestion(confidence=0.5))
    review.reject(prepared, GRAPHS, sid, "ann", "not-visible")
    suggest(prepared, suggestion(confidence=0.9))
    assert review.get_suggestion(prepared, GRAPHS, sid).confidence == 0.5  # skipped as rejected
    review.reopen(prepared, GRAPHS, sid, "ann", comment="it is visible after all")
    suggest(prepared, suggestion(confidence=0.9))
    assert review.get_suggestion(prepared, GRAPHS, sid).confidence == 0.9
