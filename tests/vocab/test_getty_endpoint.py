"""An AAT subtree fetched with SPARQLWrapper from a real SPARQL server (Oxigraph on 127.0.0.1 holding
the Getty LOD sample files), never from the internet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from enrich.ingest.errors import InputError
from enrich.namespaces import Graphs
from enrich.store.base import StoreError
from enrich.store.embedded import EmbeddedStore
from enrich.vocab import loader
from enrich.vocab.getty import concept_iri, fetch_subtree
from tests.cli.support import enrich
from tests.conftest import free_port
from tests.vocab.support import getty_files

AAT = "http://vocab.getty.edu/aat/"


@pytest.fixture
def getty_endpoint(oxigraph_server: str) -> Iterator[str]:
    """The session's Oxigraph server with the Getty samples in its default graph; its SPARQL query URL."""
    with httpx.Client(timeout=30) as client:
        client.post(
            f"{oxigraph_server}/update", content="DROP ALL", headers={"Content-Type": "application/sparql-update"}
        ).raise_for_status()
        for path in getty_files():
            client.post(
                f"{oxigraph_server}/store?default", content=path.read_bytes(), headers={"Content-Type": "text/turtle"}
            ).raise_for_status()
    yield f"{oxigraph_server}/query"


def test_subtree_with_labels_in_every_language(getty_endpoint: str) -> None:
    vocabulary = fetch_subtree("300015646", getty_endpoint)
    assert set(vocabulary.concepts) == {AAT + "300015646", AAT + "300111078", AAT + "300444999"}
    assert vocabulary.scheme_iri == AAT
    hierarchy = vocabulary.concepts[AAT + "300015646"]
    assert hierarchy.structural and hierarchy.pref_labels["nl"] == "Stijlen en Perioden"
    guide = vocabulary.concepts[AAT + "300111078"]
    assert guide.structural and guide.broader_preferred == AAT + "300015646"
    post_colonial = vocabulary.concepts[AAT + "300444999"]
    assert not post_colonial.structural and ("en", "Post-Colonialism") in post_colonial.alt_labels


def test_subtree_loads_into_a_store(getty_endpoint: str) -> None:
    graphs = Graphs("https://data.example.org/")
    with EmbeddedStore() as store:
        loader.load(store, graphs, fetch_subtree("aat:300111078", getty_endpoint), "aat", "endpoint")
        tree = loader.read_tree(store, graphs, "aat")
    assert tree.roots == [AAT + "300111078"] and tree.ancestors(AAT + "300444999") == [AAT + "300111078"]


def test_limits_and_errors(getty_endpoint: str) -> None:
    with pytest.raises(InputError, match="more than 2 concepts"):
        fetch_subtree("300015646", getty_endpoint, max_concepts=2)
    with pytest.raises(InputError, match="not found"):
        fetch_subtree("300000001", getty_endpoint)
    with pytest.raises(InputError, match="not an AAT concept id"):
        concept_iri("materials")
    with pytest.raises(StoreError, match="SPARQL endpoint"):
        fetch_subtree("300015646", f"http://127.0.0.1:{free_port()}/query", timeout=5)


def test_cli_loads_a_subtree(getty_endpoint: str, tmp_path: Path) -> None:
    result = enrich(
        "vocab", "load", "--getty-subtree", "300015646", "--endpoint", getty_endpoint, "--store", "s", cwd=tmp_path
    )
    assert result.returncode == 0, result.describe()
    assert "3 concept(s) (2 guide terms/collections" in result.stdout and "'aat'" in result.stdout
