"""Ingest of CIDOC-CRM and Linked Art input into a real store: the EDM view as the record, the CRM kept in
``…/graph/original/{id}``, the same registry, validation and all-or-nothing writes as EDM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph
import pytest
from pyoxigraph import Literal, NamedNode

from enrich.ingest import IngestReport, InputError, ValidationFailed
from enrich.ingest.records import record_id
from enrich.mapping import crm, linked_art
from enrich.namespaces import DC, RDF_TYPE
from enrich.records_admin import delete_records
from enrich.store.base import Store
from enrich.validation import CompiledShapes
from tests.ingest.support import (
    GRAPHS,
    journal_is_clean,
    make_settings,
    only,
    record_graphs,
    registry_entry,
    snapshot,
    write_record,
)
from tests.ingest.support import ingest as run_ingest
from tests.mapping.support import (
    BELL_IRI,
    MODEL_IRI,
    OLD_NAMESPACE,
    OPTIONS,
    PAINTING,
    PAINTING_IRI,
    TUREEN_IRI,
    TWO_OBJECTS,
    read,
    same_graph,
)

CRM = crm.CRM


def ingest(store: Store, inputs: list[Path], **options: object) -> IngestReport:
    options.setdefault("crm", OPTIONS)
    return run_ingest(store, inputs, **options)


def original_graph(iri: str) -> str:
    return GRAPHS.original(record_id(iri))


def record_graph(iri: str) -> str:
    return GRAPHS.record(record_id(iri))


def original_graphs(store: Store) -> list[str]:
    return sorted(g for g in store.named_graphs() if g.startswith(GRAPHS.original("")))


def copy(source: Path, folder: Path, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(source, folder / (name or source.name)))


def test_linked_art_json_ld_is_ingested_as_edm_with_its_crm_beside_it(store: Store, tmp_path: Path) -> None:
    report = ingest(store, [copy(PAINTING, tmp_path)])
    assert (report.records, report.new, report.converted, report.invalid) == (1, 1, 1, [])
    assert report.summary().endswith("; 1 converted from CIDOC-CRM")
    record = store.read_graph(record_graph(PAINTING_IRI))
    assert CompiledShapes.edm().validate(record) == []
    typed = pyoxigraph.Triple(NamedNode(PAINTING_IRI), NamedNode(RDF_TYPE), NamedNode(f"{CRM}E22_Human-Made_Object"))
    assert typed in store.read_graph(original_graph(PAINTING_IRI))
    assert same_graph(store.read_graph(original_graph(PAINTING_IRI)), read(PAINTING))
    assert record_graphs(store) == [record_graph(PAINTING_IRI)]
    entry = registry_entry(store, record_id(PAINTING_IRI))
    assert only(entry, "cho") == NamedNode(PAINTING_IRI)
    assert only(entry, "provider") == Literal("Example Aggregator")
    assert only(entry, "dataProvider") == Literal("Example Museum of Art")
    assert only(entry, "edmType") == Literal("IMAGE")
    assert journal_is_clean(store)


def test_crm_turtle_with_two_objects(store: Store, tmp_path: Path) -> None:
    report = ingest(store, [copy(TWO_OBJECTS, tmp_path)], source_model="crm")
    assert (report.records, report.new, report.converted) == (2, 2, 2)
    assert record_graphs(store) == sorted(record_graph(iri) for iri in (BELL_IRI, MODEL_IRI))
    assert original_graphs(store) == sorted(original_graph(iri) for iri in (BELL_IRI, MODEL_IRI))
    bell, model = (store.read_graph(original_graph(iri)) for iri in (BELL_IRI, MODEL_IRI))
    assert not any(t.subject == NamedNode(BELL_IRI) for t in model)
    assert same_graph(set(bell) | set(model), read(TWO_OBJECTS))
    for iri in (BELL_IRI, MODEL_IRI):
        assert CompiledShapes.edm().validate(store.read_graph(record_graph(iri))) == []


def test_obsolete_namespace_rdf_xml_is_told_apart_and_normalised(store: Store, tmp_path: Path) -> None:
    report = ingest(store, [copy(OLD_NAMESPACE, tmp_path)])
    assert (report.new, report.converted) == (1, 1)
    original = store.read_graph(original_graph(TUREEN_IRI))
    assert not any("rdfs/cidoc-crm#" in str(t) for t in original)
    assert store.ask(f'ASK {{ GRAPH <{record_graph(TUREEN_IRI)}> {{ <{TUREEN_IRI}> <{DC}type> "Terrine"@de }} }}')


def test_reingesting_the_same_crm_is_unchanged(store: Store, tmp_path: Path) -> None:
    paths = [copy(PAINTING, tmp_path), copy(TWO_OBJECTS, tmp_path)]
    ingest(store, paths)
    before = snapshot(store)
    again = ingest(store, paths)
    assert (again.records, again.new, again.updated, again.unchanged) == (3, 0, 0, 3)
    assert snapshot(store) == before


def test_a_change_only_the_crm_holds_replaces_the_original(store: Store, tmp_path: Path) -> None:
    """The EDM view leaves the credit line out; changing it still updates the record's original graph."""
    path = copy(PAINTING, tmp_path)
    ingest(store, [path])
    record_before = snapshot(store).quads
    path.write_text(path.read_text(encoding="utf-8").replace("Friends of the Museum", "Museum Society"), "utf-8")
    report = ingest(store, [path])
    assert (report.updated, report.unchanged) == (1, 0)
    original = store.read_graph(original_graph(PAINTING_IRI))
    contents = {t.object.value for t in original if isinstance(t.object, Literal)}
    assert "Gift of the Museum Society, 1937" in contents
    assert "Gift of the Friends of the Museum, 1937" not in contents
    record_quads = [q for q in record_before if q[0] == record_graph(PAINTING_IRI)]
    assert record_quads == [q for q in snapshot(store).quads if q[0] == record_graph(PAINTING_IRI)]
    assert journal_is_clean(store)


def test_a_failed_ingest_rolls_back_the_original_graphs_too(store: Store, tmp_path: Path) -> None:
    ingest(store, [copy(PAINTING, tmp_path / "v1")])
    before = snapshot(store)
    changed = copy(PAINTING, tmp_path / "run", "a-painting.jsonld")
    changed.write_text(changed.read_text(encoding="utf-8").replace("1937.23", "1937.23a"), "utf-8")
    crm_new = copy(TWO_OBJECTS, tmp_path / "run", "b-objects.ttl")
    broken = tmp_path / "run" / "c-broken.ttl"
    broken.write_text(f"<{BELL_IRI}> a <{CRM}E22_Human-Made_Object> ;\n", encoding="utf-8")
    # One record per batch: the painting's replacement and the two new objects are written before the error.
    with pytest.raises(InputError) as caught:
        ingest(store, [changed, crm_new, broken], settings=make_settings(ingest_batch_records=1))
    assert caught.value.source == str(broken)
    assert snapshot(store) == before
    assert original_graphs(store) == [original_graph(PAINTING_IRI)]
    assert journal_is_clean(store)


def test_a_remote_context_other_than_linked_arts_writes_nothing(store: Store, tmp_path: Path) -> None:
    ingest(store, [write_record(tmp_path, "earlier.ttl", n=1)])
    before = snapshot(store)
    document = json.loads(PAINTING.read_text(encoding="utf-8"))
    document["@context"] = "https://example.org/museum-context.jsonld"
    path = tmp_path / "run" / "remote.jsonld"
    path.parent.mkdir()
    path.write_text(json.dumps(document), encoding="utf-8")
    for model in ("auto", "crm"):
        with pytest.raises(InputError) as caught:
            ingest(store, [copy(PAINTING, tmp_path / "run", "a.jsonld"), path], source_model=model)
        assert caught.value.source == str(path)
        assert str(caught.value) == (
            f"{path}: JSON-LD syntax error: the remote context 'https://example.org/museum-context.jsonld' (@context) "
            f"is not fetched: only Linked Art's context ({linked_art.LINKED_ART_CONTEXT}) is known, from a local "
            "copy; put any other context inline"
        )
        assert snapshot(store) == before
    assert journal_is_clean(store)


def test_without_a_provider_the_records_are_invalid_and_nothing_is_written(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match=r"\[AggregationProvider\]"):
        ingest(store, [copy(TWO_OBJECTS, tmp_path)], crm=crm.CrmOptions(), report_path=tmp_path / "report.json")
    assert record_graphs(store) == []
    assert original_graphs(store) == []
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert {item["cho"] for item in report["invalid"]} == {BELL_IRI, MODEL_IRI}


def test_source_model_edm_does_not_convert(store: Store, tmp_path: Path) -> None:
    path = copy(TWO_OBJECTS, tmp_path)
    with pytest.raises(InputError, match="no EDM record found"):
        ingest(store, [path], source_model="edm")
    with pytest.raises(InputError, match=r"no CIDOC-CRM object \(crm:E22_Human-Made_Object\)"):
        ingest(store, [write_record(tmp_path, "edm.ttl")], source_model="crm")
    assert record_graphs(store) == []


def test_edm_input_gets_no_original_graph(store: Store, tmp_path: Path) -> None:
    report = ingest(store, [write_record(tmp_path, "edm.ttl", n=1)])
    assert (report.new, report.converted) == (1, 0)
    assert original_graphs(store) == []


def test_deleting_a_converted_record_drops_its_original_graph(store: Store, tmp_path: Path) -> None:
    ingest(store, [copy(TWO_OBJECTS, tmp_path)])
    delete_records(store, GRAPHS, [BELL_IRI])
    assert original_graphs(store) == [original_graph(MODEL_IRI)]
    assert not store.graph_exists(record_graph(BELL_IRI))


def test_stored_records_as_crm(store: Store, tmp_path: Path) -> None:
    ingest(store, [copy(PAINTING, tmp_path), write_record(tmp_path, "edm.ttl", n=1)])
    assert same_graph(crm.record_as_crm(store, GRAPHS, record_id(PAINTING_IRI)), read(PAINTING))
    mapped = crm.record_as_crm(store, GRAPHS, record_id("http://example.org/cho/1"))
    document = linked_art.to_linked_art(mapped, "http://example.org/cho/1")
    assert document["type"] == "HumanMadeObject"
    assert [n["content"] for n in document["identified_by"]] == ["Bronze bell from Kraków"]


def test_size_limit_holds_for_crm_input(store: Store, tmp_path: Path) -> None:
    path = copy(PAINTING, tmp_path)
    with pytest.raises(InputError, match="input is larger than the limit of 1,000 bytes"):
        ingest(store, [path], settings=make_settings(max_input_bytes=1000))
    assert record_graphs(store) == []
