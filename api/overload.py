"""503 + Retry-After when too many requests are in flight, so harvesters back off instead of timing out.

A pure ASGI middleware (no request body buffering, nothing between it and the client but uvicorn): it
counts requests in flight and answers beyond ``Settings.max_concurrent_requests`` at once with 503, a
``Retry-After: Settings.retry_after_s`` header and a JSON detail. ``/health`` and ``/metrics`` are never
refused: a load balancer and a monitoring scrape must still see an overloaded server.

:class:`OverloadState` (on ``app.state.overload``) holds the figures that :mod:`api.metrics` exposes.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from enrich.settings import Settings

#: Paths answered whatever the load.
EXEMPT_PATHS = frozenset({"/health", "/metrics"})


@dataclass
class OverloadState:
    limit: int
    retry_after_s: int
    in_flight: int = 0
    rejected: int = 0
    # Requests are counted on the event loop, but one app may be served by several loops (tests, threads).
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> bool:
        """Take a slot; False (and one more rejection counted) when all are taken."""
        with self.lock:
            if self.in_flight >= self.limit:
                self.rejected += 1
                return False
            self.in_flight += 1
            return True

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1


class InFlightLimit:
    def __init__(self, app: ASGIApp, state: OverloadState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _route_path(scope) in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if not self.state.enter():
            await self._refuse(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.state.leave()

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "detail": f"the server is answering {self.state.limit} requests already; "
                f"retry after {self.state.retry_after_s} s"
            }
        ).encode("utf-8")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"retry-after", str(self.state.retry_after_s).encode("ascii")),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def install(app: FastAPI) -> None:
    """Add the in-flight limit to ``app`` (outermost of the middlewares added so far)."""
    settings: Settings = app.state.settings
    if settings.max_concurrent_requests < 1:
        raise ValueError("max_concurrent_requests must be at least 1")
    state = app.state.overload = OverloadState(settings.max_concurrent_requests, settings.retry_after_s)
    app.add_middleware(InFlightLimit, state=state)
