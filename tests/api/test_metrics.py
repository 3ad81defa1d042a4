"""/metrics against a real uvicorn: the Prometheus text format 0.0.4, read back by a small parser."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx

from enrich.jobs import Selection
from enrich.review import suggestion_counts
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import Status
from tests.api.server import running
from tests.api.test_vocab_api import GRAPHS, app_with_tokens, sample_store

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})? (\S+)$")
_LABEL = re.compile(rf'({_NAME})="((?:[^"\\]|\\.)*)"(?:,|$)')


@dataclass
class Exposition:
    types: dict[str, str] = field(default_factory=dict)
    helps: dict[str, str] = field(default_factory=dict)
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = field(default_factory=dict)

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def series(self, name: str) -> dict[frozenset[tuple[str, str]], float]:
        return {labels: value for (sample, labels), value in self.samples.items() if sample == name}


def parse(body: str) -> Exposition:
    """Line by line, as a Prometheus scraper would; anything malformed fails the test."""
    assert body.endswith("\n")
    found = Exposition()
    for line in body.splitlines():
        if line.startswith("# HELP "):
            name, _, text = line.removeprefix("# HELP ").partition(" ")
            assert text and name not in found.helps, line
            found.helps[name] = text
        elif line.startswith("# TYPE "):
            name, _, kind = line.removeprefix("# TYPE ").partition(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in found.types and name in found.helps, line
            found.types[name] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, label_text, value = match.groups()
            labels: list[tuple[str, str]] = []
            if label_text:
                pairs = _LABEL.findall(label_text)
                assert ",".join(f'{k}="{v}"' for k, v in pairs) == label_text, line
                labels = pairs
            family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in found.types else name
            assert family in found.types, f"sample before its TYPE line: {line!r}"
            key = (name, frozenset(labels))
            assert key not in found.samples, f"duplicate sample {line!r}"
            found.samples[key] = float(value)
    return found


def test_metrics_count_requests_and_mirror_the_store() -> None:
    store = sample_store(EmbeddedStore())
    app, _ = app_with_tokens(store)
    with running(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        response = http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        before = parse(response.text)
        assert before.types["heritage_http_requests_total"] == "counter"
        assert before.types["heritage_http_request_duration_seconds"] == "histogram"

        for _ in range(3):
            assert http.get("/health").status_code == 200
        assert http.get("/runs/0123456789abcdef").status_code == 404
        assert http.get("/no/such/path/at/all").status_code == 404
        after = parse(http.get("/metrics").text)

    def requests(metrics: Exposition, route: str, status: str) -> float:
        return metrics.value("heritage_http_requests_total", method="GET", route=route, status=status)

    assert requests(after, "/health", "200") == requests(before, "/health", "200") + 3
    assert requests(after, "/metrics", "200") == requests(before, "/metrics", "200") + 1
    # Route templates, not raw paths: label values stay bounded whatever clients ask for.
    assert requests(after, "/runs/{run_id}", "404") == 1
    assert requests(after, "unmatched", "404") == 1
    assert all(
        "0123456789abcdef" not in value and "/no/such" not in value
        for labels in after.series("heritage_http_requests_total")
        for _, value in labels
    )

    histogram = "heritage_http_request_duration_seconds"
    health = {("method", "GET"), ("route", "/health")}
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for labels, value in after.series(f"{histogram}_bucket").items()
        if health <= labels
    )
    counts = [value for _, value in buckets]
    assert counts == sorted(counts) and buckets[-1][0] == float("inf")
    assert buckets[-1][1] == after.value(f"{histogram}_count", method="GET", route="/health") >= 3
    assert after.value(f"{histogram}_sum", method="GET", route="/health") > 0

    by_status = suggestion_counts(store, GRAPHS).by_status
    assert by_status
    for status in Status:
        assert after.value("heritage_suggestions", status=str(status)) == by_status.get(str(status), 0)
    live = len(Selection.all().remaining(store, GRAPHS, None))
    assert after.value("heritage_records", state="live") == live > 0
    assert after.value("heritage_records", state="deleted") == 0
    assert after.value("heritage_store_quads") == store.count_triples()
    assert after.value("heritage_store_up") == 1
    assert after.types["heritage_http_requests_rejected_total"] == "counter"


def test_metrics_need_the_reader_role_without_anonymous_read() -> None:
    app, headers = app_with_tokens(EmbeddedStore(), anonymous_read=False)
    with running(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        assert http.get("/metrics").status_code == 401
        scraped = http.get("/metrics", headers=headers["reader"])
        assert scraped.status_code == 200
        assert parse(scraped.text).value("heritage_records", state="live") == 0
