"""The ``translate`` enricher and its two backends, on tiny random models built offline (tests/ml/tiny_translation).

Random weights make nonsense, so the assertions are about behaviour: one translation per text, greedy
decoding is deterministic, confidences are probabilities, thresholds filter, the cache makes a re-run
generate nothing, and what a run writes is a tagged literal with its provenance.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich.enrichers import get_enricher
from enrich.enrichers.base import EnrichmentContext, read_record_views
from enrich.ingest.errors import InputError
from enrich.jobs.run import EnricherSpec, RunDefinition, run_enrichment
from enrich.models.cards import ModelSpec, load_spec
from enrich.models.runtime import ModelUnavailable, hub_offline
from enrich.namespaces import DC, DCTERMS, EDM, ENR, ORE, RDF_TYPE, Graphs
from enrich.provenance import check_suggestions, facts_from_triples
from enrich.records_admin import list_records
from enrich.review import approve, list_suggestions
from enrich.settings import Settings
from enrich.store.base import text
from enrich.store.embedded import EmbeddedStore
from enrich.translation.base import Translator, load_translator, sequence_confidences
from enrich.translation.enricher import TranslateEnricher
from enrich.vocab.facets import load_facets
from enrich.vocab.loader import read_trees
from tests.ingest.support import GRAPHS, ingest, make_settings
from tests.ml.tiny_translation import tiny_causal_spec, tiny_marian_spec, tiny_nllb_spec

EX = "http://example.org/"
#: name → (field values as (predicate, text, language or None)).
RECORDS: dict[str, list[tuple[str, str, str | None]]] = {
    "jar": [(DC + "title", "백자 달항아리", "ko"), (DCTERMS + "medium", "백자", "ko")],
    "vase": [(DC + "title", "청자 상감운학문 매병", "ko"), (DC + "description", "고려 시대 청자", "ko")],
    "box": [(DC + "title", "나전 칠기 상자", "ko"), (DC + "title", "Lacquered box", "en")],
    "plain": [(DC + "title", "조선 시대 목가구", None)],
    "english": [(DC + "title", "Album of genre paintings", "en")],
}


@pytest.fixture(scope="module")
def marian(tmp_path_factory: pytest.TempPathFactory) -> ModelSpec:
    return tiny_marian_spec(tmp_path_factory.mktemp("marian"))


@pytest.fixture(scope="module")
def causal(tmp_path_factory: pytest.TempPathFactory) -> ModelSpec:
    return tiny_causal_spec(tmp_path_factory.mktemp("causal"))


@pytest.fixture(scope="module")
def marian_model(marian: ModelSpec) -> Translator:
    return load_translator(marian)


def _seed(store: EmbeddedStore, folder: Path) -> dict[str, str]:
    lines = []
    for name, values in RECORDS.items():
        cho, agg = f"<{EX}cho/{name}>", f"<{EX}agg/{name}>"
        lines += [
            f"{cho} <{RDF_TYPE}> <{EDM}ProvidedCHO> .",
            f'{cho} <{EDM}type> "IMAGE" .',
            f'{cho} <{DC}type> "object"@en .',
        ]
        for predicate, value, language in values:
            tag = f"@{language}" if language else ""
            lines.append(f'{cho} <{predicate}> "{value}"{tag} .')
        lines += [
            f"{agg} <{RDF_TYPE}> <{ORE}Aggregation> .",
            f"{agg} <{EDM}aggregatedCHO> {cho} .",
            f"{agg} <{EDM}isShownAt> <{EX}page/{name}> .",
            f'{agg} <{EDM}dataProvider> "Example Museum" .',
            f'{agg} <{EDM}provider> "Example Aggregator" .',
            f"{agg} <{EDM}rights> <http://creativecommons.org/licenses/by/4.0/> .",
        ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records.nt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(store, [folder / "records.nt"])
    return {cho.rsplit("/", 1)[1]: rid for rid, cho, _, _ in list_records(store, GRAPHS, 100)}


def _context(store: EmbeddedStore, settings: Settings, graphs: Graphs = GRAPHS) -> EnrichmentContext:
    return EnrichmentContext(store, graphs, settings, read_trees(store, graphs), load_facets(), "")


# -- backends ------------------------------------------------------------------------------------------------


def test_marian_translates_one_text_each_deterministically(marian_model: Translator) -> None:
    texts = ["백자 달항아리", "고려 불화 수월관음도", "나전 칠기 상자"]
    first = marian_model.translate(texts, "ko", "en")
    again = marian_model.translate(list(reversed(texts)), "ko", "en")
    assert len(first) == 3
    assert [t.text for t in first] == [t.text for t in reversed(again)]
    for item, other in zip(first, reversed(again), strict=True):
        assert 0.0 < item.confidence <= 1.0
        assert item.confidence == pytest.approx(other.confidence, rel=1e-4)  # padding does not change it
    assert marian_model.translate([], "ko", "en") == []


def test_marian_card_names_its_language_pair(marian_model: Translator) -> None:
    assert marian_model.supports("ko", "en")
    assert marian_model.supports("ko-Kore", "en-GB")
    assert not marian_model.supports("ja", "en")
    with pytest.raises(InputError, match="does not translate ja into en"):
        marian_model.translate(["漆器"], "ja", "en")


def test_causal_lm_uses_chat_template_and_batches_like_single(causal: ModelSpec) -> None:
    model = load_translator(causal)
    texts = ["백자 달항아리", "조선 시대 목가구 상자와 함"]
    batch = model.translate(texts, "ko", "en")
    single = [model.translate([text], "ko", "en")[0] for text in texts]
    assert [t.text for t in batch] == [t.text for t in single]  # left padding: same greedy output
    assert all(0.0 < t.confidence <= 1.0 for t in batch)
    assert model.generate_calls == 3
    assert model.supports("ko", "en") and model.supports("zh", "fr")  # an LLM reads any language


def test_nllb_family_maps_iso_tags_to_flores_codes(tmp_path: Path) -> None:
    model = load_translator(tiny_nllb_spec(tmp_path))
    assert model.supports("ko", "en") and model.supports("ko-KR", "ja")
    assert not model.supports("xx", "en")  # no FLORES code known for it
    out = model.translate(["백자 달항아리", "나전 칠기 상자"], "ko", "en")
    assert len(out) == 2 and all(0.0 < t.confidence <= 1.0 for t in out)
    assert model.translate(["백자 달항아리"], "ko", "en") == out[:1]


def test_causal_enricher_writes_glossary_terms_into_the_prompt(tmp_path: Path, causal: ModelSpec) -> None:
    store = EmbeddedStore()
    ids = _seed(store, tmp_path / "records")
    settings = make_settings(data_dir=str(tmp_path / "data"))
    views = read_record_views(store, GRAPHS, [ids["jar"], ids["vase"]])
    model = load_translator(causal)
    enricher = TranslateEnricher(
        _context(store, settings),
        card=causal,
        fields=["dc:title"],
        threshold=0.0,
        glossary="korean-museum",
        translator=model,
    )
    assert enricher.glossary_mode == "replace"
    found = enricher.enrich(views)
    assert {s.record_id for s in found} == {ids["jar"], ids["vase"]}
    assert model.generate_calls == 1
    jar = next(s for s in found if s.record_id == ids["jar"])
    assert "glossary korean-museum: 백자 → white porcelain" in jar.evidence
    # The cache holds what the model read: the title with the English terms written in.
    cached = enricher.cache.get(causal.hash, "ko", "en", ["white porcelain moon jar"])
    assert list(cached) == ["white porcelain moon jar"]


def test_prompt_is_part_of_the_card_hash(tmp_path: Path) -> None:
    base = load_spec("qwen2.5-1.5b-instruct-translate")
    other = ModelSpec(**(base.as_json() | {"extra": dict(base.extra) | {"prompt": "Translate: {text}"}}))
    assert base.hash != other.hash
    assert "{text}" in base.extra["prompt"]


def test_bundled_translation_cards_load() -> None:
    for name, backend in [
        ("opus-mt-ko-en", "seq2seq"),
        ("nllb-200-distilled-600m", "seq2seq"),
        ("qwen2.5-1.5b-instruct-translate", "causal-lm"),
    ]:
        spec = load_spec(name)
        assert spec.kind == "translation" and spec.extra["backend"] == backend


def test_confidence_counts_tokens_up_to_the_first_end() -> None:
    import math

    import torch

    generated = torch.tensor([[5, 6, 0, 0], [5, 0, 9, 9]])
    scores = torch.tensor([[-1.0, -1.0, -1.0, -50.0], [-2.0, 0.0, -50.0, -50.0]])
    first, second = sequence_confidences(scores, generated, [0])
    assert first == pytest.approx(math.exp(-1.0))
    assert second == pytest.approx(math.exp(-1.0))


def test_non_translation_cards_and_bad_backends_are_refused(marian: ModelSpec) -> None:
    with pytest.raises(InputError, match="does not translate"):
        load_translator(load_spec("all-minilm-l6-v2"))
    bad = ModelSpec(**(marian.as_json() | {"extra": dict(marian.extra) | {"backend": "rnn"}}))
    with pytest.raises(InputError, match="seq2seq or causal-lm"):
        load_translator(bad)


def test_hub_card_offline_says_how_to_make_it_local() -> None:
    if not hub_offline():
        pytest.skip("needs HF_HUB_OFFLINE=1 (otherwise the hub is tried)")
    with pytest.raises(ModelUnavailable, match="local-dir:PATH"):
        load_translator(load_spec("opus-mt-ko-en"))


# -- the enricher ----------------------------------------------------------------------------------------------


def test_enricher_suggests_tagged_literals_and_caches(
    tmp_path: Path, marian: ModelSpec, marian_model: Translator
) -> None:
    store = EmbeddedStore()
    ids = _seed(store, tmp_path / "records")
    settings = make_settings(data_dir=str(tmp_path / "data"))
    views = read_record_views(store, GRAPHS, list(ids.values()))
    calls = marian_model.generate_calls
    enricher = TranslateEnricher(_context(store, settings), card=marian, threshold=0.0, translator=marian_model)
    suggestions = enricher.enrich(views)
    by_record = {(s.record_id, s.predicate) for s in suggestions}
    # Korean literals are translated, the untagged one once identified as Korean; the box title already has
    # English and the English record needs nothing.
    assert by_record == {
        (ids["plain"], DC + "title"),
        (ids["jar"], DC + "title"),
        (ids["jar"], DCTERMS + "medium"),
        (ids["vase"], DC + "title"),
        (ids["vase"], DC + "description"),
    }
    for s in suggestions:
        assert s.value.language == "en" and not s.value.is_iri
        assert 0.0 < s.confidence <= 1.0
        assert s.evidence[0].startswith("translated from ko: ")
        assert s.model.config_hash == enricher.model_card().config_hash
    assert enricher.generated == 5
    assert marian_model.generate_calls == calls + 1  # five short texts, one batch

    again = TranslateEnricher(_context(store, settings), card=marian, threshold=0.0, translator=marian_model)
    assert again.enrich(views) == suggestions
    assert again.generated == 0 and marian_model.generate_calls == calls + 1  # all from the cache

    strict = TranslateEnricher(_context(store, settings), card=marian, thresholds={"ko": 1.0}, translator=marian_model)
    assert strict.enrich(views) == []


def test_glossary_terms_become_evidence(tmp_path: Path, marian: ModelSpec, marian_model: Translator) -> None:
    store = EmbeddedStore()
    ids = _seed(store, tmp_path / "records")
    settings = make_settings(data_dir=str(tmp_path / "data"))
    views = read_record_views(store, GRAPHS, [ids["jar"]])
    plain = TranslateEnricher(_context(store, settings), card=marian, threshold=0.0, translator=marian_model)
    enricher = TranslateEnricher(
        _context(store, settings), card=marian, threshold=0.0, glossary="korean-museum", translator=marian_model
    )
    assert enricher.settings()["glossary"].startswith("korean-museum:")
    assert plain.model_card().config_hash != enricher.model_card().config_hash
    found = {s.predicate: s for s in enricher.enrich(views)}
    assert found[DC + "title"].evidence == (
        "translated from ko: 백자 달항아리",
        "glossary korean-museum: 백자 → white porcelain",
        "glossary korean-museum: 달항아리 → moon jar",
    )
    # The random model does not copy the placeholder through: the lost term costs the whole confidence.
    without = {s.predicate: s for s in plain.enrich(views)}
    assert found[DC + "title"].confidence <= without[DC + "title"].confidence


def test_run_writes_provenance_that_passes_the_rules(tmp_path: Path, marian: ModelSpec) -> None:
    store = EmbeddedStore()
    ids = _seed(store, tmp_path / "records")
    settings = make_settings(data_dir=str(tmp_path / "data"))
    card_path = marian.save(tmp_path / "tiny-marian.yaml")
    config = {"card": str(card_path), "threshold": 0.0, "fields": ["dc:title"]}
    summary = run_enrichment(store, GRAPHS, RunDefinition.of([EnricherSpec("translate", config)]), settings=settings)
    assert summary.finished
    rows = list_suggestions(store, GRAPHS, enricher="translate")
    assert {(row.record_id, row.predicate, row.language) for row in rows} == {
        (ids["plain"], DC + "title", "en"),
        (ids["jar"], DC + "title", "en"),
        (ids["vase"], DC + "title", "en"),
    }
    assert all(not row.value_is_iri and row.facet.endswith("translation") for row in rows)
    facts, with_model = facts_from_triples(store.construct("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"))
    assert len(facts) == 3
    assert facts and check_suggestions(facts, with_model, None) == []
    query = f"SELECT ?ev WHERE {{ GRAPH ?g {{ ?s <{ENR}evidence> ?ev }} }}"
    evidence = {text(row["ev"]) for row in store.select(query)}
    assert "translated from ko: 백자 달항아리" in evidence
    # A reviewer's approval puts the English literal on the object, beside the Korean one.
    jar = next(row for row in rows if row.record_id == ids["jar"])
    approve(store, GRAPHS, jar.id, "reviewer@example.org")
    titles = {(v.text, v.language) for v in read_record_views(store, GRAPHS, [ids["jar"]])[0].literals(DC + "title")}
    assert titles == {("백자 달항아리", "ko"), (jar.value, "en")}


def test_bad_settings_are_named(tmp_path: Path, marian: ModelSpec, marian_model: Translator) -> None:
    store = EmbeddedStore()
    context = _context(store, make_settings(data_dir=str(tmp_path / "data")))
    with pytest.raises(InputError, match="unknown setting"):
        get_enricher("translate", context=context, card=str(marian.save(tmp_path / "c.yaml")), colour="red")
    with pytest.raises(InputError, match="threshold must be in"):
        TranslateEnricher(context, card=marian, threshold=2, translator=marian_model)
    with pytest.raises(InputError, match="batch_size"):
        TranslateEnricher(context, card=marian, batch_size=0, translator=marian_model)
