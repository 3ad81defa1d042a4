"""Loading SKOS into every kind of store: Getty LOD as published, local schemes, merge and replace."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from enrich.ingest.errors import InputError
from enrich.namespaces import ENR, SKOS, Graphs
from enrich.store.base import Store
from enrich.vocab import loader
from enrich.vocab.skos import GVP
from tests.vocab.support import DATA, getty_files

GRAPHS = Graphs("https://data.example.org/")
AAT = "http://vocab.getty.edu/aat/"


def test_getty_lod_files_as_published(store: Store) -> None:
    for path in getty_files():
        loader.load(store, GRAPHS, loader.read_file(path), "aat", str(path))
    tree = loader.read_tree(store, GRAPHS, "aat")
    # Five concepts: the file named 300264088 holds a second copy of 300123559's description.
    assert set(tree.nodes) == {AAT + i for i in ("300015646", "300111078", "300123559", "300224439", "300444999")}
    post_colonial = tree[AAT + "300444999"]
    assert post_colonial.selectable and post_colonial.parent == AAT + "300111078"
    assert tree.ancestors(AAT + "300444999") == [AAT + "300111078", AAT + "300015646"]
    # Guide terms and hierarchy names stay as structure and are never offered as values.
    assert not tree[AAT + "300111078"].selectable and not tree[AAT + "300015646"].selectable
    assert tree.find("<styles, periods, and cultures by general era>") == []
    # Multilingual labels: SKOS-XL literal forms and plain SKOS labels both count.
    definition = tree[AAT + "300224439"]
    assert definition.pref_labels["nl"] == "definiëren" and definition.pref_labels["zh-hant"] == "定義"
    assert ("en", "defining") in definition.alt_labels
    assert [c.concept for c in tree.find("definir")] == [AAT + "300224439"]
    assert tree[AAT + "300015646"].label(("es",)) == "estilos y periodos"


def test_loaded_graph_is_plain_skos_without_getty_bulk(store: Store) -> None:
    path = next(p for p in getty_files() if p.name == "aat_300224439.ttl")
    loader.load(store, GRAPHS, loader.read_file(path), "aat", str(path))
    graph = GRAPHS.vocab("aat")
    predicates = {t.predicate.value for t in store.read_graph(graph)}
    assert SKOS + "prefLabel" in predicates and GVP + "broaderPreferred" in predicates
    assert not any("rev" in p or p.endswith("contributor") for p in predicates)
    info = loader.list_vocabularies(store, GRAPHS)
    assert [(i.name, i.scheme, i.concepts, i.source) for i in info] == [("aat", AAT, 1, str(path))]


def test_local_scheme_deprecated_skipped_and_formats(store: Store, tmp_path: Path) -> None:
    turtle = DATA / "local-scheme.ttl"
    vocabulary = loader.read_file(turtle)
    assert vocabulary.skipped_deprecated == 1
    assert loader.default_name(vocabulary) == "scheme"
    report = loader.load(store, GRAPHS, vocabulary, "museum-classes", str(turtle))
    assert (report.concepts, report.structural, report.skipped_deprecated) == (5, 1, 1)
    # The same scheme as RDF/XML and JSON-LD reads the same.
    triples = list(pyoxigraph.parse(path=str(turtle)))
    for suffix, rdf_format in ((".rdf", pyoxigraph.RdfFormat.RDF_XML), (".jsonld", pyoxigraph.RdfFormat.JSON_LD)):
        copy = tmp_path / f"scheme{suffix}"
        copy.write_bytes(pyoxigraph.serialize(triples, format=rdf_format) or b"")
        again = loader.read_file(copy)
        assert {i: c.pref_labels for i, c in again.concepts.items()} == {
            i: c.pref_labels for i, c in vocabulary.concepts.items()
        }
    tree = loader.read_tree(store, GRAPHS, "museum-classes")
    assert tree.format_path("http://collection.example.org/class/blue-and-white", ("ko",)) == "도자기 | 백자 | 청화백자"


def test_merge_replaces_a_concept_read_again_and_replace_drops_the_rest(store: Store, tmp_path: Path) -> None:
    loader.load(store, GRAPHS, loader.read_file(DATA / "local-scheme.ttl"), "classes", "first")
    update = tmp_path / "update.ttl"
    update.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "<http://collection.example.org/class/porcelain> a skos:Concept ;"
        ' skos:inScheme <http://collection.example.org/class/scheme> ; skos:prefLabel "hard-paste porcelain"@en .\n',
        encoding="utf-8",
    )
    loader.load(store, GRAPHS, loader.read_file(update), "classes", "second")
    tree = loader.read_tree(store, GRAPHS, "classes")
    porcelain = tree["http://collection.example.org/class/porcelain"]
    assert porcelain.pref_labels == {"en": "hard-paste porcelain"}  # old labels gone, not doubled
    assert "http://collection.example.org/class/celadon" in tree  # untouched concepts stay
    assert [i.source for i in loader.list_vocabularies(store, GRAPHS)] == ["second"]
    loader.load(store, GRAPHS, loader.read_file(update), "classes", "third", replace=True)
    assert set(loader.read_tree(store, GRAPHS, "classes").nodes) == {porcelain.iri}
    # No staging graphs are left behind.
    assert [g for g in store.named_graphs() if "staging" in g] == []


def test_interrupted_first_load_is_redone(store: Store) -> None:
    graph = GRAPHS.vocab("classes")
    # What a crash halfway through a first load leaves: concepts but no load metadata.
    store.update(
        f'INSERT DATA {{ GRAPH <{graph}> {{ <urn:half> a <{SKOS}Concept> ; <{SKOS}prefLabel> "half" ; '
        f"<{SKOS}inScheme> <urn:scheme> }} }}"
    )
    assert [i.source for i in loader.list_vocabularies(store, GRAPHS)] == [None]
    loader.load(store, GRAPHS, loader.read_file(DATA / "local-scheme.ttl"), "classes", "file")
    tree = loader.read_tree(store, GRAPHS, "classes")
    assert "urn:half" not in tree and len(tree) == 5
    assert store.ask(f'ASK {{ GRAPH <{graph}> {{ ?s <{ENR}loadedFrom> "file" }} }}')


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("@prefix x: <urn:x#> . x:a x:b ", "broken.ttl", "syntax error"),
        ('<urn:a> <urn:b> "no concepts here" .\n', "plain.nt", "no SKOS concepts"),
        (
            '<?xml version="1.0"?><!DOCTYPE rdf [<!ENTITY a "aaaa">]><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
            "bomb.rdf",
            "DOCTYPE",
        ),
        ("whatever", "scheme.xyz", "cannot tell the RDF format"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(tmp_path: Path, content: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        loader.read_file(path)


def test_bad_names_and_missing_vocabularies(store: Store) -> None:
    vocabulary = loader.read_file(DATA / "local-scheme.ttl")
    for bad in ("", "../etc", "a b", "x" * 65):
        with pytest.raises(InputError, match="vocabulary name"):
            loader.load(store, GRAPHS, vocabulary, bad, "file")
    with pytest.raises(InputError, match="no such vocabulary"):
        loader.read_tree(store, GRAPHS, "absent")
    assert store.named_graphs() == []
    with pytest.raises(InputError, match="bundled: aat-starter"):
        loader.bundled_vocabulary("absent")
