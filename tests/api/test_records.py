"""REST /records against a real uvicorn: ingest by POST, read back by content negotiation, replace, delete, list
with filters and stable paging; refused requests write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph
import pytest
from pyoxigraph import NamedNode, RdfFormat

from api.app import create_app
from api.auth import make_token
from enrich.ingest.records import record_id
from enrich.namespaces import DC
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from tests.api.server import running
from tests.benchmarks.synthetic_edm import PROVIDERS, TYPES, write_rdf_xml
from tests.ingest.support import cho, make_settings, record_text

ADMIN, ADMIN_ENTRY = make_token("admin", "ada")
READER, READER_ENTRY = make_token("reader")
TURTLE = {"Content-Type": "text/turtle"}
RECORD = record_id(cho(1))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def served(store: Store) -> Iterator[httpx.Client]:
    """The app on ``store`` behind a real uvicorn; the client holds the admin token."""
    app = create_app(make_settings(api_tokens=[ADMIN_ENTRY, READER_ENTRY]), store)
    with running(app) as base_url, httpx.Client(base_url=base_url, headers=bearer(ADMIN), timeout=30) as client:
        yield client


@pytest.fixture
def memory_served() -> Iterator[tuple[httpx.Client, Store]]:
    """Like ``served`` on an in-memory store, for checks that do not depend on the store kind."""
    store = EmbeddedStore()
    app = create_app(make_settings(api_tokens=[ADMIN_ENTRY, READER_ENTRY], max_input_bytes=20_000), store)
    with running(app) as base_url, httpx.Client(base_url=base_url, headers=bearer(ADMIN), timeout=30) as client:
        yield client, store


def state(store: Store) -> tuple[int, list[str]]:
    """Quads and named graphs: what a refused request must leave as it was."""
    return store.count_triples(), sorted(store.named_graphs())


def titles(data: bytes, rdf_format: RdfFormat) -> set[str]:
    title = NamedNode(DC + "title")
    return {q.object.value for q in pyoxigraph.parse(data, format=rdf_format) if q.predicate == title}


def test_post_read_put_and_delete(served: httpx.Client, store: Store) -> None:
    created = served.post("/records", content=record_text("turtle", 1), headers=TURTLE)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/records/{RECORD}"
    assert created.json() | {"transaction": "-"} == {
        "transaction": "-",
        "records": 1,
        "new": 1,
        "updated": 0,
        "unchanged": 0,
        "written": 1,
        "ids": [RECORD],
        "invalid": [],
        "warnings": [],
    }
    summary = served.get(f"/records/{RECORD}").json()
    assert (summary["cho"], summary["provider"], summary["dataset"], summary["type"]) == (
        cho(1),
        "Example Aggregator",
        "default",
        "IMAGE",
    )
    assert summary["deleted"] is False and summary["suggestions"] == {}
    # The ProvidedCHO IRI names the record as well as its id does.
    assert served.get("/records/" + quote(cho(1), safe="")).json()["id"] == RECORD

    replaced = served.put(f"/records/{RECORD}", content=record_text("turtle", 1, title="Recast bell"), headers=TURTLE)
    assert (replaced.status_code, replaced.json()["updated"]) == (200, 1)
    turtle = served.get(f"/records/{RECORD}", params={"view": "ingested"}, headers={"Accept": "text/turtle"})
    assert titles(turtle.content, RdfFormat.TURTLE) == {"Recast bell"}
    again = served.put(f"/records/{RECORD}", content=record_text("turtle", 1, title="Recast bell"), headers=TURTLE)
    assert (again.status_code, again.json()["unchanged"]) == (200, 1)

    before = state(store)
    other = served.put(f"/records/{RECORD}", content=record_text("turtle", 2), headers=TURTLE)
    assert other.status_code == 422
    assert f"not record {RECORD}" in other.json()["detail"]
    assert state(store) == before

    assert served.delete(f"/records/{RECORD}").status_code == 204
    gone = served.get(f"/records/{RECORD}")
    assert gone.status_code == 404 and "deleted" in gone.json()["detail"]
    assert served.get("/records").json()["items"] == []
    (listed,) = served.get("/records", params={"include_deleted": "true"}).json()["items"]
    assert (listed["id"], listed["deleted"]) == (RECORD, True)
    assert served.delete(f"/records/{RECORD}").status_code == 404
    assert served.delete("/records/unknown-000000000000").status_code == 404


def test_partly_invalid_input_writes_the_valid_records_and_reports_the_others(
    memory_served: tuple[httpx.Client, Store],
) -> None:
    client, _ = memory_served
    body = record_text("ntriples", 1) + record_text("ntriples", 2).replace('"IMAGE"', '"PAINTING"')
    answer = client.post("/records", content=body, headers={"Content-Type": "application/n-triples"})
    assert answer.status_code == 201
    report = answer.json()
    assert (report["new"], report["ids"]) == (1, [RECORD, record_id(cho(2))])
    (invalid,) = report["invalid"]
    assert invalid["cho"] == cho(2)
    assert any("edm:type" in (v["path"] or "") for v in invalid["violations"])
    assert client.get(f"/records/{record_id(cho(2))}").status_code == 404


INVALID_ONLY = record_text("turtle", 3).replace('"IMAGE"', '"PAINTING"')
DTD = '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaa">]>\n' + record_text("rdfxml", 4).split("\n", 1)[1]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "detail"),
    [
        ("<http://example.org/a> <http://example.org/b> .", "text/turtle", 400, "syntax error"),
        (DTD, "application/rdf+xml", 400, "DOCTYPE"),
        ("", "text/turtle", 400, "empty"),
        (INVALID_ONLY, "text/turtle", 422, "break the EDM rules; nothing was written"),
        (record_text("turtle", 5), "text/plain", 415, "text/turtle"),
        (record_text("turtle", 6, title="x" * 30_000), "text/turtle", 413, "limit of 20,000 bytes"),
    ],
)
def test_refused_input_writes_nothing(
    memory_served: tuple[httpx.Client, Store], content: str, content_type: str, status: int, detail: str
) -> None:
    client, store = memory_served
    before = state(store)
    answer = client.post("/records", content=content.encode(), headers={"Content-Type": content_type})
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["detail"]
    assert state(store) == before


FORMATS = [
    ("text/turtle", None, RdfFormat.TURTLE),
    ("application/rdf+xml", None, RdfFormat.RDF_XML),
    ("application/n-triples", "enriched", RdfFormat.N_TRIPLES),
    ("application/ld+json", "ingested", RdfFormat.JSON_LD),
    ("application/trig", None, RdfFormat.TRIG),
    ("application/n-quads", "full", RdfFormat.N_QUADS),
    ("application/trig", "ingested", RdfFormat.TRIG),
    ("application/ld+json", "full", RdfFormat.JSON_LD),
]


def test_every_format_parses_back(memory_served: tuple[httpx.Client, Store]) -> None:
    client, _ = memory_served
    client.post("/records", content=record_text("rdfxml", 1), headers={"Content-Type": "application/rdf+xml"})
    for media_type, view, rdf_format in FORMATS:
        params = {"view": view} if view else {}
        answer = client.get(f"/records/{RECORD}", params=params, headers={"Accept": f"{media_type}, */*;q=0.1"})
        assert answer.status_code == 200, (media_type, view, answer.text)
        assert answer.headers["content-type"].startswith(media_type)
        assert titles(answer.content, rdf_format) == {"Bronze bell from Kraków"}, (media_type, view)
        if rdf_format in (RdfFormat.TRIG, RdfFormat.N_QUADS):
            graphs = {q.graph_name.value for q in pyoxigraph.parse(answer.content, format=rdf_format)}
            assert any("/graph/record/" in graph for graph in graphs)
    for accept, view in [("text/csv", None), ("application/trig", "enriched"), ("text/turtle", "full")]:
        refused = client.get(f"/records/{RECORD}", params={"view": view} if view else {}, headers={"Accept": accept})
        assert refused.status_code == 406, (accept, view)
        assert "application/json" in refused.json()["detail"]
    assert client.get(f"/records/{RECORD}", params={"view": "raw"}).status_code == 422
    assert client.get("/records/nothing-000000000000", headers={"Accept": "text/turtle"}).status_code == 404


def test_roles(memory_served: tuple[httpx.Client, Store]) -> None:
    client, store = memory_served
    url = str(client.base_url)
    with httpx.Client(base_url=url) as anonymous, httpx.Client(base_url=url, headers=bearer(READER)) as reader:
        assert anonymous.post("/records", content=record_text("turtle", 1), headers=TURTLE).status_code == 401
        assert reader.post("/records", content=record_text("turtle", 1), headers=TURTLE).status_code == 403
        assert reader.delete(f"/records/{RECORD}").status_code == 403
        assert anonymous.get("/records").status_code == 200  # anonymous reading is on by default
    assert store.count_triples() == 0
    closed = create_app(make_settings(api_tokens=[READER_ENTRY], anonymous_read=False), store)
    with running(closed) as base_url:
        assert httpx.get(f"{base_url}/records").status_code == 401
        assert httpx.get(f"{base_url}/records", headers=bearer(READER)).status_code == 200


def test_listing_filters_and_pages_completely(served: httpx.Client, store: Store, tmp_path: Path) -> None:
    source = tmp_path / "synthetic.rdf"
    write_rdf_xml(source, 23)
    answer = served.post(
        "/records",
        params={"dataset": "syn"},
        content=source.read_bytes(),
        headers={"Content-Type": "application/rdf+xml"},
    )
    assert answer.json()["new"] == 23
    everything = sorted(answer.json()["ids"])

    seen: list[str] = []
    url: str | None = "/records?limit=5"
    deleted_meanwhile = None
    while url is not None:
        page = served.get(url).json()
        assert page["total"] == 23 - (deleted_meanwhile is not None)
        seen += [item["id"] for item in page["items"]]
        if deleted_meanwhile is None:
            # A record of a page already read disappears: the keyset neither skips nor repeats any other.
            deleted_meanwhile = seen[0]
            assert served.delete(f"/records/{deleted_meanwhile}").status_code == 204
        url = page["next"]
    assert seen == everything and len(seen) == 23
    by_offset = [
        item["id"]
        for offset in range(0, 25, 6)
        for item in served.get("/records", params={"limit": 6, "offset": offset}).json()["items"]
    ]
    assert by_offset == [rid for rid in everything if rid != deleted_meanwhile]

    def total(**params: str) -> int:
        response = served.get("/records", params=params)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    live = [i for i in range(23) if record_id(f"http://data.example.org/synthetic/cho/{i}") != deleted_meanwhile]
    assert total(provider=PROVIDERS[0]) == sum(1 for i in live if i % 3 == 0)
    assert total(type="TEXT") == sum(1 for i in live if TYPES[i % len(TYPES)] == "TEXT")
    assert total(dataset="syn") == 22 and total(dataset="other") == 0
    assert total(since="2000-01-01", until="2999-12-31") == 22
    assert total(until="2000-01-01") == 0 and total(since="2999-01-01T00:00:00Z") == 0
    assert total(include_deleted="true") == 23

    for params, field in [
        ({"limit": "100000"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"type": "PAINTING"}, "type"),
    ]:
        refused = served.get("/records", params=params)
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["query", field]


def test_openapi_documents_the_routes(memory_served: tuple[httpx.Client, Store]) -> None:
    client, _ = memory_served
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/records"]) == {"get", "post"}
    assert set(paths["/records/{reference}"]) == {"get", "put", "delete"}
    assert "get" in paths["/records/{reference}/suggestions"]
    for method in paths["/records/{reference}"].values():
        assert method["summary"]
    assert "text/turtle" in paths["/records"]["post"]["requestBody"]["content"]
