"""The whole 2014 AAT hierarchy (23,449 nodes, no AAT IDs) converted to SKOS and used as facet trees."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest

from enrich.namespaces import Graphs
from enrich.store.embedded import EmbeddedStore
from enrich.vocab import aat_json, loader
from enrich.vocab.facets import facet_tree, load_facets
from enrich.vocab.skos import GVP, read_skos
from enrich.vocab.tree import LabelTree
from tests.vocab.support import AAT_HIERARCHY_JSON, require


@pytest.fixture(scope="module")
def tree() -> LabelTree:
    return LabelTree.from_vocabulary(aat_json.load_json(require(AAT_HIERARCHY_JSON)))


def test_every_node_converts_with_local_iris(tree: LabelTree) -> None:
    # 23,449 nodes in the file: the top node "AAT" becomes the scheme, the rest concepts.
    assert len(tree) == 23_448
    assert all(iri.startswith(aat_json.DEFAULT_SCHEME + "/") for iri in tree.nodes)
    assert not any("vocab.getty.edu" in iri for iri in tree.nodes)
    facets = sorted(tree[root].label() for root in tree.roots)
    assert facets[:3] == ["Activities Facet", "Agents Facet", "Associated Concepts Facet"]
    assert len(facets) == 8


def test_iris_are_stable_across_runs(tree: LabelTree) -> None:
    again = LabelTree.from_vocabulary(aat_json.load_json(AAT_HIERARCHY_JSON))
    assert set(again.nodes) == set(tree.nodes)


def test_facet_trees_have_the_published_sizes(tree: LabelTree) -> None:
    facets = load_facets()
    trees = {"aat-2014": tree}
    assert len(facet_tree(facets["materials"], trees)) == 2_528
    assert len(facet_tree(facets["object-types"], trees)) == 9_053
    subjects = facet_tree(facets["subjects"], trees)
    assert [subjects[r].label() for r in subjects.roots] == ["<visual works by subject type>"]
    disciplines = facet_tree(facets["disciplines"], trees)
    assert [disciplines[r].label() for r in disciplines.roots] == ["Disciplines (facet)"]


def test_guide_terms_hierarchy_names_and_paths(tree: LabelTree) -> None:
    vases = [c.concept for c in tree.find("vase")]
    assert len(vases) == 1
    assert tree.format_path(vases[0]) == (
        "Objects Facet | Furnishings and Equipment (Hierarchy Name) | Containers (Hierarchy Name) | "
        "containers (receptacles) | <containers by form> | vessels (containers) | vases"
    )
    guide = tree.ancestors(vases[0])[1]
    assert tree[guide].label() == "<containers by form>" and not tree[guide].selectable
    assert not tree[tree.ancestors(vases[0])[-2]].selectable  # "(Hierarchy Name)"
    assert tree.resolve_path(["vessels (containers)", "vases"]) == vases
    oil = tree.find("oil paint")
    assert [c.label for c in oil] == ["oil paint (paint)"] and oil[0].match == "unqualified"


def test_converted_skos_round_trips_through_a_store(tmp_path: Path) -> None:
    vocabulary = aat_json.load_json(require(AAT_HIERARCHY_JSON))
    graphs = Graphs("https://data.example.org/")
    with EmbeddedStore(tmp_path / "store") as store:
        report = loader.load(store, graphs, vocabulary, "aat-2014", "json")
        assert report.concepts == 23_448 and report.structural > 1_000
        back = loader.read_tree(store, graphs, "aat-2014")
    assert set(back.nodes) == {c.iri for c in vocabulary.concepts.values()}
    guide_types = {c.iri for c in vocabulary.concepts.values() if GVP + "GuideTerm" in c.types}
    assert guide_types and all(not back[iri].selectable for iri in guide_types)
    # Written as SKOS Turtle it reads back the same.
    text = "\n".join(loader.vocabulary_triples(vocabulary))
    again = read_skos(pyoxigraph.parse(text.encode(), pyoxigraph.RdfFormat.N_TRIPLES))
    assert {i: c.pref_labels for i, c in again.concepts.items()} == {
        i: c.pref_labels for i, c in vocabulary.concepts.items()
    }


def test_malformed_hierarchies_are_refused(tmp_path: Path) -> None:
    with pytest.raises(aat_json.HierarchyFormatError, match="name"):
        aat_json.convert({"children": []})
    with pytest.raises(aat_json.HierarchyFormatError, match="children"):
        aat_json.convert({"name": "AAT", "children": "oops"})
    with pytest.raises(aat_json.HierarchyFormatError, match="no name"):
        aat_json.convert({"name": "AAT", "children": [{"name": " "}]})
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"name": "AAT"})[:-3], encoding="utf-8")
    with pytest.raises(aat_json.HierarchyFormatError, match="not JSON"):
        aat_json.load_json(broken)
