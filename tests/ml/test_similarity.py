"""Similarity: the vector index against brute force (exact, float16, HNSW), its files, the indexes built from
the embedding cache, the store filters, and ``enrich similar`` run in-process against a real store.

The helpers at the top (records with images in a store, vectors put into the cache) serve the REST tests too.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from enrich.embeddings import cache_for
from enrich.embeddings.cache import Modality, content_hash
from enrich.ingest.errors import InputError
from enrich.models.cards import ModelSpec
from enrich.namespaces import DC, DCTERMS, EDM, ORE, RDF_TYPE, Graphs
from enrich.records_admin import RecordNotFound, delete_records, list_records
from enrich.settings import Settings
from enrich.similarity import commands
from enrich.similarity.filters import Filters, allowed_records
from enrich.similarity.index import IndexOptions, VectorIndex, ann_available
from enrich.similarity.search import (
    NoIndex,
    SimilarQuery,
    find_similar,
    forget_open_indexes,
    index_folder,
    open_index,
    resolve_card,
)
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from enrich.vocab import loader
from tests.ingest.support import GRAPHS, ingest, make_settings

EX = "http://example.org/"
KM = "https://w3id.org/heritage-enrich/vocab/korean-museum/material/"
#: name → (title, provider, dataset, material concept)
RECORDS: dict[str, tuple[str, str, str, str]] = {
    "bell": ("Bronze bell", "Aggregator A", "bells", KM + "bronze"),
    "mirror": ("Bronze mirror", "Aggregator A", "mirrors", KM + "bronze"),
    "crown": ("Gold crown", "Aggregator B", "crowns", KM + "gold"),
    "vase": ("Celadon vase", "Aggregator B", "vases", KM + "celadon"),
    "bowl": ("White porcelain bowl", "Aggregator A", "bowls", KM + "white-porcelain"),
    "jar": ("Celadon jar", "Aggregator B", "vases", KM + "celadon"),
}
COLOURS: dict[str, tuple[int, int, int]] = {
    "bell": (180, 120, 40),
    "mirror": (170, 115, 45),
    "crown": (230, 200, 30),
    "vase": (90, 160, 140),
    "bowl": (245, 245, 240),
    "jar": (85, 150, 135),
}


# -- helpers (shared with tests/api/test_similar.py) -------------------------------------------------------


def unit(rows: npt.ArrayLike) -> npt.NDArray[np.float32]:
    matrix = np.atleast_2d(np.asarray(rows, dtype=np.float32))
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def clustered(count: int, dim: int, seed: int, clusters: int = 20) -> npt.NDArray[np.float32]:
    """Unit vectors around a few centres (the same centres for every seed)."""
    centres = np.random.default_rng(99).normal(size=(clusters, dim))
    rng = np.random.default_rng(seed)
    return unit(centres[rng.integers(0, clusters, count)] + 0.4 * rng.normal(size=(count, dim)))


def png(colour: tuple[int, int, int], size: tuple[int, int] = (40, 32)) -> bytes:
    image = Image.new("RGB", size, colour)
    image.paste((255 - colour[0], 255 - colour[1], 255 - colour[2]), (4, 4, 14, 14))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _record_nt(name: str, image: Path) -> str:
    title, provider, dataset, material = RECORDS[name]
    cho, agg = f"<{EX}cho/{name}>", f"<{EX}agg/{name}>"
    edm, ore, dc = EDM, ORE, DC
    return "\n".join(
        [
            f"{cho} <{RDF_TYPE}> <{edm}ProvidedCHO> .",
            f'{cho} <{dc}title> "{title}"@en .',
            f'{cho} <{dc}type> "object"@en .',
            f"{cho} <{DCTERMS}medium> <{material}> .",
            f'{cho} <{edm}type> "IMAGE" .',
            f"{agg} <{RDF_TYPE}> <{ore}Aggregation> .",
            f"{agg} <{edm}aggregatedCHO> {cho} .",
            f"{agg} <{edm}isShownBy> <{image.as_uri()}> .",
            f'{agg} <{edm}dataProvider> "Example Museum" .',
            f'{agg} <{edm}provider> "{provider}" .',
            f'{agg} <{edm}datasetName> "{dataset}" .',
            f"{agg} <{edm}rights> <http://creativecommons.org/licenses/by/4.0/> .",
        ]
    )


def seed_store(store: Store, folder: Path) -> dict[str, str]:
    """The Korean museum classes and the :data:`RECORDS` (each with a PNG of its colour); name → record id."""
    path = loader.bundled_vocabulary("korean-museum-classes")
    loader.load(store, GRAPHS, loader.read_file(path), "korean-museum-classes", f"bundled:{path.name}")
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, colour in COLOURS.items():
        image = folder / f"{name}.png"
        image.write_bytes(png(colour))
        lines.append(_record_nt(name, image))
    (folder / "records.nt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(store, [folder / "records.nt"])
    return {cho.rsplit("/", 1)[1]: rid for rid, cho, _, _ in list_records(store, GRAPHS, 100)}


def put_vectors(settings: Settings, spec: ModelSpec, modality: Modality, vectors: Mapping[str, npt.ArrayLike]) -> None:
    """Record vectors into the embedding cache, as the embed enricher leaves them."""
    cache = cache_for(settings)
    cache.describe(spec.hash, spec.as_json())
    keys = {rid: content_hash(f"{modality}:{rid}:{np.asarray(v).tobytes().hex()}") for rid, v in vectors.items()}
    cache.put_many(spec.hash, list(keys.values()), unit([vectors[rid] for rid in keys]))
    cache.link_records(spec.hash, modality, {rid: [key] for rid, key in keys.items()})


def card(name: str = "synthetic-card", dim: int = 8) -> ModelSpec:
    """A card that only names vectors put into the cache by hand (its model is never loaded)."""
    return ModelSpec(name=name, kind="clip", source="local-dir:/nonexistent", version="test", dim=dim)


def brute_force(matrix: npt.NDArray[np.float32], query: npt.NDArray[np.float32], k: int, rows: list[int]) -> list[int]:
    scores = matrix[rows] @ (query / np.linalg.norm(query))
    return [rows[i] for i in sorted(range(len(rows)), key=lambda i: (-scores[i], rows[i]))[:k]]


# -- the index ---------------------------------------------------------------------------------------------


def test_exact_search_is_brute_force_with_filters_and_exclusions() -> None:
    matrix = clustered(600, 24, seed=1)
    ids = [f"r{i:04d}" for i in range(600)]
    index = VectorIndex.build(ids, matrix * 3.0)  # rows are normalised on the way in
    queries = clustered(20, 24, seed=2)
    rng = np.random.default_rng(3)
    for query in queries:
        for k in (1, 10, 50):
            hits = index.search(query, k)
            assert [ids.index(rid) for rid, _ in hits] == brute_force(matrix, query, k, list(range(600)))
            np.testing.assert_allclose([s for _, s in hits], matrix[[ids.index(r) for r, _ in hits]] @ query, atol=1e-5)
        allowed = sorted(rng.choice(600, 40, replace=False).tolist())
        excluded = ids[allowed[0]]
        hits = index.search(query, 10, filter_ids={ids[i] for i in allowed} | {"not-indexed"}, exclude={excluded})
        assert [ids.index(rid) for rid, _ in hits] == brute_force(matrix, query, 10, allowed[1:])
        # Most rows allowed: scored all at once, same answer.
        many = sorted(rng.choice(600, 500, replace=False).tolist())
        hits = index.search(query, 5, filter_ids={ids[i] for i in many})
        assert [ids.index(rid) for rid, _ in hits] == brute_force(matrix, query, 5, many)
    assert len(index.search(queries[0], 1000)) == 600
    assert index.search(queries[0], 5, filter_ids=set()) == []
    assert len(index.search(queries[0], 600, exclude={ids[0]})) == 599


def test_float16_storage_keeps_the_neighbours(tmp_path: Path) -> None:
    matrix = clustered(500, 32, seed=4)
    ids = [f"r{i}" for i in range(500)]
    exact = VectorIndex.build(ids, matrix)
    half = VectorIndex.write(tmp_path / "half", ids, matrix, IndexOptions(storage="float16", ann_min_vectors=0))
    assert half.matrix.dtype == np.float16
    overlap = []
    for query in clustered(20, 32, seed=5):
        want = exact.search(query, 10)
        got = half.search(query, 10)
        overlap.append(len({r for r, _ in want} & {r for r, _ in got}) / 10)
        np.testing.assert_allclose(got[0][1], want[0][1], atol=2e-3)
    assert np.mean(overlap) >= 0.95


def test_the_index_is_written_mapped_and_replaced_atomically(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    matrix = clustered(300, 16, seed=6)
    ids = [f"r{i}" for i in range(300)]
    written = VectorIndex.write(folder, ids, matrix, IndexOptions(ann_min_vectors=0), {"vectors": 300}, {"x": 1})
    opened = VectorIndex.open(folder)
    assert isinstance(opened.matrix, np.memmap) and not opened.matrix.flags.writeable
    assert opened.meta is not None and opened.meta.count == 300 and opened.meta.source_state == {"vectors": 300}
    query = clustered(1, 16, seed=7)[0]
    assert opened.search(query, 7) == written.search(query, 7)
    first = {path.name for path in folder.iterdir()}

    VectorIndex.write(folder, ids[:100], matrix[:100], IndexOptions(ann_min_vectors=0))
    second = {path.name for path in folder.iterdir()}
    assert len(VectorIndex.open(folder)) == 100
    assert first & second == {"meta.json"}  # the old build's files are gone, nothing partial is left
    assert not any(name.endswith(".partial") for name in second)
    assert opened.search(query, 3) == written.search(query, 3)  # a reader of the old build still works


def test_bad_vectors_and_queries_are_refused(tmp_path: Path) -> None:
    index = VectorIndex.build(["a", "b"], [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="3 dimensions, the index 2"):
        index.search([1.0, 0.0, 0.0], 1)
    with pytest.raises(ValueError, match="zero or not finite"):
        index.search([0.0, 0.0], 1)
    with pytest.raises(ValueError, match="k must be at least 1"):
        index.search([1.0, 0.0], 0)
    with pytest.raises(ValueError, match="unique"):
        VectorIndex.build(["a", "a"], [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="zero vector"):
        VectorIndex.build(["a", "b"], [[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="NaN"):
        VectorIndex.write(tmp_path / "x", ["a"], [[np.nan, 1.0]])
    assert not (tmp_path / "x" / "meta.json").exists()


@pytest.mark.skipif(not ann_available(), reason="usearch is not installed")
def test_the_hnsw_graph_finds_the_exact_neighbours_and_reloads(tmp_path: Path) -> None:
    matrix = clustered(3000, 32, seed=8)
    ids = [f"r{i}" for i in range(3000)]
    options = IndexOptions(ann_min_vectors=1000, threads=1)
    built = VectorIndex.write(tmp_path / "ann", ids, matrix, options)
    assert built.ann is not None and built.meta is not None and built.meta.ann
    index = VectorIndex.open(tmp_path / "ann")
    assert index.ann is not None
    recall = []
    for query in clustered(30, 32, seed=9):
        truth = {rid for rid, _ in index.search(query, 10, exact=True)}
        found = index.search(query, 10, exclude={"r0"})
        assert "r0" not in {rid for rid, _ in found} and len(found) == 10
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        recall.append(len(truth & {rid for rid, _ in found}) / 10)
    assert np.mean(recall) >= 0.9
    # A large allowed set goes through the graph (over-fetching), a small one is searched exactly.
    index.exact_filter_max = 10
    allowed = {f"r{i}" for i in range(0, 3000, 2)}
    query = clustered(1, 32, seed=10)[0]
    found = index.search(query, 10, filter_ids=allowed)
    truth = index.search(query, 10, filter_ids=allowed, exact=True)
    assert {rid for rid, _ in found} <= allowed
    assert len({r for r, _ in found} & {r for r, _ in truth}) >= 8
    assert index.search(query, 3, filter_ids={"r5", "r7"}) == index.search(
        query, 3, filter_ids={"r5", "r7"}, exact=True
    )
    small = VectorIndex.write(tmp_path / "small", ids[:500], matrix[:500], options)
    assert small.ann is None  # below ann_min_vectors: exact only


# -- indexes built from the embedding cache ----------------------------------------------------------------


def test_indexes_are_built_from_the_cache_and_rebuilt_when_it_gains_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forget_open_indexes()
    settings = make_settings(data_dir=str(tmp_path / "data"))
    spec = card()
    with pytest.raises(NoIndex, match="run the embed enricher first"):
        open_index(settings, spec, "image")
    vectors = {f"r{i}": v for i, v in enumerate(clustered(40, 8, seed=11))}
    put_vectors(settings, spec, "image", vectors)
    index = open_index(settings, spec, "image")
    assert len(index) == 40 and index_folder(settings, spec.hash, "image").is_dir()
    assert open_index(settings, spec, "image") is index  # held by the process
    np.testing.assert_allclose(index.vector("r3"), vectors["r3"], atol=2e-3)  # the cache keeps float16

    put_vectors(settings, spec, "image", {"r-new": clustered(1, 8, seed=12)[0]})
    assert open_index(settings, spec, "image") is index  # trusted for FRESHNESS_S seconds
    monkeypatch.setattr("enrich.similarity.search.FRESHNESS_S", 0.0)
    rebuilt = open_index(settings, spec, "image")
    assert len(rebuilt) == 41 and rebuilt.vector("r-new") is not None
    forget_open_indexes()
    reopened = open_index(settings, spec, "image")  # a fresh process: the files on disk, no rebuild
    assert reopened.meta == rebuilt.meta
    with pytest.raises(NoIndex, match="no text vectors"):
        open_index(settings, spec, "text")


def test_cards_resolve_by_name_from_the_cache_and_paths_only_where_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(data_dir=str(tmp_path / "data"))
    assert resolve_card(settings, None).name == "clip-vit-b-32-laion2b"  # nothing cached: the default card
    only = card("only-card")
    put_vectors(settings, only, "image", {"a": [1.0] * 8})
    assert resolve_card(settings, None) == only  # the one card with vectors
    assert resolve_card(settings, "only-card") == only
    put_vectors(settings, card("other-card"), "image", {"a": [1.0] * 8})
    with pytest.raises(InputError, match="several cards have vectors"):
        resolve_card(settings, None)
    with pytest.raises(InputError, match="paths are not accepted"):
        resolve_card(settings, "/etc/passwd")
    only.save(tmp_path / "local.yaml")
    monkeypatch.chdir(tmp_path)  # a bare file name in the working directory is a path too
    with pytest.raises(InputError, match=r"no card named 'local\.yaml'"):
        resolve_card(settings, "local.yaml")
    path = only.save(tmp_path / "card.yaml")
    assert resolve_card(settings, str(path), allow_paths=True).name == "only-card"


# -- filters and queries against a store --------------------------------------------------------------------


def test_filters_select_records_by_provider_dataset_and_facet_value(store: Store, tmp_path: Path) -> None:
    ids = seed_store(store, tmp_path)
    assert allowed_records(store, GRAPHS, Filters()) is None
    assert allowed_records(store, GRAPHS, Filters(provider="Aggregator A")) == {
        ids[n] for n in ("bell", "mirror", "bowl")
    }
    assert allowed_records(store, GRAPHS, Filters(dataset="vases")) == {ids["vase"], ids["jar"]}
    assert allowed_records(store, GRAPHS, Filters(provider="Aggregator A", dataset="vases")) == set()
    metal = Filters(facet="korean-materials", concept=KM + "metal")  # bronze and gold are narrower
    assert allowed_records(store, GRAPHS, metal) == {ids[n] for n in ("bell", "mirror", "crown")}
    bronze = Filters(provider="Aggregator A", facet="korean-materials", concept=KM + "bronze")
    assert allowed_records(store, GRAPHS, bronze) == {ids["bell"], ids["mirror"]}
    with pytest.raises(InputError, match="not a concept of the korean-materials facet"):
        allowed_records(store, GRAPHS, Filters(facet="korean-materials", concept=EX + "nothing"))
    with pytest.raises(InputError, match="unknown facet"):
        allowed_records(store, GRAPHS, Filters(facet="no-such-facet", concept=KM + "metal"))
    with pytest.raises(InputError, match="needs both the facet and the concept"):
        Filters(facet="korean-materials")
    delete_records(store, GRAPHS, [ids["bell"]])
    assert allowed_records(store, GRAPHS, Filters(provider="Aggregator A")) == {ids["mirror"], ids["bowl"]}


def _synthetic_store(tmp_path: Path) -> tuple[EmbeddedStore, dict[str, str], Settings, ModelSpec]:
    """A store with the records, and hand-made image vectors: bell ≈ mirror, vase ≈ jar, the rest apart."""
    store = EmbeddedStore()
    ids = seed_store(store, tmp_path / "records")
    settings = make_settings(data_dir=str(tmp_path / "data"))
    spec = card()
    basis = np.eye(8)
    vectors = {
        ids["bell"]: basis[0],
        ids["mirror"]: basis[0] + 0.2 * basis[1],
        ids["crown"]: basis[0] + 1.5 * basis[2],
        ids["vase"]: basis[3],
        ids["jar"]: basis[3] + 0.1 * basis[4],
        ids["bowl"]: basis[5],
    }
    put_vectors(settings, spec, "image", vectors)
    forget_open_indexes()
    return store, ids, settings, spec


def test_similar_records_are_live_filtered_and_described(tmp_path: Path) -> None:
    store, ids, settings, spec = _synthetic_store(tmp_path)
    result = find_similar(store, GRAPHS, settings, SimilarQuery(record=ids["bell"]), k=3, card=spec.name)
    assert [hit.record_id for hit in result.hits] == [ids["mirror"], ids["crown"], ids["bowl"]]
    first = result.hits[0]
    assert first.cho == EX + "cho/mirror" and first.title == "Bronze mirror"
    assert first.record_iri == GRAPHS.record_node(ids["mirror"])
    assert first.score == pytest.approx(1 / np.sqrt(1.04), abs=2e-3)
    assert result.indexed == 6 and result.modality == "image" and result.card == spec.name
    # By CHO IRI, with a filter; deleted records never come back, even from an older index.
    by_iri = find_similar(
        store, GRAPHS, settings, SimilarQuery(record=EX + "cho/vase"), k=5, card=spec.name,
        filters=Filters(provider="Aggregator B"),
    )  # fmt: skip
    assert [hit.record_id for hit in by_iri.hits][:1] == [ids["jar"]]
    assert {hit.record_id for hit in by_iri.hits} == {ids["jar"], ids["crown"]}
    delete_records(store, GRAPHS, [ids["mirror"]])
    after = find_similar(store, GRAPHS, settings, SimilarQuery(record=ids["bell"]), k=2, card=spec.name)
    assert [hit.record_id for hit in after.hits] == [ids["crown"], ids["bowl"]]
    with pytest.raises(RecordNotFound):
        find_similar(store, GRAPHS, settings, SimilarQuery(record=ids["mirror"]), card=spec.name)
    with pytest.raises(RecordNotFound):
        find_similar(store, GRAPHS, settings, SimilarQuery(record=EX + "cho/unknown"), card=spec.name)
    with pytest.raises(InputError, match="between 1 and 1000"):
        find_similar(store, GRAPHS, settings, SimilarQuery(record=ids["bell"]), k=0, card=spec.name)
    with pytest.raises(InputError, match="exactly one"):
        SimilarQuery(record=ids["bell"], text="bronze")


def test_text_and_image_queries_go_through_the_cards_towers(tmp_path: Path, tiny_clip: ModelSpec) -> None:
    """With the tiny CLIP: a record's own image finds the record; its title's text vector is a text query."""
    from enrich.embeddings.texts import RecordText
    from enrich.enrichers.base import read_record_views
    from enrich.jobs.run import EnricherSpec, RunDefinition, run_enrichment
    from enrich.vocab.loader import read_trees

    store = EmbeddedStore()
    ids = seed_store(store, tmp_path / "records")
    settings = make_settings(data_dir=str(tmp_path / "data"))
    card_path = str(tiny_clip.save(tmp_path / "tiny-clip.yaml"))
    run_enrichment(store, GRAPHS, RunDefinition.of([EnricherSpec("embed", {"card": card_path})]), settings=settings)
    forget_open_indexes()
    image = (tmp_path / "records" / "crown.png").read_bytes()
    by_image = find_similar(store, GRAPHS, settings, SimilarQuery(image=image), k=6, card=tiny_clip.name)
    assert by_image.hits[0].record_id == ids["crown"] and by_image.hits[0].score == pytest.approx(1.0, abs=5e-3)
    assert by_image.query == f"image ({len(image):,} bytes)"
    (view,) = read_record_views(store, GRAPHS, [ids["jar"]])
    jar_text = RecordText(trees=read_trees(store, GRAPHS))(view)  # what the embed enricher embedded
    by_text = find_similar(
        store, GRAPHS, settings, SimilarQuery(text=jar_text), k=1, card=tiny_clip.name, modality="text"
    )
    assert by_text.hits[0].record_id == ids["jar"] and by_text.hits[0].score == pytest.approx(1.0, abs=5e-3)
    cross = find_similar(store, GRAPHS, settings, SimilarQuery(text="a gold crown"), k=6, card=tiny_clip.name)
    assert cross.modality == "image" and len(cross.hits) == 6  # text against images: one space
    with pytest.raises(InputError, match="not a usable image"):
        find_similar(store, GRAPHS, settings, SimilarQuery(image=b"not an image"), card=tiny_clip.name)
    with pytest.raises(InputError, match="the query text is empty"):
        find_similar(store, GRAPHS, settings, SimilarQuery(text="  "), card=tiny_clip.name)


# -- the command -------------------------------------------------------------------------------------------


def _run_command(argv: list[str], settings: Settings, store: Store, graphs: Graphs) -> int:
    parser = argparse.ArgumentParser(prog="enrich")
    commands.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return commands.HANDLERS[args.command](args, settings, store, graphs)


def test_the_similar_command_prints_ids_chos_titles_and_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, ids, settings, spec = _synthetic_store(tmp_path)
    assert _run_command(["similar", ids["bell"], "--card", spec.name, "--k", "2"], settings, store, GRAPHS) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"record {ids['bell']}: 2 of 6 image vectors (synthetic-card; filters: none)")
    score, rid, cho, title = lines[1].split("\t")
    assert (rid, cho, title) == (ids["mirror"], EX + "cho/mirror", "Bronze mirror") and float(score) > 0.9
    argv = ["similar", EX + "cho/bell", "--card", spec.name, "--json", "--facet", "korean-materials"]
    argv += ["--concept", KM + "metal", "--provider", "Aggregator B"]
    assert _run_command(argv, settings, store, GRAPHS) == 0
    data = json.loads(capsys.readouterr().out)
    assert [item["id"] for item in data["items"]] == [ids["crown"]]
    assert data["filters"] == {"provider": "Aggregator B", "facet": "korean-materials", "concept": KM + "metal"}
    assert _run_command(["similar", "--build", "--card", spec.name], settings, store, GRAPHS) == 0
    assert "6 records indexed, exact search only" in capsys.readouterr().out
    with pytest.raises(InputError, match="give a RECORD"):
        _run_command(["similar", "--card", spec.name], settings, store, GRAPHS)
    with pytest.raises(InputError, match="cannot read the image"):
        _run_command(["similar", "--image", str(tmp_path / "missing.png")], settings, store, GRAPHS)
    with pytest.raises(NoIndex, match="no text vectors"):
        _run_command(["similar", ids["bell"], "--card", spec.name, "--modality", "text"], settings, store, GRAPHS)
