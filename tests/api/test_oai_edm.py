"""OAI-PMH ``edm`` is valid against Europeana's EDM.xsd for every record that ingested valid, and
``edm-suggestions`` parses back to the record's triples; harvested from a real uvicorn with httpx.

The records: what ``enrich demo`` loads (the bundled samples and the bundled museum CSV through its
mapping, the lexical enricher run over them), the Korean museum CSV through its mapping, accepted
enrichments (lexical suggestions approved), and the real Europeana records in ``shared/data`` that the
ingest accepts. Every ``metadata`` element is validated inside its OAI-PMH response (``fetch``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import httpx
import pyoxigraph
import pytest
from lxml import etree
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple

from api.oai import edm_schema
from api.oai.edm_xml import VALUE_TYPES, fold_proxies, write_edm
from api.oai.repository import Repository
from enrich import cli, review
from enrich.export import enrichment_triples, full_quads
from enrich.ingest import IngestOptions, Ingestor, ValidationFailed, documents
from enrich.ingest.records import record_id
from enrich.mapping.tabular import convert_table, load_mapping
from enrich.namespaces import DC, DCTERMS, EDM, ENR, ORE, PROV, RDF_TYPE, SKOS, XSD
from enrich.records_admin import list_records
from enrich.store.base import Store, text
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import Status
from tests.api.oai_support import (
    EDM_XSD_DIR,
    GRAPHS,
    NS,
    edm_xsd,
    fetch,
    harvest_pages,
    load_schema,
    make_app,
    serve,
    stored_form,
    validate,
)
from tests.ingest.support import BASE_IRI, make_settings
from tests.mapping.tabular_support import MAPPINGS, korean_trees
from tests.sample_table import SAMPLES_DIR

HOST = "data.heritage-enrich.example"
KOREAN_DATASET = "korean-museum"
REVIEWER = "https://example.org/people/oai-tester"
needs_schemas = pytest.mark.skipif(not EDM_XSD_DIR.is_dir(), reason=f"{EDM_XSD_DIR} is not there")
pytestmark = needs_schemas


@dataclass
class Served:
    store: Store
    url: str
    tmp: Path
    approved: dict[str, str]  # record id -> the concept approved for it
    korean: list[str]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``enrich demo``'s store, the Korean CSV records, and a lexical suggestion approved on some records."""
    tmp = tmp_path_factory.mktemp("oai-edm")
    location = tmp / "store"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ENRICH_BASE_IRI", BASE_IRI)
        assert cli.main(["demo", "--store", str(location)]) == 0
    store = EmbeddedStore(location)
    try:
        indexes = {facet: tree.index for facet, tree in korean_trees().items()}
        table = MAPPINGS / "sources" / "examples" / "korean-museum-sample.csv"
        mapping = load_mapping(MAPPINGS / "sources" / "korean-museum.yaml")
        document, _ = convert_table(table, mapping, indexes, base_iri=BASE_IRI)
        before = {rid for rid, _, _, _ in list_records(store, GRAPHS, limit=10_000)}
        options = IngestOptions(progress=False, dataset=KOREAN_DATASET)
        Ingestor(store, make_settings(), options).run([document])
        korean = sorted({rid for rid, _, _, _ in list_records(store, GRAPHS, limit=10_000)} - before)
        approved: dict[str, str] = {}
        pending = review.list_suggestions(store, GRAPHS, status=Status.PENDING, limit=10_000)
        for row in pending:
            if (
                row.value_is_iri
                and row.predicate in (DC + "type", DCTERMS + "medium")
                and row.record_id not in approved
            ):
                review.approve(store, GRAPHS, row.id, REVIEWER)
                approved[row.record_id] = row.value
            if len(approved) == 8:
                break
        with serve(make_app(store, page_size=7)) as url:
            yield Served(store, url, tmp, approved, korean)
    finally:
        store.close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as http:
        yield http


def harvest(client: httpx.Client, served: Served, suggestions: bool = False, **params: str) -> list[etree._Element]:
    """Every record of a ListRecords harvest, each page validated (with its metadata) on arrival."""
    pages = harvest_pages(client, served.url, served.tmp / "xsd", suggestions=suggestions, verb="ListRecords", **params)
    return [record for page in pages for record in page.iterfind(".//oai:record", NS)]


def record_id_of(record: etree._Element) -> str:
    return str(record.findtext("oai:header/oai:identifier", namespaces=NS)).removeprefix(f"oai:{HOST}:")


def parsed(metadata: etree._Element | bytes) -> list[Triple]:
    """The triples of a metadata element's rdf:RDF (or of RDF/XML bytes), as pyoxigraph reads them."""
    data = metadata if isinstance(metadata, bytes) else etree.tostring(metadata[0])
    # Lenient: real records have IRIs with spaces, which the ingest keeps.
    return [q.triple for q in pyoxigraph.parse(data, format=RdfFormat.RDF_XML, lenient=True)]


def edm_triples(store: Store, rid: str) -> list[Triple]:
    """What ``edm`` stands for: provider data plus accepted enrichments (export_enriched's triples)."""
    cho = text(store.objects_of([GRAPHS.record_node(rid)], ENR + "cho", GRAPHS.system)[GRAPHS.record_node(rid)][0])
    return store.read_graph(GRAPHS.record(rid)) + enrichment_triples(store, GRAPHS, rid, cho)


# -- the bundled samples, the museum CSVs and accepted enrichments ----------------------------------------
def test_every_record_exports_valid_edm_with_nothing_left_out(client: httpx.Client, served: Served) -> None:
    records = harvest(client, served, metadataPrefix="edm")
    live = [rid for rid, _, _, deleted in list_records(served.store, GRAPHS, limit=10_000) if not deleted]
    assert sorted(record_id_of(r) for r in records) == sorted(live)
    assert len(live) > 60 and set(served.korean) <= set(live)
    for record in records:
        rid = record_id_of(record)
        metadata = record.find("oai:metadata", NS)
        assert metadata is not None
        # Our samples and mappings write nothing EDM.xsd cannot hold: the output is the whole record.
        assert stored_form(parsed(metadata)) == stored_form(edm_triples(served.store, rid)), rid


def test_get_record_is_valid_edm_for_every_record(client: httpx.Client, served: Served) -> None:
    for rid, _, _, _ in list_records(served.store, GRAPHS, limit=10_000):
        root = fetch(
            client,
            served.url,
            served.tmp / "xsd",
            verb="GetRecord",
            identifier=f"oai:{HOST}:{rid}",
            metadataPrefix="edm",
        )
        assert root.find(f".//oai:metadata/rdf:RDF/{{{EDM}}}ProvidedCHO", NS) is not None


def test_accepted_enrichments_are_in_edm(client: httpx.Client, served: Served) -> None:
    assert len(served.approved) == 8
    records = harvest(client, served, metadataPrefix="edm", set="review:accepted")
    assert sorted(record_id_of(r) for r in records) == sorted(served.approved)
    for record in records:
        concept = served.approved[record_id_of(record)]
        rdf = record.find("oai:metadata/rdf:RDF", NS)
        assert rdf is not None
        cho = rdf.find(f"{{{EDM}}}ProvidedCHO")
        assert cho is not None
        links = {e.get(f"{{{NS['rdf']}}}resource") for e in cho if e.tag in (f"{{{DC}}}type", f"{{{DCTERMS}}}medium")}
        assert concept in links
        entity = rdf.find(f"{{{SKOS}}}Concept[@{{{NS['rdf']}}}about='{concept}']")
        assert entity is not None and entity.find(f"{{{SKOS}}}prefLabel") is not None


def test_the_korean_csv_records_export_valid_edm(client: httpx.Client, served: Served) -> None:
    records = harvest(client, served, metadataPrefix="edm", set=f"dataset:{KOREAN_DATASET}")
    assert sorted(record_id_of(r) for r in records) == served.korean
    assert len(served.korean) == 34


def test_edm_suggestions_parse_back_to_the_records_triples(client: httpx.Client, served: Served) -> None:
    records = harvest(client, served, suggestions=True, metadataPrefix="edm-suggestions")
    assert len(records) > 60
    statuses: set[str] = set()
    for record in records:
        rid = record_id_of(record)
        metadata = record.find("oai:metadata", NS)
        assert metadata is not None
        back = parsed(metadata)
        wanted = {GRAPHS.record(rid), GRAPHS.enrichment(rid), GRAPHS.suggestions(rid), GRAPHS.runs}
        expected = [q.triple for q in full_quads(served.store, GRAPHS, rid) if text(q.graph_name) in wanted]  # type: ignore[arg-type]
        assert stored_form(back) == stored_form(expected), rid
        statuses |= {t.object.value for t in back if t.predicate.value == ENR + "status"}
    assert {Status.PENDING.iri, Status.APPROVED.iri} <= statuses
    # An approved suggestion carries its provenance: run, model card, confidence, the review event.
    rid = sorted(served.approved)[0]
    (record,) = [r for r in records if record_id_of(r) == rid]
    back = parsed(record.find("oai:metadata", NS))  # type: ignore[arg-type]
    facts = {(t.predicate.value, str(t.object)) for t in back}
    assert (ENR + "status", f"<{Status.APPROVED.iri}>") in facts
    assert any(p == PROV + "wasGeneratedBy" for p, _ in facts)
    assert any(p == ENR + "confidence" for p, _ in facts)
    assert any(p == ENR + "modelName" for p, _ in facts)
    assert (ENR + "reviewer", f"<{REVIEWER}>") in facts


def test_list_metadata_formats_names_the_three(client: httpx.Client, served: Served) -> None:
    root = fetch(client, served.url, served.tmp / "xsd", verb="ListMetadataFormats")
    formats = {
        e.findtext("oai:metadataPrefix", namespaces=NS): (
            e.findtext("oai:schema", namespaces=NS),
            e.findtext("oai:metadataNamespace", namespaces=NS),
        )
        for e in root.iterfind(".//oai:metadataFormat", NS)
    }
    assert formats["edm"] == ("http://www.europeana.eu/schemas/edm/EDM.xsd", EDM)
    assert formats["edm-suggestions"] == ("https://w3id.org/heritage-enrich/oai/edm-suggestions", ENR)


# -- real Europeana records ----------------------------------------------------------------------------------
def test_real_europeana_records_that_ingest_valid_export_valid(client: httpx.Client, tmp_path: Path) -> None:
    if not SAMPLES_DIR.is_dir():
        pytest.skip(f"{SAMPLES_DIR} is not there")
    app = make_app(EmbeddedStore(None))
    accepted = 0
    with serve(app) as url:
        for path in sorted(SAMPLES_DIR.iterdir()):
            # A store of its own for each file: several are versions of one record.
            store = app.state.store = EmbeddedStore(None)
            options = IngestOptions(progress=False, report_path=tmp_path / "ingest-report.json")
            try:
                Ingestor(store, make_settings(), options).run(documents([str(path)]))
            except ValidationFailed:
                continue  # only what ingested valid must export valid
            accepted += 1
            ((rid, _, _, _),) = list_records(store, GRAPHS, limit=2)
            identifier = f"oai:{HOST}:{rid}"
            root = fetch(client, url, tmp_path, verb="GetRecord", identifier=identifier, metadataPrefix="edm")
            metadata = root.find(".//oai:metadata", NS)
            assert metadata is not None, path.name
            # Every triple is written or reported left out (a proxy's statements read as its object's).
            document = write_edm(edm_triples(store, rid))
            written = stored_form(parsed(metadata))
            assert written == stored_form(parsed(document.xml))
            left_out = stored_form([d.triple for d in document.dropped])
            assert sorted(written + left_out) == stored_form(fold_proxies(edm_triples(store, rid))), path.name
            assert not set(written) & set(left_out)
            # The title or description reaches oai_dc too, also where internal EDM has it on a proxy.
            dc = fetch(client, url, tmp_path, verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
            assert dc.findtext(".//dc:title", namespaces=NS) or dc.findtext(".//dc:description", namespaces=NS)
    assert accepted >= 14


# -- what EDM.xsd cannot hold -------------------------------------------------------------------------------
ODD_RECORD = f"""
@prefix dc: <{DC}> . @prefix dcterms: <{DCTERMS}> . @prefix edm: <{EDM}> . @prefix ore: <{ORE}> .
@prefix skos: <{SKOS}> . @prefix xsd: <{XSD}> . @prefix foaf: <http://xmlns.com/foaf/0.1/> .
<https://example.org/cho/odd> a edm:ProvidedCHO ; dc:title "An odd record"@en ; dc:type "vase"@en ;
    edm:type "IMAGE" ; dcterms:bibliographicCitation "Cat. 12" ; dc:date "1901"^^xsd:gYear ;
    dc:creator <https://example.org/org/1> ; dc:subject [ skos:prefLabel "blank"@en ] ;
    <https://example.org/terms/> "a predicate RDF/XML cannot name" .
<https://example.org/org/1> a foaf:Organization ; skos:prefLabel "A workshop"@en .
<https://example.org/agg/odd> a ore:Aggregation ; edm:aggregatedCHO <https://example.org/cho/odd> ;
    edm:dataProvider "Odd Museum" ; edm:provider "Odd Aggregator" ;
    edm:isShownAt <https://example.org/page/odd> , <https://example.org/page/odd-2> ;
    edm:isShownBy <https://example.org/img/odd.jpg> ;
    edm:rights <http://creativecommons.org/publicdomain/zero/1.0/> .
<https://example.org/img/odd.jpg> a edm:WebResource ; edm:componentColor "#87CEEB"^^xsd:hexBinary ;
    edm:componentColor "87CEEB"^^xsd:hexBinary ; edm:hasColorSpace "sRGB" ; edm:type "image" .
"""
LEFT_OUT = {
    ("https://example.org/cho/odd", DCTERMS + "bibliographicCitation"),
    ("https://example.org/cho/odd", DC + "date"),
    ("https://example.org/org/1", SKOS + "prefLabel"),
    ("https://example.org/img/odd.jpg", EDM + "type"),
}


def test_what_edm_xsd_cannot_hold_is_left_out_of_edm_and_kept_in_edm_suggestions(
    client: httpx.Client, tmp_path: Path
) -> None:
    source = tmp_path / "odd.ttl"
    source.write_text(ODD_RECORD, encoding="utf-8")
    store = EmbeddedStore(None)
    Ingestor(store, make_settings(), IngestOptions(progress=False)).run(documents([str(source)]))
    identifier = f"oai:{HOST}:{record_id('https://example.org/cho/odd')}"
    with serve(make_app(store)) as url:
        edm = fetch(client, url, tmp_path, verb="GetRecord", identifier=identifier, metadataPrefix="edm")
        full = fetch(
            client,
            url,
            tmp_path,
            suggestions=True,
            verb="GetRecord",
            identifier=identifier,
            metadataPrefix="edm-suggestions",
        )
    written = parsed(edm.find(".//oai:metadata", NS))  # type: ignore[arg-type]
    kept = parsed(full.find(".//oai:metadata", NS))  # type: ignore[arg-type]
    pairs = {(text(t.subject), t.predicate.value) for t in written}
    assert not pairs & LEFT_OUT
    assert {(text(t.subject), t.predicate.value) for t in kept} >= LEFT_OUT
    # No RDF/XML can hold a predicate without a local name: both formats leave it out, and stay well-formed.
    assert "https://example.org/terms/" not in {t.predicate.value for t in [*written, *kept]}
    # One edm:isShownAt (the schema allows one), one well-formed colour, the IRI creator kept.
    assert sum(1 for t in written if t.predicate.value == EDM + "isShownAt") == 1
    colours = [t.object for t in written if t.predicate.value == EDM + "componentColor"]
    assert colours == [Literal("87CEEB", datatype=NamedNode(XSD + "hexBinary"))]
    assert ("https://example.org/cho/odd", DC + "creator") in pairs
    assert not any(isinstance(t.subject, pyoxigraph.BlankNode) for t in written)


def test_a_resource_missing_what_the_schema_requires_is_left_out_whole() -> None:
    cho, agg = NamedNode("https://example.org/cho/1"), NamedNode("https://example.org/agg/1")
    rdf_type = NamedNode(RDF_TYPE)
    triples = [
        Triple(cho, rdf_type, NamedNode(EDM + "ProvidedCHO")),
        Triple(cho, NamedNode(DC + "title"), Literal("A title", language="en")),
        Triple(cho, NamedNode(EDM + "type"), Literal("TEXT")),
        Triple(agg, rdf_type, NamedNode(ORE + "Aggregation")),
        Triple(agg, NamedNode(EDM + "aggregatedCHO"), cho),
        Triple(agg, NamedNode(EDM + "provider"), Literal("Someone")),  # but no edm:rights
    ]
    document = write_edm(triples)
    root = etree.fromstring(document.xml)
    edm_xsd().assertValid(root)
    assert [child.tag for child in root] == [f"{{{EDM}}}ProvidedCHO"]
    assert {d.triple for d in document.dropped} == set(triples[3:])
    assert all(d.incomplete and "edm:rights" in d.reason for d in document.dropped)


def test_envelope_validation_reaches_into_edm_metadata(client: httpx.Client, served: Served) -> None:
    rid = sorted(served.approved)[0]
    response = client.get(
        served.url, params={"verb": "GetRecord", "identifier": f"oai:{HOST}:{rid}", "metadataPrefix": "edm"}
    )
    root = validate(response.content, served.tmp / "xsd")
    cho = root.find(f".//oai:metadata/rdf:RDF/{{{EDM}}}ProvidedCHO", NS)
    assert cho is not None
    cho.remove(cho.find(f"{{{EDM}}}type"))  # type: ignore[arg-type]
    with pytest.raises(etree.DocumentInvalid, match="ProvidedCHO"):
        validate(etree.tostring(root), served.tmp / "xsd")


# -- the table against the schema -----------------------------------------------------------------------------
XS = "{http://www.w3.org/2001/XMLSchema}"


class _Xsd:
    """The global elements and complex types of the schema set, enough to read the EDM content models."""

    def __init__(self, folder: Path) -> None:
        self.elements: dict[str, etree._Element] = {}
        self.types: dict[str, etree._Element] = {}
        for path in sorted(folder.glob("*.xsd")):
            root = etree.parse(str(path)).getroot()
            namespace = root.get("targetNamespace", "")
            for node in root:
                if node.tag == f"{XS}element":
                    self.elements.setdefault(namespace + node.get("name", ""), node)
                elif node.tag == f"{XS}complexType":
                    self.types.setdefault(namespace + node.get("name", ""), node)

    @staticmethod
    def iri(node: etree._Element, qname: str) -> str:
        prefix, _, local = qname.rpartition(":")
        return str(node.nsmap[prefix or None]) + local

    def type_name(self, declaration: etree._Element) -> str:
        if declaration.get("ref"):
            declaration = self.elements[self.iri(declaration, declaration.get("ref", ""))]
        return declaration.get("type", "nested").rpartition(":")[2]

    def content(self, complex_type: etree._Element) -> list[tuple[tuple[str, ...], int, int | None, tuple[str, ...]]]:
        """(elements, min, max, their type names) per slot, base types first."""
        slots = []
        extension = complex_type.find(f"{XS}complexContent/{XS}extension")
        holder = complex_type if extension is None else extension
        if extension is not None and self.iri(extension, extension.get("base", "")) in self.types:
            slots += self.content(self.types[self.iri(extension, extension.get("base", ""))])
        for sequence in holder.iterfind(f"{XS}sequence"):
            choice = sequence.find(f"{XS}choice")
            if choice is not None and sequence.get("maxOccurs") == "unbounded":
                members = list(choice.iterfind(f"{XS}element"))
                names = tuple(self.name(sequence, m) for m in members)
                slots.append((names, 0, None, tuple(self.type_name(m) for m in members)))
                continue
            for element in sequence.iterfind(f"{XS}element"):
                most = element.get("maxOccurs", "1")
                slots.append(
                    (
                        (self.name(sequence, element),),
                        int(element.get("minOccurs", "1")),
                        None if most == "unbounded" else int(most),
                        (self.type_name(element),),
                    )
                )
        return slots

    def name(self, context: etree._Element, element: etree._Element) -> str:
        if element.get("ref"):
            return self.iri(element, element.get("ref", ""))
        return str(context.getroottree().getroot().get("targetNamespace")) + element.get("name", "")


def test_the_writers_table_is_the_one_edm_xsd_gives() -> None:
    xsd = _Xsd(EDM_XSD_DIR)
    rdf = xsd.types[EDM + "RDF"]
    derived: dict[str, list[tuple[tuple[str, ...], int, int | None, tuple[str, ...]]]] = {}
    for choice in rdf.iterfind(f"{XS}sequence/{XS}choice/{XS}element"):
        if choice.get("ref"):
            cls = xsd.iri(choice, choice.get("ref", ""))
            body = xsd.elements[cls].find(f"{XS}complexType")
        else:
            cls = EDM + choice.get("name", "")
            body = xsd.types[xsd.iri(choice, choice.get("type", ""))]
        assert body is not None
        derived[cls] = xsd.content(body)
    ours = {
        cls: [(s.elements, s.min, s.max, tuple(edm_schema.ELEMENT_TYPES[e] for e in s.elements)) for s in slots]
        for cls, slots in edm_schema.CLASSES.items()
    }
    assert ours == derived
    for name in ("EdmType", "UGCType", "ColorSpaceType"):
        (simple,) = [
            node
            for path in EDM_XSD_DIR.glob("*.xsd")
            for node in etree.parse(str(path)).getroot().iterfind(f"{XS}simpleType[@name='{name}']")
        ]
        values = [e.get("value", "") for e in simple.iterfind(f"{XS}restriction/{XS}enumeration")]
        check = VALUE_TYPES[name].lexical
        assert check is not None and all(check(v) for v in values) and not check(values[0] + "x")


def test_schema_imports_never_reach_the_network(tmp_path: Path) -> None:
    schema = tmp_path / "remote.xsd"
    schema.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">'
        '<xs:import namespace="urn:y" schemaLocation="http://example.invalid/y.xsd"/></xs:schema>',
        encoding="utf-8",
    )
    with pytest.raises(etree.XMLSchemaParseError):
        load_schema(schema)


class _ThroughSparql:
    """The served store as any store looks to the repository, so it takes the SPARQL paths a remote store
    takes instead of the embedded store's index look-ups."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def test_index_look_ups_and_sparql_read_the_same(served: Served) -> None:
    ids = [rid for rid, _, _, _ in list_records(served.store, GRAPHS, limit=10_000)]
    native = Repository(served.store, GRAPHS)
    generic = Repository(cast(Store, _ThroughSparql(served.store)), GRAPHS)
    specs = native.set_specs(ids)
    assert generic.set_specs(ids) == specs
    members = {spec for found in specs.values() for spec in found}
    assert {"review:accepted", "review:pending"} <= members
    headers = list(native.headers(ids).values())
    assert generic.headers(ids) == native.headers(ids)
    for ours, theirs in zip(native.record_data(headers, specs), generic.record_data(headers, specs), strict=True):
        assert stored_form(ours.triples) == stored_form(theirs.triples)
        assert ours.has_enrichments == (ours.header.record_id in served.approved)


def test_the_writer_escapes_what_xml_must_escape() -> None:
    cho = NamedNode("https://example.org/cho/a?x=1&y=2")
    awkward = "Fish & chips <served> \"hot\"\r\n\tand 'cold'"
    triples = [
        Triple(cho, NamedNode(RDF_TYPE), NamedNode(EDM + "ProvidedCHO")),
        Triple(cho, NamedNode(DC + "title"), Literal(awkward, language="en")),
        Triple(cho, NamedNode(DC + "description"), Literal(awkward)),
        Triple(cho, NamedNode(DC + "identifier"), Literal("7", datatype=NamedNode(XSD + "integer"))),
        Triple(cho, NamedNode(DC + "relation"), NamedNode("https://example.org/see?a=1&b=2")),
        Triple(cho, NamedNode(EDM + "type"), Literal("TEXT")),
        Triple(cho, NamedNode(DC + "source"), Literal("bell \x07 char")),  # XML 1.0 cannot carry it
    ]
    document = write_edm(triples)
    edm_xsd().assertValid(etree.fromstring(document.xml))
    assert stored_form(parsed(document.xml)) == stored_form(triples[:-1])
    assert [d.triple for d in document.dropped] == triples[-1:]
