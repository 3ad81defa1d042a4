"""/review/queue and /review/stats against a real uvicorn, on the bundled samples and both bundled vocabularies,
enriched by the lexical and the dummy enricher, with review actions done through :mod:`enrich.review`.

Every expectation is computed here another way: the queue from ``enrich.review.list_suggestions`` (SPARQL)
and ``GET /records``, the statistics and the calibration from all suggestions with plain arithmetic.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pyoxigraph import RdfFormat

from api.app import create_app
from api.auth import make_token
from enrich import review
from enrich.ingest import IngestOptions, Ingestor, documents
from enrich.jobs import RunDefinition, run_enrichment
from enrich.namespaces import DC
from enrich.provenance import ProvenanceWriter
from enrich.records_admin import delete_records
from enrich.resources import samples_dir
from enrich.review_commands import HANDLERS, add_commands
from enrich.review_stats import Filters, queue, stats_tally
from enrich.review_summary import SummaryCache, select_values
from enrich.store.base import Store, text
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import ModelCard, Status, SuggestedValue, Suggestion
from enrich.vocab.facets import facet_tree, get_facet, load_facets
from enrich.vocab.loader import read_trees
from tests.api.server import running
from tests.api.test_vocab_api import GRAPHS, app_with_tokens, sample_store
from tests.ingest.support import make_settings

SORTS = ("confidence", "count", "record", "datestamp")
SECOND = ModelCard("second-opinion", "1")
AXE = "http://data.example-archaeology.org/find/stone-axe-9"


@dataclass
class Served:
    client: httpx.Client
    store: Store
    app: FastAPI

    @property
    def summary(self) -> SummaryCache:
        """The app's review summary (made by the first request that needed it)."""
        cache: SummaryCache = self.app.state.review_summary
        return cache


@contextmanager
def serving(store: Store) -> Iterator[Served]:
    app, headers = app_with_tokens(store)
    with running(app) as url, httpx.Client(base_url=url, headers=headers["reader"], timeout=30) as client:
        yield Served(client, store, app)


@pytest.fixture
def served() -> Iterator[Served]:
    """Samples, both vocabularies, the lexical and the dummy enricher, one suggestion from two enrichers."""
    store = sample_store(EmbeddedStore())
    run_enrichment(store, GRAPHS, RunDefinition.of(["dummy"]))
    agree(store)
    with serving(store) as ready:
        yield ready


@pytest.fixture(scope="module")
def empty() -> Iterator[Served]:
    """An empty store: enough for what is refused before the store is asked."""
    with serving(EmbeddedStore()) as ready:
        yield ready


def agree(store: Store) -> Suggestion:
    """A second enricher proposes the triple of the most confident lexical suggestion again."""
    row = review.list_suggestions(store, GRAPHS, Status.PENDING, enricher="lexical", limit=1)[0]
    again = Suggestion(
        row.record_id, row.subject, row.predicate, SuggestedValue(row.value), row.facet, 0.5, SECOND.name, SECOND
    )
    writer = ProvenanceWriter(store, GRAPHS)
    writer.write(writer.start_run([SECOND.name], [SECOND], "test", "test"), [again])
    return again


# -- what the answers should be ------------------------------------------------------------------------
def registry(client: httpx.Client) -> dict[str, dict[str, Any]]:
    answer = client.get("/records", params={"limit": 1000}).json()
    return {item["id"]: item for item in answer["items"]}


def expected_queue(store: Store, client: httpx.Client, sort: str, order: str, **filters: Any) -> list[dict[str, Any]]:
    return ordered(expected_items(store, client, **filters), sort, order)


def expected_items(store: Store, client: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    """The queue's items (but titles), from the pending suggestions passing the filters and the registry."""
    rows = review.list_suggestions(store, GRAPHS, Status.PENDING, limit=100_000, **filters)
    records = registry(client)
    by_record: dict[str, list[review.SuggestionRow]] = {}
    for row in rows:
        if row.record_id in records:
            by_record.setdefault(row.record_id, []).append(row)
    return [
        {
            "record": rid,
            "cho": records[rid]["cho"],
            "provider": records[rid]["provider"],
            "dataset": records[rid]["dataset"],
            "datestamp": records[rid]["datestamp"],
            "pending": len(found),
            "max_confidence": max(r.confidence or 0.0 for r in found),
            "facets": sorted({r.facet for r in found}),
        }
        for rid, found in by_record.items()
    ]


def ordered(items: list[dict[str, Any]], sort: str, order: str) -> list[dict[str, Any]]:
    primary = {"confidence": "max_confidence", "count": "pending", "record": "record", "datestamp": "datestamp"}[sort]
    return sorted(items, key=lambda item: (item[primary], item["record"]), reverse=order == "desc")


def walk(client: httpx.Client, url: str | None, **params: Any) -> tuple[list[dict[str, Any]], set[int]]:
    """Every item of a queue, following the next links; and the totals the pages gave."""
    items: list[dict[str, Any]] = []
    totals: set[int] = set()
    first = True
    while url is not None:
        # Parameters only on the first request: httpx would replace the query of the next links with them.
        response = client.get(url, params=params) if first and params else client.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        totals.add(page["total"])
        url, first = page["next"], False
    return items, totals


def title_of(store: Store, rid: str, cho: str, language: str = "en") -> str | None:
    """The title the queue shows: in ``language``, else without a language, else English, else the first."""
    found = [
        (getattr(t.object, "language", None) or "", text(t.object))
        for t in store.read_graph(GRAPHS.record(rid))
        if text(t.subject) == cho and t.predicate.value == DC + "title"
    ]
    for wanted in (language, "", "en"):
        chosen = sorted(title for tag, title in found if tag == wanted)
        if chosen:
            return chosen[0]
    return min((title for _, title in found), default=None)


def decide(store: Store) -> None:
    """Approve, reject, correct, retract, reopen and auto-accept a spread of suggestions."""
    pending = sorted(review.list_suggestions(store, GRAPHS, Status.PENDING, limit=10_000), key=lambda r: r.id)
    for row in pending[0:60:4]:
        review.approve(store, GRAPHS, row.id, "ann")
    for row in pending[1:60:4]:
        review.reject(store, GRAPHS, row.id, "ann", "wrong-concept")
    review.retract(store, GRAPHS, pending[0].id, "ann")  # Approved → Retracted: not decided any more
    review.reopen(store, GRAPHS, pending[1].id, "ann")  # Rejected → Pending: back in the queue
    concept_row = next(r for r in pending[2:60:4] if r.value_is_iri)
    tree = facet_tree(get_facet(load_facets(), concept_row.facet), read_trees(store, GRAPHS))
    other = next(c for c, node in sorted(tree.nodes.items()) if node.selectable and c != concept_row.value)
    review.correct(store, GRAPHS, concept_row.id, other, "ann", "too-broad")
    review.auto_accept(store, GRAPHS, review.Policy("object-types", 0.9))


def expected_stats(store: Store) -> dict[str, Any]:
    """Counts, approval rates and calibration of the module docstring, from every suggestion."""
    rows = review.list_suggestions(store, GRAPHS, limit=100_000)
    counts: dict[tuple[str, str], Counter[str]] = {}
    for row in rows:
        for enricher in row.enrichers:
            counts.setdefault((row.facet, enricher), Counter())[row.status.value] += 1
    groups = []
    for (facet, enricher), found in sorted(counts.items()):
        approved = found["Approved"] + found["AutoAccepted"]
        decided = approved + found["Rejected"] + found["Superseded"]
        groups.append(
            {
                "facet": facet,
                "enricher": enricher,
                "counts": {status.value: found[status.value] for status in Status},
                "decided": decided,
                "approval_rate": approved / decided if decided else None,
            }
        )
    human = [
        (Decimal(str(row.confidence)), row.status is Status.APPROVED)
        for row in rows
        if row.enrichers and row.status in (Status.APPROVED, Status.REJECTED, Status.SUPERSEDED)
    ]
    bins = []
    for k in range(10):
        inside = [(c, ok) for c, ok in human if min(int(c * 10), 9) == k]
        mean = float(sum(c for c, _ in inside) / len(inside)) if inside else None
        rate = sum(ok for _, ok in inside) / len(inside) if inside else None
        bins.append({"lower": k / 10, "upper": (k + 1) / 10, "count": len(inside), "mean": mean, "rate": rate})
    ece = sum(b["count"] / len(human) * abs(b["rate"] - b["mean"]) for b in bins if b["count"])
    return {"groups": groups, "bins": bins, "ece": ece, "decisions": len(human)}


# -- the queue -----------------------------------------------------------------------------------------
def test_every_sort_walks_all_records_once_in_order(store: Store) -> None:
    sample_store(store)
    with serving(store) as served:
        client = served.client
        every = expected_items(store, client)
        assert len(every) == 41
        for sort in SORTS:
            for order in ("asc", "desc"):
                items, totals = walk(client, "/review/queue", sort=sort, order=order, limit=7)
                expected = ordered(every, sort, order)
                assert totals == {41}
                assert [{k: v for k, v in i.items() if k != "title"} for i in items] == expected, (sort, order)
        default, _ = walk(client, "/review/queue")
        assert default == walk(client, "/review/queue", sort="confidence", order="desc")[0]
        assert all(item["title"] == title_of(store, item["record"], item["cho"]) for item in default)
        korean = walk(client, "/review/queue", lang="ko")[0]
        assert all(item["title"] == title_of(store, item["record"], item["cho"], "ko") for item in korean)
        assert {i["title"] for i in korean} != {i["title"] for i in default}  # some records have Korean titles

        # A review action on each kind of store: the queue follows it, reading only what changed.
        first = default[0]
        review.approve_all(store, GRAPHS, "ann", 0.0, record=first["record"])
        after, totals = walk(client, "/review/queue", sort="confidence", order="desc", limit=7)
        assert totals == {40} and [i["record"] for i in after] == [i["record"] for i in default[1:]]
        assert served.summary.last_refresh.startswith("refreshed")


@pytest.mark.parametrize(
    "filters",
    [
        {"facet": "materials"},
        {"enricher": "dummy"},
        {"enricher": "second-opinion"},
        {"min_confidence": 0.5, "max_confidence": 0.9},
        {"facet": "object-types", "min_confidence": 0.3, "dataset": "default"},
        {"provider": "Example Heritage Aggregator", "max_confidence": 0.4},
        {"provider": "nobody"},
    ],
)
def test_filters_count_the_passing_suggestions(served: Served, filters: dict[str, Any]) -> None:
    for sort in ("count", "datestamp"):
        items, totals = walk(served.client, "/review/queue", sort=sort, limit=5, **filters)
        expected = expected_queue(served.store, served.client, sort, "desc", **filters)
        assert [{k: v for k, v in i.items() if k != "title"} for i in items] == expected
        assert totals == {len(expected)}
    if filters == {"provider": "nobody"}:
        assert items == []


def test_review_actions_and_deletions_show_at_once(served: Served) -> None:
    client, store = served.client, served.store
    questions = [{"sort": "record", "limit": 9}, {"sort": "count", "facet": "materials", "min_confidence": 0.5}]
    before = [walk(client, "/review/queue", **question)[0] for question in questions]
    decide(store)
    # The orderings the first walks left in the summary are patched record by record, not computed anew.
    for question, earlier in zip(questions, before, strict=True):
        after, _ = walk(client, "/review/queue", **question)
        filters = {k: v for k, v in question.items() if k not in ("sort", "limit")}
        expected = expected_queue(
            store, client, question["sort"], "asc" if question["sort"] == "record" else "desc", **filters
        )
        assert [{k: v for k, v in i.items() if k != "title"} for i in after] == expected
        assert sum(i["pending"] for i in after) < sum(i["pending"] for i in earlier)
    assert served.summary.last_refresh.startswith("refreshed")  # record by record, not read again whole
    fresh = queue(served.summary.snapshot(), Filters(), "record")
    patched = served.summary.derived(served.summary.snapshot(), ("queue", Filters(), "record"), lambda: fresh)
    assert patched is not fresh and (patched.entries, patched.keys, patched.keyed) == (
        fresh.entries,
        fresh.keys,
        fresh.keyed,
    )

    after = walk(client, "/review/queue", sort="record")[0]

    gone = after[0]["record"]
    delete_records(store, GRAPHS, [gone])
    remaining, totals = walk(client, "/review/queue", sort="record")
    assert gone not in {i["record"] for i in remaining} and totals == {len(after) - 1}


def test_a_record_ingested_again_shows_its_new_provider_and_title(served: Served, tmp_path: Path) -> None:
    client = served.client
    axe = next(i for i in walk(client, "/review/queue")[0] if i["cho"] == AXE)
    assert axe["provider"] == "Example Heritage Aggregator"
    changed = (samples_dir() / "scan-sample.ttl").read_text("utf-8")
    changed = changed.replace('"Example Heritage Aggregator"', '"Another Aggregator"')
    changed = changed.replace("Polished stone axe head", "Polished stone axe head, scanned again")
    (tmp_path / "scan.ttl").write_text(changed, "utf-8")
    Ingestor(served.store, make_settings(), IngestOptions(progress=False)).run(documents([str(tmp_path / "scan.ttl")]))
    (again,), totals = walk(client, "/review/queue", provider="Another Aggregator")
    assert totals == {1} and again["record"] == axe["record"]
    # Often in the same second as the first ingest: the datestamp alone would not tell (the racy case).
    assert again["title"] == "Polished stone axe head, scanned again" and again["datestamp"] >= axe["datestamp"]
    assert served.summary.last_refresh.startswith("refreshed")


def test_paging_neither_repeats_nor_skips_when_records_leave(served: Served) -> None:
    client, store = served.client, served.store
    everything = [i["record"] for i in walk(client, "/review/queue", sort="record")[0]]
    first = client.get("/review/queue", params={"sort": "record", "limit": 5}).json()
    seen = [i["record"] for i in first["items"]]
    # Meanwhile a record already seen and one not reached yet lose their pending suggestions.
    for rid in (seen[0], everything[20]):
        review.approve_all(store, GRAPHS, "ann", 0.0, record=rid)
    rest, totals = walk(client, first["next"])
    seen += [i["record"] for i in rest]
    assert seen == [rid for rid in everything if rid != everything[20]]
    assert totals == {len(everything) - 2}


def test_a_run_shows_up_by_its_checkpoints() -> None:
    store = sample_store(EmbeddedStore(), enrich=False)
    with serving(store) as served:
        assert served.client.get("/review/queue").json() == {"items": [], "total": 0, "next": None}
        run_enrichment(store, GRAPHS, RunDefinition.of(["dummy"]), batch_size=10)
        items, totals = walk(served.client, "/review/queue", limit=20)
        assert totals == {41} and {i["pending"] for i in items} == {1}
        assert served.summary.last_refresh == "refreshed 41"


# -- statistics ----------------------------------------------------------------------------------------
def test_stats_count_approval_rates_and_calibration(served: Served) -> None:
    client, store = served.client, served.store
    # Asked before the decisions too: the answers after them come from the sums patched record by record.
    assert client.get("/review/stats").status_code == 200
    assert client.get("/review/stats", params={"facet": "object-types", "enricher": "dummy"}).status_code == 200
    decide(store)
    assert asdict(stats_tally(served.summary.snapshot(), Filters()).result()) == client.get("/review/stats").json()
    answer = client.get("/review/stats")
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    expected = expected_stats(store)
    assert stats["groups"] == [
        {**group, "approval_rate": pytest.approx(group["approval_rate"])} for group in expected["groups"]
    ]
    pairs = {(g["facet"], g["enricher"]) for g in stats["groups"]}
    assert ("object-types", "dummy") in pairs and any(e == "second-opinion" for _, e in pairs)
    object_types = next(g for g in stats["groups"] if g["facet"] == "object-types" and g["enricher"] == "dummy")
    assert object_types["counts"]["AutoAccepted"] > 0
    assert sum(g["counts"]["Superseded"] for g in stats["groups"]) == 1
    assert sum(g["counts"]["Retracted"] for g in stats["groups"]) == 1
    calibration = stats["calibration"]
    assert calibration["decisions"] == expected["decisions"] == 30 - 1 - 1 + 1  # approved + rejected + corrected
    assert len(calibration["bins"]) == 10
    for got, want in zip(calibration["bins"], expected["bins"], strict=True):
        assert (got["lower"], got["upper"], got["count"]) == pytest.approx(
            (want["lower"], want["upper"], want["count"])
        )
        assert got["mean_confidence"] == pytest.approx(want["mean"])
        assert got["approval_rate"] == pytest.approx(want["rate"])
    assert sum(1 for b in calibration["bins"] if b["count"]) >= 4
    assert calibration["expected_calibration_error"] == pytest.approx(expected["ece"])

    only = client.get("/review/stats", params={"facet": "object-types", "enricher": "dummy"}).json()
    assert only["groups"] == [object_types]
    assert client.get("/review/stats", params={"provider": "nobody"}).json()["calibration"] == {
        "bins": [
            {"lower": k / 10, "upper": (k + 1) / 10, "count": 0, "mean_confidence": None, "approval_rate": None}
            for k in range(10)
        ],
        "expected_calibration_error": None,
        "decisions": 0,
    }


def test_cli_prints_the_same_stats(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    decide(served.store)
    parser = argparse.ArgumentParser(prog="enrich")
    add_commands(parser.add_subparsers(dest="command", required=True))
    for argv, params in (
        (["--format", "json"], {}),
        (["--facet", "materials", "--format", "json"], {"facet": "materials"}),
    ):
        args = parser.parse_args(["review", "stats", *argv])
        assert HANDLERS["review"](args, make_settings(), served.store, GRAPHS) == 0
        assert json.loads(capsys.readouterr().out) == served.client.get("/review/stats", params=params).json()
    args = parser.parse_args(["review", "stats"])
    assert HANDLERS["review"](args, make_settings(), served.store, GRAPHS) == 0
    table = capsys.readouterr().out
    assert table.startswith("facet\tenricher\tpending\t") and "expected calibration error" in table


# -- refusals ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "query", "field", "message"),
    [
        ("/review/queue", "sort=quality", "sort", "'confidence', 'count', 'record' or 'datestamp'"),
        ("/review/queue", "order=sideways", "order", "'asc' or 'desc'"),
        ("/review/queue", "facet=colours", "facet", "materials"),
        ("/review/queue", "min_confidence=0.8&max_confidence=0.2", "min_confidence", "max_confidence"),
        ("/review/queue", "max_confidence=2", "max_confidence", "less than or equal to 1"),
        ("/review/queue", "limit=0", "limit", "greater than or equal to 1"),
        ("/review/queue", "limit=1001", "limit", "at most 1000"),
        ("/review/queue", "next=not-a-cursor", "next", "not a cursor from this queue"),
        ("/review/stats", "facet=colours", "facet", "materials"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    empty: Served, path: str, query: str, field: str, message: str
) -> None:
    response = empty.client.get(f"{path}?{query}")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", field] and message in error["msg"]


def test_a_cursor_only_continues_its_own_question(served: Served) -> None:
    page = served.client.get("/review/queue", params={"sort": "count", "limit": 3}).json()
    cursor = httpx.URL(page["next"]).params["next"]
    for other in ({"sort": "record"}, {"sort": "count", "order": "asc"}, {"sort": "count", "facet": "materials"}):
        response = served.client.get("/review/queue", params={**other, "next": cursor})
        assert response.status_code == 422
        assert "another sort or other filters" in response.json()["detail"][0]["msg"]


def test_reading_needs_a_token_when_anonymous_reading_is_off() -> None:
    reader, entry = make_token("reader")
    app = create_app(make_settings(api_tokens=[entry], anonymous_read=False), sample_store(EmbeddedStore()))
    with running(app) as url, httpx.Client(base_url=url) as client:
        for path in ("/review/queue", "/review/stats"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert client.get(path, headers={"Authorization": f"Bearer {reader}"}).status_code == 200


def test_the_summary_reads_any_literal_as_the_store_does() -> None:
    """The embedded store's fast path (SPARQL TSV written by Oxigraph, split here) gives the same strings as
    ``Store.select``: escapes, languages, datatypes, bare numbers and booleans, IRIs with spaces."""
    store = EmbeddedStore()
    store.update(
        'INSERT DATA { GRAPH <http://g> { <http://s/1> <http://p> "plain" , "with \\"quotes\\" and \\\\"@en , '
        '"tab\\tand\\nnewline"@ko , "0.7004"^^<http://www.w3.org/2001/XMLSchema#decimal> , true , 12 , "" , '
        '"유물 \\u00e9 \\U0001F600" , "2026-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> } }'
    )
    store.bulk_load(b"<http://s/2> <http://p> <http://o/x y?q=1> .\n", RdfFormat.N_TRIPLES, "http://g", lenient=True)
    query = "SELECT ?s ?o ?none WHERE { GRAPH ?g { ?s ?p ?o } OPTIONAL { ?s <http://nothing> ?none } }"
    expected = sorted((text(row["s"]), text(row["o"])) for row in store.select(query))
    assert len(expected) == 10
    assert sorted((row["s"], row["o"]) for row in select_values(store, query)) == expected
