"""The ``generate`` enricher with a tiny random diffusers pipeline (offline): prompts from English text or
translation suggestions, seeded determinism, content-addressed PNGs, the synthetic WebResource and its
provenance, records with images skipped, the record page's AI-generated mark, and which exports carry it."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

from api.web.record_view import images
from enrich.embeddings.images import local_path
from enrich.enrichers import get_enricher
from enrich.enrichers.base import EnrichmentContext, RecordView, read_record_views
from enrich.export import export_view
from enrich.generation.enricher import FACET, IPTC_SOURCE_TYPE, TRAINED_ALGORITHMIC_MEDIA, generated_images
from enrich.generation.pipeline import TextToImage
from enrich.generation.prompts import record_prompts
from enrich.generation.storage import image_path
from enrich.ingest.errors import InputError
from enrich.jobs.run import EnricherSpec, RunDefinition, RunSummary, run_enrichment
from enrich.models.cards import ModelSpec, load_spec
from enrich.namespaces import DC, DCTERMS, EDM, ENR, ORE, PROV, RDF, RDF_TYPE, SKOS
from enrich.provenance import ProvenanceWriter
from enrich.records_admin import list_records
from enrich.review import approve
from enrich.settings import Settings
from enrich.store.base import Store, text
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import ModelCard, SuggestedValue, Suggestion
from tests.api.oai_support import make_app, serve
from tests.ingest.support import GRAPHS, ingest, make_settings
from tests.ml.tiny_diffusion import TINY_SIZE, tiny_diffusion_spec

EX = "http://example.org/"
PERIOD = EX + "period/goryeo"
HOST = "data.heritage-enrich.example"


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> ModelSpec:
    return tiny_diffusion_spec(tmp_path_factory.mktemp("tiny-diffusion"))


def _record(n: str, literals: dict[str, list[str]], image: bool = False, period: bool = False) -> str:
    cho, agg = f"<{EX}cho/{n}>", f"<{EX}agg/{n}>"
    lines = [f"{cho} <{RDF_TYPE}> <{EDM}ProvidedCHO> .", f'{cho} <{EDM}type> "IMAGE" .']
    for predicate, values in literals.items():
        lines += [f"{cho} <{predicate}> {value} ." for value in values]
    if period:
        lines += [
            f"{cho} <{DCTERMS}temporal> <{PERIOD}> .",
            f"<{PERIOD}> <{RDF_TYPE}> <{EDM}TimeSpan> .",
            f'<{PERIOD}> <{SKOS}prefLabel> "Goryeo dynasty"@en .',
            f'<{PERIOD}> <{SKOS}prefLabel> "고려"@ko .',
        ]
    lines += [
        f"{agg} <{RDF_TYPE}> <{ORE}Aggregation> .",
        f"{agg} <{EDM}aggregatedCHO> {cho} .",
        f'{agg} <{EDM}dataProvider> "National Museum" .',
        f'{agg} <{EDM}provider> "Example Aggregator" .',
        f"{agg} <{EDM}rights> <http://creativecommons.org/licenses/by/4.0/> .",
    ]
    # A web page is no image: only isShownBy/object/hasView count as the object's own.
    lines.append(f"{agg} <{EDM}isShownAt> <{EX}page/{n}> .")
    if image:
        lines.append(f"{agg} <{EDM}isShownBy> <{EX}img/{n}.jpg> .")
    return "\n".join(lines) + "\n"


RECORDS = {
    # English text, type, material and a period concept with labels: the full prompt.
    "jar": (
        {DC + "title": ['"Celadon jar"@en'], DC + "type": ['"jar"@en'], DCTERMS + "medium": ['"stoneware"@en']},
        False,
        True,
    ),
    # Korean only, with a pending English translation suggestion of its title.
    "vase": (
        {DC + "title": ['"청자 상감운학문 매병"@ko'], DC + "type": ['"vase"@en'], DCTERMS + "medium": ['"celadon"@en']},
        False,
        False,
    ),
    # An image of its own: skipped however much text it has.
    "bell": ({DC + "title": ['"Bronze bell"@en'], DC + "type": ['"bell"@en']}, True, False),
    # No English text and no translation: nothing to prompt with.
    "blank": ({DC + "title": ['"백자 항아리"@ko'], DC + "type": ['"항아리"@ko']}, False, False),
}
VASE_EN = "Celadon maebyeong with inlaid cranes"


@dataclass
class World:
    store: Store
    settings: Settings
    ids: dict[str, str]
    spec: ModelSpec
    card: Path
    summary: RunSummary


def _suggest_translation(store: Store, record_id: str) -> None:
    """A pending ``dc:title "…"@en`` suggestion, as the translate enricher would write it."""
    writer = ProvenanceWriter(store, GRAPHS)
    card = ModelCard("tiny-marian", "1", "0" * 16)
    run = writer.start_run(["translate"], [card], "test", "")
    cho = f"{EX}cho/vase"
    value = SuggestedValue(VASE_EN, is_iri=False, language="en")
    writer.write(run, [Suggestion(record_id, cho, DC + "title", value, "translation", 0.8, "translate", card)])


def _run(world_store: Store, settings: Settings, card: Path) -> RunSummary:
    definition = RunDefinition.of([EnricherSpec("generate", {"card": str(card)})])
    return run_enrichment(world_store, GRAPHS, definition, settings=settings, batch_size=10)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, tiny_pipeline: ModelSpec) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("generation")
    source = tmp / "records.nt"
    source.write_text("".join(_record(n, *spec) for n, spec in RECORDS.items()), encoding="utf-8")
    store = EmbeddedStore()
    ingest(store, [source])
    ids = {cho.rsplit("/", 1)[1]: rid for rid, cho, _, _ in list_records(store, GRAPHS, 100)}
    _suggest_translation(store, ids["vase"])
    card = tiny_pipeline.save(tmp / "tiny-diffusion.yaml")
    settings = make_settings(data_dir=str(tmp / "data"))
    summary = _run(store, settings, card)
    yield World(store, settings, ids, load_spec(card), card, summary)


def _resources(store: Store, record_id: str) -> dict[str, dict[str, list[str]]]:
    """The web resources in a record's suggestions graph: IRI → predicate → values."""
    out: dict[str, dict[str, list[str]]] = {}
    for row in store.select(
        f"SELECT ?wr ?p ?o WHERE {{ GRAPH <{GRAPHS.suggestions(record_id)}> {{ "
        f"?wr a <{EDM}WebResource> ; ?p ?o }} }} ORDER BY ?wr ?p ?o"
    ):
        out.setdefault(text(row["wr"]), {}).setdefault(text(row["p"]), []).append(text(row["o"]))
    return out


def _only(store: Store, record_id: str) -> tuple[str, dict[str, list[str]]]:
    found = _resources(store, record_id)
    assert len(found) == 1, found
    return next(iter(found.items()))


def test_records_without_images_get_a_synthetic_web_resource(world: World) -> None:
    assert world.summary.finished
    assert world.summary.counts.new == 2  # jar and vase; bell has an image, blank has no English text
    assert _resources(world.store, world.ids["bell"]) == {} and _resources(world.store, world.ids["blank"]) == {}

    iri, props = _only(world.store, world.ids["jar"])
    assert props[IPTC_SOURCE_TYPE] == [TRAINED_ALGORITHMIC_MEDIA]
    assert props[DC + "format"] == ["image/png"]
    assert props[PROV + "wasDerivedFrom"] == [f"{EX}cho/jar"]
    (prompt,) = props[DCTERMS + "description"]
    assert prompt.startswith("Celadon jar. ")
    for part in ("type: jar", "material: stoneware", "period: Goryeo dynasty", "studio photograph"):
        assert part in prompt
    assert "고려" not in prompt  # English labels only
    (note,) = props[DC + "description"]
    assert "seed 1234" in note and "2 steps" in note and "32x32" in note and "negative prompt: blurry" in note

    # Content-addressed under the data directory: the IRI is the file (the file name its SHA-256) with the
    # record id as fragment, and the embed side's file reader still finds the PNG through it.
    (digest,) = (value.removeprefix("sha256:") for value in props[DCTERMS + "identifier"])
    path = image_path(world.settings.data_dir, digest)
    assert iri == f"{path.resolve().as_uri()}#{world.ids['jar']}"
    assert local_path(iri) == path.resolve()
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", (TINY_SIZE, TINY_SIZE))

    # Attributed to the run's model card, which names the enricher and carries the card's hash.
    (agent,) = props[PROV + "wasAttributedTo"]
    card_rows = world.store.select(
        f"SELECT ?name ?hash WHERE {{ GRAPH <{GRAPHS.runs}> {{ <{world.summary.run_iri}> "
        f"<{PROV}wasAssociatedWith> <{agent}> . <{agent}> <{ENR}modelName> ?name ; <{ENR}configHash> ?hash }} }}"
    )
    assert [text(row["name"]) for row in card_rows] == ["generate"]


def _suggestion_of(store: Store, record_id: str, resource: str) -> dict[str, list[str]]:
    rows = store.select(
        f"SELECT ?p ?o WHERE {{ GRAPH <{GRAPHS.suggestions(record_id)}> {{ ?node <{RDF}subject> <{resource}> ; "
        f"?p ?o }} }}"
    )
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(text(row["p"]), []).append(text(row["o"]))
    return out


def test_prompt_from_a_translation_suggestion_is_recorded_as_such(world: World) -> None:
    iri, props = _only(world.store, world.ids["vase"])
    (prompt,) = props[DCTERMS + "description"]
    assert prompt.startswith(VASE_EN + ". type: vase; material: celadon")
    assert "청자" not in prompt
    suggestion = _suggestion_of(world.store, world.ids["vase"], iri)
    assert suggestion[ENR + "facet"] == [f"https://w3id.org/heritage-enrich/facet/{FACET}"]
    assert suggestion[PROV + "wasGeneratedBy"] == [world.summary.run_iri]
    assert suggestion[RDF + "object"] == [prompt]
    evidence = suggestion[ENR + "evidence"]
    translated = [e for e in evidence if e.startswith("dc:title@en (translation suggestion ")]
    assert len(translated) == 1 and "Pending" in translated[0] and VASE_EN in translated[0]
    spec = world.spec
    assert f"card: {spec.name} {spec.version} ({spec.hash})" in evidence
    assert any(e.startswith("generation: seed 1234") for e in evidence)
    assert f"prompt: {prompt}" in evidence


def test_generation_is_deterministic_and_a_rerun_reuses_the_images(world: World) -> None:
    before = {n: _only(world.store, world.ids[n])[0] for n in ("jar", "vase")}
    views = read_record_views(world.store, GRAPHS, [world.ids["jar"]])
    model = TextToImage(world.spec)
    (prompt,) = record_prompts(world.store, GRAPHS, views, model.settings.prompt_suffix)
    first, second = model.generate([prompt.text]), model.generate([prompt.text])
    assert first == second  # same seed, same prompt: same bytes, so the same content address
    assert before["jar"].endswith(f"/{hashlib.sha256(first[0]).hexdigest()}.png#{world.ids['jar']}")

    files = sorted(Path(world.settings.data_dir).rglob("*.png"))
    again = _run(world.store, world.settings, world.card)
    assert again.counts.new == 0 and again.counts.updated == 2  # the same suggestions, now cited by both runs
    assert {n: _only(world.store, world.ids[n])[0] for n in ("jar", "vase")} == before
    assert sorted(Path(world.settings.data_dir).rglob("*.png")) == files


def test_the_record_page_marks_the_image_as_generated(world: World) -> None:
    rid = world.ids["jar"]
    iri, _ = _only(world.store, rid)
    shown = images(world.store, GRAPHS, rid, f"{EX}cho/jar", world.store.read_graph(GRAPHS.record(rid)))
    assert [(image.url, image.generated, image.media_type) for image in shown] == [(iri, True, "image/png")]
    bell = world.ids["bell"]
    own = images(world.store, GRAPHS, bell, f"{EX}cho/bell", world.store.read_graph(GRAPHS.record(bell)))
    assert [(image.role, image.generated) for image in own] == [("isShownBy", False)]


def test_only_the_provenance_carrying_exports_include_the_image(world: World) -> None:
    rid = world.ids["jar"]
    iri, _ = _only(world.store, rid)
    enriched = export_view(world.store, GRAPHS, rid, "enriched", "turtle").decode("utf-8")
    assert "Celadon jar" in enriched and iri not in enriched and TRAINED_ALGORITHMIC_MEDIA not in enriched
    full = export_view(world.store, GRAPHS, rid, "full", "nquads").decode("utf-8")
    assert f"<{iri}> <{IPTC_SOURCE_TYPE}> <{TRAINED_ALGORITHMIC_MEDIA}> <{GRAPHS.suggestions(rid)}>" in full

    with serve(make_app(world.store)) as url, httpx.Client(timeout=30) as client:

        def get(prefix: str) -> str:
            params = {"verb": "GetRecord", "identifier": f"oai:{HOST}:{rid}", "metadataPrefix": prefix}
            response = client.get(url, params=params)
            assert response.status_code == 200
            return response.text

        edm, with_suggestions = get("edm"), get("edm-suggestions")
    assert "Celadon jar" in edm and iri not in edm and "trainedAlgorithmicMedia" not in edm
    assert iri in with_suggestions and "trainedAlgorithmicMedia" in with_suggestions

    # Approved, the prompt goes into the enrichment graph as a statement about the image, not the object:
    # plain EDM still walks from the CHO only, and the page still shows the image as generated.
    node = _suggestion_node(world.store, rid, iri)
    approve(world.store, GRAPHS, node, "reviewer")
    enriched = export_view(world.store, GRAPHS, rid, "enriched", "turtle").decode("utf-8")
    assert iri not in enriched
    with serve(make_app(world.store)) as url, httpx.Client(timeout=30) as client:
        params = {"verb": "GetRecord", "identifier": f"oai:{HOST}:{rid}", "metadataPrefix": "edm"}
        assert iri not in client.get(url, params=params).text
    shown = images(world.store, GRAPHS, rid, f"{EX}cho/jar", world.store.read_graph(GRAPHS.record(rid)))
    assert [(image.url, image.generated) for image in shown] == [(iri, True)]


def _suggestion_node(store: Store, record_id: str, resource: str) -> str:
    rows = store.select(
        f"SELECT ?node WHERE {{ GRAPH <{GRAPHS.suggestions(record_id)}> {{ ?node <{RDF}subject> <{resource}> }} }}"
    )
    (node,) = [text(row["node"]) for row in rows]
    return node


def test_generated_images_are_found_for_the_embed_side(world: World) -> None:
    views = read_record_views(world.store, GRAPHS, sorted(world.ids.values()))
    found = generated_images(world.store, GRAPHS, views)
    assert sorted(found) == sorted(world.ids[n] for n in ("jar", "vase"))
    assert found[world.ids["jar"]] == [_only(world.store, world.ids["jar"])[0]]


def test_records_with_identical_prompts_get_their_own_image_and_suggestion(
    tmp_path: Path, tiny_pipeline: ModelSpec
) -> None:
    twins = {n: ({DC + "title": ['"Plain bowl"@en'], DC + "type": ['"bowl"@en']}, False, False) for n in "ab"}
    source = tmp_path / "twins.nt"
    source.write_text("".join(_record(n, *spec) for n, spec in twins.items()), encoding="utf-8")
    store = EmbeddedStore()
    ingest(store, [source])
    ids = {cho.rsplit("/", 1)[1]: rid for rid, cho, _, _ in list_records(store, GRAPHS, 100)}
    settings = make_settings(data_dir=str(tmp_path / "data"))
    summary = _run(store, settings, tiny_pipeline.save(tmp_path / "tiny-diffusion.yaml"))
    assert summary.counts.new == 2  # one suggestion each, not one shared

    made = {n: _only(store, ids[n]) for n in twins}
    assert made["a"][0] != made["b"][0]
    assert made["a"][1][DCTERMS + "description"] == made["b"][1][DCTERMS + "description"]
    for n, (iri, props) in made.items():
        assert props[PROV + "wasDerivedFrom"] == [f"{EX}cho/{n}"]
        assert _suggestion_of(store, ids[n], iri)[PROV + "wasGeneratedBy"] == [summary.run_iri]
    # The same prompt gives the same bytes: one PNG on disk, named by both resources.
    (png,) = Path(settings.data_dir).rglob("*.png")
    assert {local_path(iri) for iri, _ in made.values()} == {png.resolve()}


def test_configuration_errors_are_clear(tmp_path: Path, tiny_pipeline: ModelSpec) -> None:
    context = EnrichmentContext(EmbeddedStore(), GRAPHS, make_settings(data_dir=str(tmp_path)), {}, {}, "")
    with pytest.raises(InputError, match="unknown setting"):
        get_enricher("generate", context=context, card=tiny_pipeline, steps=3)
    clip = ModelSpec(name="not-diffusion", kind="clip", source="local-dir:/nowhere")
    with pytest.raises(InputError, match="generates no images"):
        get_enricher("generate", context=context, card=clip)
    bad = ModelSpec(name="bad", kind="text-to-image", source=tiny_pipeline.source, extra={"steps": 0})
    with pytest.raises(InputError, match=r"extra\.steps must be a positive whole number"):
        get_enricher("generate", context=context, card=bad)
    missing = ModelSpec(name="gone", kind="text-to-image", source=f"local-dir:{tmp_path / 'missing'}")
    with pytest.raises(InputError, match="does not exist"):
        get_enricher("generate", context=context, card=missing)
    assert load_spec("sdxl-base-1.0").kind == "text-to-image"


def test_records_without_english_text_or_with_images_give_no_prompt(world: World) -> None:
    views: list[RecordView] = read_record_views(world.store, GRAPHS, [world.ids["blank"], world.ids["bell"]])
    prompts = record_prompts(world.store, GRAPHS, views, "")
    assert [p.record_id for p in prompts] == [world.ids["bell"]]  # the enricher skips it for its image
