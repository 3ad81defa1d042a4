"""CORS from ``Settings.cors_origins``, seen by a browser-like client of a real uvicorn on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.app import create_app
from enrich.settings import Settings
from enrich.store.embedded import EmbeddedStore
from tests.api.server import running

MUSEUM = "https://museum.example"
OTHER = "https://elsewhere.example"
ASK = {"query": "ASK {}"}


def _preflight(base: str, origin: str) -> httpx.Response:
    """What a browser sends before a cross-origin request carrying a bearer token."""
    return httpx.options(
        f"{base}/sparql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


@pytest.fixture(scope="module")
def museum_only() -> Iterator[str]:
    with (
        EmbeddedStore() as store,
        running(create_app(Settings(cors_origins=[MUSEUM], anonymous_read=True), store)) as base,
    ):
        yield base


@pytest.fixture(scope="module")
def no_cors() -> Iterator[str]:
    with EmbeddedStore() as store, running(create_app(Settings(cors_origins=[], anonymous_read=True), store)) as base:
        yield base


def test_allowed_origin_preflight(museum_only: str) -> None:
    response = _preflight(museum_only, MUSEUM)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == MUSEUM
    assert "GET" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize("path", ["/sparql", "/health"])
def test_allowed_origin_get(museum_only: str, path: str) -> None:
    response = httpx.get(f"{museum_only}{path}", params=ASK if path == "/sparql" else None, headers={"Origin": MUSEUM})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == MUSEUM


def test_other_origin_gets_no_cors_headers(museum_only: str) -> None:
    preflight = _preflight(museum_only, OTHER)
    assert preflight.status_code == 400  # Starlette refuses the preflight; the browser then blocks the request
    assert "access-control-allow-origin" not in preflight.headers
    response = httpx.get(f"{museum_only}/sparql", params=ASK, headers={"Origin": OTHER})
    assert response.status_code == 200  # served, but a browser will not hand it to the page
    assert not _cors_headers(response)


def test_no_origins_configured_means_no_cors_headers(no_cors: str) -> None:
    preflight = _preflight(no_cors, MUSEUM)
    assert not _cors_headers(preflight)
    assert preflight.status_code == 405  # /sparql has no OPTIONS of its own
    response = httpx.get(f"{no_cors}/sparql", params=ASK, headers={"Origin": MUSEUM})
    assert response.status_code == 200
    assert not _cors_headers(response)
    assert response.json()["boolean"] is True
