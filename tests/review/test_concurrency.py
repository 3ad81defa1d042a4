"""Two reviewers acting on one suggestion at once, in real threads: exactly one wins, the other gets a conflict."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from enrich import review
from enrich.namespaces import PROV
from enrich.review import Policy, ReviewConflict
from enrich.store.base import Store
from enrich.suggestion import Status
from tests.review.support import BRONZE, GRAPHS, WOOD, enrichment, prepare, status_of, suggest, suggestion

ROUNDS = 5

Action = Callable[[Store, str, str], object]
ACTIONS: dict[str, Action] = {
    "approve": lambda store, sid, who: review.approve(store, GRAPHS, sid, who, expected=Status.PENDING),
    "reject": lambda store, sid, who: review.reject(store, GRAPHS, sid, who, "other", expected=Status.PENDING),
}


def events_of(store: Store, sid: str) -> list[object]:
    node = GRAPHS.suggestion_node(sid)
    return list(store.select(f"SELECT ?e WHERE {{ GRAPH ?g {{ ?e <{PROV}used> <{node}> }} }}"))


def race(store: Store, sid: str, first: Action, second: Action) -> list[BaseException | None]:
    barrier = threading.Barrier(2)
    outcomes: list[BaseException | None] = [None, None]

    def act(index: int, action: Action) -> None:
        barrier.wait()
        try:
            action(store, sid, f"reviewer-{index}")
        except BaseException as exc:  # recorded and checked by the test
            outcomes[index] = exc

    threads = [threading.Thread(target=act, args=(i, a)) for i, a in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize(("first", "second"), [("approve", "approve"), ("approve", "reject")])
def test_exactly_one_reviewer_wins(store: Store, tmp_path: Path, first: str, second: str) -> None:
    prepare(store, tmp_path)
    for round_ in range(ROUNDS):
        (sid,) = suggest(store, suggestion(BRONZE, record="r1", confidence=0.5 + round_ / 100))
        events_before = len(events_of(store, sid))
        outcomes = race(store, sid, ACTIONS[first], ACTIONS[second])
        winners = [o for o in outcomes if o is None]
        losers = [o for o in outcomes if o is not None]
        assert len(winners) == 1, outcomes
        assert len(losers) == 1 and isinstance(losers[0], ReviewConflict), outcomes
        assert len(status_of(store, sid)) == 1
        assert len(events_of(store, sid)) == events_before + 1
        if status_of(store, sid) == [Status.APPROVED]:
            review.retract(store, GRAPHS, sid, "admin")
        review.reopen(store, GRAPHS, sid, "admin")  # the next round starts Pending again
        # (the same triple: round_ only changes the confidence, so reopen keeps the test small)


def test_a_bulk_operation_and_a_single_review_do_not_both_take_a_suggestion(store: Store, tmp_path: Path) -> None:
    prepare(store, tmp_path)
    (sid,) = suggest(store, suggestion(WOOD, confidence=0.95))
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def bulk() -> None:
        barrier.wait()
        outcomes.append(review.auto_accept(store, GRAPHS, Policy("materials", 0.9)).moved)

    def single() -> None:
        barrier.wait()
        try:
            outcomes.append(review.reject(store, GRAPHS, sid, "ann", "other", expected=Status.PENDING))
        except ReviewConflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=bulk), threading.Thread(target=single)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    (status,) = status_of(store, sid)
    assert status in (Status.AUTO_ACCEPTED, Status.REJECTED)
    accepted = (status is Status.AUTO_ACCEPTED) == bool(enrichment(store))
    assert accepted
