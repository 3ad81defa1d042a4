"""The FastAPI application factory: settings, store and graph names on ``app.state``, one router per resource.

``app.state`` holds ``settings`` (:class:`Settings`), ``store`` (:class:`Store`) and ``graphs``
(:class:`Graphs`) for every router. A store passed in belongs to the caller; a store the factory opens
from ``settings.store`` is closed when the application shuts down.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from api import metrics, overload
from api.oai import router as oai_router
from api.records import router as records_router
from api.review_queue import router as review_queue_router
from api.runs import router as runs_router
from api.similar import router as similar_router
from api.sparql import router as sparql_router
from api.suggestions import router as suggestions_router
from api.vocab import router as vocab_router
from api.web import router as web_router
from api.web import static_files as web_static_files
from enrich.namespaces import ENR, Graphs
from enrich.settings import Settings
from enrich.store import Store, StoreError, open_store
from enrich.store.base import text
from enrich.store.remote import RemoteStore

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()
    owned = store is None
    store = store if store is not None else open_store(settings=settings)
    # The SPARQL endpoint forwards queries to a remote store with its own limits, over one pooled client.
    sparql_http = httpx.Client() if isinstance(store, RemoteStore) else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if sparql_http is not None:
            sparql_http.close()
        if owned:
            app.state.store.close()

    app = FastAPI(
        title="heritage-enrich",
        summary="Linked-data enrichment of cultural-heritage records: SPARQL, REST and OAI-PMH",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.graphs = Graphs(settings.base_iri)
    app.state.sparql_http = sparql_http
    app.add_exception_handler(Exception, _internal_error)
    for router in (
        sparql_router,
        oai_router,
        records_router,
        suggestions_router,
        vocab_router,
        runs_router,
        similar_router,
        review_queue_router,
    ):
        app.include_router(router)
    app.include_router(web_router)
    app.mount("/ui/static", web_static_files(), name="ui-static")
    metrics.install(app)
    overload.install(app)
    if settings.cors_origins:
        # Added last, so outermost: even a 503 from the overload limit carries CORS headers for a browser.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
        )

    @app.get("/health", tags=["service"], summary="store reachable, with the number of live records")
    async def health(request: Request) -> JSONResponse:
        try:
            records = await anyio.to_thread.run_sync(_count_records, request.app.state.store, request.app.state.graphs)
        except StoreError as exc:
            log.warning("health check failed: %s", exc)
            return JSONResponse({"status": "unavailable", "detail": "the store does not answer"}, status_code=503)
        return JSONResponse({"status": "ok", "records": records})

    return app


def _count_records(store: Store, graphs: Graphs) -> int:
    rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graphs.system}> {{ ?r <{ENR}deleted> false }} }}")
    return int(text(rows[0]["n"]))


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything unhandled: logged with its traceback here, a short message (never the trace) to the client."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status_code=500)
