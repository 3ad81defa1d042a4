"""The reviewer's pages: the queue, a record with its suggestions, the dashboard's shell; and the one JSON
route the REST API lacks for them (a record's evidence). The pages hold what the server knows at once
(the provider's data, images, filters); their scripts call the REST API (/review/queue, /vocab,
/suggestions) with the session cookie for the rest.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from api.auth import require_role
from api.rest_support import context
from api.web.account import HOME, here_of, signed_in
from api.web.i18n import catalogue
from api.web.record_html import dialogs_html, facets_html, fields_html, images_html
from api.web.record_view import evidence, read_record
from api.web.render import TEMPLATES, escape, fill, options, page, template
from enrich import review
from enrich.ingest.registry import lookup
from enrich.records_admin import resolve_record_id
from enrich.review import Reason
from enrich.suggestion import Status
from enrich.vocab.facets import load_facets

router = APIRouter(prefix="/ui", include_in_schema=False)

QUEUE_FILTERS = ("dataset", "provider", "facet", "enricher", "min_confidence", "max_confidence", "sort", "order")
SORTS = ("confidence", "count", "record", "datestamp")
ORDERS = ("desc", "asc")
#: More suggestions than one record has; the page shows them all.
_RECORD_SUGGESTIONS = 10_000


@router.get("")
@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=303)


@router.get("/queue")
def queue_page(request: Request) -> Response:
    viewer = signed_in(request)
    if isinstance(viewer, Response):
        return viewer
    chosen = {name: request.query_params.get(name, "") for name in QUEUE_FILTERS}
    facets = {"": viewer.text("queue.any_facet")} | {
        facet_id: facet.label(viewer.ui) for facet_id, facet in sorted(load_facets().items())
    }
    sorts = {name: viewer.text(f"queue.sort.{name}") for name in SORTS}
    orders = {name: viewer.text(f"queue.order.{name}") for name in ORDERS}
    main = fill(
        "queue.html",
        title=viewer.t("queue.title"),
        filters=viewer.t("queue.filters"),
        dataset_label=viewer.t("queue.dataset"),
        dataset=escape(chosen["dataset"]),
        provider_label=viewer.t("queue.provider"),
        provider=escape(chosen["provider"]),
        facet_label=viewer.t("queue.facet"),
        facet_options=options(facets, chosen["facet"]),
        enricher_label=viewer.t("queue.enricher"),
        enricher=escape(chosen["enricher"]),
        min_label=viewer.t("queue.min_confidence"),
        min_confidence=escape(chosen["min_confidence"]),
        max_label=viewer.t("queue.max_confidence"),
        max_confidence=escape(chosen["max_confidence"]),
        sort_label=viewer.t("queue.sort"),
        sort_options=options(sorts, chosen["sort"] or SORTS[0]),
        order_label=viewer.t("queue.order"),
        order_options=options(orders, chosen["order"] or ORDERS[0]),
        apply=viewer.t("queue.apply"),
        reset=viewer.t("queue.reset"),
        results=viewer.t("queue.results"),
        loading=viewer.t("common.loading"),
        caption=viewer.t("queue.caption"),
        col_record=viewer.t("queue.col.record"),
        col_provider=viewer.t("queue.col.provider"),
        col_dataset=viewer.t("queue.col.dataset"),
        col_pending=viewer.t("queue.col.pending"),
        col_confidence=viewer.t("queue.col.confidence"),
        col_facets=viewer.t("queue.col.facets"),
        pager=viewer.t("queue.pager"),
        previous=viewer.t("queue.previous"),
        next=viewer.t("queue.next"),
    )
    data = {
        "filters": {name: value for name, value in chosen.items() if value},
        "facetLabels": {facet_id: label for facet_id, label in facets.items() if facet_id},
    }
    return page(
        viewer,
        title=viewer.text("queue.title"),
        main=main,
        current="queue",
        here=here_of(request),
        script="queue.js",
        data=data,
    )


@router.get("/records/{reference:path}")
def record_page(request: Request, reference: str) -> Response:
    viewer = signed_in(request)
    if isinstance(viewer, Response):
        return viewer
    ctx = context(request)
    record_id = resolve_record_id(reference)
    record = read_record(ctx.store, ctx.graphs, record_id, (viewer.labels,))
    if record is None:
        main = f"<h1>{viewer.t('record.missing_title')}</h1><p>{viewer.t('record.missing', id=reference)}</p>"
        return page(viewer, title=viewer.text("record.missing_title"), main=main, status_code=404)
    rows = review.list_suggestions(ctx.store, ctx.graphs, record=record_id, limit=_RECORD_SUGGESTIONS)
    literal = [row for row in rows if not row.value_is_iri]
    known = load_facets()
    facets = [
        (
            facet,
            sum(1 for row in rows if row.facet == facet_id and row.value_is_iri),
            sum(1 for row in rows if row.facet == facet_id and row.value_is_iri and row.status is Status.PENDING),
        )
        for facet_id, facet in known.items()
        if any(row.facet == facet_id and row.value_is_iri for row in rows)
    ]
    meta = " · ".join(
        escape(part)
        for part in (
            viewer.text("record.id", id=record.id),
            record.data_provider,
            record.provider,
            record.dataset and viewer.text("record.dataset", dataset=record.dataset),
            record.edm_type,
        )
        if part
    )
    role_note = "" if viewer.can_review else f'<p class="role-note">{viewer.t("record.read_only")}</p>'
    main = fill(
        "record.html",
        back=viewer.t("record.back"),
        title=escape(record.title),
        meta=meta,
        role_note=role_note,
        images_title=viewer.t("record.images"),
        images=images_html(viewer, record),
        fields_title=viewer.t("record.fields"),
        fields_note=viewer.t("record.fields_note"),
        fields=fields_html(viewer, record.fields, literal),
        suggestions_title=viewer.t("record.suggestions"),
        threshold_label=viewer.t("action.threshold"),
        approve_all=viewer.t("action.approve_all"),
        undo=viewer.t("action.undo"),
        help=viewer.t("action.help"),
        top_note=viewer.t("record.top_note"),
        facets=facets_html(viewer, facets),
        dialogs=dialogs_html(viewer),
    )
    data: dict[str, Any] = {
        "record": record.id,
        "cho": record.cho,
        "facets": [facet.id for facet, _, _ in facets],
        "reasons": [reason.value for reason in Reason],
        "literal": [{**row.as_dict(), "predicate": row.predicate} for row in literal],
    }
    return page(viewer, title=record.title, main=main, here=here_of(request), script="record.js", data=data)


@router.get("/dashboard")
def dashboard_page(request: Request) -> Response:
    """The dashboard's page: ``templates/dashboard.html`` (the main content; ``$m_KEY`` placeholders give
    UI strings, KEY with ``.`` and ``-`` as ``_``) in the shell, with ``static/dashboard.js``."""
    viewer = signed_in(request)
    if isinstance(viewer, Response):
        return viewer
    if not (TEMPLATES / "dashboard.html").exists():
        main = fill("dashboard-missing.html", title=viewer.t("dashboard.title"), note=viewer.t("dashboard.missing"))
        return page(viewer, title=viewer.text("dashboard.title"), main=main, current="dashboard")
    strings = {
        "m_" + key.replace(".", "_").replace("-", "_"): escape(text) for key, text in catalogue(viewer.ui).items()
    }
    main = template("dashboard.html").safe_substitute(strings)
    return page(
        viewer,
        title=viewer.text("dashboard.title"),
        main=main,
        current="dashboard",
        here=here_of(request),
        script="dashboard.js",
    )


@router.get("/api/records/{reference:path}/evidence", dependencies=[Depends(require_role("reader"))])
def evidence_route(request: Request, reference: str) -> dict[str, Any]:
    """Why each suggestion of a record was made: evidence texts (field, matched span, label), enrichers,
    models (name and version), by suggestion id."""
    ctx = context(request)
    record_id = resolve_record_id(reference)
    if record_id not in lookup(ctx.store, ctx.graphs, [record_id]):
        raise HTTPException(404, f"no record {reference!r}")
    found = evidence(ctx.store, ctx.graphs, record_id)
    return {"record": record_id, "suggestions": {sid: item.as_dict() for sid, item in sorted(found.items())}}
