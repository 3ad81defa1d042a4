"""``POST /runs`` with ``"engine": "ray"`` against a real uvicorn over Oxigraph server: the run executes on Ray
(this session's local instance) and its answers match a local-engine run of the same definition."""

from __future__ import annotations

from typing import Any

import httpx

from api.app import create_app
from api.auth import make_token
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from tests.api.server import running
from tests.api.test_runs_api import wait_for_end
from tests.api.test_vocab_api import app_with_tokens, sample_store
from tests.ingest.support import make_settings
from tests.jobs.support import suggestion_state

REQUEST = {"enrichers": ["lexical", "dummy"], "batch_size": 10}


def _run(store: Store, server: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
    store.update("DROP ALL")
    sample_store(store, enrich=False)
    token, entry = make_token("admin")
    # The app's settings name the server: the Ray workers open the store from them.
    app = create_app(make_settings(api_tokens=[entry], store=server), store)
    headers = {"admin": {"Authorization": f"Bearer {token}"}}
    with running(app) as base_url, httpx.Client(base_url=base_url, timeout=120) as http:
        started = http.post("/runs", json=body, headers=headers["admin"])
        assert started.status_code == 202, started.text
        state = wait_for_end(http, started.headers["location"])
    return state, suggestion_state(store)


def test_an_admin_starts_a_ray_run_over_rest_and_gets_the_local_engines_results(
    ray_instance: Any, remote_store: Store, oxigraph_server: str
) -> None:
    local, local_state = _run(remote_store, oxigraph_server, REQUEST)
    ray, ray_state = _run(remote_store, oxigraph_server, {**REQUEST, "engine": "ray", "workers": 2})
    assert local["engine"] == "local" and ray["engine"] == "ray"
    assert ray["status"] == "finished" and ray["error"] is None
    for key in ("records_seen", "counts", "per_facet"):
        assert ray[key] == local[key], key
    assert ray_state == local_state and len(ray_state) == ray["counts"]["new"] > 0


def test_a_ray_run_on_an_embedded_store_is_refused_with_422_and_writes_nothing() -> None:
    store = sample_store(EmbeddedStore(), enrich=False)
    before = store.count_triples()
    app, headers = app_with_tokens(store)
    with running(app) as base_url, httpx.Client(base_url=base_url, timeout=60) as http:
        refused = http.post("/runs", json={**REQUEST, "engine": "ray"}, headers=headers["admin"])
        assert refused.status_code == 422, refused.text
        assert "embedded" in refused.json()["detail"] and "oxigraph serve" in refused.json()["detail"]
        invalid = http.post("/runs", json={**REQUEST, "engine": "spark"}, headers=headers["admin"])
        assert invalid.status_code == 422 and "engine" in invalid.text
    assert store.count_triples() == before
