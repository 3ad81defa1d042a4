"""/vocab against a real uvicorn: facets, label trees (with a record's suggestions and scores), label search.

The store holds the bundled sample records, the starter AAT and the Korean museum classes, and the
lexical enricher has run over them, as ``enrich demo`` does. The helpers here serve the other API tests too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.auth import make_token
from enrich.ingest import IngestOptions, Ingestor, documents
from enrich.jobs import RunDefinition, run_enrichment
from enrich.namespaces import Graphs
from enrich.resources import samples_dir
from enrich.review import approve, list_suggestions
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from enrich.vocab import loader
from enrich.vocab.facets import facet_tree, load_facets
from tests.api.server import running
from tests.ingest.support import BASE_IRI, make_settings

GRAPHS = Graphs(BASE_IRI)
KOREAN = "korean-museum-classes"
KM = "https://w3id.org/heritage-enrich/vocab/korean-museum/"
AAT_BRONZE = "http://vocab.getty.edu/aat/300010957"


# -- helpers shared by the API tests -------------------------------------------------------------------
def load_vocabularies(store: Store, names: tuple[str, ...] = (loader.STARTER_VOCABULARY, KOREAN)) -> None:
    for name in names:
        path = loader.bundled_vocabulary(name)
        loader.load(store, GRAPHS, loader.read_file(path), name, f"bundled:{path.name}")


def sample_store(store: Store, enrich: bool = True) -> Store:
    """The bundled vocabularies and sample records in ``store``, enriched by the lexical enricher."""
    load_vocabularies(store)
    Ingestor(store, make_settings(), IngestOptions(progress=False)).run(documents([str(samples_dir())]))
    if enrich:
        run_enrichment(store, GRAPHS, RunDefinition.of(["lexical"]))
    return store


def app_with_tokens(store: Store, **settings: Any) -> tuple[FastAPI, dict[str, dict[str, str]]]:
    """An app over ``store`` with one token per role; the second value maps a role to its auth header."""
    tokens = {role: make_token(role) for role in ("reader", "reviewer", "admin")}  # type: ignore[arg-type]
    config = make_settings(api_tokens=[entry for _, entry in tokens.values()], **settings)
    headers = {role: {"Authorization": f"Bearer {token}"} for role, (token, _) in tokens.items()}
    return create_app(config, store), headers


@pytest.fixture
def client() -> Iterator[tuple[httpx.Client, Store]]:
    """An httpx client on a real server over an enriched in-memory sample store."""
    store = sample_store(EmbeddedStore())
    app, _ = app_with_tokens(store)
    with running(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        yield http, store


def walk(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node["children"])


# -- facets and trees ----------------------------------------------------------------------------------
def test_facets_list_concept_counts(client: tuple[httpx.Client, Store]) -> None:
    http, store = client
    answer = http.get("/vocab/facets").json()
    trees = loader.read_trees(store, GRAPHS)
    facets = load_facets()
    assert [f["id"] for f in answer["facets"]] == sorted(facets)
    for entry in answer["facets"]:
        assert entry["concepts"] == len(facet_tree(facets[entry["id"]], trees))
        assert entry["target_property"] == facets[entry["id"]].target_property
    by_id = {f["id"]: f for f in answer["facets"]}
    assert by_id["korean-materials"]["concepts"] > 0 and by_id["materials"]["concepts"] > 0
    assert by_id["disciplines"]["concepts"] == 0  # no loaded vocabulary has that hierarchy
    assert http.get("/vocab/facets", params={"lang": "ko"}).json()["facets"][0]["label"] == "분야"


def test_tree_nests_every_concept_of_the_facet(client: tuple[httpx.Client, Store]) -> None:
    http, store = client
    tree = facet_tree(load_facets()["korean-materials"], loader.read_trees(store, GRAPHS))
    answer = http.get("/vocab/facets/korean-materials/tree").json()
    nodes = list(walk(answer["roots"]))
    assert answer["nodes"] == len(nodes) == len(tree) == answer["concepts"]
    for node in nodes:
        source = tree[node["iri"]]
        assert node["guide"] is (not source.selectable)
        assert node["child_count"] == len(node["children"]) == len(source.children)
        assert node["labels"] == source.pref_labels
        assert all(child["depth"] == node["depth"] + 1 for child in node["children"])
        assert "score" not in node  # no record asked
    assert [r["iri"] for r in answer["roots"]] == [KM + "materials"]
    assert answer["roots"][0]["guide"] is True  # the facet's collection is structure, not a value

    ceramic = KM + "material/ceramic"
    only = http.get("/vocab/facets/korean-materials/tree", params={"root": ceramic, "depth": 0}).json()
    assert [(n["iri"], n["children"], n["child_count"]) for n in only["roots"]] == [(ceramic, [], 3)]
    one_level = http.get("/vocab/facets/korean-materials/tree", params={"root": ceramic, "depth": 1}).json()
    assert {c["iri"] for c in one_level["roots"][0]["children"]} == set(tree[ceramic].children)
    assert one_level["nodes"] == 4


def test_labels_in_the_asked_language_fall_back_to_english(client: tuple[httpx.Client, Store]) -> None:
    http, _ = client
    neolithic = KM + "period/neolithic"

    def label(**params: str) -> tuple[str, dict[str, Any]]:
        answer = http.get("/vocab/facets/korean-periods/tree", params=params).json()
        node = next(n for n in walk(answer["roots"]) if n["iri"] == neolithic)
        return node["label"], node

    assert label(lang="ko")[0] == "신석기"
    assert label(lang="en")[0] == "Neolithic"
    assert label(lang="fr")[0] == "Neolithic"  # no French label: English
    assert label(lang="EN")[0] == "Neolithic"  # tags compare case-insensitively
    default, node = label()
    assert default == "신석기"  # the facet's own order: ko en ko-Hani
    assert node["labels"] == {"ko": "신석기", "en": "Neolithic"}
    assert "labels" not in label(lang="en")[1]  # one language asked: one label given


def _suggested(http: httpx.Client, facet: str, record: str, **params: Any) -> dict[str, Any]:
    response = http.get(f"/vocab/facets/{facet}/tree", params={"record": record, **params})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_record_scores_are_the_stored_confidences(store: Store) -> None:
    sample_store(store)
    rows = list_suggestions(store, GRAPHS, limit=10_000)
    assert rows, "the lexical enricher found nothing in the samples"
    approve(store, GRAPHS, rows[0].id, reviewer="tester")  # statuses come from the store
    pairs = sorted({(row.record_id, row.facet) for row in rows})
    app, _ = app_with_tokens(store)
    with running(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        for i, (record_id, facet) in enumerate(pairs):
            cho = next(row.subject for row in rows if row.record_id == record_id)
            answer = _suggested(http, facet, cho if i % 2 else record_id)  # an id or the CHO IRI
            assert answer["record"] == record_id
            stored = list_suggestions(store, GRAPHS, record=record_id, facet=facet, limit=10_000)
            expected: dict[str, float] = {}
            for row in stored:
                assert row.confidence is not None
                expected[row.value] = max(expected.get(row.value, 0.0), row.confidence)
            nodes = [n for n in walk(answer["roots"]) if n["suggestions"]]
            assert {n["iri"]: n["score"] for n in nodes} == expected
            assert not answer["unplaced"]
            shown = {s["id"]: (s["status"], s["confidence"], s["enrichers"]) for n in nodes for s in n["suggestions"]}
            assert shown == {r.id: (str(r.status), r.confidence, list(r.enrichers)) for r in stored}
            assert all(n["score"] is None for n in walk(answer["roots"]) if not n["suggestions"])
            assert [r["iri"] for r in answer["ranked"]] == sorted(expected, key=lambda c: (-expected[c], c))
        approved = _suggested(http, rows[0].facet, rows[0].record_id)
        statuses = {s["id"]: s["status"] for n in walk(approved["roots"]) for s in n["suggestions"]}
        assert statuses[rows[0].id] == "Approved"


def test_top_k_marks_and_prunes_to_the_best_branches(client: tuple[httpx.Client, Store]) -> None:
    http, store = client
    rows = list_suggestions(store, GRAPHS, limit=10_000)
    # The record with the most suggested concepts in one facet makes the most telling ranking.
    counts: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        counts.setdefault((row.record_id, row.facet), set()).add(row.value)
    (record_id, facet), concepts = max(counts.items(), key=lambda item: (len(item[1]), item[0]))
    full = _suggested(http, facet, record_id)
    best = full["ranked"][0]["iri"]

    top1 = _suggested(http, facet, record_id, top=1)
    marked = [(n["iri"], n["top"]) for n in walk(top1["roots"]) if n["top"] is not None]
    assert marked == [(best, 1)]
    assert top1["nodes"] == full["nodes"]  # marked, not pruned

    pruned = _suggested(http, facet, record_id, top=1, pruned=True)
    tree = facet_tree(load_facets()[facet], loader.read_trees(store, GRAPHS))
    assert {n["iri"] for n in walk(pruned["roots"])} == set(tree.path(best))
    every = _suggested(http, facet, record_id, pruned=True)
    assert {n["iri"] for n in walk(every["roots"])} == tree.ancestor_closure(concepts)
    leaves = [n for n in walk(every["roots"]) if not n["children"]]
    assert all(n["suggestions"] for n in leaves)


def test_bad_requests_name_the_problem(client: tuple[httpx.Client, Store]) -> None:
    http, _ = client
    unknown = http.get("/vocab/facets/colours/tree")
    assert unknown.status_code == 404
    assert "colours" in unknown.json()["detail"] and "korean-materials" in unknown.json()["detail"]
    cases = {
        "/vocab/facets/materials/tree?record=no-such-record-000000000000": (404, "no-such-record"),
        "/vocab/facets/materials/tree?root=http://example.org/elsewhere": (422, "elsewhere"),
        "/vocab/facets/materials/tree?top=3": (422, "record"),
        "/vocab/facets/materials/tree?pruned=true": (422, "record"),
        "/vocab/facets/materials/tree?depth=-1": (422, "depth"),
        "/vocab/facets/materials/tree?lang=not%20a%20tag": (422, "lang"),
        "/vocab/search?q=bronze&facet=colours": (422, "colours"),
        "/vocab/search": (422, "q"),
    }
    for url, (status, named) in cases.items():
        response = http.get(url)
        assert response.status_code == status, (url, response.text)
        assert named in response.text, (url, response.text)
        assert "Traceback" not in response.text


def test_search_by_label_in_any_language(client: tuple[httpx.Client, Store]) -> None:
    http, _ = client
    celadon = KM + "material/celadon"
    found = http.get("/vocab/search", params={"q": "청자"}).json()
    assert [r["iri"] for r in found["results"]] == [celadon]
    hit = found["results"][0]
    assert hit["label"] == "celadon" and hit["facets"] == ["korean-materials"] and hit["vocabulary"] == KOREAN
    assert [step["iri"] for step in hit["path"]] == [KM + "materials", KM + "material/ceramic", celadon]
    assert hit["matched"] == {"label": "청자", "language": "ko", "label_kind": "pref", "match": "exact"}

    korean = http.get("/vocab/search", params={"q": "CELADON", "facet": "korean-materials", "lang": "ko"}).json()
    assert [step["label"] for step in korean["results"][0]["path"]] == ["재질", "도자기", "청자"]

    plural = {r["iri"] for r in http.get("/vocab/search", params={"q": "Bronzes"}).json()["results"]}
    assert {AAT_BRONZE, KM + "material/bronze"} <= plural  # folded and made singular, both vocabularies
    limited = http.get("/vocab/search", params={"q": "bronze", "limit": 1}).json()
    assert limited["count"] >= 2 and len(limited["results"]) == 1
    assert http.get("/vocab/search", params={"q": "no such label anywhere"}).json()["results"] == []


def test_trees_are_cached_until_the_vocabularies_change() -> None:
    store = EmbeddedStore()
    load_vocabularies(store, (loader.STARTER_VOCABULARY,))
    app, _ = app_with_tokens(store)
    with running(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:

        def concepts(facet: str) -> int:
            by_id = {f["id"]: f["concepts"] for f in http.get("/vocab/facets").json()["facets"]}
            return by_id[facet]

        assert concepts("korean-materials") == 0
        cached = app.state.vocab_cache.get(store, GRAPHS)
        assert concepts("materials") > 0
        assert app.state.vocab_cache.get(store, GRAPHS) is cached  # nothing changed: the same trees
        load_vocabularies(store, (KOREAN,))
        assert concepts("korean-materials") > 0
        assert app.state.vocab_cache.get(store, GRAPHS) is not cached
