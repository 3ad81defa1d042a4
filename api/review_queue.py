"""REST: the reviewer's queue and dashboard data — ``GET /review/queue`` and ``GET /review/stats`` (reader role).

Both are computed from the in-memory review summary of :mod:`enrich.review_summary` (one per application,
on ``app.state``): a request asks the store one small question (has anything changed?) and reads what
changed, instead of aggregating every suggestion again. The computations are :mod:`enrich.review_stats`.

``/review/queue`` pages with a keyset: ``next`` in the answer is the URL of the following page, whose
``next`` query parameter is an opaque cursor (the sort key of the last record shown, tied to the sort and
filters it was made for). A cursor made for another question, or not made here, is a 422.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from api.auth import require_role
from api.rest_support import context, invalid, next_url
from api.suggestions import check_facet
from enrich.review_stats import Filters, Key, Order, QueueEntry, ReviewStats, Sort, queue, shown, stats_tally
from enrich.review_summary import Snapshot, SummaryCache

router = APIRouter(prefix="/review", tags=["review"], dependencies=[Depends(require_role("reader"))])
_CACHE_LOCK = threading.Lock()


class QueueItem(BaseModel):
    record: str
    cho: str | None
    title: str | None
    provider: str | None
    dataset: str | None
    datestamp: str
    #: Pending suggestions of the record that pass the filters.
    pending: int
    max_confidence: float | None
    facets: list[str]


class QueuePage(BaseModel):
    items: list[QueueItem]
    #: Records in the whole queue (all pages).
    total: int
    #: The URL of the next page, or None on the last one.
    next: str | None


def summary_cache(request: Request) -> SummaryCache:
    """The application's review summary, made on first use."""
    state = request.app.state
    with _CACHE_LOCK:
        cache: SummaryCache | None = getattr(state, "review_summary", None)
        if cache is None:
            cache = state.review_summary = SummaryCache(state.store, state.graphs)
    return cache


def _filters(
    facet: Annotated[str | None, Query(description="facet id, e.g. materials")] = None,
    enricher: Annotated[str | None, Query(description="an enricher that proposed it, e.g. lexical")] = None,
    provider: Annotated[str | None, Query(description="the record's edm:provider (name or IRI)")] = None,
    dataset: Annotated[str | None, Query(description="the record's dataset")] = None,
) -> Filters:
    return Filters(check_facet(facet, ("query", "facet")), enricher, provider, dataset)


def _queue_filters(
    chosen: Annotated[Filters, Depends(_filters)],
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
) -> Filters:
    if min_confidence is not None and max_confidence is not None and min_confidence > max_confidence:
        raise invalid(("query", "min_confidence"), "must not be above max_confidence", min_confidence)
    return Filters(chosen.facet, chosen.enricher, chosen.provider, chosen.dataset, min_confidence, max_confidence)


# -- cursors -----------------------------------------------------------------------------------------------
def _question(filters: Filters, sort: Sort, order: Order) -> str:
    """A short digest of what a cursor was made for."""
    return hashlib.sha256(repr((filters, sort, order)).encode("utf-8")).hexdigest()[:12]


def encode_cursor(key: Key, question: str) -> str:
    body = json.dumps([key[0], key[1], question], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(body.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, sort: Sort, question: str) -> Key:
    """The key a cursor carries; 422 for anything this route did not make for this question."""
    try:
        value, record, made_for = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise invalid(("query", "next"), "not a cursor from this queue (use the answer's next link)", cursor) from exc
    numeric = sort in ("confidence", "count")
    if (
        made_for != question
        or not isinstance(record, str)
        or isinstance(value, bool)
        or not isinstance(value, (int, float) if numeric else str)
    ):
        raise invalid(("query", "next"), "the cursor belongs to another sort or other filters", cursor)
    return (value, record)


# -- routes ------------------------------------------------------------------------------------------------
@router.get("/queue", summary="records with pending suggestions, filtered, sorted and keyset-paged")
def queue_route(
    request: Request,
    filters: Annotated[Filters, Depends(_queue_filters)],
    sort: Annotated[Sort, Query(description="confidence (the highest pending one), count, record or datestamp")] = (
        "confidence"
    ),
    order: Annotated[Order | None, Query(description="asc or desc (default: desc, but asc for record)")] = None,
    limit: Annotated[int | None, Query(ge=1, description="records per page (default and maximum: settings)")] = None,
    cursor: Annotated[str | None, Query(alias="next", description="the cursor of the answer's next link")] = None,
    lang: Annotated[str | None, Query(description="preferred language of the titles (default en)")] = None,
) -> QueuePage:
    ctx = context(request)
    size = ctx.settings.api_page_size if limit is None else limit
    if size > ctx.settings.api_max_page_size:
        raise invalid(("query", "limit"), f"must be at most {ctx.settings.api_max_page_size}", limit)
    direction: Order = order or ("asc" if sort == "record" else "desc")
    question = _question(filters, sort, direction)
    after = None if cursor is None else decode_cursor(cursor, sort, question)
    cache = summary_cache(request)
    snapshot = cache.snapshot()
    ordered = cache.derived(snapshot, ("queue", filters, sort), lambda: queue(snapshot, filters, sort))
    entries, more = ordered.page(direction, after, size)
    facts = shown(ctx.store, ctx.graphs, [entry.record for entry in entries], lang or "en")
    items = [_item(entry, facts[entry.record].cho, facts[entry.record].title) for entry in entries]
    following = None
    if more and entries:
        following = next_url(request, next=encode_cursor(entries[-1].key(sort), question), limit=size)
    return QueuePage(items=items, total=len(ordered.entries), next=following)


def _item(entry: QueueEntry, cho: str | None, title: str | None) -> QueueItem:
    return QueueItem(
        record=entry.record,
        cho=cho,
        title=title,
        provider=entry.providers[0] if entry.providers else None,
        dataset=entry.datasets[0] if entry.datasets else None,
        datestamp=entry.datestamp,
        pending=entry.pending,
        max_confidence=entry.max_confidence,
        facets=list(entry.facets),
    )


@router.get("/stats", summary="per facet and enricher: counts by status and approval rate; calibration")
def stats_route(request: Request, filters: Annotated[Filters, Depends(_filters)]) -> ReviewStats:
    cache = summary_cache(request)
    snapshot: Snapshot = cache.snapshot()
    return cache.derived(snapshot, ("stats", filters), lambda: stats_tally(snapshot, filters)).result()
