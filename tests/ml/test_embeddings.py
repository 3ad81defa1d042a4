"""Embeddings: the cache, fetching and decoding images (files and a real HTTP server on 127.0.0.1), record
texts, and the ``embed`` enricher in a real run, where a re-run computes and fetches nothing again."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.responses import Response, StreamingResponse
from PIL import Image

from enrich.embeddings import EmbeddingCache, cache_for, content_hash, record_vectors
from enrich.embeddings.images import FetchLimits, ImageError, ImageFetcher, decode_image, image_sources
from enrich.embeddings.texts import RecordText
from enrich.enrichers import get_enricher
from enrich.enrichers.base import EnrichmentContext, FieldValue, RecordView, read_record_views
from enrich.ingest.errors import InputError
from enrich.jobs.run import EnricherSpec, RunDefinition, run_enrichment
from enrich.models.cards import ModelCardError, ModelSpec, load_spec
from enrich.models.encoders import load_image_encoder, load_text_encoder
from enrich.namespaces import DC, DCTERMS, EDM, ORE, RDF_TYPE
from enrich.records_admin import list_records
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from tests.api.server import running
from tests.ingest.support import GRAPHS, ingest, make_settings

EX = "http://example.org/"
LIMIT_BYTES = 20_000


def png(colour: tuple[int, int, int], size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, colour if mode == "RGB" else (*colour, 0))
    if mode == "RGB":
        image.paste((255, 255, 255), (2, 2, 12, 12))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


RED, BLUE = png((200, 20, 20)), png((20, 20, 200))


def image_app(hits: Counter[str]) -> FastAPI:
    """Images over HTTP, and the ways a server can misbehave."""
    app = FastAPI()
    files = {"red.png": RED, "red-copy.png": RED, "blue.png": BLUE}

    @app.get("/img/{name}")
    def image(name: str) -> Response:
        hits[name] += 1
        if name not in files:
            return Response(status_code=404)
        return Response(files[name], media_type="image/png")

    @app.get("/big")
    def big() -> Response:  # declares its size: refused before the body is read
        return Response(b"\x89PNG" + bytes(3 * LIMIT_BYTES), media_type="image/png")

    @app.get("/big-stream")
    def big_stream() -> StreamingResponse:  # no Content-Length: refused while reading
        return StreamingResponse(iter([bytes(5_000)] * 10), media_type="image/png")

    @app.get("/slow")
    async def slow() -> StreamingResponse:
        async def trickle() -> AsyncIterator[bytes]:
            for _ in range(100):
                yield b"\x89PNG...."
                await asyncio.sleep(0.1)

        return StreamingResponse(trickle(), media_type="image/png")

    @app.get("/loop")
    def loop() -> Response:
        return Response(status_code=302, headers={"Location": "/loop"})

    @app.get("/elsewhere")
    def elsewhere(to: str) -> Response:  # hands the fetch on to another host
        return Response(status_code=302, headers={"Location": to})

    return app


@pytest.fixture(scope="module")
def image_server() -> Iterator[tuple[str, Counter[str]]]:
    hits: Counter[str] = Counter()
    with running(image_app(hits)) as base_url:
        yield base_url, hits


# -- the cache ---------------------------------------------------------------------------------------------


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_content_hash_is_stable_and_text_is_utf8() -> None:
    assert content_hash("청자") == content_hash("청자".encode())
    assert content_hash(b"a") != content_hash(b"b")
    assert len(content_hash(b"")) == 32


def test_cache_round_trip_dedup_and_record_vectors(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    rng = np.random.default_rng(0)
    vectors = _unit(rng.normal(size=(4, 16)))
    assert cache.put_many("card", ["a", "b", "c", "a"], vectors) == 3  # the second "a" is the same content
    assert cache.put_many("card", ["a", "b"], vectors[:2]) == 0
    got = cache.get_many("card", ["a", "c", "zzz"])
    assert set(got) == {"a", "c"}
    np.testing.assert_allclose(got["c"], vectors[2], atol=2e-3)  # kept as float16
    assert got["a"].dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got["a"]), 1.0, atol=1e-6)

    cache.link_records("card", "image", {"r2": ["a", "b"], "r1": ["c"]})
    cache.link_records("card", "text", {"r1": ["b"]})
    ids, matrix = cache.record_vectors("card", "image")
    assert ids == ["r1", "r2"]
    np.testing.assert_allclose(matrix[0], vectors[2], atol=2e-3)
    mean = vectors[0] + vectors[1]
    np.testing.assert_allclose(matrix[1], mean / np.linalg.norm(mean), atol=2e-3)  # several images: their mean
    assert record_vectors(make_settings(data_dir=str(tmp_path.parent)), "card", "image")[0] == []  # other root
    cache.link_records("card", "image", {"r2": []})
    assert cache.record_vectors("card", "image")[0] == ["r1"]
    assert cache.record_vectors("card", "text")[0] == ["r1"]
    assert cache.record_vectors("other-card", "text")[0] == []
    assert cache.stats("card") == {"vectors": 3, "shards": 1, "image_records": 1, "text_records": 1}


def test_batch_vectors_match_the_whole_listing_and_forgetting_drops_every_modality(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    vectors = _unit(np.random.default_rng(3).normal(size=(3, 16)))
    cache.put_many("card", ["a", "b", "c"], vectors)
    cache.link_records("card", "image", {"r1": ["a", "b"], "r2": ["c"]})
    cache.link_records("card", "text", {"r1": ["c"]})
    cache.link_records("card", "generated-image", {"r1": ["a"]})
    ids, matrix = cache.record_vectors("card", "image")
    batch = cache.vectors_for("card", "image", ["r2", "r1", "unknown"])
    assert set(batch) == {"r1", "r2"}
    for row, rid in enumerate(ids):
        np.testing.assert_allclose(batch[rid], matrix[row], atol=2e-3)
    cache.forget_records("card", ["r1"])
    assert cache.record_vectors("card", "image")[0] == ["r2"]
    assert cache.record_vectors("card", "text")[0] == []
    assert cache.record_vectors("card", "generated-image")[0] == []


def test_a_crash_mid_write_leaves_the_cache_consistent(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    first = _unit(np.random.default_rng(1).normal(size=(2, 8)))
    cache.put_many("card", ["a", "b"], first)
    # A writer died after writing shard 2 (and a partial file) but before committing its rows.
    shards = tmp_path / "card" / "shards"
    (shards / "00000002.npy").write_bytes(b"torn")
    (shards / "00000002.partial").write_bytes(b"torn")
    assert cache.get_many("card", ["c"]) == {}
    second = _unit(np.random.default_rng(2).normal(size=(1, 8)))
    assert cache.put_many("card", ["c"], second) == 1
    got = cache.get_many("card", ["a", "c"])
    np.testing.assert_allclose(got["a"], first[0], atol=2e-3)
    np.testing.assert_allclose(got["c"], second[0], atol=2e-3)


def test_threads_write_one_cache_at_once(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    vectors = _unit(np.random.default_rng(3).normal(size=(80, 8)))
    keys = [f"k{i}" for i in range(80)]

    def write(part: int) -> None:
        for start in range(part * 20, part * 20 + 20, 5):
            cache.put_many("card", keys[start : start + 5], vectors[start : start + 5])

    threads = [threading.Thread(target=write, args=(part,)) for part in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = cache.get_many("card", keys)
    np.testing.assert_allclose(np.stack([got[k] for k in keys]), vectors, atol=2e-3)


# -- fetching and decoding ---------------------------------------------------------------------------------


def test_fetch_from_files_and_http(tmp_path: Path, image_server: tuple[str, Counter[str]]) -> None:
    base_url, _ = image_server
    (tmp_path / "blue image.png").write_bytes(BLUE)
    with ImageFetcher(FetchLimits(max_bytes=LIMIT_BYTES, timeout_s=1.0)) as fetcher:
        assert fetcher.read((tmp_path / "blue image.png").as_uri()) == BLUE  # file: URL, %20 and all
        assert fetcher.read(str(tmp_path / "blue image.png")) == BLUE
        assert fetcher.read(f"{base_url}/img/red.png") == RED


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/img/missing.png", "HTTP 404"),
        ("/big", "bytes declared, more than the limit of 20,000"),
        ("/big-stream", "more than the limit of 20,000 bytes"),
        ("/slow", "slower than the limit of 1 s"),
        ("/loop", "more than 3 redirects"),
    ],
)
def test_http_misbehaviour_is_refused_cleanly(image_server: tuple[str, Counter[str]], path: str, problem: str) -> None:
    base_url, _ = image_server
    limits = FetchLimits(max_bytes=LIMIT_BYTES, timeout_s=1.0)
    with ImageFetcher(limits) as fetcher, pytest.raises(ImageError) as caught:
        fetcher.read(base_url + path)
    assert problem in caught.value.problem
    assert caught.value.source == base_url + path


def test_files_and_schemes_that_are_refused(tmp_path: Path) -> None:
    (tmp_path / "large.png").write_bytes(bytes(LIMIT_BYTES + 1))
    with ImageFetcher(FetchLimits(max_bytes=LIMIT_BYTES)) as fetcher:
        for source, problem in [
            ((tmp_path / "none.png").as_uri(), "cannot read the file"),
            (tmp_path.as_uri(), "not a regular file"),
            ((tmp_path / "large.png").as_uri(), "20,001 bytes, more than the limit of 20,000"),
            ("ftp://example.org/a.png", "unsupported link scheme 'ftp'"),
        ]:
            with pytest.raises(ImageError) as caught:
                fetcher.read(source)
            assert problem in caught.value.problem


def test_the_deployment_host_and_file_policy(tmp_path: Path, image_server: tuple[str, Counter[str]]) -> None:
    base_url, _ = image_server  # http://127.0.0.1:PORT
    (tmp_path / "blue.png").write_bytes(BLUE)
    policy = make_settings(image_hosts=["127.0.0.1"], image_local_files=False)
    limits = FetchLimits.from_extra({"max_image_bytes": LIMIT_BYTES}, policy)
    assert (limits.allowed_hosts, limits.local_files, limits.max_bytes) == (("127.0.0.1",), False, LIMIT_BYTES)
    assert limits.host_allowed("https://127.0.0.1/a.png") and not limits.host_allowed("https://127.0.0.2/a.png")
    assert FetchLimits(allowed_hosts=("example.org",)).host_allowed("https://img.example.org/a.png")
    assert not FetchLimits(allowed_hosts=("example.org",)).host_allowed("https://badexample.org/a.png")
    localhost = base_url.replace("127.0.0.1", "localhost")
    with ImageFetcher(limits) as fetcher:
        assert fetcher.read(f"{base_url}/img/red.png") == RED
        for source, problem in [
            (f"{localhost}/img/red.png", "not among ENRICH_IMAGE_HOSTS"),
            (f"{base_url}/elsewhere?to={localhost}/img/red.png", "redirected to a host that is not among"),
            ((tmp_path / "blue.png").as_uri(), "local files are not read here"),
            (str(tmp_path / "blue.png"), "local files are not read here"),
        ]:
            with pytest.raises(ImageError) as caught:
                fetcher.read(source)
            assert problem in caught.value.problem, source


def test_decoding_checks_pixels_structure_and_flattens_transparency() -> None:
    clear = decode_image("clear.png", png((0, 0, 0), mode="RGBA"), max_pixels=10_000)
    assert clear.mode == "RGB" and clear.getpixel((5, 5)) == (255, 255, 255)  # transparent → white
    wide = io.BytesIO()
    Image.new("L", (4000, 3000)).save(wide, format="PNG")  # 12 Mpx in a few kilobytes
    assert len(wide.getvalue()) < 100_000
    with pytest.raises(ImageError, match="4000x3000 pixels, more than the limit of 1,000,000"):
        decode_image("wide.png", wide.getvalue(), max_pixels=1_000_000)
    with pytest.raises(ImageError, match="not a usable image"):
        decode_image("torn.png", RED[: len(RED) // 2], max_pixels=10_000)
    with pytest.raises(ImageError, match="not a usable image"):
        decode_image("text.png", b"hello, not an image", max_pixels=10_000)


def test_jpeg_decodes_at_reduced_scale_no_smaller_than_asked() -> None:
    big = io.BytesIO()
    Image.new("RGB", (1600, 1200), (10, 120, 200)).save(big, format="JPEG")
    image = decode_image("big.jpg", big.getvalue(), max_pixels=10_000_000, min_side=224)
    assert image.mode == "RGB" and min(image.size) >= 224 and image.size[0] < 1600


# -- record texts -----------------------------------------------------------------------------------------


def test_record_text_picks_fields_in_order_and_languages() -> None:
    view = RecordView(
        "r",
        "http://example.org/cho/r",
        {
            DC + "description": [FieldValue("청자 매병", "ko"), FieldValue("A celadon vase", "en")],
            DC + "title": [FieldValue("매병", "ko"), FieldValue("Maebyeong", "ko-Latn"), FieldValue("Vase", "en-GB")],
            DCTERMS + "medium": [FieldValue("porcelain")],
            DC + "type": [FieldValue("http://example.org/concept/vase", is_iri=True)],
        },
    )
    assert RecordText(["dc:title", "dc:description", "dcterms:medium"], ["en"])(view) == (
        "Vase. A celadon vase. porcelain"
    )
    assert RecordText(["dc:title"], ["ko"])(view) == "매병; Maebyeong"
    assert RecordText(["dc:title"], ["fr"])(view) == "매병; Maebyeong; Vase"  # none in French: every value
    assert RecordText(["dc:title", "dc:type"])(view) == "매병; Maebyeong; Vase"  # an unknown concept says nothing
    with pytest.raises(ValueError, match="not a property name"):
        RecordText(["title"])


# -- the embed enricher in a real run ----------------------------------------------------------------------


def _record(n: str, title: str, links: dict[str, str]) -> str:
    cho, agg = f"<{EX}cho/{n}>", f"<{EX}agg/{n}>"
    lines = [
        f"{cho} <{RDF_TYPE}> <{EDM}ProvidedCHO> .",
        f'{cho} <{DC}title> "{title}"@en .',
        f'{cho} <{DC}type> "vessel"@en .',
        f'{cho} <{EDM}type> "IMAGE" .',
        f"{agg} <{RDF_TYPE}> <{ORE}Aggregation> .",
        f"{agg} <{EDM}aggregatedCHO> {cho} .",
        f"{agg} <{EDM}isShownAt> <{EX}item/{n}> .",
        f'{agg} <{EDM}dataProvider> "Example Museum" .',
        f'{agg} <{EDM}provider> "Example Aggregator" .',
        f"{agg} <{EDM}rights> <http://creativecommons.org/licenses/by/4.0/> .",
    ]
    lines += [f"{agg} <{EDM}{predicate}> <{link}> ." for predicate, link in links.items()]
    return "\n".join(lines) + "\n"


def _write_records(folder: Path, base_url: str) -> dict[str, str]:
    """Records with images in every place and state; returns CHO number → what its image is."""
    (folder / "green.png").write_bytes(png((20, 200, 20)))
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")
    records = {
        "red": ("Red bowl", {"isShownBy": f"{base_url}/img/red.png"}),
        "red-copy": ("Red bowl, copy", {"isShownBy": f"{base_url}/img/red-copy.png"}),
        "green": ("Green jar", {"object": (folder / "green.png").as_uri(), "hasView": f"{base_url}/img/blue.png"}),
        "none": ("Bowl without a picture", {}),
        "missing": ("Lost picture", {"isShownBy": f"{base_url}/img/missing.png"}),
        "text": ("Notes", {"isShownBy": (folder / "notes.txt").as_uri()}),
        "big": ("Huge picture", {"isShownBy": f"{base_url}/big"}),
    }
    path = folder / "records.nt"
    path.write_text("".join(_record(n, title, links) for n, (title, links) in records.items()), encoding="utf-8")
    return {n: title for n, (title, _) in records.items()}


def _ids(store: Store) -> dict[str, str]:
    """CHO number → record id."""
    return {cho.rsplit("/", 1)[1]: rid for rid, cho, _, _ in list_records(store, GRAPHS, 100)}


def test_image_sources_follow_the_aggregation(tmp_path: Path) -> None:
    store = EmbeddedStore()
    _write_records(tmp_path, "http://images.example.org")
    ingest(store, [tmp_path / "records.nt"])
    ids = _ids(store)
    views = read_record_views(store, GRAPHS, sorted(ids.values()), frozenset())
    every = image_sources(store, GRAPHS, views, per_record=None)
    assert every[ids["green"]] == [(tmp_path / "green.png").as_uri(), "http://images.example.org/img/blue.png"]
    assert image_sources(store, GRAPHS, views)[ids["green"]] == [(tmp_path / "green.png").as_uri()]
    assert ids["none"] not in every


def _card(tiny_clip: ModelSpec, folder: Path) -> tuple[Path, ModelSpec]:
    """The tiny CLIP's card with small fetch limits, written as a YAML file."""
    spec = ModelSpec(**{**tiny_clip.as_json(), "extra": {"max_image_bytes": LIMIT_BYTES, "fetch_timeout_s": 2}})
    path = spec.save(folder / "tiny-clip.yaml")
    return path, load_spec(path)


def _count_calls(monkeypatch: pytest.MonkeyPatch, target: object, name: str, calls: Counter[str]) -> None:
    original = getattr(target, name)

    def counted(*args: object) -> object:
        calls[name] += 1
        return original(*args)

    monkeypatch.setattr(target, name, counted)


def test_embed_run_fills_the_cache_and_a_rerun_computes_nothing(
    store: Store,
    tmp_path: Path,
    tiny_clip: ModelSpec,
    image_server: tuple[str, Counter[str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base_url, hits = image_server
    titles = _write_records(tmp_path, base_url)
    ingest(store, [tmp_path / "records.nt"])
    ids = _ids(store)
    card_path, spec = _card(tiny_clip, tmp_path)
    settings = make_settings(data_dir=str(tmp_path / "data"))
    definition = RunDefinition.of([EnricherSpec("embed", {"cards": [str(card_path)], "images_per_record": 0})])
    encoder = load_image_encoder(spec)
    calls: Counter[str] = Counter()
    _count_calls(monkeypatch, encoder, "encode_pixels", calls)
    _count_calls(monkeypatch, encoder, "encode_texts", calls)
    before = hits.copy()

    with caplog.at_level(logging.WARNING, logger="enrich.embeddings"):
        summary = run_enrichment(store, GRAPHS, definition, settings=settings, batch_size=4)
    assert summary.finished and summary.records_seen == len(titles)
    assert summary.counts.new == 0  # vectors, not suggestions
    for n, problem in [("missing", "HTTP 404"), ("text", "not a usable image"), ("big", "bytes declared")]:
        assert any(ids[n] in r.message and problem in r.message for r in caplog.records), (n, caplog.text)

    cache = cache_for(settings)
    image_ids, images = cache.record_vectors(spec.hash, "image")
    assert image_ids == sorted(ids[n] for n in ("red", "red-copy", "green"))
    # The red bowl's vector is the model's for its image; the copy (same bytes, another URL) shares it.
    red = encoder.encode_images([decode_image("red", RED, 10_000)])[0]
    np.testing.assert_allclose(images[image_ids.index(ids["red"])], red, atol=3e-3)
    np.testing.assert_allclose(images[image_ids.index(ids["red-copy"])], red, atol=3e-3)
    text_ids, texts = cache.record_vectors(spec.hash, "text")
    assert text_ids == sorted(ids.values())
    expected = load_text_encoder(spec).encode_texts([f"{titles['none']}. vessel"])[0]
    np.testing.assert_allclose(texts[text_ids.index(ids["none"])], expected, atol=3e-3)
    assert cache.stats(spec.hash)["vectors"] == 3 + len(titles)  # red, green, blue; one text each
    assert (tmp_path / "data" / "embeddings" / spec.hash / "card.json").is_file()
    first_pixels, first_texts = calls["encode_pixels"], calls["encode_texts"]
    assert first_pixels >= 1 and first_texts >= 1
    fetched = hits - before
    assert fetched["red.png"] == fetched["blue.png"] == 1

    # Again, as a new run: nothing is computed, and no image that worked is fetched again.
    before = hits.copy()
    again = run_enrichment(store, GRAPHS, definition, settings=settings, batch_size=4)
    assert again.finished and again.run_id != summary.run_id
    assert (calls["encode_pixels"], calls["encode_texts"]) == (first_pixels, first_texts)
    assert (hits - before).keys() <= {"missing.png"}  # only the failures are tried again
    assert cache.record_vectors(spec.hash, "image")[0] == image_ids

    # A changed file is noticed (size and mtime) and embedded once.
    (tmp_path / "green.png").write_bytes(png((20, 220, 20), size=(41, 30)))
    run_enrichment(store, GRAPHS, definition, settings=settings, batch_size=4)
    assert calls["encode_pixels"] == first_pixels + 1
    assert cache.stats(spec.hash)["vectors"] == 4 + len(titles)


def _context(tmp_path: Path) -> EnrichmentContext:
    settings = make_settings(data_dir=str(tmp_path / "data"))
    return EnrichmentContext(EmbeddedStore(), GRAPHS, settings, {}, {}, "")


def test_embed_configuration_errors_are_clear(tmp_path: Path, tiny_text_encoder: ModelSpec) -> None:
    context = _context(tmp_path)
    with pytest.raises(InputError, match="modalities must be image and/or text"):
        get_enricher("embed", context=context, cards=[tiny_text_encoder], modalities=["sound"])
    with pytest.raises(ModelCardError, match="no bundled card of that name"):
        get_enricher("embed", context=context, card="no-such-card")
    classifier = ModelSpec(name="heads", kind="classifier", source=f"local-dir:{tmp_path}")
    with pytest.raises(InputError, match="a classifier card computes no embeddings"):
        get_enricher("embed", context=context, cards=[classifier])
    with pytest.raises(InputError, match="not a property name"):
        get_enricher("embed", context=context, cards=[tiny_text_encoder], fields=["title"])
    with pytest.raises(InputError, match=r"unknown setting\(s\) modality \(known: card, cards, fields"):
        get_enricher("embed", context=context, cards=[tiny_text_encoder], modality=["text"])
    with pytest.raises(InputError, match="images_per_record must be a whole number, not '2'"):
        get_enricher("embed", context=context, cards=[tiny_text_encoder], images_per_record="2")


def test_embed_settings_name_the_cards_and_text_cards_read_only_their_fields(
    tmp_path: Path, tiny_text_encoder: ModelSpec, tiny_clip: ModelSpec
) -> None:
    context = _context(tmp_path)
    text_only = get_enricher("embed", context=context, cards=[tiny_text_encoder], fields=["dc:title"])
    assert text_only.reads == frozenset({DC + "title"})
    assert text_only.settings()["cards"] == {tiny_text_encoder.name: tiny_text_encoder.hash}
    images_only = get_enricher("embed", context=context, cards=[tiny_clip], modalities=["image"])
    assert images_only.reads == frozenset()  # images come from the aggregation, not the record view
    assert images_only.model_card().config_hash != text_only.model_card().config_hash
    assert images_only.enrich([]) == []
