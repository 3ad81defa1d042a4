"""Prometheus ``/metrics``: requests, latencies, store size and suggestions by status, in the text format 0.0.4.

Written by hand (the format is a few lines of text; no client library needed). Requests are labelled by
method, *route template* (``/runs/{run_id}``, not the raw path, so label values stay bounded whatever
clients ask for) and status; paths no route matches share the template ``unmatched``. Store figures are
computed in a worker thread at scrape time. Reading needs the reader role (anonymous read applies).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import require_role
from api.overload import OverloadState
from enrich.namespaces import ENR, Graphs
from enrich.review import suggestion_counts
from enrich.store.base import Store, StoreError, text
from enrich.suggestion import Status

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Latency buckets in seconds (Prometheus' defaults: a few ms for look-ups up to 10 s for big harvests).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
UNMATCHED = "unmatched"

Labels = tuple[tuple[str, str], ...]


@dataclass
class _Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1
        self.total += seconds
        self.count += 1


class RequestMetrics:
    """Counters and latency histograms, updated by the middleware, read by the scrape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[Labels, int] = {}
        self._latency: dict[Labels, _Histogram] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "other"
        with self._lock:
            key = (("method", method), ("route", route), ("status", str(status)))
            self._requests[key] = self._requests.get(key, 0) + 1
            self._latency.setdefault((("method", method), ("route", route)), _Histogram()).observe(seconds)

    def lines(self) -> list[str]:
        with self._lock:
            requests = sorted(self._requests.items())
            latency = sorted(
                (labels, _Histogram(list(h.buckets), h.total, h.count)) for labels, h in self._latency.items()
            )
        out = _family("heritage_http_requests_total", "counter", "HTTP requests answered, by method, route and status")
        out += [_sample("heritage_http_requests_total", labels, count) for labels, count in requests]
        name = "heritage_http_request_duration_seconds"
        out += _family(name, "histogram", "time to answer an HTTP request, by method and route")
        for labels, histogram in latency:
            for bound, count in zip(BUCKETS, histogram.buckets, strict=True):
                out.append(_sample(f"{name}_bucket", (*labels, ("le", _number(bound))), count))
            out.append(_sample(f"{name}_bucket", (*labels, ("le", "+Inf")), histogram.count))
            out.append(_sample(f"{name}_sum", labels, histogram.total))
            out.append(_sample(f"{name}_count", labels, histogram.count))
        return out


class RequestCounter:
    """Pure ASGI middleware: times every HTTP request and counts it once answered (or failed)."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response started becomes a 500 further out

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.observe(scope["method"], _route_template(scope), status, time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    # The router records the route it chose in the (shared, mutated) scope.
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else UNMATCHED


# -- the exposition format -----------------------------------------------------------------------------
def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def _sample(name: str, labels: Iterable[tuple[str, str]], value: float) -> str:
    pairs = ",".join(f'{key}="{_escape(val)}"' for key, val in labels)
    return f"{name}{{{pairs}}} {_number(value)}" if pairs else f"{name} {_number(value)}"


def _family(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def _gauge(name: str, help_text: str, values: Mapping[Labels, float]) -> list[str]:
    return _family(name, "gauge", help_text) + [_sample(name, labels, value) for labels, value in values.items()]


# -- store figures (in a worker thread) ----------------------------------------------------------------
def _record_counts(store: Store, graphs: Graphs) -> dict[str, int]:
    rows = store.select(
        f"SELECT ?deleted (COUNT(?r) AS ?n) WHERE {{ GRAPH <{graphs.system}> {{ ?r <{ENR}deleted> ?deleted }} }} "
        "GROUP BY ?deleted"
    )
    found = {"live": 0, "deleted": 0}
    for row in rows:
        found["deleted" if text(row["deleted"]) == "true" else "live"] += int(text(row["n"]))
    return found


def store_lines(store: Store, graphs: Graphs) -> list[str]:
    try:
        records = _record_counts(store, graphs)
        quads = store.count_triples()
        by_status = suggestion_counts(store, graphs).by_status
    except StoreError as exc:
        log.warning("metrics: the store does not answer: %s", exc)
        return _gauge("heritage_store_up", "whether the store answered this scrape", {(): 0})
    out = _gauge("heritage_store_up", "whether the store answered this scrape", {(): 1})
    out += _gauge(
        "heritage_records",
        "records in the registry, live or deleted (kept for OAI-PMH)",
        {(("state", state),): n for state, n in records.items()},
    )
    out += _gauge("heritage_store_quads", "quads in the store, all graphs", {(): quads})
    # Every status is listed, zero or not, so a series does not vanish when its last suggestion moves on.
    statuses: dict[Labels, float] = {(("status", str(status)),): by_status.get(str(status), 0) for status in Status}
    out += _gauge("heritage_suggestions", "suggestions by review status", statuses)
    return out


def _overload_lines(state: OverloadState | None) -> list[str]:
    if state is None:
        return []
    with state.lock:
        in_flight, rejected = state.in_flight, state.rejected
    out = _gauge("heritage_http_requests_in_flight", "requests being answered (the limit excepted)", {(): in_flight})
    out += _family("heritage_http_requests_rejected_total", "counter", "requests refused with 503 (too many in flight)")
    out.append(_sample("heritage_http_requests_rejected_total", (), rejected))
    return out


def install(app: FastAPI) -> None:
    """Add the request-counting middleware and the /metrics route to ``app``."""
    metrics = app.state.request_metrics = RequestMetrics()
    app.add_middleware(RequestCounter, metrics=metrics)

    @app.get(
        "/metrics",
        tags=["service"],
        summary="Prometheus metrics (text format 0.0.4)",
        response_class=Response,
        dependencies=[Depends(require_role("reader"))],
    )
    async def scrape(request: Request) -> Response:
        state = request.app.state
        lines = metrics.lines()
        lines += await anyio.to_thread.run_sync(store_lines, state.store, state.graphs)
        lines += _overload_lines(getattr(state, "overload", None))
        return Response("\n".join(lines) + "\n", media_type=CONTENT_TYPE)
