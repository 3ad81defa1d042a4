"""OAI-PMH 2.0 at ``/oai`` (GET and POST), over the record registry and the enriched EDM export.

The app factory sets ``app.state.store``, ``app.state.settings`` and ``app.state.graphs``; the router keeps
its harvests' record snapshots (``listings``) in ``app.state.oai_listings``.
"""

from __future__ import annotations

import threading
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from api.oai.listings import Listings
from api.oai.protocol import Context, respond

__all__ = ["router"]

router = APIRouter(tags=["oai-pmh"])
MEDIA_TYPE = "text/xml; charset=utf-8"
_LISTINGS_LOCK = threading.Lock()


def _listings(state: State) -> Listings:
    with _LISTINGS_LOCK:
        listings = getattr(state, "oai_listings", None)
        if not isinstance(listings, Listings):
            listings = state.oai_listings = Listings()
        return listings


_SUMMARY = "OAI-PMH 2.0: the six verbs; edm, oai_dc and edm-suggestions metadata"


@router.get("/oai", summary=_SUMMARY, response_class=Response, operation_id="oai_get")
@router.post("/oai", summary=_SUMMARY, response_class=Response, operation_id="oai_post")
async def oai(request: Request) -> Response:
    if request.method == "POST":
        body = (await request.body()).decode("utf-8", errors="replace")
        pairs = parse_qsl(body, keep_blank_values=True)
    else:
        pairs = list(request.query_params.multi_items())
    state = request.app.state
    base_url = str(request.url.replace(query=None))
    ctx = Context(state.store, state.graphs, state.settings, base_url, _listings(state))
    # Store reads block: keep them off the event loop.
    content = await run_in_threadpool(respond, ctx, pairs)
    return Response(content=content, media_type=MEDIA_TYPE)
