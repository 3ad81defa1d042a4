"""Export of a record with its enrichments: plain EDM (accepted enrichments merged into the ProvidedCHO)
and the full dataset (suggestions and provenance), each parsed back."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from pyoxigraph import Literal, NamedNode, Triple

from enrich.export import ENRICHED_FORMATS, FULL_FORMATS, export_enriched, export_full, export_view
from enrich.ingest.errors import InputError
from enrich.jobs import RunDefinition, run_enrichment
from enrich.namespaces import DCTERMS, ENR, PROV, RDF_TYPE, SKOS
from enrich.records_admin import RecordNotFound
from enrich.store.base import Store, text
from enrich.store.embedded import EmbeddedStore
from tests.jobs.support import GRAPHS, cmoa_store

CONCEPT = "http://vocab.getty.edu/aat/300010900"  # a material; any IRI does for the export
BROADER = "http://vocab.getty.edu/aat/300010358"


@pytest.fixture(scope="module")
def enriched(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, str, str]:
    """A store with CMOA records, a lexical run, and one record with an approved enrichment written
    directly into its enrichment graph (as review would: the triple and the concept's description)."""
    store = EmbeddedStore()
    ids = cmoa_store(store, tmp_path_factory.mktemp("export"), rows=30)
    run_enrichment(store, GRAPHS, RunDefinition.of(["lexical"], ["materials", "object-types"]))
    rid = text(
        store.select(f"SELECT ?r WHERE {{ GRAPH ?g {{ ?s <{ENR}record> ?r }} }} ORDER BY ?r LIMIT 1")[0]["r"]
    ).removeprefix(GRAPHS.record_node(""))
    assert rid in ids
    cho = text(store.objects_of([GRAPHS.record_node(rid)], ENR + "cho", GRAPHS.system)[GRAPHS.record_node(rid)][0])
    store.update(
        f"INSERT DATA {{ GRAPH <{GRAPHS.enrichment(rid)}> {{ "
        f"<{cho}> <{DCTERMS}medium> <{CONCEPT}> . "
        f'<{CONCEPT}> a <{SKOS}Concept> ; <{SKOS}prefLabel> "bronze"@en , "Bronze"@de ; <{SKOS}broader> <{BROADER}> . '
        f'<{BROADER}> a <{SKOS}Concept> ; <{SKOS}prefLabel> "copper alloy"@en . '
        f'<urn:x:elsewhere> <{SKOS}prefLabel> "not reachable from the CHO"@en . '
        f"<{cho}> <{ENR}reviewedBy> <urn:x:someone> . }} }}"
    )
    return store, rid, cho


@pytest.mark.parametrize("format_name", sorted(ENRICHED_FORMATS))
def test_plain_edm_has_the_provider_data_and_the_accepted_enrichment(
    enriched: tuple[Store, str, str], format_name: str
) -> None:
    store, rid, cho = enriched
    data = export_enriched(store, GRAPHS, rid, format_name)
    # JSON-LD parses as quads in the default graph: compare as triples
    triples = {
        Triple(t.subject, t.predicate, t.object) for t in pyoxigraph.parse(data, format=ENRICHED_FORMATS[format_name])
    }
    record = set(store.read_graph(GRAPHS.record(rid)))
    assert record <= triples
    medium = Triple(NamedNode(cho), NamedNode(DCTERMS + "medium"), NamedNode(CONCEPT))
    assert medium in triples
    labels = {t.object for t in triples if t.subject == NamedNode(CONCEPT) and t.predicate.value == SKOS + "prefLabel"}
    assert Literal("bronze", language="en") in labels and Literal("Bronze", language="de") in labels
    assert any(t.subject == NamedNode(BROADER) for t in triples)  # the broader concept comes along
    assert not any(t.predicate.value.startswith((ENR, PROV)) for t in triples)
    assert not any(t.subject == NamedNode("urn:x:elsewhere") for t in triples)
    assert not any(t.object == NamedNode(ENR + "Suggestion") for t in triples)


@pytest.mark.parametrize("format_name", sorted(FULL_FORMATS))
def test_the_full_picture_has_record_enrichment_suggestions_and_runs(
    enriched: tuple[Store, str, str], format_name: str
) -> None:
    store, rid, _ = enriched
    data = export_full(store, GRAPHS, rid, format_name)
    quads = list(pyoxigraph.parse(data, format=FULL_FORMATS[format_name]))
    graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, NamedNode)}
    assert {GRAPHS.record(rid), GRAPHS.enrichment(rid), GRAPHS.suggestions(rid), GRAPHS.runs, GRAPHS.system} <= graphs
    suggestions = [q for q in quads if q.predicate.value == RDF_TYPE and q.object == NamedNode(ENR + "Suggestion")]
    assert suggestions and all(q.graph_name == NamedNode(GRAPHS.suggestions(rid)) for q in suggestions)
    runs = {q.object for q in quads if q.predicate.value == PROV + "wasGeneratedBy"}
    described = {q.subject for q in quads if q.graph_name == NamedNode(GRAPHS.runs)}
    assert runs and runs <= described
    assert any(q.predicate.value == ENR + "modelName" for q in quads)  # the model card of the run
    record = set(store.read_graph(GRAPHS.record(rid)))
    assert {
        Triple(q.subject, q.predicate, q.object) for q in quads if q.graph_name.value == GRAPHS.record(rid)
    } == record
    # only this record's registry node, not the whole system graph
    assert {q.subject for q in quads if q.graph_name == NamedNode(GRAPHS.system)} == {
        NamedNode(GRAPHS.record_node(rid))
    }


def test_unknown_records_and_formats(enriched: tuple[Store, str, str], tmp_path: Path) -> None:
    store, rid, cho = enriched
    with pytest.raises(RecordNotFound):
        export_enriched(store, GRAPHS, "nothing-000000000000", "turtle")
    with pytest.raises(RecordNotFound):
        export_full(store, GRAPHS, "nothing-000000000000", "trig")
    with pytest.raises(InputError):
        export_view(store, GRAPHS, rid, "enriched", "trig")
    assert export_view(store, GRAPHS, cho, "full", "nquads") == export_full(store, GRAPHS, rid, "nquads")
    trig = export_full(store, GRAPHS, rid, "trig")
    assert b"@prefix enr:" in trig
