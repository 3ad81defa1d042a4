"""REST: /records — list the registry, read a record by content negotiation, ingest, replace and delete.

- ``GET /records``: the registry (``…/graph/system``) with filters, in record-id order; ``next`` continues
  after the last id of the page (a keyset), so records added or deleted meanwhile neither repeat nor hide
  others. ``offset`` is there for jumping.
- ``GET /records/{id}``: the JSON summary for ``application/json`` (and ``*/*``), else RDF: the ``ingested``
  view (the provider's graph), ``enriched`` (plus accepted enrichments, plain EDM) or ``full`` (every graph
  about the record, as a dataset). Without ``view``, TriG and N-Quads give the full view, the others the
  enriched one. ``{id}`` is the record id or the ProvidedCHO IRI, as in the CLI.
- ``POST``/``PUT``/``DELETE`` (admin): the body goes through the ingest pipeline of ``enrich ingest`` (safety
  checks, SHACL validation, journalled all-or-nothing writes); invalid records are skipped and reported.
"""

from __future__ import annotations

import functools
import re
import tempfile
import threading
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pyoxigraph import RdfFormat

from api.auth import require_role
from api.rest_support import Context, Page, Paging, context, invalid, paging
from api.sparql import negotiate
from api.suggestions import Filters, SuggestionOut, filters, suggestion_page
from enrich.export import VIEWS, export_view
from enrich.ingest import IngestError, IngestOptions, Ingestor, IngestReport
from enrich.ingest.journal import string_literal
from enrich.ingest.records import Record
from enrich.ingest.registry import lookup
from enrich.ingest.sources import Document
from enrich.namespaces import ENR, XSD, Graphs
from enrich.records_admin import EXPORT_FORMATS, RecordNotFound, delete_records, export_record, resolve_record_id
from enrich.review import suggestion_counts
from enrich.store.base import Solution, Store, text

router = APIRouter(tags=["records"])
_READ = [Depends(require_role("reader"))]
_ADMIN = [Depends(require_role("admin"))]

EdmType = Literal["TEXT", "IMAGE", "SOUND", "VIDEO", "3D"]
View = Literal["ingested", "enriched", "full"]
#: Request bodies the ingest reads, by Content-Type.
INGEST_TYPES: dict[str, RdfFormat] = {
    fmt.media_type: fmt
    for fmt in (
        RdfFormat.RDF_XML,
        RdfFormat.TURTLE,
        RdfFormat.N_TRIPLES,
        RdfFormat.N_QUADS,
        RdfFormat.JSON_LD,
        RdfFormat.TRIG,
    )
}
JSON = "application/json"
_SUMMARY = ("summary", "json")
_BODY = "request body"
# Bodies up to this size stay in memory; larger ones spill to a temporary file.
_SPOOL_IN_MEMORY = 16 * 1024**2
# Record ids listed in an ingest answer (an upload of a whole collection should not echo it back).
_LISTED_IDS = 1000
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Ingest runs recover (roll back) any unfinished ingest of an embedded store, taking it for a crashed one:
# record writes from this process therefore go one at a time.
_WRITE_LOCK = threading.Lock()


# -- models ------------------------------------------------------------------------------------------------
class RecordItem(BaseModel):
    id: str
    #: The registry's node for the record.
    iri: str
    cho: str
    datestamp: str
    provider: str | None
    dataset: str | None
    type: str | None
    deleted: bool
    links: dict[str, str]


class RecordDetail(RecordItem):
    #: The record's suggestions by status.
    suggestions: dict[str, int]
    #: Media types GET /records/{id} answers with (RDF views by the ``view`` parameter).
    formats: list[str]


class InvalidOut(BaseModel):
    id: str
    cho: str
    violations: list[dict[str, str | None]]


class IngestOut(BaseModel):
    transaction: str
    records: int
    new: int
    updated: int
    unchanged: int
    written: int
    #: Ids of the records read (the first 1,000).
    ids: list[str]
    invalid: list[InvalidOut]
    warnings: list[str]


# -- the registry ------------------------------------------------------------------------------------------
def _stamp(value: str | None, name: str, end: bool) -> str | None:
    """A since/until bound as an xsd:dateTime literal; a bare day covers the whole day."""
    if value is None:
        return None
    full = value + ("T23:59:59Z" if end else "T00:00:00Z") if _DAY.match(value) else value
    try:
        parsed = datetime.fromisoformat(full)
    except ValueError as exc:
        raise invalid(("query", name), "not a YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ datestamp", value) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return f'"{parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}"^^<{XSD}dateTime>'


def _registry_pattern(
    graphs: Graphs,
    provider: str | None = None,
    dataset: str | None = None,
    edm_type: str | None = None,
    since: str | None = None,
    until: str | None = None,
    include_deleted: bool = False,
) -> str:
    """A pattern (inside the system graph) binding ?r ?cho ?stamp ?deleted for the records passing the filters."""
    parts = [f"?r <{ENR}cho> ?cho ; <{ENR}datestamp> ?stamp ; <{ENR}deleted> ?deleted ."]
    if not include_deleted:
        parts.append("FILTER(?deleted = false)")
    for predicate, value in (("provider", provider), ("dataset", dataset), ("edmType", edm_type)):
        if value is not None:
            parts.append(f"?r <{ENR}{predicate}> ?{predicate} . FILTER(STR(?{predicate}) = {string_literal(value)})")
    if since is not None:
        parts.append(f"FILTER(?stamp >= {since})")
    if until is not None:
        parts.append(f"FILTER(?stamp <= {until})")
    return " ".join(parts)


def _items(store: Store, graphs: Graphs, rows: list[Solution]) -> list[RecordItem]:
    """Registry rows with their provider, dataset and EDM type (the first in order, when there are several)."""
    if not rows:
        return []
    values = " ".join(f"<{text(row['r'])}>" for row in rows)
    facts: dict[tuple[str, str], str] = {}
    for fact in store.select(
        f"SELECT ?r ?p ?v WHERE {{ VALUES ?r {{ {values} }} VALUES ?p {{ <{ENR}provider> <{ENR}dataset> "
        f"<{ENR}edmType> }} GRAPH <{graphs.system}> {{ ?r ?p ?v }} }}"
    ):
        key = (text(fact["r"]), text(fact["p"]).removeprefix(ENR))
        value = text(fact["v"])
        facts[key] = min(value, facts.get(key, value))
    prefix = graphs.record_node("")
    items = []
    for row in rows:
        node = text(row["r"])
        rid = node.removeprefix(prefix)
        items.append(
            RecordItem(
                id=rid,
                iri=node,
                cho=text(row["cho"]),
                datestamp=text(row["stamp"]),
                provider=facts.get((node, "provider")),
                dataset=facts.get((node, "dataset")),
                type=facts.get((node, "edmType")),
                deleted=text(row["deleted"]) == "true",
                links={"self": f"/records/{rid}", "suggestions": f"/records/{rid}/suggestions"},
            )
        )
    return items


def _record_item(ctx: Context, reference: str) -> RecordItem:
    """The registry entry of a live record; 404 for an unknown or deleted one."""
    rid = resolve_record_id(reference)
    node = f"<{ctx.graphs.record_node(rid)}>"
    pattern = _registry_pattern(ctx.graphs, include_deleted=True)
    rows = ctx.store.select(
        f"SELECT ?r ?cho ?stamp ?deleted WHERE {{ VALUES ?r {{ {node} }} GRAPH <{ctx.graphs.system}> {{ {pattern} }} }}"
    )
    items = _items(ctx.store, ctx.graphs, rows)
    if not items:
        raise HTTPException(404, f"no record {reference!r}")
    if items[0].deleted:
        raise HTTPException(404, f"record {rid} was deleted ({items[0].datestamp})")
    return items[0]


@router.get("/records", summary="records in the registry, filtered and paged in record-id order", dependencies=_READ)
def list_route(
    request: Request,
    page: Annotated[Paging, Depends(paging)],
    provider: Annotated[str | None, Query(description="edm:provider (name or IRI)")] = None,
    dataset: Annotated[str | None, Query()] = None,
    edm_type: Annotated[EdmType | None, Query(alias="type", description="edm:type")] = None,
    since: Annotated[str | None, Query(description="changed at or after (YYYY-MM-DD[Thh:mm:ssZ])")] = None,
    until: Annotated[str | None, Query(description="changed at or before (YYYY-MM-DD[Thh:mm:ssZ])")] = None,
    include_deleted: Annotated[bool, Query(description="list deleted records too")] = False,
    after: Annotated[str | None, Query(description="start after this record id (the next link sets it)")] = None,
) -> Page[RecordItem]:
    ctx = context(request)
    pattern = _registry_pattern(
        ctx.graphs,
        provider,
        dataset,
        edm_type,
        _stamp(since, "since", end=False),
        _stamp(until, "until", end=True),
        include_deleted,
    )
    keyset = "" if after is None else f"FILTER(STR(?r) > {string_literal(ctx.graphs.record_node(after))})"
    system = f"<{ctx.graphs.system}>"
    rows = ctx.store.select(
        f"SELECT DISTINCT ?r ?cho ?stamp ?deleted WHERE {{ GRAPH {system} {{ {pattern} {keyset} }} }} "
        f"ORDER BY ?r LIMIT {page.limit} OFFSET {page.offset}"
    )
    total = int(
        text(ctx.store.select(f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ GRAPH {system} {{ {pattern} }} }}")[0]["n"])
    )
    items = _items(ctx.store, ctx.graphs, rows)
    following = None
    if len(items) == page.limit:
        # A full page may be the last one: asking costs one row, and saves the client an empty page.
        more = ctx.store.ask(
            f"ASK {{ GRAPH {system} {{ {pattern} FILTER(STR(?r) > {string_literal(items[-1].iri)}) }} }}"
        )
        if more:
            url = request.url.remove_query_params("offset").include_query_params(after=items[-1].id, limit=page.limit)
            following = str(url)
    return Page[RecordItem](items=items, total=total, next=following)


# -- reading one record ------------------------------------------------------------------------------------
def _view_formats(view: str) -> dict[str, RdfFormat]:
    return EXPORT_FORMATS if view == "ingested" else VIEWS[view][1]


def _offers(view: str | None) -> list[tuple[str, tuple[str, str]]]:
    """(media type, (view, format name)) in order of preference; the JSON summary first."""
    offers: list[tuple[str, tuple[str, str]]] = [(JSON, _SUMMARY)]
    for name in [view] if view else ["enriched", "full"]:
        for format_name, fmt in _view_formats(name).items():
            if all(media != fmt.media_type for media, _ in offers):
                offers.append((fmt.media_type, (name, format_name)))
    return offers


@router.get(
    "/records/{reference:path}/suggestions",
    summary="a record's suggestions, filtered and paged like /suggestions",
    dependencies=_READ,
    responses={404: {"description": "no such record"}},
)
def suggestions_route(
    request: Request,
    reference: str,
    chosen: Annotated[Filters, Depends(filters)],
    page: Annotated[Paging, Depends(paging)],
) -> Page[SuggestionOut]:
    ctx = context(request)
    rid = resolve_record_id(reference)
    if rid not in lookup(ctx.store, ctx.graphs, [rid]):
        raise HTTPException(404, f"no record {reference!r}")
    return suggestion_page(request, chosen, page, rid)


@router.get(
    "/records/{reference:path}",
    summary="one record: a JSON summary, or RDF by content negotiation (ingested, enriched or full view)",
    dependencies=_READ,
    response_model=RecordDetail,
    responses={
        200: {"content": {media: {} for media, _ in [*_offers("ingested"), *_offers("full")] if media != JSON}},
        404: {"description": "no such record, or it was deleted"},
        406: {"description": "no acceptable representation"},
    },
)
def get_route(request: Request, reference: str, view: Annotated[View | None, Query()] = None) -> Response:
    ctx = context(request)
    item = _record_item(ctx, reference)
    offers = _offers(view)
    chosen = negotiate(request.headers.get("accept"), offers)
    if chosen is None:
        available = ", ".join(media for media, _ in offers)
        raise HTTPException(406, f"no acceptable representation; this record can be {available}")
    headers = {"Vary": "Accept"}
    if chosen == _SUMMARY:
        counts = suggestion_counts(ctx.store, ctx.graphs, record=item.id).by_status
        detail = RecordDetail(**item.model_dump(), suggestions=counts, formats=[media for media, _ in offers])
        return JSONResponse(detail.model_dump(mode="json"), headers=headers)
    chosen_view, format_name = chosen
    try:
        if chosen_view == "ingested":
            data = export_record(ctx.store, ctx.graphs, item.id, format_name)
        else:
            data = export_view(ctx.store, ctx.graphs, item.id, chosen_view, format_name)
    except RecordNotFound as exc:  # deleted between the look-up and the export
        raise HTTPException(404, f"no record {reference!r}") from exc
    return Response(data, media_type=_view_formats(chosen_view)[format_name].media_type, headers=headers)


# -- writing -----------------------------------------------------------------------------------------------
class _OtherRecord(IngestError):
    """A PUT body holds a record other than the one named in the URL."""


class _BodyIngestor(Ingestor):
    """The ingest of ``enrich ingest``, noting the ids it reads; with ``expected`` it refuses any other record
    as soon as it is read (before its batch is written; the journal undoes earlier batches)."""

    def __init__(self, ctx: Context, options: IngestOptions, expected: str | None) -> None:
        super().__init__(ctx.store, ctx.settings, options)
        self.expected = expected
        self.ids: list[str] = []

    def check_record(self, record: Record) -> None:
        if self.expected is not None and record.id != self.expected:
            raise _OtherRecord(
                f"the body describes <{record.cho}> (record {record.id}), not record {self.expected}; "
                "nothing was written"
            )
        self.ids.append(record.id)


async def _read_body(request: Request, limit: int) -> tuple[RdfFormat, IO[bytes]]:
    """The body's RDF format (from Content-Type) and its bytes in a spool, refusing more than ``limit``."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    rdf_format = INGEST_TYPES.get(media_type)
    if rdf_format is None:
        raise HTTPException(415, f"the body must be RDF, one of: {', '.join(INGEST_TYPES)} (got {media_type!r})")
    declared = request.headers.get("content-length", "")
    too_large = HTTPException(413, f"the body is larger than the limit of {limit:,} bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by the caller
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            spool.close()
            raise too_large
        spool.write(chunk)
    if size == 0:
        spool.close()
        raise HTTPException(400, "the request body is empty")
    return rdf_format, spool


def _violations(report: IngestReport) -> list[InvalidOut]:
    return [
        InvalidOut(
            id=item.record_id,
            cho=item.cho,
            violations=[
                {"path": v.path, "message": v.message, "shape": v.shape, "focus": v.focus, "value": v.value}
                for v in item.violations
            ],
        )
        for item in report.invalid
    ]


def _ingest(
    ctx: Context, rdf_format: RdfFormat, body: IO[bytes], expected: str | None, dataset: str | None
) -> Response:
    """Run the ingest on the body (in a worker thread) and answer with its report."""

    def rewound() -> nullcontext[IO[bytes]]:
        body.seek(0)  # the ingest may read the body twice (a lenient pass for sloppy IRIs)
        return nullcontext(body)

    document = Document(_BODY, rdf_format, None, rewound)
    # The report file the ingest writes goes to a directory of its own, never into the server's.
    with tempfile.TemporaryDirectory() as workdir, _WRITE_LOCK:
        options = IngestOptions(
            skip_invalid=True, dataset=dataset, report_path=Path(workdir) / "report.json", progress=False
        )
        ingestor = _BodyIngestor(ctx, options, expected)
        try:
            report = ingestor.run([document])
        except _OtherRecord as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        except IngestError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
    invalid_records = _violations(report)
    if invalid_records and len(invalid_records) == report.records:
        detail = f"{len(invalid_records)} record(s) break the EDM rules; nothing was written"
        content = {"detail": detail, "invalid": [item.model_dump(mode="json") for item in invalid_records]}
        return JSONResponse(content, status_code=422)
    out = IngestOut(
        transaction=report.transaction,
        records=report.records,
        new=report.new,
        updated=report.updated,
        unchanged=report.unchanged,
        written=report.written,
        ids=ingestor.ids[:_LISTED_IDS],
        invalid=invalid_records,
        warnings=report.warnings,
    )
    headers = {"Location": f"/records/{ingestor.ids[0]}"} if report.new and len(ingestor.ids) == 1 else {}
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if report.new else 200, headers=headers)


Dataset = Annotated[str | None, Query(description="the dataset to file the records under (default: edm:datasetName)")]
_INGEST_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in INGEST_TYPES},
    }
}
_INGEST_ERRORS: dict[int | str, dict[str, Any]] = {
    201: {"description": "at least one new record", "model": IngestOut},
    400: {"description": "the body does not parse, or is refused by the ingest's safety checks"},
    413: {"description": "the body is larger than max_input_bytes"},
    415: {"description": "not an RDF media type the ingest reads"},
    422: {"description": "every record breaks the EDM rules, or (PUT) the body describes another record"},
}


async def _ingest_request(request: Request, expected: str | None, dataset: str | None) -> Response:
    ctx = context(request)
    rdf_format, body = await _read_body(request, ctx.settings.max_input_bytes)
    try:
        work = functools.partial(_ingest, ctx, rdf_format, body, expected, dataset)
        return await anyio.to_thread.run_sync(work)
    finally:
        body.close()


@router.post(
    "/records",
    summary="ingest the EDM records of the body (RDF); invalid records are skipped and reported",
    dependencies=_ADMIN,
    response_model=IngestOut,
    responses=_INGEST_ERRORS,
    openapi_extra=_INGEST_DOC,
)
async def post_route(
    request: Request,
    dataset: Dataset = None,
) -> Response:
    return await _ingest_request(request, None, dataset)


@router.put(
    "/records/{reference:path}",
    summary="replace one record with the body, which must describe exactly that record",
    dependencies=_ADMIN,
    response_model=IngestOut,
    responses=_INGEST_ERRORS,
    openapi_extra=_INGEST_DOC,
)
async def put_route(
    request: Request,
    reference: str,
    dataset: Dataset = None,
) -> Response:
    return await _ingest_request(request, resolve_record_id(reference), dataset)


@router.delete(
    "/records/{reference:path}",
    summary="delete a record (kept as deleted for OAI-PMH harvesters)",
    dependencies=_ADMIN,
    status_code=204,
    responses={404: {"description": "no such record, or it was deleted already"}},
)
def delete_route(request: Request, reference: str) -> Response:
    ctx = context(request)
    rid = resolve_record_id(reference)
    with _WRITE_LOCK:
        checksum = lookup(ctx.store, ctx.graphs, [rid]).get(rid)
        if checksum is None:
            raise HTTPException(404, f"no record {reference!r}")
        if not checksum:  # the registry keeps deleted records with an empty checksum
            raise HTTPException(404, f"record {rid} was deleted already")
        delete_records(ctx.store, ctx.graphs, [rid])
    return Response(status_code=204)
