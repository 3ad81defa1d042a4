"""REST /suggestions against a real uvicorn, on the bundled samples enriched by the lexical enricher: listing
with filters and stable paging, the review actions and what they write, stale views (409), roles, bulk."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pyoxigraph
import pytest
from pyoxigraph import NamedNode, RdfFormat

from api.app import create_app
from api.auth import make_token
from enrich import review
from enrich.ingest import IngestOptions, Ingestor, documents
from enrich.jobs import RunDefinition, run_enrichment
from enrich.namespaces import ENR
from enrich.resources import samples_dir
from enrich.review import SuggestionRow
from enrich.store.base import Store, text
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import Status
from tests.api.server import running
from tests.ingest.support import GRAPHS, make_settings
from tests.jobs.support import load_starter

REVIEWER, REVIEWER_ENTRY = make_token("reviewer", "rita")
READER, READER_ENTRY = make_token("reader")


@dataclass
class Served:
    client: httpx.Client
    store: Store
    url: str

    def pending(self, facet: str | None = None) -> list[SuggestionRow]:
        return review.list_suggestions(self.store, GRAPHS, Status.PENDING, facet, limit=10_000)

    def status(self, sid: str) -> Status:
        return review.get_suggestion(self.store, GRAPHS, sid).status

    def enriched(self, row: SuggestionRow) -> set[tuple[str, str, str]]:
        triples = self.store.read_graph(GRAPHS.enrichment(row.record_id))
        return {(text(t.subject), text(t.predicate), text(t.object)) for t in triples}


@contextmanager
def serving(store: Store) -> Iterator[Served]:
    app = create_app(make_settings(api_tokens=[REVIEWER_ENTRY, READER_ENTRY]), store)
    with running(app) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {REVIEWER}"}) as client:
        yield Served(client, store, url)


@pytest.fixture
def served(store: Store) -> Iterator[Served]:
    """The samples ingested, the starter vocabulary loaded, the lexical enricher run; the client is a reviewer."""
    Ingestor(store, make_settings(), IngestOptions(progress=False)).run(documents([str(samples_dir())]))
    load_starter(store)
    run_enrichment(store, GRAPHS, RunDefinition.of(["lexical"]))
    with serving(store) as ready:
        yield ready


@pytest.fixture
def empty() -> Iterator[Served]:
    """An empty in-memory store: enough for what is refused before the store is asked."""
    with serving(EmbeddedStore()) as ready:
        yield ready


def walk(client: httpx.Client, url: str | None) -> tuple[list[dict[str, object]], set[int]]:
    """Every item of a paged listing, following ``next``; and the totals the pages gave."""
    items: list[dict[str, object]] = []
    totals: set[int] = set()
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        totals.add(page["total"])
        url = page["next"]
    return items, totals


def test_listing_pages_stably_and_filters(served: Served) -> None:
    everything = review.list_suggestions(served.store, GRAPHS, limit=10_000)
    assert len(everything) > 20
    items, totals = walk(served.client, "/suggestions?limit=7")
    assert [item["id"] for item in items] == [row.id for row in everything]  # complete, no repeats, stable
    assert totals == {len(everything)}
    first = everything[0]
    assert items[0] == {
        **first.as_dict(),
        "iri": first.iri,
        "value_is_iri": True,
        "links": {"self": f"/suggestions/{first.id}", "record": f"/records/{first.record_id}"},
    }

    materials, totals = walk(served.client, "/suggestions?facet=materials&min_confidence=0.5&limit=5")
    expected = [r.id for r in everything if r.facet == "materials" and (r.confidence or 0) >= 0.5]
    assert [item["id"] for item in materials] == expected and totals == {len(expected)}
    narrow, _ = walk(served.client, "/suggestions?max_confidence=0.5&status=pending&enricher=lexical")
    assert [item["id"] for item in narrow] == [r.id for r in everything if (r.confidence or 0) <= 0.5]
    assert walk(served.client, "/suggestions?enricher=nobody")[1] == {0}

    record = first.record_id
    own, _ = walk(served.client, f"/records/{record}/suggestions?limit=2")
    assert own == [item for item in items if item["record"] == record]
    assert walk(served.client, f"/suggestions?record={record}")[0] == own
    assert served.client.get("/records/none-000000000000/suggestions").status_code == 404
    assert served.client.get(f"/suggestions/{first.id}").json() == items[0]
    assert served.client.get("/suggestions/000000000000000000000000").status_code == 404
    # Ids and record references that could not be ours are unknown, never taken into a query as they are.
    assert served.client.get("/suggestions/a%3E%20b").status_code == 404
    assert served.client.post("/suggestions/a%3E%20b/approve").status_code == 404
    assert served.client.get("/suggestions", params={"record": "x> } #"}).json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=maybe", "status", "Pending, AutoAccepted, Approved"),
        ("facet=colours", "facet", "materials"),
        ("min_confidence=1.5", "min_confidence", "less than or equal to 1"),
        ("min_confidence=0.8&max_confidence=0.2", "min_confidence", "max_confidence"),
        ("limit=1001", "limit", "at most 1000"),
    ],
)
def test_bad_filters_are_422_naming_the_field(empty: Served, query: str, field: str, message: str) -> None:
    response = empty.client.get(f"/suggestions?{query}")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", field] and message in error["msg"]


def reviewer_of(store: Store, event: str) -> str:
    rows = store.select(f"SELECT ?who WHERE {{ GRAPH ?g {{ <{event}> <{ENR}reviewer> ?who }} }}")
    return text(rows[0]["who"])


def test_review_actions_change_the_store(served: Served) -> None:
    client = served.client
    first, second, third, *_ = served.pending("materials")

    approved = client.post(f"/suggestions/{first.id}/approve", json={"expected_status": "pending", "comment": "ok"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["suggestion"]["status"] == "Approved"
    assert served.status(first.id) is Status.APPROVED
    assert (first.subject, first.predicate, first.value) in served.enriched(first)
    assert reviewer_of(served.store, approved.json()["review"]["event"]) == "rita"
    enriched = client.get(f"/records/{first.record_id}", params={"view": "enriched"}, headers={"Accept": "text/turtle"})
    objects = {q.object for q in pyoxigraph.parse(enriched.content, format=RdfFormat.TURTLE)}
    assert NamedNode(first.value) in objects

    retracted = client.post(f"/suggestions/{first.id}/retract", json={"reason": "too-broad"})
    assert retracted.json()["suggestion"]["status"] == "Retracted"
    assert (first.subject, first.predicate, first.value) not in served.enriched(first)
    assert client.post(f"/suggestions/{first.id}/reopen").json()["suggestion"]["status"] == "Pending"

    rejected = client.post(f"/suggestions/{second.id}/reject", json={"reason": "WrongConcept"})
    assert rejected.status_code == 200 and served.status(second.id) is Status.REJECTED

    concept = next(row.value for row in served.pending("materials") if row.value != third.value)
    corrected = client.post(f"/suggestions/{third.id}/correct", json={"concept": concept, "reason": "wrong-concept"})
    assert corrected.status_code == 200, corrected.text
    created = corrected.json()["review"]["created"]
    assert served.status(third.id) is Status.SUPERSEDED and served.status(created) is Status.APPROVED
    assert (third.subject, third.predicate, concept) in served.enriched(third)
    assert (third.subject, third.predicate, third.value) not in served.enriched(third)

    outside = client.post(f"/suggestions/{first.id}/correct", json={"concept": "http://example.org/not-a-concept"})
    assert outside.status_code == 422 and "not a concept of the facet" in outside.json()["detail"]


def test_stale_views_and_illegal_moves_are_409(served: Served) -> None:
    client = served.client
    row = served.pending()[0]
    stale = client.post(f"/suggestions/{row.id}/reject", json={"reason": "duplicate", "expected_status": "Approved"})
    assert stale.status_code == 409
    assert stale.json()["current_status"] == "Pending" and "reload" in stale.json()["detail"]
    assert served.status(row.id) is Status.PENDING

    assert client.post(f"/suggestions/{row.id}/approve").status_code == 200
    twice = client.post(f"/suggestions/{row.id}/approve")
    assert twice.status_code == 409
    assert twice.json()["current_status"] == "Approved" and "cannot go from Approved" in twice.json()["detail"]
    assert client.post("/suggestions/000000000000000000000000/approve").status_code == 404

    for path, body, loc in [
        ("reject", {}, ["body", "reason"]),
        ("reject", {"reason": "ugly"}, ["body", "reason"]),
        ("approve", {"expected_status": "sure"}, ["body", "expected_status"]),
        ("approve", {"mood": "good"}, ["body", "mood"]),
        ("correct", {"reason": "other"}, ["body", "concept"]),
    ]:
        refused = client.post(f"/suggestions/{row.id}/{path}", json=body)
        assert refused.status_code == 422, (path, body)
        assert refused.json()["detail"][0]["loc"] == loc


def test_reviewing_needs_the_reviewer_role(served: Served) -> None:
    sid = served.pending()[0].id
    with httpx.Client(base_url=served.url) as anonymous:
        assert anonymous.post(f"/suggestions/{sid}/approve").status_code == 401
        assert anonymous.post("/suggestions/bulk", json={"action": "approve", "ids": [sid]}).status_code == 401
        assert anonymous.get(f"/suggestions/{sid}").status_code == 200
        reader = {"Authorization": f"Bearer {READER}"}
        assert anonymous.post(f"/suggestions/{sid}/approve", headers=reader).status_code == 403
    assert served.status(sid) is Status.PENDING


def test_bulk_by_ids_answers_per_id_and_by_filter_approves_above_a_threshold(served: Served) -> None:
    client = served.client
    one, two, three, *_ = served.pending()
    client.post(f"/suggestions/{three.id}/approve")
    answer = client.post(
        "/suggestions/bulk",
        json={"action": "reject", "reason": "not-visible", "ids": [one.id, two.id, "0" * 24, three.id, "<x>"]},
    )
    assert answer.status_code == 200
    assert [(r["outcome"], r["status"]) for r in answer.json()["results"]] == [
        ("ok", "Rejected"),
        ("ok", "Rejected"),
        ("not_found", None),
        ("conflict", "Approved"),
        ("not_found", None),
    ]
    assert answer.json()["done"] == 2 and served.status(one.id) is Status.REJECTED

    threshold = 0.9
    above = {row.id for row in served.pending("materials") if (row.confidence or 0) >= threshold}
    assert above
    bulk = client.post(
        "/suggestions/bulk",
        json={"action": "approve", "filter": {"min_confidence": threshold, "facet": "materials"}},
    )
    assert bulk.status_code == 200, bulk.text
    assert set(bulk.json()["moved"]) == above and bulk.json()["done"] == len(above)
    assert all(served.status(sid) is Status.APPROVED for sid in above)
    assert reviewer_of(served.store, bulk.json()["event"]) == "rita"

    for body in [
        {"action": "reject", "ids": [one.id]},
        {"action": "approve"},
        {"action": "approve", "ids": [one.id], "filter": {"min_confidence": 0.5}},
        {"action": "reject", "reason": "other", "filter": {"min_confidence": 0.5}},
        {"action": "approve", "filter": {"min_confidence": 2}},
        {"action": "approve", "filter": {"min_confidence": 0.5, "facet": "colours"}},
    ]:
        assert client.post("/suggestions/bulk", json=body).status_code == 422, body


def test_openapi_documents_the_suggestion_routes() -> None:
    app = create_app(make_settings(), EmbeddedStore())
    paths = {path: set(methods) for path, methods in app.openapi()["paths"].items() if "suggestions" in path}
    assert paths["/suggestions"] == {"get"} and paths["/suggestions/{suggestion_id}"] == {"get"}
    for action in ("approve", "reject", "correct", "retract", "reopen"):
        assert paths[f"/suggestions/{{suggestion_id}}/{action}"] == {"post"}
    assert paths["/suggestions/bulk"] == {"post"}
