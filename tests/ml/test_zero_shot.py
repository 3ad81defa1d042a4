"""Zero-shot facet scores with the tiny CLIP: prompts from multilingual labels and templates, their cache, the
scores and the hierarchy rule (a concept never above its ancestors), and the ``zero-shot`` enricher writing
valid suggestions through a real run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from enrich.embeddings import cache_for
from enrich.enrichers import get_enricher
from enrich.enrichers.base import EnrichmentContext
from enrich.ingest.errors import InputError
from enrich.jobs.run import EnricherSpec, RunDefinition, run_enrichment
from enrich.models.cards import ModelSpec
from enrich.models.encoders import load_text_encoder
from enrich.namespaces import ENR, PROV
from enrich.review import list_suggestions
from enrich.similarity.zero_shot import (
    LABEL,
    concept_prompts,
    consistent,
    forget_prompt_sets,
    load_templates,
    prompt_set,
    raw_scores,
    templates_for,
    zero_shot_matrix,
    zero_shot_scores,
)
from enrich.store.base import text
from enrich.store.embedded import EmbeddedStore
from enrich.vocab.facets import facet_tree, load_facets
from enrich.vocab.loader import read_trees
from enrich.vocab.tree import LabelTree, Node
from tests.enrichers.support import bundled_tree
from tests.ingest.support import GRAPHS, make_settings
from tests.ml.test_similarity import KM, RECORDS, put_vectors, seed_store

FACET = "korean-materials"


def korean_materials() -> LabelTree:
    trees = {"korean-museum-classes": bundled_tree("korean-museum-classes")}
    return facet_tree(load_facets()[FACET], trees)


def deep_tree() -> LabelTree:
    """root (a guide term) > a > a1 > a11, a > a2, root > b: three levels below the root."""
    parents = {"root": None, "a": "root", "a1": "a", "a11": "a1", "a2": "a", "b": "root"}
    nodes = {
        f"urn:x:{name}": Node(f"urn:x:{name}", {"en": name}, [], name != "root", f"urn:x:{p}" if p else None)
        for name, p in parents.items()
    }
    return LabelTree(nodes)


def _ancestor_pairs(tree: LabelTree, nodes: list[str]) -> list[tuple[int, int]]:
    column = {iri: i for i, iri in enumerate(nodes)}
    return [(column[iri], column[a]) for iri in nodes for a in tree.ancestors(iri)]


# -- prompts -------------------------------------------------------------------------------------------------


def test_templates_come_per_facet_and_language_with_fallbacks(tmp_path: Path) -> None:
    templates = load_templates()
    assert "an object made of {label}" in templates_for(templates, "materials", "en")
    assert templates_for(templates, "materials", "ko-Hani") == templates_for(templates, "materials", "ko")
    assert templates_for(templates, "object-types", "ko") == templates["default"]["ko"]  # facet has none for ko
    assert templates_for(templates, "materials", "pt") == (LABEL,)  # no template at all: the bare label
    bad = tmp_path / "bad.yaml"
    bad.write_text("facets:\n  materials:\n    en: ['an object made of stuff']\n", encoding="utf-8")
    with pytest.raises(InputError, match="must hold \\{label\\} exactly once"):
        load_templates(bad)
    bad.write_text("facets: [1, 2]\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected `default:` and `facets:`"):
        load_templates(bad)


def test_prompts_are_made_from_labels_in_every_wanted_language() -> None:
    tree = korean_materials()
    prompts = concept_prompts(tree, FACET, ["ko", "en"], load_templates())
    bronze = {(p.language, p.text) for p in prompts[KM + "bronze"]}
    assert ("en", "an object made of bronze") in bronze
    assert any(language == "ko" and "으)로 만든 유물" in text for language, text in bronze)
    assert all(tree.nodes[iri].selectable for iri in prompts)  # guide terms get no prompts
    only_english = concept_prompts(tree, FACET, ["en"], load_templates())
    assert {p.language for group in only_english.values() for p in group} == {"en"}
    untagged = LabelTree({"urn:x:c": Node("urn:x:c", {"": "thing"}, [], True)})
    assert [p.text for p in concept_prompts(untagged, "materials", ["en"], load_templates())["urn:x:c"]][-1] == "thing"


def test_prompt_sets_average_prompts_and_embed_each_prompt_once(
    tiny_clip: ModelSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forget_prompt_sets()
    encoder = load_text_encoder(tiny_clip)
    cache = cache_for(make_settings(data_dir=str(tmp_path / "data")))
    tree = korean_materials()
    made = prompt_set(encoder, tree, FACET, ["ko", "en"], cache=cache)
    row = made.concepts.index(KM + "gold")
    texts = [p.text for p in made.prompts if p.concept == KM + "gold"]
    expected = encoder.encode_texts(texts).mean(axis=0)
    np.testing.assert_allclose(made.concept_vectors[row], expected / np.linalg.norm(expected), atol=3e-3)
    second = next(i for i, p in enumerate(made.prompts) if p.text == texts[1])
    assert made.best_prompt(row, made.prompt_vectors[second])[0].text == texts[1]
    assert prompt_set(encoder, tree, FACET, ["ko", "en"], cache=cache) is made

    calls: Counter[str] = Counter()
    original = encoder.encode_texts

    def counted(texts: list[str]) -> np.ndarray:
        calls["texts"] += len(texts)
        return original(texts)

    monkeypatch.setattr(encoder, "encode_texts", counted)
    forget_prompt_sets()  # as a new process: the prompts come from the embedding cache
    again = prompt_set(encoder, tree, FACET, ["ko", "en"], cache=cache)
    assert calls["texts"] == 0
    np.testing.assert_allclose(again.concept_vectors, made.concept_vectors, atol=3e-3)
    prompt_set(encoder, tree, FACET, ["en"], cache=cache)  # English prompts were all embedded already
    assert calls["texts"] == 0
    with pytest.raises(InputError, match="no concept of the facet has a preferred label in fr"):
        prompt_set(encoder, tree, FACET, ["fr"])


# -- scores --------------------------------------------------------------------------------------------------


def test_scores_pick_the_concept_whose_prompts_match_and_respect_the_hierarchy(tiny_clip: ModelSpec) -> None:
    encoder = load_text_encoder(tiny_clip)
    tree = korean_materials()
    made = prompt_set(encoder, tree, FACET, ["ko", "en"])
    chosen = [made.concepts.index(KM + name) for name in ("gold", "celadon", "silk")]
    records = made.concept_vectors[chosen]
    soft = raw_scores(records, made)
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=1e-5)
    assert soft.argmax(axis=1).tolist() == chosen
    sig = raw_scores(records, made, "sigmoid", scale=10.0, bias=-5.0)
    assert ((sig > 0) & (sig < 1)).all() and sig.argmax(axis=1).tolist() == chosen
    with pytest.raises(InputError, match="softmax or sigmoid"):
        raw_scores(records, made, "relu")  # type: ignore[arg-type]

    nodes, final = zero_shot_matrix(encoder, tree, records, FACET, ["ko", "en"])
    assert len(nodes) == len(tree) and final.shape == (3, len(tree))
    column = {iri: i for i, iri in enumerate(nodes)}
    gold = final[0]
    assert gold[column[KM + "metal"]] >= gold[column[KM + "gold"]] == pytest.approx(soft[0, chosen[0]], abs=1e-6)
    for child, ancestor in _ancestor_pairs(tree, nodes):
        assert (final[:, child] <= final[:, ancestor]).all()
    per_record = zero_shot_scores(encoder, tree, {"r1": records[1]}, FACET, languages=["ko", "en"])
    assert per_record["r1"][KM + "celadon"] == pytest.approx(float(final[1, column[KM + "celadon"]]), abs=1e-6)
    assert zero_shot_scores(encoder, tree, {}, FACET) == {}


def test_consistency_climbs_every_level_and_keeps_own_scores_where_they_are_highest() -> None:
    tree = deep_tree()
    concepts = [iri for iri in tree.nodes if tree.nodes[iri].selectable]
    rng = np.random.default_rng(0)
    scores = rng.random((50, len(concepts))).astype(np.float32)
    nodes, final = consistent(tree, concepts, scores)
    column = {iri: i for i, iri in enumerate(nodes)}
    for child, ancestor in _ancestor_pairs(tree, nodes):
        assert (final[:, child] <= final[:, ancestor]).all()
    for iri in concepts:
        below = [iri, *tree.descendants(iri)]
        expected = scores[:, [concepts.index(b) for b in below]].max(axis=1)
        np.testing.assert_allclose(final[:, column[iri]], expected)  # the max over the subtree, no more
    np.testing.assert_allclose(final[:, column["urn:x:root"]], scores.max(axis=1))  # the guide term: best below
    assert nodes[0] == "urn:x:root"


# -- the enricher --------------------------------------------------------------------------------------------


def test_the_zero_shot_enricher_writes_valid_suggestions_in_a_run(tiny_clip: ModelSpec, tmp_path: Path) -> None:
    """Record vectors set to a concept's prompt vector: that concept comes first; the run's writer checks every
    suggestion against the facet's vocabulary."""
    store = EmbeddedStore()
    ids = seed_store(store, tmp_path / "records")
    settings = make_settings(data_dir=str(tmp_path / "data"))
    card_path = str(tiny_clip.save(tmp_path / "tiny-clip.yaml"))
    encoder = load_text_encoder(tiny_clip)
    made = prompt_set(encoder, korean_materials(), FACET, ["ko", "en", "ko-Hani"])
    # The bell "looks like" gold, the vase like silk, the bowl like iron; the others carry no vector.
    looks = {"bell": "gold", "vase": "silk", "bowl": "iron"}
    put_vectors(
        settings,
        tiny_clip,
        "image",
        {ids[name]: made.concept_vectors[made.concepts.index(KM + concept)] for name, concept in looks.items()},
    )
    config = {"card": card_path, "facets": [FACET], "top_k": 2, "min_confidence": 0.0}
    summary = run_enrichment(store, GRAPHS, RunDefinition.of([EnricherSpec("zero-shot", config)]), settings=settings)
    assert summary.finished and summary.counts.new == 6  # two for each record with a vector
    rows = list_suggestions(store, GRAPHS, enricher="zero-shot", limit=100)
    by_record: dict[str, list[str]] = {}
    allowed = set(facet_tree(load_facets()[FACET], read_trees(store, GRAPHS)).nodes)
    for row in rows:
        assert row.facet.endswith(FACET) and row.value in allowed and row.predicate.endswith("medium")
        assert row.confidence is not None and 0.0 <= row.confidence <= 1.0
        by_record.setdefault(row.record_id, []).append(row.value)
    for name, concept in looks.items():
        top = max((r for r in rows if r.record_id == ids[name]), key=lambda r: r.confidence or 0.0)
        assert top.value == KM + concept
        assert RECORDS[name][3] not in by_record[ids[name]]  # what the record already says is not suggested
    evidence = [
        text(row["e"])
        for row in store.select(
            f'SELECT ?e WHERE {{ GRAPH ?g {{ ?s <{ENR}enricher> "zero-shot" ; <{ENR}evidence> ?e }} }}'
        )
    ]
    gold_prompts = [p.text for p in made.prompts if p.concept == KM + "gold"]
    assert any(f'prompt "{prompt}"@' in e for e in evidence for prompt in gold_prompts)
    assert all(e.startswith(f"zero-shot ({tiny_clip.name}, image vector): prompt ") for e in evidence)
    cards = store.select(
        f"SELECT ?hash WHERE {{ GRAPH <{GRAPHS.runs}> {{ <{summary.run_iri}> <{PROV}wasAssociatedWith> ?m . "
        f'?m <{ENR}modelName> "zero-shot" ; <{ENR}configHash> ?hash }} }}'
    )
    assert len(cards) == 1


def test_zero_shot_configuration_errors_are_clear(tiny_clip: ModelSpec, tmp_path: Path) -> None:
    store = EmbeddedStore()
    seed_store(store, tmp_path / "records")
    context = EnrichmentContext(
        store, GRAPHS, make_settings(data_dir=str(tmp_path / "data")), read_trees(store, GRAPHS), load_facets(), ""
    )
    made = get_enricher("zero-shot", context=context, card=tiny_clip)
    assert set(made.facets) == {"korean-lifestyle", "korean-materials", "korean-periods"}  # facets with concepts
    assert tiny_clip.hash in str(made.settings())
    with pytest.raises(InputError, match="no concept of this facet"):
        get_enricher("zero-shot", context=context, card=tiny_clip, facets=["materials"])
    with pytest.raises(InputError, match="unknown facet"):
        get_enricher("zero-shot", context=context, card=tiny_clip, facets=["nope"])
    with pytest.raises(InputError, match="top_k"):
        get_enricher("zero-shot", context=context, card=tiny_clip, top_k=0)
    with pytest.raises(InputError, match="softmax or sigmoid"):
        get_enricher("zero-shot", context=context, card=tiny_clip, activation="tanh")
    classifier = ModelSpec(name="heads", kind="classifier", source=f"local-dir:{tmp_path}")
    with pytest.raises(InputError, match="has no text tower"):
        get_enricher("zero-shot", context=context, card=classifier)
