"""REST: /similar — records similar to a record, a text or an uploaded image, under one model card.

- ``GET /similar?record=…`` or ``?text=…``: the nearest records by cosine of the card's vectors (with a CLIP
  card a text finds images); ``k``, ``card``, ``modality`` and the filters ``provider``, ``dataset``,
  ``facet`` + ``concept`` as in ``enrich similar``.
- ``POST /similar``: the same for an image, sent as ``multipart/form-data`` (field ``image``) or as the raw
  body with an ``image/*`` Content-Type; at most the card's ``max_image_bytes``.

404: unknown or deleted record; 409: the card has no vectors (or the record none) yet — run the embed enricher;
422: bad parameters, an unknown card or facet, an unusable image; 413: too large an image; 503: the card's model
cannot be loaded here. Searching and model calls run in the thread pool, never on the event loop.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from api.auth import require_role
from api.rest_support import Context, context
from enrich.ingest.errors import InputError
from enrich.records_admin import RecordNotFound
from enrich.similarity import MAX_K

router = APIRouter(tags=["similar"])
_READ = [Depends(require_role("reader"))]
#: Room for the multipart envelope around the image (boundaries, part headers).
_ENVELOPE = 64 * 1024


class SimilarItem(BaseModel):
    id: str
    #: The registry's node for the record.
    iri: str
    cho: str
    title: str | None
    #: Cosine similarity of the two vectors (1 = same direction).
    score: float


class SimilarOut(BaseModel):
    card: str
    card_hash: str
    modality: str
    query: str
    #: Records in the searched index.
    indexed: int
    filters: dict[str, str]
    items: list[SimilarItem]


@dataclass(frozen=True)
class Options:
    k: int
    card: str | None
    modality: Literal["image", "text"] | None
    provider: str | None
    dataset: str | None
    facet: str | None
    concept: str | None
    exact: bool


def options(
    k: Annotated[int, Query(ge=1, le=MAX_K, description="how many records")] = 10,
    card: Annotated[str | None, Query(description="model card name (default: the CLIP card with vectors)")] = None,
    modality: Annotated[
        Literal["image", "text"] | None, Query(description="vectors searched (default: image for CLIP)")
    ] = None,
    provider: Annotated[str | None, Query(description="only records of this provider (name or IRI)")] = None,
    dataset: Annotated[str | None, Query(description="only records of this dataset")] = None,
    facet: Annotated[str | None, Query(description="with concept: only records carrying it on this facet")] = None,
    concept: Annotated[str | None, Query(description="a concept IRI of the facet (narrower ones count too)")] = None,
    exact: Annotated[bool, Query(description="exact search even where the index has a graph")] = False,
) -> Options:
    return Options(k, card, modality, provider, dataset, facet, concept, exact)


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such record, or it was deleted"},
    409: {"description": "no vectors for the card (or the record) yet: run the embed enricher first"},
    422: {"description": "bad parameters, an unknown card or facet, or an unusable image"},
    503: {"description": "the card's model cannot be loaded on this server"},
}


def _search(ctx: Context, chosen: Options, record: str | None, text: str | None, image: bytes | None) -> SimilarOut:
    """The query, with our errors as HTTP answers (runs in a worker thread)."""
    from enrich.models.runtime import ModelUnavailable
    from enrich.similarity.filters import Filters
    from enrich.similarity.search import NoIndex, SimilarQuery, find_similar

    try:
        filters = Filters(chosen.provider, chosen.dataset, chosen.facet, chosen.concept)
        query = SimilarQuery(record=record, text=text, image=image)
        result = find_similar(
            ctx.store, ctx.graphs, ctx.settings, query, chosen.k, chosen.card, chosen.modality, filters, chosen.exact
        )
    except RecordNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except NoIndex as exc:
        raise HTTPException(409, str(exc)) from None
    except ModelUnavailable as exc:
        raise HTTPException(503, str(exc)) from None
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return SimilarOut.model_validate(result.as_dict())


@router.get(
    "/similar",
    summary="records similar to a record or a text (vector search)",
    dependencies=_READ,
    responses=_ERRORS,
)
def get_route(
    request: Request,
    chosen: Annotated[Options, Depends(options)],
    record: Annotated[str | None, Query(description="a record id or ProvidedCHO IRI")] = None,
    text: Annotated[str | None, Query(description="a text (with a CLIP card, text finds images)")] = None,
) -> SimilarOut:
    if (record is None) == (text is None):
        raise HTTPException(422, "give exactly one of record or text (POST an image to search by image)")
    return _search(context(request), chosen, record, text, None)


@router.post(
    "/similar",
    summary="records similar to an uploaded image (multipart field 'image', or the raw image body)",
    dependencies=_READ,
    responses={**_ERRORS, 413: {"description": "the image is larger than the card's max_image_bytes"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {"image": {"type": "string", "format": "binary"}}}
                },
                "image/*": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def post_route(request: Request, chosen: Annotated[Options, Depends(options)]) -> SimilarOut:
    ctx = context(request)
    limit = await anyio.to_thread.run_sync(_image_limit, ctx, chosen.card)
    image = await _read_image(request, limit)
    return await anyio.to_thread.run_sync(functools.partial(_search, ctx, chosen, None, None, image))


def _image_limit(ctx: Context, card: str | None) -> int:
    """The largest image the card accepts (its ``max_image_bytes``)."""
    from enrich.embeddings.images import FetchLimits
    from enrich.similarity.search import resolve_card

    try:
        spec = resolve_card(ctx.settings, card)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return FetchLimits.from_extra(spec.extra).max_bytes


async def _read_image(request: Request, limit: int) -> bytes:
    """The image bytes of the body, refused past ``limit`` before more is read."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    multipart = media_type == "multipart/form-data"
    if not multipart and not media_type.startswith("image/"):
        raise HTTPException(
            415, f"send the image as multipart/form-data (field 'image') or image/*, not {media_type!r}"
        )
    ceiling = limit + (_ENVELOPE if multipart else 0)
    too_large = HTTPException(413, f"the image is larger than the limit of {limit:,} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > ceiling:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > ceiling:
            raise too_large
    data = await _image_part(request, bytes(body)) if multipart else bytes(body)
    if not data:
        raise HTTPException(422, "the image is empty")
    if len(data) > limit:
        raise too_large
    return data


async def _image_part(request: Request, body: bytes) -> bytes:
    """The ``image`` field of a multipart body (already read and size-checked)."""
    from starlette.datastructures import UploadFile
    from starlette.formparsers import MultiPartException, MultiPartParser

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    try:
        form = await MultiPartParser(request.headers, stream(), max_files=1, max_fields=16).parse()
    except MultiPartException as exc:
        raise HTTPException(422, f"not a usable multipart body: {exc.message}") from None
    except AssertionError:  # starlette's way of saying python-multipart is missing
        raise HTTPException(415, "this server reads no multipart bodies: send the image as image/*") from None
    try:
        part = form.get("image")
        if not isinstance(part, UploadFile):
            raise HTTPException(422, "the multipart body has no file field 'image'")
        return await part.read()
    finally:
        await form.close()
