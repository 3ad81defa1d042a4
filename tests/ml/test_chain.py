"""The whole chain in one run (issue 7): ``translate,generate,embed,classify`` over a small Korean museum sample
(CATS-like fields: name, period, material, in Korean with Hanja) with tiny offline models.

Each enricher of a batch runs after the one before it has written its suggestions, so ``generate`` prompts
with this run's pending translations (and cites their nodes) and ``embed`` embeds the images ``generate``
just made, linked as generated so the real-image vectors stay the provider's images only. ``classify``
closes the chain with a tiny head trained beforehand (on a labelled synthetic collection's vectors under the
same tiny CLIP card), reading the image vectors ``embed`` wrote in the same run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from enrich.classify.artefact import TrainedClassifier, save
from enrich.classify.features import embedding_features
from enrich.classify.pipeline import TrainRequest, train_classifier
from enrich.classify.train import TrainConfig
from enrich.embeddings import record_vectors
from enrich.embeddings.cache import GENERATED_IMAGE
from enrich.enrichers.base import read_record_views
from enrich.generation.enricher import generated_images
from enrich.ingest.errors import InputError
from enrich.jobs.run import EnricherSpec, RunDefinition, RunSummary, run_enrichment, stored_definition
from enrich.models.cards import ModelSpec, load_spec
from enrich.namespaces import DC, DCTERMS, EDM, ENR, ORE, PROV, RDF, RDF_TYPE
from enrich.records_admin import list_records
from enrich.review import list_suggestions
from enrich.settings import Settings
from enrich.store.base import Store, text
from enrich.store.embedded import EmbeddedStore
from tests.ingest.support import GRAPHS, ingest, make_settings
from tests.ml.test_classify_store import (
    LEAVES,
    V,
    ingest_lines,
    load_test_vocabulary,
    put_vectors,
    record_lines,
)
from tests.ml.tiny_diffusion import tiny_diffusion_spec
from tests.ml.tiny_translation import tiny_marian_spec

EX = "http://example.org/"
#: name → (title, period, material), as a Korean catalogue writes them (Hanja in brackets).
RECORDS = {
    "maebyeong": ("청자 상감운학문 매병 (靑磁象嵌雲鶴文梅甁)", "고려 (高麗)", "청자 (靑磁)"),
    "moonjar": ("백자 달항아리 (白磁壺)", "조선 (朝鮮)", "백자 (白磁)"),
    "buncheong": ("분청사기 철화 어문 항아리 (粉靑沙器鐵畫魚文壺)", "조선 (朝鮮)", "분청사기 (粉靑沙器)"),
}
#: The random translator renders every title alike; an English object type per record keeps the prompts
#: (and so the content-addressed images) apart.
TYPES = {"maebyeong": "vase", "moonjar": "jar", "buncheong": "pot", "box": "box"}
#: A record with a photograph of its own: generate skips it, embed embeds it as a real image.
PHOTOGRAPHED = "box"


@dataclass
class Chain:
    store: Store
    settings: Settings
    ids: dict[str, str]
    clip: ModelSpec
    classifier: TrainedClassifier
    summary: RunSummary


def _edm(photo: Path) -> str:
    lines: list[str] = []
    rows = {**RECORDS, PHOTOGRAPHED: ("나전 칠기 상자 (螺鈿漆器箱子)", "조선 (朝鮮)", "나전칠기 (螺鈿漆器)")}
    for name, (title, period, material) in rows.items():
        cho, agg = f"<{EX}cho/{name}>", f"<{EX}agg/{name}>"
        lines += [
            f"{cho} <{RDF_TYPE}> <{EDM}ProvidedCHO> .",
            f'{cho} <{EDM}type> "IMAGE" .',
            f'{cho} <{DC}title> "{title}"@ko .',
            f'{cho} <{DCTERMS}temporal> "{period}"@ko .',
            f'{cho} <{DCTERMS}medium> "{material}"@ko .',
            f'{cho} <{DC}type> "{TYPES[name]}"@en .',
            f"{agg} <{RDF_TYPE}> <{ORE}Aggregation> .",
            f"{agg} <{EDM}aggregatedCHO> {cho} .",
            f"{agg} <{EDM}isShownAt> <{EX}page/{name}> .",
            f'{agg} <{EDM}dataProvider> "Example Museum" .',
            f'{agg} <{EDM}provider> "Example Aggregator" .',
            f"{agg} <{EDM}rights> <http://creativecommons.org/licenses/by/4.0/> .",
        ]
        if name == PHOTOGRAPHED:
            lines.append(f"{agg} <{EDM}isShownBy> <{photo.resolve().as_uri()}> .")
    return "\n".join(lines) + "\n"


def _train_classifier(root: Path, clip: ModelSpec) -> tuple[TrainedClassifier, Path]:
    """A tiny materials head over synthetic image vectors of the tiny CLIP card, trained on a labelled
    collection of its own (its own store and data directory, so the chain's caches hold only its records)."""
    store = EmbeddedStore()
    load_test_vocabulary(store, root)
    chosen = [leaf for _, leaf in LEAVES for _ in range(4)]
    lines = [line for i, leaf in enumerate(chosen) for line in record_lines(i, f"Object {i}", leaf)]
    ids = ingest_lines(store, root, lines)
    top_of = {leaf: top for top, leaf in LEAVES}
    truth = {ids[str(i)]: (top_of[leaf], leaf) for i, leaf in enumerate(chosen)}
    data_dir = str(root / "data")
    put_vectors(Path(data_dir), clip, truth, "image", dim=32, seed=1)
    request = TrainRequest("chain-classifier", ("materials",), ensemble=False)
    config = TrainConfig(epochs=6, min_support=1, seed=0, hidden=32)
    model = train_classifier(store, GRAPHS, embedding_features(data_dir, [clip]), request, config)
    store.close()
    return model, save(model, data_dir)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, tiny_clip: ModelSpec) -> Iterator[Chain]:
    tmp = tmp_path_factory.mktemp("chain")
    photo = tmp / "box.png"
    Image.new("RGB", (40, 40), (120, 80, 40)).save(photo)
    source = tmp / "records.nt"
    source.write_text(_edm(photo), encoding="utf-8")
    store = EmbeddedStore()
    ingest(store, [source])
    ids = {cho.rsplit("/", 1)[1]: rid for rid, cho, _, _ in list_records(store, GRAPHS, 100)}
    marian = tiny_marian_spec(tmp / "marian").save(tmp / "tiny-marian.yaml")
    diffusion = tiny_diffusion_spec(tmp / "diffusion").save(tmp / "tiny-diffusion.yaml")
    clip = tiny_clip.save(tmp / "tiny-clip.yaml")
    load_test_vocabulary(store, tmp)
    classifier, artefact = _train_classifier(tmp_path_factory.mktemp("labelled"), load_spec(clip))
    definition = RunDefinition.of(
        [
            EnricherSpec("translate", {"card": str(marian), "threshold": 0.0, "fields": ["dc:title"]}),
            EnricherSpec("generate", {"card": str(diffusion)}),
            EnricherSpec("embed", {"cards": [str(clip)], "modalities": ["image"]}),
            EnricherSpec("classify", {"model": str(artefact), "min_confidence": 0.0, "ensemble": False}),
        ]
    )
    settings = make_settings(data_dir=str(tmp / "data"))
    # Two batches: the chain runs per batch, and the checkpoint follows the last enricher.
    summary = run_enrichment(store, GRAPHS, definition, settings=settings, batch_size=2)
    yield Chain(store, settings, ids, tiny_clip, classifier, summary)


def _runs_of_suggestions(store: Store) -> set[str]:
    rows = store.select(
        f"SELECT DISTINCT ?run WHERE {{ GRAPH ?g {{ ?node a <{RDF}Statement> ; <{PROV}wasGeneratedBy> ?run }} }}"
    )
    return {text(row["run"]) for row in rows}


def test_one_run_translates_then_generates_from_the_pending_translations(chain: Chain) -> None:
    assert chain.summary.finished and chain.summary.records_seen == len(RECORDS) + 1
    assert _runs_of_suggestions(chain.store) == {chain.summary.run_iri}

    translations = list_suggestions(chain.store, GRAPHS, enricher="translate")
    assert {row.record_id for row in translations} == {chain.ids[n] for n in (*RECORDS, PHOTOGRAPHED)}
    assert all(row.predicate == DC + "title" and row.language == "en" for row in translations)

    views = read_record_views(chain.store, GRAPHS, list(chain.ids.values()))
    made = generated_images(chain.store, GRAPHS, views)
    # Every Korean-only record got an image from its pending translation; the photographed one did not.
    assert set(made) == {chain.ids[n] for n in RECORDS}
    for name in RECORDS:
        rid = chain.ids[name]
        (image,) = made[rid]
        (translation,) = (row for row in translations if row.record_id == rid)
        rows = chain.store.select(
            f"SELECT ?ev WHERE {{ GRAPH <{GRAPHS.suggestions(rid)}> {{ ?node <{RDF}subject> <{image}> ; "
            f"<{ENR}evidence> ?ev }} }}"
        )
        cited = [text(row["ev"]) for row in rows if "translation suggestion" in text(row["ev"])]
        assert len(cited) == 1 and translation.iri in cited[0] and translation.value in cited[0]


def test_generated_images_are_embedded_apart_from_real_ones(chain: Chain) -> None:
    spec_hash = chain.clip.hash
    real_ids, real = record_vectors(chain.settings, spec_hash, "image")
    assert real_ids == [chain.ids[PHOTOGRAPHED]] and real.shape == (1, 32)
    made_ids, made = record_vectors(chain.settings, spec_hash, GENERATED_IMAGE)
    assert made_ids == sorted(chain.ids[n] for n in RECORDS) and made.shape == (len(RECORDS), 32)
    # Generated links name the generated files, never the provider's photograph.
    views = read_record_views(chain.store, GRAPHS, made_ids)
    files = {rid: links for rid, links in generated_images(chain.store, GRAPHS, views).items()}
    for rid, links in files.items():
        assert all(link.startswith("file:") and link.endswith(f".png#{rid}") for link in links)


def test_classify_reads_this_runs_image_vectors_and_names_its_card(chain: Chain) -> None:
    classified = list_suggestions(chain.store, GRAPHS, enricher="classify")
    # Only the photographed record has a real image vector (generated ones are a source of their own).
    assert classified and {row.record_id for row in classified} == {chain.ids[PHOTOGRAPHED]}
    assert all(row.facet.endswith("materials") and row.value.startswith(V) for row in classified)
    model = chain.classifier
    for row in classified:
        rows = chain.store.select(f"SELECT ?p ?o WHERE {{ GRAPH <{row.graph}> {{ <{row.iri}> ?p ?o }} }}")
        props: dict[str, list[str]] = {}
        for found in rows:
            props.setdefault(text(found["p"]), []).append(text(found["o"]))
        assert props[PROV + "wasGeneratedBy"] == [chain.summary.run_iri]
        assert any(e.startswith(f"classifier {model.name} ({model.hash})") for e in props[ENR + "evidence"])
    cards = chain.store.select(
        f"SELECT ?name ?hash WHERE {{ GRAPH <{GRAPHS.runs}> {{ <{chain.summary.run_iri}> "
        f"<{PROV}wasAssociatedWith> ?agent . ?agent <{ENR}modelName> ?name ; <{ENR}configHash> ?hash }} }}"
    )
    assert (model.name, model.hash) in {(text(r["name"]), text(r["hash"])) for r in cards}


def test_a_rerun_of_the_chain_changes_no_suggestion(chain: Chain) -> None:
    before = {(row.iri, row.value, row.status) for row in list_suggestions(chain.store, GRAPHS)}
    definition = stored_definition(chain.store, GRAPHS, chain.summary.run_id)
    again = run_enrichment(chain.store, GRAPHS, definition, settings=chain.settings, batch_size=2)
    assert again.finished and again.counts.new == 0
    assert {(row.iri, row.value, row.status) for row in list_suggestions(chain.store, GRAPHS)} == before


def test_embed_can_leave_generated_images_out(chain: Chain, tmp_path: Path) -> None:
    settings = make_settings(data_dir=str(tmp_path / "data"))
    clip = chain.clip.save(tmp_path / "tiny-clip.yaml")
    config = {"cards": [str(clip)], "modalities": ["image"], "generated": False}
    summary = run_enrichment(chain.store, GRAPHS, RunDefinition.of([EnricherSpec("embed", config)]), settings=settings)
    assert summary.finished
    assert record_vectors(settings, chain.clip.hash, "image")[0] == [chain.ids[PHOTOGRAPHED]]
    assert record_vectors(settings, chain.clip.hash, GENERATED_IMAGE)[0] == []
    with pytest.raises(InputError, match="generated must be true or false"):
        run_enrichment(
            chain.store,
            GRAPHS,
            RunDefinition.of([EnricherSpec("embed", {**config, "generated": "no"})]),
            settings=settings,
        )


def test_classifier_features_keep_generated_images_apart() -> None:
    from enrich.classify.features import cache_modality, modalities_of
    from enrich.ingest.errors import InputError
    from enrich.models.cards import ModelSpec

    clip = ModelSpec(name="c", kind="clip", source="local-dir:/nowhere", version="1")
    assert modalities_of(clip) == ("image", "text")
    assert modalities_of(clip, generated=True) == ("image", "text", "generated-image")
    assert cache_modality("generated-image") == "generated-image"
    with pytest.raises(InputError, match="not a modality"):
        cache_modality("sound")
