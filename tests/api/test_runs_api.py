"""/runs against a real uvicorn: start a run as admin, follow it to the end, one at a time, errors reported.

A run that must still be going when the test looks (for the 409 and the live progress) uses a test
enricher registered under the registry's extension point: it blocks on an event until released.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest

from enrich.enrichers import ENRICHERS
from enrich.enrichers.base import Enricher, RecordView
from enrich.jobs import Selection, list_runs
from enrich.review import list_suggestions, suggestion_counts
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import Suggestion
from tests.api.server import running
from tests.api.test_vocab_api import GRAPHS, app_with_tokens, sample_store

POLL_DEADLINE_S = 30.0
RELEASE = threading.Event()
ENTERED = threading.Event()


class BlockingEnricher(Enricher):
    """Suggests nothing; holds its first batch until the test sets ``RELEASE``."""

    name = "blocking"

    def enrich(self, records: Sequence[RecordView]) -> list[Suggestion]:
        ENTERED.set()
        RELEASE.wait(POLL_DEADLINE_S)
        return []


@pytest.fixture
def served() -> Iterator[tuple[httpx.Client, Store, dict[str, dict[str, str]]]]:
    store = sample_store(EmbeddedStore(), enrich=False)
    app, headers = app_with_tokens(store)
    with running(app) as base_url, httpx.Client(base_url=base_url, timeout=60) as http:
        yield http, store, headers


def wait_for_end(http: httpx.Client, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + POLL_DEADLINE_S
    while time.monotonic() < deadline:
        state: dict[str, Any] = http.get(location).json()
        if state["status"] != "running":
            return state
        time.sleep(0.05)
    raise AssertionError(f"the run at {location} did not end within {POLL_DEADLINE_S} s")


def test_admin_starts_a_run_and_follows_it(served: tuple[httpx.Client, Store, dict[str, dict[str, str]]]) -> None:
    http, store, headers = served
    started = http.post("/runs", json={"enrichers": ["lexical"]}, headers=headers["admin"])
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    location = started.headers["location"]
    assert location.endswith(f"/runs/{run_id}") and started.json()["location"] == location

    state = wait_for_end(http, location)
    assert state["status"] == "finished" and state["ended"] and state["error"] is None
    assert state["run_id"] == run_id and state["enrichers"] == ["lexical"]
    assert state["definition"]["enrichers"] == [{"name": "lexical", "config": {}}]
    assert state["records_seen"] == len(Selection.all().remaining(store, GRAPHS, None)) > 0
    counts = suggestion_counts(store, GRAPHS)
    assert counts.total > 0  # the run wrote suggestions into the store
    assert state["counts"]["new"] == counts.total
    assert state["per_facet"] == {
        facet: {"new": n, "updated": 0, "skipped_rejected": 0, "skipped_frozen": 0}
        for facet, n in counts.by_facet.items()
    }
    listed = http.get("/runs").json()["runs"]
    assert [(r["run_id"], r["status"]) for r in listed] == [(run_id, "finished")]
    assert [state.run_id for state in list_runs(store, GRAPHS)] == [run_id]


def test_one_run_at_a_time_with_live_progress(
    served: tuple[httpx.Client, Store, dict[str, dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, _, headers = served
    monkeypatch.setitem(ENRICHERS, "blocking", f"{__name__}:BlockingEnricher")
    RELEASE.clear()
    ENTERED.clear()
    try:
        started = http.post("/runs", json={"enrichers": ["blocking"], "batch_size": 5}, headers=headers["admin"])
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        assert ENTERED.wait(POLL_DEADLINE_S)
        live = http.get(f"/runs/{run_id}").json()
        assert live["status"] == "running"
        total = live["progress"]["records_total"]
        assert total > 5 and live["progress"]["records_done"] == 0

        second = http.post("/runs", json={"enrichers": ["lexical"]}, headers=headers["admin"])
        assert second.status_code == 409
        assert run_id in second.json()["detail"]
    finally:
        RELEASE.set()
    state = wait_for_end(http, f"/runs/{run_id}")
    assert state["status"] == "finished" and state["records_seen"] == total
    assert "progress" not in state
    # Now the next one may start.
    again = http.post("/runs", json={"enrichers": ["lexical"]}, headers=headers["admin"])
    assert again.status_code == 202, again.text
    assert wait_for_end(http, again.headers["location"])["status"] == "finished"


def test_a_failing_run_reports_its_error(served: tuple[httpx.Client, Store, dict[str, dict[str, str]]]) -> None:
    http, store, headers = served
    # The dummy enricher's concept must lie in its facet's vocabulary; this one does not, so the writer
    # refuses the first batch and the run stops there.
    body = {"enrichers": [{"name": "dummy", "config": {"concept": "http://example.org/not-in-the-facet"}}]}
    started = http.post("/runs", json=body, headers=headers["admin"])
    assert started.status_code == 202, started.text
    state = wait_for_end(http, started.headers["location"])
    assert state["status"] == "failed" and state["ended"] is None
    assert "not-in-the-facet" in state["error"] and "Traceback" not in state["error"]
    assert list_suggestions(store, GRAPHS) == []


def test_bad_definitions_are_refused_before_anything_starts(
    served: tuple[httpx.Client, Store, dict[str, dict[str, str]]],
) -> None:
    http, store, headers = served
    admin = headers["admin"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"enrichers": ["telepathy"]}, "telepathy"),
        ({"enrichers": []}, "enrichers"),
        ({"enrichers": ["lexical"], "facets": ["colours"]}, "colours"),
        ({"enrichers": ["lexical"], "facets": ["disciplines"]}, "disciplines"),  # no concept loaded
        ({"enrichers": [{"name": "lexical", "config": {"temperature": 2}}]}, "temperature"),
        ({"enrichers": ["lexical"], "dataset": "a", "since": "2020-01-01"}, "at most one"),
        ({"enrichers": ["lexical"], "since": "last tuesday"}, "last tuesday"),
        ({"enrichers": ["lexical"], "batch_size": 0}, "batch_size"),
        ({"enrichers": ["lexical"], "colour": "blue"}, "colour"),
    ]
    for body, named in cases:
        response = http.post("/runs", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert named in response.text, (body, response.text)
    assert list_runs(store, GRAPHS) == []


def test_roles(served: tuple[httpx.Client, Store, dict[str, dict[str, str]]]) -> None:
    http, store, headers = served
    body = {"enrichers": ["lexical"]}
    assert http.post("/runs", json=body).status_code == 401
    for role in ("reader", "reviewer"):
        refused = http.post("/runs", json=body, headers=headers[role])
        assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert list_runs(store, GRAPHS) == []
    assert http.get("/runs").json() == {"runs": []}  # reading is anonymous by default
    missing = http.get("/runs/0123456789abcdef")
    assert missing.status_code == 404 and "0123456789abcdef" in missing.json()["detail"]
    assert http.get("/runs/not an id").status_code == 422
