"""REST /similar against a real uvicorn with the tiny CLIP: by record, by text, by uploaded image (multipart and
raw), filters, and every refusal with its status and message."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.auth import make_token
from enrich.jobs.run import EnricherSpec, RunDefinition, run_enrichment
from enrich.models.cards import ModelSpec
from enrich.similarity.search import forget_open_indexes
from enrich.store.embedded import EmbeddedStore
from tests.api.server import running
from tests.ingest.support import GRAPHS, make_settings
from tests.ml.test_similarity import EX, KM, png, seed_store
from tests.ml.tiny import tiny_clip_spec

READER, READER_ENTRY = make_token("reader")
#: The card's image limit: small, so a refused upload costs nothing.
LIMIT = 20_000


@dataclass
class Served:
    client: httpx.Client
    base_url: str
    ids: dict[str, str]
    images: Path
    card: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Records with images, embedded with the tiny CLIP by a real run, behind a real uvicorn (reader token)."""
    import torch

    torch.set_num_threads(1)
    tmp_path = tmp_path_factory.mktemp("similar-api")
    tiny = tiny_clip_spec(tmp_path / "model")
    spec = ModelSpec(**{**tiny.as_json(), "extra": {"max_image_bytes": LIMIT}})
    card_path = spec.save(tmp_path / "tiny-clip.yaml")
    store = EmbeddedStore()
    ids = seed_store(store, tmp_path / "records")
    settings = make_settings(data_dir=str(tmp_path / "data"), api_tokens=[READER_ENTRY], anonymous_read=False)
    run_enrichment(
        store, GRAPHS, RunDefinition.of([EnricherSpec("embed", {"card": str(card_path)})]), settings=settings
    )
    forget_open_indexes()
    app = create_app(settings, store)
    headers = {"Authorization": f"Bearer {READER}"}
    with running(app) as base_url, httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        yield Served(client, base_url, ids, tmp_path / "records", spec.name)
    store.close()


def test_similar_by_record_returns_iris_titles_and_scores(served: Served) -> None:
    ids = served.ids
    response = served.client.get("/similar", params={"record": ids["vase"], "k": 3})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["card"] == served.card and data["modality"] == "image" and data["indexed"] == 6
    assert data["query"] == f"record {ids['vase']}"
    items = data["items"]
    assert len(items) == 3 and ids["vase"] not in {item["id"] for item in items}
    assert [item["score"] for item in items] == sorted((item["score"] for item in items), reverse=True)
    first = items[0]
    assert first["iri"] == GRAPHS.record_node(first["id"]) and first["cho"].startswith(EX + "cho/")
    assert first["title"] and -1.0 <= first["score"] <= 1.0
    by_iri = served.client.get("/similar", params={"record": EX + "cho/vase", "k": 3}).json()
    assert by_iri["items"] == items
    filtered = served.client.get("/similar", params={"record": ids["vase"], "provider": "Aggregator A", "k": 10}).json()
    assert {item["id"] for item in filtered["items"]} == {ids[n] for n in ("bell", "mirror", "bowl")}
    assert filtered["filters"] == {"provider": "Aggregator A"}
    metal = served.client.get(
        "/similar", params={"record": ids["vase"], "facet": "korean-materials", "concept": KM + "metal"}
    ).json()
    assert {item["id"] for item in metal["items"]} == {ids[n] for n in ("bell", "mirror", "crown")}


def test_similar_by_text_and_by_uploaded_image(served: Served) -> None:
    ids = served.ids
    cross = served.client.get("/similar", params={"text": "a gold crown", "k": 6})
    assert cross.status_code == 200 and len(cross.json()["items"]) == 6  # text against the image vectors
    texts = served.client.get("/similar", params={"text": "Gold crown", "modality": "text", "k": 2}).json()
    assert texts["modality"] == "text" and len(texts["items"]) == 2
    image = (served.images / "bowl.png").read_bytes()
    upload = served.client.post("/similar", files={"image": ("bowl.png", image, "image/png")}, params={"k": 2})
    assert upload.status_code == 200, upload.text
    assert upload.json()["items"][0]["id"] == ids["bowl"] and upload.json()["items"][0]["score"] > 0.99
    raw = served.client.post("/similar", content=image, headers={"Content-Type": "image/png"}, params={"k": 2})
    assert raw.status_code == 200 and raw.json()["items"] == upload.json()["items"]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"record": "unknown-000000000000"}, 404, "no record"),
        ({"record": EX + "cho/nothing"}, 404, "no record"),
        ({"record": "x", "card": "all-minilm-l6-v2"}, 409, "run the embed enricher first"),
        ({"text": "bronze", "card": "no-such-card"}, 422, "no card named 'no-such-card'"),
        ({"text": "bronze", "card": "../../etc/passwd"}, 422, "paths are not accepted"),
        ({}, 422, "exactly one of record or text"),
        ({"record": "x", "text": "y"}, 422, "exactly one of record or text"),
        ({"text": "bronze", "k": 0}, 422, "greater than or equal to 1"),
        ({"text": "bronze", "facet": "korean-materials"}, 422, "needs both the facet and the concept"),
        ({"text": "bronze", "facet": "korean-materials", "concept": EX + "x"}, 422, "not a concept of"),
        ({"text": "bronze", "modality": "sound"}, 422, "'image' or 'text'"),
        ({"text": "   "}, 422, "the query text is empty"),
    ],
)
def test_bad_queries_get_clear_errors(served: Served, params: dict[str, object], status: int, message: str) -> None:
    response = served.client.get("/similar", params=params)
    assert response.status_code == status, response.text
    assert message in str(response.json()["detail"])


def test_bad_uploads_are_refused_before_any_model_work(served: Served) -> None:
    post = served.client.post
    too_big = png((1, 2, 3), size=(400, 400)) + bytes(LIMIT)
    assert post("/similar", content=too_big, headers={"Content-Type": "image/png"}).status_code == 413
    big_part = post("/similar", files={"image": ("big.png", too_big, "image/png")})
    assert big_part.status_code == 413 and f"{LIMIT:,} bytes" in big_part.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while reading
        yield from [bytes(5_000)] * 10

    assert post("/similar", content=chunks(), headers={"Content-Type": "image/png"}).status_code == 413
    wrong = post("/similar", content=b"hello", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415 and "multipart/form-data" in wrong.json()["detail"]
    not_image = post("/similar", files={"image": ("x.png", b"not an image", "image/png")})
    assert not_image.status_code == 422 and "not a usable image" in not_image.json()["detail"]
    no_field = post("/similar", files={"picture": ("x.png", b"...", "image/png")})
    assert no_field.status_code == 422 and "no file field 'image'" in no_field.json()["detail"]
    empty = post("/similar", content=b"", headers={"Content-Type": "image/png"})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    unknown_card = post("/similar", content=b"x", headers={"Content-Type": "image/png"}, params={"card": "nope"})
    assert unknown_card.status_code == 422


def test_similar_needs_the_reader_role(served: Served) -> None:
    anonymous = httpx.get(f"{served.base_url}/similar", params={"text": "bronze"})
    assert anonymous.status_code == 401
    upload = httpx.post(f"{served.base_url}/similar", content=b"x", headers={"Content-Type": "image/png"})
    assert upload.status_code == 401
