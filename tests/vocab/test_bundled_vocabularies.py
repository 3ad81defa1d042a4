"""Every bundled vocabulary loads, and every AAT IRI any of them uses is one the starter vocabulary traces
to a source (so no bundled file can carry an invented AAT ID)."""

from __future__ import annotations

import pyoxigraph
import pytest

from enrich.namespaces import Graphs
from enrich.store.embedded import EmbeddedStore
from enrich.vocab import loader

AAT = "http://vocab.getty.edu/aat/"


@pytest.mark.parametrize("name", loader.bundled_names())
def test_bundled_vocabulary_loads(name: str) -> None:
    graphs = Graphs("https://data.example.org/")
    with EmbeddedStore() as store:
        report = loader.load(store, graphs, loader.read_file(loader.bundled_vocabulary(name)), name, "bundled")
        tree = loader.read_tree(store, graphs, name)
    assert report.concepts == len(tree) > 10
    assert all(node.pref_labels for node in tree.nodes.values())


def test_aat_iris_in_bundled_files_are_traceable() -> None:
    starter_triples = list(pyoxigraph.parse(path=str(loader.bundled_vocabulary("aat-starter"))))
    described = {t.subject.value for t in starter_triples if t.subject.value.startswith(AAT)}
    # Parents the starter file points at without describing them; test_starter_vocab checks each against
    # the source that states it.
    parents = {t.object.value for t in starter_triples if t.predicate.value.endswith(("#broader", "broaderPreferred"))}
    for name in loader.bundled_names():
        used = {
            term.value
            for t in pyoxigraph.parse(path=str(loader.bundled_vocabulary(name)))
            for term in (t.subject, t.object)
            if isinstance(term, pyoxigraph.NamedNode) and term.value.startswith(AAT) and term.value != AAT
        }
        allowed = described | parents
        assert used <= allowed, f"{name}: AAT IRIs without a traced source: {sorted(used - allowed)}"
