"""The 19 real Europeana records through the real ingest, with validation, on every store.

The verdicts come from ``tests/sample_table.py``, the table the validator tests use too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph
import pytest
from pyoxigraph import Literal, NamedNode, RdfFormat

from enrich.ingest import InputError, ValidationFailed
from enrich.ingest.records import checksum, record_id
from enrich.namespaces import EDM, ENR, RDF_TYPE, XSD
from enrich.store.base import Store
from tests.ingest.support import (
    DATESTAMP,
    GRAPHS,
    RESOURCE_BASE,
    ingest,
    journal_is_clean,
    masked,
    only,
    record_graphs,
    registry_entry,
    registry_nodes,
)
from tests.sample_table import EXPECTED

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared/data/edm/samples"
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} is not there")

ACCEPTED = sorted(name for name, (accepted, _) in EXPECTED.items() if accepted)
REJECTED = sorted(name for name, (accepted, _) in EXPECTED.items() if not accepted)
HOST = "https://data.heritage-enrich.example"


def short(name: str) -> str:
    """A readable test id: the sample's own file name, without the repository and folder it came from."""
    return name.rsplit("__", 1)[-1]


#: For each rejected sample: every invalid record the ingest finds in it (its object's IRI, as the ingest
#: resolves it) with the (property path, shape) of every rule it breaks. The verdict comes from EXPECTED.
BROKEN_RULES: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "metis-framework__metis-validation_metis-validation-service__Item_35834473.xml": [
        (
            f"{HOST}/08502/5F41E0B657BDD9923BA2C4655BB7A6880A2ED5C2",
            [("dc:title | dc:description | ^ore:proxyFor/(dc:title | dc:description)", "ChoTitleOrDescription")],
        )
    ],
    "metis-framework__metis-validation_metis-validation-service__Item_35834473_wrong.xml": [
        (
            "http://hdl.handle.net/10796/0C787F5D-D4D6-40B0-B0A7-C196CD67891662",
            [("edm:aggregatedCHO/rdf:type", "AggregationObjectInRecord")],
        )
    ],
    # The aggregation names another IRI than the object's, so the file splits into two records, both
    # invalid: the object nothing aggregates, and the aggregation's missing object.
    "metis-framework__metis-validation_metis-validation-service__Item_schematron_invalid.xml": [
        ("URN:RS:NAE:5485bed1-1b22-42c9-8ad7-3c5978ebfa9acho", [("^edm:aggregatedCHO", "ChoAggregated")]),
        (
            "http://digitalna.nb.rs/wb/NBS/Knjige/sabrana_dela_vuka_karadzica/II_146423_24",
            [
                ("edm:aggregatedCHO/rdf:type", "AggregationObjectInRecord"),
                ("edm:dataProvider", "AggregationDataProvider"),
            ],
        ),
    ],
    "metis-sandbox__record_record-missing-id.xml": [
        ("URN:NBN:SI:doc-35SZSOCF", [("edm:aggregatedCHO/rdf:type", "AggregationObjectInRecord")])
    ],
}
#: Accepted samples holding another version (different text) of a record an earlier sample holds:
#: they cannot share one ingest with it.
LATER_VERSIONS = {
    "metis-sandbox__record_valid-record.xml": "metis-sandbox__record_transform_record-input.xml",
    "metis-sandbox__zip_Record1.xml": "metis-sandbox__record_transform_record-input.xml",
}


def file_quads(name: str) -> list[pyoxigraph.Quad]:
    """The sample's statements, read as the ingest reads them (relative IRIs against its base)."""
    path = SAMPLES / name
    try:
        return list(pyoxigraph.parse(path=path, format=RdfFormat.RDF_XML, base_iri=RESOURCE_BASE))
    except SyntaxError:
        return list(pyoxigraph.parse(path=path, format=RdfFormat.RDF_XML, base_iri=RESOURCE_BASE, lenient=True))


def file_cho(name: str) -> str:
    chos = {
        q.subject.value
        for q in file_quads(name)
        if q.predicate.value == RDF_TYPE and q.object == NamedNode(f"{EDM}ProvidedCHO")
    }
    assert len(chos) == 1, chos
    return chos.pop()


def objects(name: str, predicate: str) -> list[str]:
    return sorted({str(q.object) for q in file_quads(name) if q.predicate.value == predicate})


def as_oxigraph_stores_them(triples: list[pyoxigraph.Triple]) -> list[pyoxigraph.Triple]:
    """The triples as any Oxigraph store gives them back: duplicates merged, typed literals of the XSD
    numeric and date types in canonical form (``"0013"^^xsd:long`` comes back as ``"13"^^xsd:integer``)."""
    plain = pyoxigraph.Store()
    plain.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in triples)
    return [q.triple for q in plain]


def has_iri_with_space(name: str) -> bool:
    return any(
        isinstance(term, NamedNode) and " " in term.value for q in file_quads(name) for term in (q.subject, q.object)
    )


def test_the_tables_agree() -> None:
    assert sorted(path.name for path in SAMPLES.iterdir()) == sorted(EXPECTED)
    assert sorted(BROKEN_RULES) == REJECTED
    assert len({short(name) for name in EXPECTED}) == len(EXPECTED)
    assert set(LATER_VERSIONS) <= set(ACCEPTED)
    for later, first in LATER_VERSIONS.items():
        assert file_cho(later) == file_cho(first)
        assert masked([q.triple for q in file_quads(later)]) != masked([q.triple for q in file_quads(first)])


def _assert_datestamp(value: object, started: datetime) -> None:
    assert isinstance(value, Literal)
    assert value.datatype == NamedNode(f"{XSD}dateTime")
    assert DATESTAMP.match(value.value), value.value
    stamp = datetime.strptime(value.value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert started <= stamp <= datetime.now(UTC)


@pytest.mark.parametrize("name", ACCEPTED, ids=short)
def test_accepted_sample_is_ingested(store: Store, name: str, tmp_path: Path) -> None:
    started = datetime.now(UTC).replace(microsecond=0)
    report = ingest(store, [SAMPLES / name], report_path=tmp_path / "report.json")

    assert (report.documents, report.records, report.new, report.updated, report.unchanged) == (1, 1, 1, 0, 0)
    assert report.invalid == []
    assert report.orphan_triples == 0
    cho = file_cho(name)
    rid = record_id(cho)
    assert store.named_graphs() == sorted([GRAPHS.record(rid), GRAPHS.system])
    # The whole file is the record: every statement in it lands in the record graph.
    distinct = {str(q.triple) for q in file_quads(name)}
    assert store.count_triples(GRAPHS.record(rid)) == len(distinct)

    assert registry_nodes(store) == [GRAPHS.record_node(rid)]
    entry = registry_entry(store, rid)
    assert only(entry, "type") == NamedNode(f"{ENR}Record")
    assert only(entry, "cho") == NamedNode(cho)
    assert only(entry, "recordGraph") == NamedNode(GRAPHS.record(rid))
    assert only(entry, "deleted") == Literal("false", datatype=NamedNode(f"{XSD}boolean"))
    assert only(entry, "source") == Literal(str(SAMPLES / name))
    assert sorted(str(v) for v in entry["provider"]) == objects(name, f"{EDM}provider")
    assert sorted(str(v) for v in entry["dataProvider"]) == objects(name, f"{EDM}dataProvider")
    assert sorted(str(v) for v in entry["edmType"]) == objects(name, f"{EDM}type")
    assert {v.value for v in entry["edmType"]} <= {"TEXT", "IMAGE", "SOUND", "VIDEO", "3D"}
    _assert_datestamp(only(entry, "datestamp"), started)
    lines = pyoxigraph.serialize([q.triple for q in file_quads(name)], format=RdfFormat.N_TRIPLES).decode().splitlines()
    assert only(entry, "checksum") == Literal(checksum(sorted(set(lines))))
    assert journal_is_clean(store)
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["new"] == 1


@pytest.mark.parametrize("name", ACCEPTED, ids=short)
def test_record_graph_holds_the_whole_file(store: Store, name: str, request: pytest.FixtureRequest) -> None:
    ingest(store, [SAMPLES / name])
    graph = GRAPHS.record(record_id(file_cho(name)))
    assert masked(store.read_graph(graph)) == masked(as_oxigraph_stores_them([q.triple for q in file_quads(name)]))


@pytest.mark.parametrize("name", REJECTED, ids=short)
def test_rejected_sample_writes_nothing(store: Store, name: str, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    with pytest.raises(ValidationFailed) as caught:
        ingest(store, [SAMPLES / name], report_path=report_path)

    broken = BROKEN_RULES[name]
    message = str(caught.value)
    assert caught.value.invalid_records == len(broken)
    assert message.startswith(
        f"{len(broken)} record(s) break the EDM rules; nothing was written (use --skip-invalid to import the "
        f"valid ones); the full list is in {report_path}:\n  - "
    )
    for focus, rules in broken:
        assert f"<{focus}> ({SAMPLES / name})" in message
        for path, shape in rules:
            assert f"{path}: " in message
            assert f"[{shape}]" in message
    assert message.count("[") == sum(len(rules) for _, rules in broken)

    # Nothing written, and the journal is gone: the store is empty again.
    assert store.named_graphs() == []
    assert store.count_triples() == 0
    assert record_graphs(store) == []
    assert registry_nodes(store) == []
    assert journal_is_clean(store)

    written = json.loads(report_path.read_text(encoding="utf-8"))
    assert sorted(item["cho"] for item in written["invalid"]) == sorted(focus for focus, _ in broken)
    for item in written["invalid"]:
        rules = dict(broken)[item["cho"]]
        assert sorted((v["path"], v["shape"].rsplit("#", 1)[-1]) for v in item["violations"]) == sorted(rules)


def _all_but_later_versions() -> list[Path]:
    return [SAMPLES / name for name in sorted(EXPECTED) if name not in LATER_VERSIONS]


def test_skip_invalid_reports_exactly_the_rejected_samples(store: Store, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    report = ingest(store, _all_but_later_versions(), skip_invalid=True, report_path=report_path)

    assert report.documents == 17
    written = json.loads(report_path.read_text(encoding="utf-8"))
    assert report.report_path == str(report_path)
    listed = sorted(
        (
            Path(item["source"]).name,
            item["cho"],
            sorted((v["path"], v["shape"].rsplit("#", 1)[-1]) for v in item["violations"]),
        )
        for item in written["invalid"]
    )
    assert listed == sorted(
        (name, focus, sorted(rules)) for name, broken in BROKEN_RULES.items() for focus, rules in broken
    )
    for item in written["invalid"]:
        assert item["record_id"] == record_id(item["cho"])
        for violation in item["violations"]:
            assert violation["message"]
            assert violation["component"].startswith("http://www.w3.org/ns/shacl#")

    # Every accepted object is in the store, with its registry entry; the rejected records are not.
    accepted = {file_cho(name) for name in ACCEPTED}
    for cho in accepted:
        assert store.graph_exists(GRAPHS.record(record_id(cho))), cho
    for focus, _ in (entry for broken in BROKEN_RULES.values() for entry in broken):
        if focus not in accepted:  # two rejected samples reuse the IRI of an accepted object
            assert not store.graph_exists(GRAPHS.record(record_id(focus)))
    # The two external samples of object 936 are identical: the second copy is skipped with a warning.
    assert report.records == 19 - len(LATER_VERSIONS) + 1  # Item_schematron_invalid holds two objects
    assert report.unchanged == 0
    assert sum("repeats the identical copy" in warning for warning in report.warnings) == 1
    assert journal_is_clean(store)


def test_skip_invalid_imports_exactly_the_accepted_samples(store: Store, tmp_path: Path) -> None:
    report = ingest(store, _all_but_later_versions(), skip_invalid=True, report_path=tmp_path / "r.json")
    accepted = sorted({record_id(file_cho(name)) for name in ACCEPTED})
    assert record_graphs(store) == [GRAPHS.record(rid) for rid in accepted]
    assert registry_nodes(store) == sorted(GRAPHS.record_node(rid) for rid in accepted)
    assert report.new == len(accepted)


def test_all_nineteen_at_once_refuse_two_versions_of_one_record(store: Store, tmp_path: Path) -> None:
    """Three accepted samples hold different versions of URN:NBN:SI:doc-35SZSOCF: one ingest cannot say
    which is meant, so it stops and writes nothing."""
    with pytest.raises(InputError) as caught:
        ingest(store, [SAMPLES], skip_invalid=True, report_path=tmp_path / "report.json")
    message = str(caught.value)
    assert message.startswith(f"{SAMPLES / 'metis-sandbox__record_valid-record.xml'}: ")
    assert "record <URN:NBN:SI:doc-35SZSOCF> was already read, with different content, from " in message
    assert str(SAMPLES / "metis-sandbox__record_transform_record-input.xml") in message
    assert store.named_graphs() == []
    assert journal_is_clean(store)
