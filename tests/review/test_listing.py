"""Listing suggestions: every filter, a stable order for paging, and counts by status and facet."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich import review
from enrich.namespaces import DCTERMS
from enrich.store.base import Store
from tests.review.support import BRASS, BRONZE, GRAPHS, METAL, VESSEL, WOOD, prepare, suggest, suggestion


@pytest.fixture
def ids(store: Store, tmp_path: Path) -> dict[str, str]:
    prepare(store, tmp_path)
    names = ("bronze", "brass", "wood", "vessel", "r2_metal", "r2_bronze")
    found = suggest(
        store,
        suggestion(BRONZE, confidence=0.9),
        suggestion(BRASS, confidence=0.5, enricher="clip"),
        suggestion(WOOD, confidence=0.5),
        suggestion(VESSEL, confidence=0.7, facet="object-types", predicate=DCTERMS + "type"),
        suggestion(METAL, record="r2", confidence=0.5),
        suggestion(BRONZE, record="r2", confidence=0.2),
    )
    ids = dict(zip(names, found, strict=True))
    review.reject(store, GRAPHS, ids["wood"], "ann", "duplicate")
    return ids


def listed(store: Store, **filters: object) -> list[str]:
    return [row.id for row in review.list_suggestions(store, GRAPHS, **filters)]  # type: ignore[arg-type]


def test_order_is_confidence_then_id(store: Store, ids: dict[str, str]) -> None:
    ties = sorted([ids["brass"], ids["wood"], ids["r2_metal"]])
    assert listed(store) == [ids["bronze"], ids["vessel"], *ties, ids["r2_bronze"]]


def test_paging_is_stable_and_complete(store: Store, ids: dict[str, str]) -> None:
    everything = listed(store)
    pages = [listed(store, limit=2, offset=offset) for offset in range(0, 8, 2)]
    assert [i for page in pages for i in page] == everything
    assert pages[-1] == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "Rejected"}, ["wood"]),
        ({"status": "Pending", "facet": "object-types"}, ["vessel"]),
        ({"provider": "Museum B"}, ["r2_metal", "r2_bronze"]),
        ({"dataset": "ds1", "min_confidence": 0.6}, ["bronze", "vessel"]),
        ({"max_confidence": 0.5, "record": "r2"}, ["r2_metal", "r2_bronze"]),
        ({"enricher": "clip"}, ["brass"]),
        ({"min_confidence": 0.5, "max_confidence": 0.5, "status": "Pending"}, ["brass", "r2_metal"]),
    ],
)
def test_filters(store: Store, ids: dict[str, str], filters: dict[str, object], expected: list[str]) -> None:
    assert sorted(listed(store, **filters)) == sorted(ids[name] for name in expected)


def test_rows_carry_what_a_reviewer_needs(store: Store, ids: dict[str, str]) -> None:
    (row,) = review.list_suggestions(store, GRAPHS, enricher="clip")
    assert (row.record_id, row.value, row.facet, row.confidence, row.status, row.enrichers) == (
        "r1", BRASS, "materials", 0.5, "Pending", ("clip",),
    )  # fmt: skip
    assert row.as_dict()["status"] == "Pending"


def test_counts_by_status_and_facet(store: Store, ids: dict[str, str]) -> None:
    counts = review.suggestion_counts(store, GRAPHS)
    assert counts.by_status == {"Pending": 5, "Rejected": 1}
    assert counts.by_facet == {"materials": 5, "object-types": 1}
    assert counts.by_status_and_facet[("Rejected", "materials")] == 1
    assert counts.total == 6
    assert review.suggestion_counts(store, GRAPHS, record="r2").total == 2
