"""One record in every RDF syntax gives one record; folders and archives are walked; bad inputs are named."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode

from enrich.ingest import InputError, documents
from enrich.ingest.records import record_id
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from tests.ingest.support import (
    FORMATS,
    GRAPHS,
    RECORD_TRIPLES,
    SUFFIX,
    cho,
    ingest,
    journal_is_clean,
    masked,
    ntriples_record,
    only,
    record_graph,
    record_graphs,
    record_text,
    registry_entry,
    write_record,
)


def test_every_format_gives_the_same_record_id_and_checksum(tmp_path: Path) -> None:
    seen = {}
    for fmt in FORMATS:
        path = write_record(tmp_path, f"record{SUFFIX[fmt]}", fmt)
        with EmbeddedStore(tmp_path / f"store-{fmt}") as store:
            report = ingest(store, [path])
            assert (report.records, report.new) == (1, 1), fmt
            [graph] = record_graphs(store)
            rid = graph.removeprefix(GRAPHS.record_prefix)
            triples = masked(store.read_graph(graph))
            seen[fmt] = (rid, only(registry_entry(store, rid), "checksum"), triples)
    assert seen["turtle"][0] == record_id(cho(1))
    assert len(seen["turtle"][2]) == RECORD_TRIPLES
    assert len(seen["turtle"][1].value) == 64
    for fmt in FORMATS:
        assert seen[fmt] == seen["turtle"], fmt


def test_another_format_of_the_same_record_is_unchanged(store: Store, tmp_path: Path) -> None:
    first = ingest(store, [write_record(tmp_path, "record.ttl", "turtle")])
    assert (first.new, first.unchanged) == (1, 0)
    checksum = only(registry_entry(store, record_id(cho(1))), "checksum")
    graphs = store.named_graphs()
    for fmt in FORMATS:
        report = ingest(store, [write_record(tmp_path, f"again{SUFFIX[fmt]}", fmt)])
        assert (report.records, report.new, report.updated, report.unchanged) == (1, 0, 0, 1), fmt
        assert only(registry_entry(store, record_id(cho(1))), "checksum") == checksum
        assert store.named_graphs() == graphs
    assert store.count_triples(record_graph(cho(1))) == RECORD_TRIPLES
    assert journal_is_clean(store)


def test_n_quads_graph_names_are_ignored(store: Store, tmp_path: Path) -> None:
    text = record_text("nquads", 1, graph="http://example.org/somewhere/else")
    assert "<http://example.org/somewhere/else> ." in text
    path = tmp_path / "dump.nq"
    path.write_text(text, encoding="utf-8")
    ingest(store, [path])
    assert store.named_graphs() == sorted([record_graph(cho(1)), GRAPHS.system])
    assert store.count_triples(record_graph(cho(1))) == RECORD_TRIPLES


def test_folder_with_nested_folders_is_walked(store: Store, tmp_path: Path) -> None:
    top = tmp_path / "export"
    write_record(top, "a.ttl", "turtle", n=1)
    write_record(top, "sub/b.rdf", "rdfxml", n=2)
    (top / "sub/deeper").mkdir(parents=True)
    (top / "sub/deeper/c.nt").write_text(ntriples_record(3) + ntriples_record(4), encoding="utf-8")
    write_record(top, "sub/deeper/d.jsonld", "jsonld", n=5)
    (top / "README.txt").write_text("Export of 2024-05-01. <not RDF> @prefix nonsense", encoding="utf-8")
    (top / "sub/inventory.csv").write_text("id,title\n1,Bronze bell\n", encoding="utf-8")
    (top / "sub/empty-folder").mkdir()

    report = ingest(store, [top])
    assert (report.documents, report.records, report.new) == (4, 5, 5)
    assert report.warnings == []
    assert record_graphs(store) == sorted(record_graph(cho(n)) for n in range(1, 6))
    sources = {n: only(registry_entry(store, record_id(cho(n))), "source") for n in range(1, 6)}
    assert sources[2] == Literal(str(top / "sub/b.rdf"))
    assert sources[4] == Literal(str(top / "sub/deeper/c.nt"))
    for n in range(1, 6):
        assert store.count_triples(record_graph(cho(n))) == RECORD_TRIPLES


def _zip(path: Path, members: dict[str, str | None]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            if text is None:
                archive.writestr(zipfile.ZipInfo(name), b"")  # a folder entry
            else:
                archive.writestr(name, text)
    return path


def _tar_gz(path: Path, members: dict[str, str | None]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in members.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            if text is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                data = text.encode("utf-8")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return path


ARCHIVE_MEMBERS: dict[str, str | None] = {
    "records/": None,
    "records/one.ttl": record_text("turtle", 11),
    "records/two-and-three.nt": ntriples_record(12) + ntriples_record(13),
    "records/nested/four.rdf": record_text("rdfxml", 14),
    "five.jsonld": record_text("jsonld", 15),
    "manifest.txt": "five records\n",
}


@pytest.mark.parametrize(("name", "build"), [("export.zip", _zip), ("export.tar.gz", _tar_gz)])
def test_archive_members_are_ingested(store: Store, tmp_path: Path, name: str, build: object) -> None:
    archive = build(tmp_path / name, ARCHIVE_MEMBERS)  # type: ignore[operator]
    report = ingest(store, [archive])
    assert (report.documents, report.records, report.new) == (4, 5, 5)
    assert record_graphs(store) == sorted(record_graph(cho(n)) for n in range(11, 16))
    source = only(registry_entry(store, record_id(cho(14))), "source")
    assert source == Literal(f"{archive}!records/nested/four.rdf")
    for n in range(11, 16):
        assert store.count_triples(record_graph(cho(n))) == RECORD_TRIPLES
    assert journal_is_clean(store)


def test_archive_inside_a_folder_is_expanded(store: Store, tmp_path: Path) -> None:
    top = tmp_path / "delivery"
    write_record(top, "loose.ttl", n=1)
    (top / "batch").mkdir()
    _zip(top / "batch/more.zip", {"a.nt": ntriples_record(2), "b.ttl": record_text("turtle", 3)})
    report = ingest(store, [top])
    assert (report.documents, report.records, report.new) == (3, 3, 3)
    assert record_graphs(store) == sorted(record_graph(cho(n)) for n in (1, 2, 3))


def test_documents_of_a_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        list(documents(["missing"]))
    assert caught.value.source == "missing"
    assert str(caught.value) == "missing: no such file or directory"


def test_unknown_explicit_format_lists_the_known_ones(tmp_path: Path) -> None:
    path = write_record(tmp_path, "record.ttl")
    with pytest.raises(InputError) as caught:
        list(documents([str(path)], explicit_format="yaml"))
    assert str(caught.value).endswith(
        ": unknown format 'yaml' (known: jsonld, nq, nquads, nt, ntriples, rdfxml, trig, ttl, turtle, xml)"
    )
    assert path.name in str(caught.value)


def test_unknown_explicit_format_names_the_whole_path(tmp_path: Path) -> None:
    path = write_record(tmp_path, "record.ttl")
    with pytest.raises(InputError) as caught:
        list(documents([str(path)], explicit_format="yaml"))
    assert caught.value.source == str(path)


def test_explicit_format_overrides_the_file_name(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "record.data"
    path.write_text(record_text("turtle", 1), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        list(documents([str(path)]))
    assert str(caught.value) == f"{path}: cannot tell the RDF format from the file name; pass --format"
    report = ingest(store, [path], explicit_format="Turtle")
    assert (report.records, report.new) == (1, 1)
    assert store.graph_exists(record_graph(cho(1)))


def test_relative_iris_resolve_against_the_base(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "relative.ttl"
    path.write_text(record_text("turtle", 1).replace("<http://example.org/cho/1>", "<cho/1>"), encoding="utf-8")
    ingest(store, [path], base_iri="http://museum.example/")
    cho_iri = "http://museum.example/cho/1"
    assert only(registry_entry(store, record_id(cho_iri)), "cho") == NamedNode(cho_iri)
    assert store.count_triples(record_graph(cho_iri)) == RECORD_TRIPLES
