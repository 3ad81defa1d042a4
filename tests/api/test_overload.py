"""Overload against a real uvicorn: beyond the in-flight limit, 503 + Retry-After at once; /health still answers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from enrich.store.embedded import EmbeddedStore
from tests.api.server import running
from tests.api.test_metrics import parse
from tests.api.test_vocab_api import app_with_tokens

WAIT_S = 20.0


def test_requests_beyond_the_limit_are_told_to_retry() -> None:
    app, _ = app_with_tokens(EmbeddedStore(), max_concurrent_requests=2, retry_after_s=7)
    release = threading.Event()
    inside = threading.Semaphore(0)

    # A slow route of the test's own on the real app: it holds its slot until the test releases it.
    def slow() -> dict[str, str]:
        inside.release()
        release.wait(WAIT_S)
        return {"slow": "done"}

    app.add_api_route("/test-slow", slow)
    with (
        running(app) as base_url,
        httpx.Client(base_url=base_url, timeout=WAIT_S) as http,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        try:
            held = [pool.submit(http.get, "/test-slow") for _ in range(2)]
            for _ in held:
                assert inside.acquire(timeout=WAIT_S), "the slow requests did not start"
            refused = http.get("/test-slow")
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "7"
            assert "retry after 7 s" in refused.json()["detail"]
            assert http.get("/vocab/facets").status_code == 503  # any route, not just the slow one
            assert http.get("/health").status_code == 200  # never refused
            during = parse(http.get("/metrics").text)
            assert during.value("heritage_http_requests_in_flight") == 2
            assert during.value("heritage_http_requests_rejected_total") == 2
        finally:
            release.set()
        assert [future.result().status_code for future in held] == [200, 200]
        assert http.get("/test-slow").status_code == 200  # slots are free again
        assert http.get("/vocab/facets").status_code == 200
        assert parse(http.get("/metrics").text).value("heritage_http_requests_in_flight") == 0
