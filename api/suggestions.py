"""REST: /suggestions — list and read suggestions, and review them (approve, reject, correct, retract, reopen).

Reading needs the reader role; review actions the reviewer role, and the token's name is recorded as the
reviewer. Every action body may carry ``expected_status``: the status the client saw. When the suggestion has
moved since, the answer is 409 with the current status (``enrich.review.ReviewConflict``), so a page acting on
a stale view reloads instead of overwriting someone else's decision. An illegal move is 409 as well.

The review logic is :mod:`enrich.review`; this module translates HTTP to it and its errors back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.auth import Identity, require_identity, require_role
from api.rest_support import Page, Paging, context, invalid, offset_page, paging
from enrich import review
from enrich.ingest.errors import InputError
from enrich.namespaces import Graphs
from enrich.records_admin import resolve_record_id
from enrich.review import Reason, ReviewConflict, ReviewError, SuggestionNotFound, SuggestionRow
from enrich.store.base import Store
from enrich.suggestion import Status

router = APIRouter(tags=["suggestions"])
Reviewer = Annotated[Identity, Depends(require_identity("reviewer"))]
_READ = [Depends(require_role("reader"))]
_ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such suggestion"},
    409: {"description": "the suggestion is not in the expected status, or cannot make this move"},
    422: {"description": "a field is missing or wrong (reason, concept, expected_status)"},
}


# -- names: statuses and facets as clients write them ------------------------------------------------------
def _folded(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name).lower()


STATUS_NAMES = ", ".join(s.value for s in Status)
# What a suggestion id can look like; anything else is unknown without asking the store (which would take
# it into a query as it is).
_SUGGESTION_ID = re.compile(r"^[A-Za-z0-9._-]+$")


def parse_status(name: str | Status) -> Status:
    """``Pending``, ``pending``, ``auto-accepted``, ``AutoAccepted``: the CLI's spelling and the IRI's."""
    if isinstance(name, Status):
        return name
    for status in Status:
        if _folded(name) == status.value.lower():
            return status
    raise ValueError(f"unknown status {name!r} (allowed: {STATUS_NAMES})")


@cache
def facet_ids() -> tuple[str, ...]:
    from enrich.vocab.facets import load_facets

    return tuple(sorted(load_facets()))


def check_facet(facet: str | None, location: tuple[str, ...]) -> str | None:
    if facet is not None and facet not in facet_ids():
        raise invalid(location, f"unknown facet {facet!r} (allowed: {', '.join(facet_ids())})", facet)
    return facet


# -- models ------------------------------------------------------------------------------------------------
class SuggestionOut(BaseModel):
    id: str
    iri: str
    record: str
    subject: str
    predicate: str
    value: str
    value_is_iri: bool
    language: str | None
    facet: str
    confidence: float | None
    status: Status
    enrichers: list[str]
    links: dict[str, str]

    @classmethod
    def of(cls, row: SuggestionRow) -> SuggestionOut:
        links = {"self": f"/suggestions/{row.id}", "record": f"/records/{row.record_id}"}
        return cls.model_validate({**row.as_dict(), "iri": row.iri, "value_is_iri": row.value_is_iri, "links": links})


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(default=None, max_length=4000, description="kept with the review event")
    expected_status: Status | None = Field(
        default=None, description="the status the client saw; if the suggestion has moved since, the answer is 409"
    )

    @field_validator("expected_status", mode="before")
    @classmethod
    def parse_expected(cls, value: object) -> object:
        return parse_status(value) if isinstance(value, str) else value


def _parse_reason(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return Reason.parse(value)
    except ReviewError as exc:
        raise ValueError(exc.problem) from exc


class ActionBody(_Body):
    """Approve and reopen."""


class RejectBody(_Body):
    reason: Reason = Field(description="from the controlled list (WrongConcept or wrong-concept, …)")

    parse_reason = field_validator("reason", mode="before")(_parse_reason)


class RetractBody(_Body):
    reason: Reason | None = None

    parse_reason = field_validator("reason", mode="before")(_parse_reason)


class CorrectBody(_Body):
    concept: str = Field(description="IRI of the concept to approve instead (of the same facet)")
    reason: Reason | None = None

    parse_reason = field_validator("reason", mode="before")(_parse_reason)


class ReviewOut(BaseModel):
    event: str
    decision: str
    moved: list[str]
    #: The suggestion a correction created (Approved), when there is one.
    created: str | None


class ActionResult(BaseModel):
    suggestion: SuggestionOut
    review: ReviewOut


# -- listing -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    status: Status | None = None
    facet: str | None = None
    provider: str | None = None
    dataset: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    enricher: str | None = None


def filters(
    status: Annotated[str | None, Query(description=f"one of {STATUS_NAMES}")] = None,
    facet: Annotated[str | None, Query(description="facet id, e.g. materials")] = None,
    provider: Annotated[str | None, Query(description="the record's edm:provider (name or IRI)")] = None,
    dataset: Annotated[str | None, Query(description="the record's dataset")] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    enricher: Annotated[str | None, Query(description="an enricher that proposed it, e.g. lexical")] = None,
) -> Filters:
    """The filter query parameters of /suggestions and /records/{id}/suggestions."""
    try:
        wanted = None if status is None else parse_status(status)
    except ValueError as exc:
        raise invalid(("query", "status"), str(exc), status) from exc
    if min_confidence is not None and max_confidence is not None and min_confidence > max_confidence:
        raise invalid(("query", "min_confidence"), "must not be above max_confidence", min_confidence)
    facet = check_facet(facet, ("query", "facet"))
    return Filters(wanted, facet, provider, dataset, min_confidence, max_confidence, enricher)


def suggestion_page(request: Request, chosen: Filters, page: Paging, record: str | None = None) -> Page[SuggestionOut]:
    """One page of suggestions in review's stable order (most confident first, then by IRI)."""
    ctx = context(request)
    filters = (
        chosen.status,
        chosen.facet,
        chosen.provider,
        chosen.dataset,
        chosen.min_confidence,
        chosen.max_confidence,
        chosen.enricher,
        record,
    )
    rows = review.list_suggestions(ctx.store, ctx.graphs, *filters, limit=page.limit, offset=page.offset)
    # Counted with the listing's own filters, so "total" stays true to the pages.
    total = review.count_suggestions(ctx.store, ctx.graphs, *filters)
    return offset_page(request, [SuggestionOut.of(row) for row in rows], total, page)


@router.get("/suggestions", summary="suggestions passing the filters, paged", dependencies=_READ)
def list_route(
    request: Request,
    chosen: Annotated[Filters, Depends(filters)],
    page: Annotated[Paging, Depends(paging)],
    record: Annotated[str | None, Query(description="record id or ProvidedCHO IRI")] = None,
) -> Page[SuggestionOut]:
    return suggestion_page(request, chosen, page, None if record is None else resolve_record_id(record))


@router.get(
    "/suggestions/{suggestion_id}",
    summary="one suggestion",
    dependencies=_READ,
    responses={404: {"description": "no such suggestion"}},
)
def get_route(request: Request, suggestion_id: str) -> Response:
    ctx = context(request)
    try:
        row = review.get_suggestion(ctx.store, ctx.graphs, _checked(suggestion_id))
    except SuggestionNotFound as exc:
        return failure(exc)
    return JSONResponse(SuggestionOut.of(row).model_dump(mode="json"))


def _checked(suggestion_id: str) -> str:
    if not _SUGGESTION_ID.match(suggestion_id):
        raise SuggestionNotFound(suggestion_id)
    return suggestion_id


# -- review actions ----------------------------------------------------------------------------------------
def failure(exc: InputError) -> JSONResponse:
    """A review error as its answer: 404 unknown, 409 conflict or illegal move (with the current status),
    422 anything else wrong with the request (an unknown concept, a concept outside the facet)."""
    if isinstance(exc, SuggestionNotFound):
        return JSONResponse({"detail": str(exc)}, status_code=404)
    if isinstance(exc, ReviewConflict):
        current = None if exc.current is None else str(exc.current)
        return JSONResponse({"detail": str(exc), "current_status": current}, status_code=409)
    if isinstance(exc, review.IllegalTransition):
        return JSONResponse({"detail": str(exc), "current_status": str(exc.current)}, status_code=409)
    return JSONResponse({"detail": str(exc)}, status_code=422)


Action = Callable[[Store, Graphs], review.Review]


def _act(request: Request, suggestion_id: str, action: Action) -> Response:
    ctx = context(request)
    try:
        _checked(suggestion_id)
        done = action(ctx.store, ctx.graphs)
        row = review.get_suggestion(ctx.store, ctx.graphs, suggestion_id)
    except InputError as exc:
        return failure(exc)
    result = ActionResult(
        suggestion=SuggestionOut.of(row),
        review=ReviewOut(event=done.event, decision=str(done.decision), moved=list(done.moved), created=done.created),
    )
    return JSONResponse(result.model_dump(mode="json"))


def _action_route(path: str, summary: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    return router.post(
        f"/suggestions/{{suggestion_id}}/{path}", summary=summary, response_model=ActionResult, responses=_ACTION_ERRORS
    )


@_action_route("approve", "Pending → Approved: the triple goes into the record's enrichment graph")
def approve_route(request: Request, suggestion_id: str, who: Reviewer, body: ActionBody | None = None) -> Response:
    given = body or ActionBody()
    return _act(
        request,
        suggestion_id,
        lambda store, graphs: review.approve(
            store, graphs, suggestion_id, who.name, given.comment, given.expected_status
        ),
    )


@_action_route("reject", "Pending → Rejected, with a reason from the controlled list")
def reject_route(request: Request, suggestion_id: str, who: Reviewer, body: RejectBody) -> Response:
    return _act(
        request,
        suggestion_id,
        lambda store, graphs: review.reject(
            store, graphs, suggestion_id, who.name, body.reason, body.comment, body.expected_status
        ),
    )


@_action_route("correct", "approve another concept of the same facet instead (this one becomes Superseded)")
def correct_route(request: Request, suggestion_id: str, who: Reviewer, body: CorrectBody) -> Response:
    return _act(
        request,
        suggestion_id,
        lambda store, graphs: review.correct(
            store, graphs, suggestion_id, body.concept, who.name, body.reason, body.comment, body.expected_status
        ),
    )


@_action_route("retract", "Approved/AutoAccepted → Retracted: the triple leaves the enrichment graph")
def retract_route(request: Request, suggestion_id: str, who: Reviewer, body: RetractBody | None = None) -> Response:
    given = body or RetractBody()
    return _act(
        request,
        suggestion_id,
        lambda store, graphs: review.retract(
            store, graphs, suggestion_id, who.name, given.reason, given.comment, given.expected_status
        ),
    )


@_action_route("reopen", "Rejected/Retracted → Pending: undo a decision")
def reopen_route(request: Request, suggestion_id: str, who: Reviewer, body: ActionBody | None = None) -> Response:
    given = body or ActionBody()
    return _act(
        request,
        suggestion_id,
        lambda store, graphs: review.reopen(
            store, graphs, suggestion_id, who.name, given.comment, given.expected_status
        ),
    )


# -- bulk --------------------------------------------------------------------------------------------------
class BulkFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_confidence: float = Field(ge=0, le=1, description="approve every Pending suggestion at or above this")
    facet: str | None = None
    provider: str | None = None
    dataset: str | None = None
    record: str | None = Field(default=None, description="record id or ProvidedCHO IRI")


class BulkBody(_Body):
    """Either ``ids`` (each its own atomic action, answered per id) or ``filter`` (approve only: one update);
    ``expected_status`` is checked for each id."""

    action: Literal["approve", "reject"]
    ids: list[str] | None = Field(default=None, min_length=1)
    filter: BulkFilter | None = None
    reason: Reason | None = Field(default=None, description="needed to reject")

    parse_reason = field_validator("reason", mode="before")(_parse_reason)

    @model_validator(mode="after")
    def one_selection(self) -> BulkBody:
        if (self.ids is None) == (self.filter is None):
            raise ValueError("give either ids or filter")
        if self.action == "reject" and self.reason is None:
            raise ValueError("rejecting needs a reason")
        if self.filter is not None and self.action != "approve":
            raise ValueError("a filter can only approve; reject by ids")
        return self


class BulkItem(BaseModel):
    id: str
    outcome: Literal["ok", "conflict", "not_found", "invalid"]
    #: The status after the action, or the current one when it did not apply.
    status: Status | None
    detail: str | None = None


class BulkResult(BaseModel):
    action: str
    #: How many suggestions moved.
    done: int
    #: Per id (ids mode).
    results: list[BulkItem] = []
    #: The one review event and the suggestions it moved (filter mode).
    event: str | None = None
    moved: list[str] = []


def _one(store: Store, graphs: Graphs, body: BulkBody, who: Identity, sid: str) -> BulkItem:
    try:
        _checked(sid)
        if body.action == "approve":
            review.approve(store, graphs, sid, who.name, body.comment, body.expected_status)
        else:
            assert body.reason is not None  # the model's validator sees to it
            review.reject(store, graphs, sid, who.name, body.reason, body.comment, body.expected_status)
    except SuggestionNotFound as exc:
        return BulkItem(id=sid, outcome="not_found", status=None, detail=str(exc))
    except ReviewConflict as exc:
        return BulkItem(id=sid, outcome="conflict", status=exc.current, detail=str(exc))
    except review.IllegalTransition as exc:
        return BulkItem(id=sid, outcome="conflict", status=exc.current, detail=str(exc))
    except InputError as exc:
        return BulkItem(id=sid, outcome="invalid", status=None, detail=str(exc))
    return BulkItem(id=sid, outcome="ok", status=Status.APPROVED if body.action == "approve" else Status.REJECTED)


@router.post("/suggestions/bulk", summary="approve or reject many suggestions at once")
def bulk_route(request: Request, who: Reviewer, body: BulkBody) -> BulkResult:
    ctx = context(request)
    if body.filter is not None:
        chosen = body.filter
        check_facet(chosen.facet, ("body", "filter", "facet"))
        done = review.approve_all(
            ctx.store,
            ctx.graphs,
            who.name,
            chosen.min_confidence,
            chosen.facet,
            chosen.provider,
            chosen.dataset,
            body.comment,
            None if chosen.record is None else resolve_record_id(chosen.record),
        )
        return BulkResult(action=body.action, done=done.count, event=done.event, moved=list(done.moved))
    ids = body.ids or []
    if len(ids) > ctx.settings.api_max_page_size:
        raise invalid(("body", "ids"), f"at most {ctx.settings.api_max_page_size} ids at once", len(ids))
    results = [_one(ctx.store, ctx.graphs, body, who, sid) for sid in ids]
    return BulkResult(action=body.action, done=sum(r.outcome == "ok" for r in results), results=results)
