"""Classifiers over a real store: labels from record data, approved suggestions and rejections; in-domain and
provider-held-out splits; ``enrich train`` / ``enrich evaluate`` in-process; the ``classify`` enricher
writing suggestions through a real run.

The store holds a small synthetic collection: a four-level materials vocabulary (facet → metal → bronze …),
records whose titles carry words that go with their material, from four data providers, and synthetic
"text embeddings" (each concept a random prototype, plus noise) put into a real embedding cache under a
model card's hash, as the ``embed`` enricher would.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from enrich.classify import artefact
from enrich.classify.commands import HANDLERS, add_commands
from enrich.classify.dataset import read_examples, record_groups
from enrich.classify.evaluate import evaluate_model
from enrich.classify.features import embedding_features, embedding_features_for
from enrich.classify.hierarchy import closed_under_ancestors
from enrich.classify.pipeline import facet_trees
from enrich.classify.splits import split_records
from enrich.embeddings import EmbeddingCache, Modality, content_hash, embeddings_root
from enrich.ingest.errors import InputError
from enrich.jobs import RunDefinition, read_run, run_enrichment
from enrich.jobs.run import EnricherSpec
from enrich.models.cards import ModelSpec, load_spec
from enrich.namespaces import DC, DCTERMS, EDM, ENR, ORE, PROV, RDF_TYPE
from enrich.provenance import ProvenanceWriter
from enrich.review import approve, list_suggestions, reject
from enrich.settings import Settings
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import ModelCard, SuggestedValue, Suggestion
from enrich.vocab import loader
from tests.ingest.support import GRAPHS, ingest, make_settings

V = "http://example.org/vocab/"
MATERIALS: dict[str, dict[str, tuple[str, ...]]] = {
    "metal": {"bronze": ("bronze", "cast"), "iron": ("iron", "forged"), "silver": ("silver", "sterling")},
    "wood": {"oak": ("oak", "carved"), "pine": ("pine", "plank")},
    "stone": {"marble": ("marble", "polished"), "granite": ("granite", "hewn")},
    "textile": {"silk": ("silk", "woven"), "wool": ("wool", "knitted")},
}
LEAVES = [(top, leaf) for top, children in MATERIALS.items() for leaf in children]
THINGS = ("bowl", "figure", "panel", "box", "vase", "jug")
N_RECORDS = 200
DIM = 24


def vocabulary_turtle() -> str:
    lines = [
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        f"<{V}scheme> a skos:ConceptScheme .",
        f'<{V}facet> a skos:Collection ; skos:prefLabel "Materials Facet"@en ; '
        f"skos:member {', '.join(f'<{V}{top}>' for top in MATERIALS)} .",
    ]
    for top, children in MATERIALS.items():
        lines.append(f'<{V}{top}> a skos:Concept ; skos:inScheme <{V}scheme> ; skos:prefLabel "{top}"@en .')
        for leaf in children:
            lines.append(
                f'<{V}{leaf}> a skos:Concept ; skos:inScheme <{V}scheme> ; skos:prefLabel "{leaf}"@en ; '
                f"skos:broader <{V}{top}> ."
            )
    return "\n".join(lines) + "\n"


def record_lines(i: int, title: str, medium: str | None) -> list[str]:
    cho, agg = f"<http://example.org/cho/{i}>", f"<http://example.org/agg/{i}>"
    lines = [
        f"{cho} <{RDF_TYPE}> <{EDM}ProvidedCHO> .",
        f'{cho} <{DC}title> "{title}"@en .',
        f'{cho} <{DC}type> "object"@en .',
        f'{cho} <{EDM}type> "IMAGE" .',
        f"{agg} <{RDF_TYPE}> <{ORE}Aggregation> .",
        f"{agg} <{EDM}aggregatedCHO> {cho} .",
        f"{agg} <{EDM}isShownAt> <http://example.org/page/{i}> .",
        f'{agg} <{EDM}dataProvider> "Museum {i % 4}" .',
        f'{agg} <{EDM}provider> "Example Aggregator" .',
        f"{agg} <{EDM}rights> <http://creativecommons.org/licenses/by/4.0/> .",
    ]
    if medium is not None:
        lines.append(f"{cho} <{DCTERMS}medium> <{V}{medium}> .")
    return lines


@dataclass
class Collection:
    store: EmbeddedStore
    settings: Settings
    card: ModelSpec
    card_path: Path
    truth: dict[str, tuple[str, str]]  # record id → (top, leaf)
    approved: set[str]
    rejected_only: set[str]
    rejections: dict[str, str]  # record id → rejected concept IRI


def put_vectors(
    data_dir: Path,
    card: ModelSpec,
    truth: dict[str, tuple[str, str]],
    modality: Modality = "text",
    dim: int = DIM,
    seed: int = 0,
) -> None:
    """Synthetic vectors: the two concepts' prototypes plus noise, written as the embed enricher would."""
    rng = np.random.default_rng(seed)
    concepts = [*MATERIALS, *(leaf for _, leaf in LEAVES)]
    prototypes = {c: rng.normal(size=dim) for c in concepts}
    ids = sorted(truth)
    vectors = np.stack([prototypes[truth[rid][0]] + prototypes[truth[rid][1]] + rng.normal(size=dim) for rid in ids])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cache = EmbeddingCache(embeddings_root(data_dir))
    contents = [content_hash(f"{modality} of {rid}") for rid in ids]
    cache.put_many(card.hash, contents, vectors)
    cache.link_records(card.hash, modality, {rid: [c] for rid, c in zip(ids, contents, strict=True)})


def load_test_vocabulary(store: Store, root: Path) -> None:
    """The test materials vocabulary (:func:`vocabulary_turtle`), loaded as ``test-materials``."""
    vocab = root / "materials.ttl"
    vocab.write_text(vocabulary_turtle(), encoding="utf-8")
    loader.load(store, GRAPHS, loader.read_file(vocab), "test-materials", str(vocab))


def ingest_lines(store: Store, root: Path, lines: list[str]) -> dict[str, str]:
    """Ingest N-Triples lines (unvalidated); the record ids by the last path segment of their CHO IRI."""
    source = root / "records.nt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(store, [source], validate=False)
    return {
        row["cho"].value.rsplit("/", 1)[-1]: row["r"].value.rsplit("/", 1)[-1]
        for row in store.select(f"SELECT ?r ?cho WHERE {{ GRAPH <{GRAPHS.system}> {{ ?r <{ENR}cho> ?cho }} }}")
    }


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collection]:
    root = tmp_path_factory.mktemp("classify-store")
    store = EmbeddedStore()
    load_test_vocabulary(store, root)

    rng = np.random.default_rng(7)
    truth_by_n: dict[int, tuple[str, str]] = {}
    lines: list[str] = []
    for i in range(N_RECORDS):
        top, leaf = LEAVES[int(rng.integers(len(LEAVES)))]
        cue = MATERIALS[top][leaf][int(rng.integers(2))]
        title = f"{THINGS[int(rng.integers(len(THINGS)))]} {cue}".capitalize()
        truth_by_n[i] = (top, leaf)
        # 170 records carry their material in their data; the rest only through review (below).
        lines += record_lines(i, title, leaf if i < 170 else None)
    ids = ingest_lines(store, root, lines)
    truth = {ids[str(n)]: pair for n, pair in truth_by_n.items()}
    # Records 170-189: their material suggested and approved; 190-199: only a wrong material, rejected.
    # Records 0-9 also get a wrong material rejected (negatives beside their positives).
    writer = ProvenanceWriter(store, GRAPHS)
    run = writer.start_run(["test"], [ModelCard("test", "1")], "test", "test-materials")
    approved: set[str] = set()
    rejected_only: set[str] = set()
    rejections: dict[str, str] = {}
    suggestions: list[Suggestion] = []
    for n in [*range(170, 200), *range(10)]:
        record = ids[str(n)]
        leaf = truth_by_n[n][1]
        wrong = next(other for _, other in LEAVES if other != leaf)
        concept = leaf if 170 <= n < 190 else wrong
        suggestions.append(
            Suggestion(
                record,
                f"http://example.org/cho/{n}",
                DCTERMS + "medium",
                SuggestedValue(V + concept),
                "materials",
                0.5,
                "test",
                ModelCard("test", "1"),
            )
        )
        if 170 <= n < 190:
            approved.add(record)
        else:
            rejections[record] = V + concept
            if n >= 190:
                rejected_only.add(record)
    writer.write(run, suggestions)
    for s in suggestions:
        if s.record_id in approved:
            approve(store, GRAPHS, s.suggestion_id, "tester")
        else:
            reject(store, GRAPHS, s.suggestion_id, "tester", "wrong-concept")

    data_dir = root / "data"
    card_path = root / "synthetic-text.yaml"
    ModelSpec(name="synthetic-text", kind="text-encoder", source="local-dir:/nowhere", dim=DIM).save(card_path)
    card = load_spec(card_path)
    put_vectors(data_dir, card, truth)
    settings = make_settings(data_dir=str(data_dir))
    yield Collection(store, settings, card, card_path, truth, approved, rejected_only, rejections)
    store.close()


def test_examples_come_from_data_approvals_and_rejections(collection: Collection) -> None:
    facets = facet_trees(collection.store, GRAPHS, ["materials"])
    _, tree = facets["materials"]
    assert {V + "metal", V + "bronze"} <= set(tree.nodes)
    examples = {e.record_id: e for e in read_examples(collection.store, GRAPHS, facets)["materials"]}
    assert set(examples) == set(collection.truth)  # 170 from data, 20 approved, 10 known by a rejection only
    for rid, (top, leaf) in collection.truth.items():
        example = examples[rid]
        if rid in collection.rejected_only:
            assert example.positives == frozenset()
        else:  # closed under ancestors; the facet's collection is structure, not a label
            assert example.positives == {V + top, V + leaf, V + "facet"}
        assert example.negatives == ({collection.rejections[rid]} if rid in collection.rejections else set())
    assert {e.group for e in examples.values()} == {f"Museum {k}" for k in range(4)}


def test_splits_are_deterministic_and_outer_holds_out_whole_providers(collection: Collection) -> None:
    groups = record_groups(collection.store, GRAPHS, sorted(collection.truth))
    first = split_records(groups, "outer", seed=3)
    assert first == split_records(groups, "outer", seed=3)
    assert first.held_out_groups and set(first.held_out_groups) < set(groups.values())
    assert {groups[rid] for rid in first.outer} == set(first.held_out_groups)
    inside = set(first.train) | set(first.validation) | set(first.test)
    assert not inside & set(first.outer) and inside | set(first.outer) == set(groups)
    assert {groups[rid] for rid in inside}.isdisjoint(first.held_out_groups)
    assert first.test_sets() == ["in-domain", "outer"]
    in_domain = split_records(groups, "in-domain", seed=3)
    assert not in_domain.outer and len(in_domain.test) == round(0.2 * len(groups))
    assert split_records(groups, "in-domain", seed=4) != in_domain
    with pytest.raises(InputError, match="at least two providers"):
        split_records(dict.fromkeys(groups, "One Museum"), "outer", seed=0)


def command(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def train(collection: Collection, output: str, options: str, features: str | None = None) -> int:
    """``enrich train`` for the materials facet over the synthetic text card (or ``features``)."""
    argv = ["train", "--facets", "materials", "--min-support", "1", "--output", output, *options.split()]
    args = command(*argv, "--features", features or str(collection.card_path))
    return HANDLERS["train"](args, collection.settings, collection.store, GRAPHS)


def test_train_and_evaluate_commands(
    collection: Collection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert train(collection, "synthetic-heads", "--split outer --epochs 40 --seed 1") == 0
    out = capsys.readouterr().out
    assert "trained synthetic-heads" in out and "materials:" in out and "ECE" in out
    model = artefact.load("synthetic-heads", collection.settings.data_dir)
    assert model.split.kind == "outer" and model.split.held_out_groups
    assert model.text_fields == (DC + "title", DCTERMS + "alternative", DC + "description", DC + "subject", DC + "type")
    assert model.ensemble["materials"]["weights"]
    assert model.sources[0].card_hash == collection.card.hash

    output = tmp_path / "evaluation"
    args = command("evaluate", "synthetic-heads", "--output", str(output))
    assert HANDLERS["evaluate"](args, collection.settings, collection.store, GRAPHS) == 0
    out = capsys.readouterr().out
    assert "| materials | in-domain | heads |" in out and "| materials | outer | tfidf-baseline |" in out
    assert sorted(p.name for p in output.iterdir()) == ["metrics.json", "metrics.md", "reliability.png", "scores.png"]
    assert all((output / name).read_bytes().startswith(b"\x89PNG") for name in ("scores.png", "reliability.png"))
    rows = json.loads((output / "metrics.json").read_text())["rows"]
    methods = {(r["test_set"], r["method"]) for r in rows}
    assert {
        (t, m) for t in ("in-domain", "outer") for m in ("heads", "tfidf-baseline", "lexical", "ensemble")
    } <= methods
    heads = {r["test_set"]: r for r in rows if r["method"] == "heads"}
    concepts = heads["in-domain"]["concepts"]
    chance = 2 / concepts  # a record has two concepts (top and leaf) among the label space's
    for row in heads.values():
        assert row["acc_at_1"] >= 3 * chance and row["r_precision"] >= 3 * chance
        assert 0 <= row["ece"] <= 1 and 0 <= row["ece_uncalibrated"] <= 1

    with pytest.raises(InputError, match="no outer test set"):
        train(collection, "in-domain-heads", "--epochs 2 --no-ensemble")
        HANDLERS["evaluate"](
            command("evaluate", "in-domain-heads", "--split", "outer"), collection.settings, collection.store, GRAPHS
        )


def test_the_same_training_gives_the_same_artefact(collection: Collection) -> None:
    models = Path(collection.settings.data_dir) / "models"
    for _ in range(2):
        assert train(collection, "twice", "--epochs 5 --seed 3 --fusion cross-attention") == 0
    assert len(list(models.glob("twice-*"))) == 1  # same data, features, settings and seed: same hash
    assert train(collection, "twice", "--epochs 5 --seed 4 --fusion cross-attention") == 0
    assert len(list(models.glob("twice-*"))) == 2


def test_classify_enricher_writes_suggestions_with_the_models_card(collection: Collection) -> None:
    assert train(collection, "run-heads", "--epochs 40") == 0
    model = artefact.load("run-heads", collection.settings.data_dir)
    config = {"model": "run-heads", "min_confidence": 0.3, "top_k": 3}
    definition = RunDefinition.of([EnricherSpec("classify", config)], ["materials"])
    summary = run_enrichment(collection.store, GRAPHS, definition, settings=collection.settings)
    assert summary.finished and summary.per_facet["materials"].new > 0
    state = read_run(collection.store, GRAPHS, summary.run_id)
    assert state.enrichers == ("classify",)

    rows = list_suggestions(collection.store, GRAPHS, enricher="classify", limit=10_000)
    assert rows and all(r.facet == "materials" and 0.3 <= (r.confidence or 0) <= 1 for r in rows)
    _, tree = facet_trees(collection.store, GRAPHS, ["materials"])["materials"]
    by_record: dict[str, set[str]] = {}
    for row in rows:
        assert row.value in tree and tree[row.value].selectable
        by_record.setdefault(row.record_id, set()).add(row.value)
    # A record's suggested concepts with what it already has are closed under ancestors, and most records
    # without a material in their data get theirs suggested.
    space = model.heads["materials"].space
    for rid, concepts in by_record.items():
        have = (
            set()
            if rid in collection.approved or rid in collection.rejected_only
            else {V + collection.truth[rid][0], V + collection.truth[rid][1]}
        )
        predicted = np.array([[c in concepts | have for c in space.concepts]])
        assert closed_under_ancestors(predicted, space.parents)
    unlabelled = collection.rejected_only
    right = sum(V + collection.truth[rid][1] in by_record.get(rid, set()) for rid in unlabelled)
    assert right >= len(unlabelled) // 2

    agents = collection.store.select(
        f"SELECT ?name ?version WHERE {{ GRAPH <{GRAPHS.runs}> {{ <{state.iri}> <{PROV}wasAssociatedWith> ?a . "
        f"?a <{ENR}modelName> ?name ; <{ENR}modelVersion> ?version }} }}"
    )
    assert [(a["name"].value, a["version"].value) for a in agents] == [("run-heads", model.hash)]


def test_zero_shot_joins_the_ensemble_with_a_clip_card(
    collection: Collection, tiny_clip: ModelSpec, tmp_path: Path
) -> None:
    # A (tiny, random) CLIP card whose image vectors the records have: the zero-shot member is scored,
    # weighed on the validation records, reported alone, and used by the enricher.
    clip_path = tiny_clip.save(tmp_path / "tiny-clip.yaml")
    assert load_spec(clip_path).hash == tiny_clip.hash
    put_vectors(Path(collection.settings.data_dir), tiny_clip, collection.truth, "image", tiny_clip.dim or 32, seed=5)
    assert train(collection, "clip-heads", "--epochs 20", features=f"{collection.card_path},{clip_path}") == 0
    model = artefact.load("clip-heads", collection.settings.data_dir)
    assert [s.name for s in model.sources] == ["synthetic-text:text", "tiny-clip-32:image"]
    assert model.zero_shot is not None and model.zero_shot["name"] == "tiny-clip-32"
    assert set(model.ensemble["materials"]["weights"]) == {"heads", "lexical", "zero-shot"}

    provider = embedding_features_for(collection.settings.data_dir, model.sources)
    evaluation = evaluate_model(model, collection.store, GRAPHS, provider, baseline=False)
    assert {row.method for row in evaluation.rows} == {"heads", "lexical", "zero-shot", "ensemble"}

    definition = RunDefinition.of([EnricherSpec("classify", {"model": "clip-heads"})], ["materials"])
    summary = run_enrichment(collection.store, GRAPHS, definition, settings=collection.settings)
    assert summary.finished and summary.records_seen == N_RECORDS


def test_bad_requests_get_clear_errors(collection: Collection) -> None:
    with pytest.raises(InputError, match="unknown facet"):
        facet_trees(collection.store, GRAPHS, ["no-such-facet"])
    empty = ModelSpec(name="empty", kind="text-encoder", source="local-dir:/nowhere", dim=8)
    with pytest.raises(InputError, match="no record vectors of empty"):
        embedding_features(collection.settings.data_dir, [empty])
    definition = RunDefinition.of([EnricherSpec("classify", {"model": "never-trained"})], ["materials"])
    with pytest.raises(InputError, match="no trained model"):
        run_enrichment(collection.store, GRAPHS, definition, settings=collection.settings)
    with pytest.raises(InputError, match="name the trained model"):
        run_enrichment(
            collection.store, GRAPHS, RunDefinition.of(["classify"], ["materials"]), settings=collection.settings
        )
