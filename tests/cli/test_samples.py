"""The bundled samples that ``enrich demo`` ingests: every record valid, the museum CSV converted through
the cmoa mapping with no row rejected, and the lexical enricher finding what the records were written
to show."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest
from lxml import etree
from pyoxigraph import NamedNode, RdfFormat

from enrich.enrichers.base import read_record_views
from enrich.enrichers.lexical import LexicalEnricher
from enrich.ingest import IngestOptions, Ingestor, IngestReport, documents
from enrich.ingest.records import record_id
from enrich.ingest.sources import Document
from enrich.mapping.tabular import TabularReport, convert_table, find_mapping, load_mapping, required_facets
from enrich.namespaces import DC, DCTERMS, EDM, RDF_TYPE, SKOS
from enrich.records_admin import export_record
from enrich.store.base import Store, text
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import Suggestion
from enrich.vocab import loader
from enrich.vocab.facets import facet_indexes
from tests.cli.support import (
    ALL_CHOS,
    COLLECTION_CHOS,
    COLLECTION_SAMPLE,
    EXPORT_FORMATS,
    GRAPHS,
    MUSEUM_SAMPLE,
    REPO,
    SAMPLES,
    SCAN_SAMPLE,
    TABLE_MAPPING,
    TABLE_SAMPLE,
    WITH_TABLE,
    as_triples,
    collection_cho,
    table_chos,
)
from tests.enrichers.support import AAT, KM_MATERIAL
from tests.ingest.support import make_settings

EDM_XSD = REPO.parent / "shared" / "data" / "edm" / "metis-schema" / "schema_xsds" / "EDM.xsd"
#: The rights statements Europeana accepts (the patterns of EDM-EXTERNAL-MAIN.xsd's Schematron), for
#: the versions the samples use: the public domain tools, CC 4.0 licences and rightsstatements.org.
EUROPEANA_RIGHTS = re.compile(
    r"http://creativecommons\.org/publicdomain/(zero|mark)/1\.0/"
    r"|http://creativecommons\.org/licenses/(by|by-sa|by-nd|by-nc|by-nc-sa|by-nc-nd)/4\.0/"
    r"|http://rightsstatements\.org/vocab/(NoC-NC|NoC-OKLR|InC|InC-EDU|InC-OW-EU|CNE)/1\.0/"
)
HANJA = re.compile(r"[\u4e00-\u9fff]")
VOCABULARIES = (loader.STARTER_VOCABULARY, "korean-museum-classes")


def ingest(store: Store, inputs: list[Document]) -> IngestReport:
    return Ingestor(store, make_settings(), IngestOptions(progress=False)).run(inputs)


def load_vocabularies(store: Store, names: tuple[str, ...] = VOCABULARIES) -> None:
    for name in names:
        path = loader.bundled_vocabulary(name)
        loader.load(store, GRAPHS, loader.read_file(path), name, str(path))


def convert_sample_table(store: Store) -> tuple[Document, TabularReport]:
    """The CSV sample through the cmoa mapping, its phrases looked up in the store's vocabularies (as
    ``enrich ingest --mapping cmoa`` and the demo do)."""
    mapping = load_mapping(find_mapping(TABLE_MAPPING))
    lookups = facet_indexes(store, GRAPHS, required_facets(mapping))
    return convert_table(TABLE_SAMPLE, mapping, lookups, base_iri=make_settings().base_iri)


def sample_documents(store: Store) -> list[Document]:
    """Every bundled sample: the RDF files of the folder and the converted CSV (vocabularies loaded first)."""
    return [*documents([str(SAMPLES)]), convert_sample_table(store)[0]]


def graph_of(path: Path) -> pyoxigraph.Store:
    graph = pyoxigraph.Store()
    graph.load(path=str(path), format=RdfFormat.RDF_XML if path.suffix == ".rdf" else RdfFormat.TURTLE)
    return graph


def values(graph: pyoxigraph.Store, query: str) -> list[str]:
    """The first variable of each solution, as text."""
    solutions = graph.query(query)
    assert isinstance(solutions, pyoxigraph.QuerySolutions)
    return [text(solution[0]) for solution in solutions if solution[0] is not None]


# -- the RDF samples --------------------------------------------------------------------------------------------
def test_the_rdf_samples_hold_exactly_the_listed_records() -> None:
    chos: list[str] = []
    for path in (MUSEUM_SAMPLE, SCAN_SAMPLE, COLLECTION_SAMPLE):
        chos += values(graph_of(path), f"SELECT ?cho WHERE {{ ?cho a <{EDM}ProvidedCHO> }}")
    assert sorted(chos) == sorted(ALL_CHOS)
    assert len(COLLECTION_CHOS) == 37


def test_the_collection_sample_covers_what_its_readme_says() -> None:
    graph = graph_of(COLLECTION_SAMPLE)
    types = values(graph, f"SELECT ?type WHERE {{ ?cho <{EDM}type> ?type }}")
    assert {t: types.count(t) for t in set(types)} == {"IMAGE": 24, "3D": 4, "TEXT": 4, "SOUND": 3, "VIDEO": 2}
    titles = [q.object for q in graph.quads_for_pattern(None, NamedNode(DC + "title"), None)]
    languages = [t.language for t in titles if isinstance(t, pyoxigraph.Literal)]
    assert set(languages) == {"en", "ko", "ja", "zh-hant", "fr", "de", "nl", "la"}
    korean = [t.value for t in titles if isinstance(t, pyoxigraph.Literal) and t.language == "ko"]
    assert sum(1 for title in korean if HANJA.search(title)) == 5  # Korean titles with Hanja beside the Hangul
    # Nine records have no digital file yet (a later step makes images for them).
    imageless = values(
        graph,
        f"""SELECT ?cho WHERE {{ ?a <{EDM}aggregatedCHO> ?cho ; <{EDM}isShownAt> ?page .
            FILTER NOT EXISTS {{ ?a <{EDM}isShownBy> ?file }} }}""",
    )
    assert sorted(imageless) == sorted(
        collection_cho(*where.split("/"))
        for where in (
            "asian-art/cer-0102",
            "city-gallery/p-0101",
            "city-gallery/s-0712",
            "musee-exemple/obj-1203",
            "state-library/rare-1562-01",
            "state-library/ms-0131",
            "sound-archive/rec-0302",
            "film-institute/film-0402",
            "archaeology/find-0023",
        )
    )
    with_aat = values(graph, f'SELECT DISTINCT ?cho WHERE {{ ?cho ?p ?o . FILTER STRSTARTS(STR(?o), "{AAT}") }}')
    assert sorted(with_aat) == sorted(
        [
            collection_cho("asian-art", "metal-0512"),
            collection_cho("city-gallery", "p-0047"),
            collection_cho("city-gallery", "d-0231"),
        ]
    )
    links = values(
        graph,
        f"""SELECT ?link WHERE {{ ?a ?p ?link .
            VALUES ?p {{ <{EDM}isShownAt> <{EDM}isShownBy> <{EDM}object> <{EDM}hasView> }} }}""",
    )
    assert links and all(link.startswith("https://collection.example.org/") for link in links)
    rights = values(graph, f"SELECT ?rights WHERE {{ ?x <{EDM}rights> ?rights }}")
    assert rights and all(EUROPEANA_RIGHTS.fullmatch(r) for r in rights), set(rights)
    # Contextual entities of every EDM kind, some shared by several records.
    kinds = values(graph, f"SELECT DISTINCT ?kind WHERE {{ ?cho a <{EDM}ProvidedCHO> ; ?p ?e . ?e a ?kind }}")
    assert sorted(kinds) == sorted([EDM + "Agent", EDM + "Place", EDM + "TimeSpan", SKOS + "Concept"])
    shared = values(
        graph,
        f"""SELECT ?e WHERE {{ ?cho a <{EDM}ProvidedCHO> ; ?p ?e . ?e <{RDF_TYPE}> ?kind }}
            GROUP BY ?e HAVING (COUNT(DISTINCT ?cho) > 1)""",
    )
    assert len(shared) == 7  # three time spans, three places and a painter


@pytest.mark.skipif(not EDM_XSD.is_file(), reason=f"Europeana's schema not found: {EDM_XSD}")
def test_the_collection_sample_is_valid_against_europeanas_schema() -> None:
    schema = etree.XMLSchema(etree.parse(str(EDM_XSD)))
    document = etree.parse(str(COLLECTION_SAMPLE))
    schema.assertValid(document)  # the error names the line and the element out of place


# -- the CSV sample ---------------------------------------------------------------------------------------------
def test_the_csv_sample_converts_with_no_row_rejected() -> None:
    store = EmbeddedStore()
    try:
        load_vocabularies(store, (loader.STARTER_VOCABULARY,))  # what the demo loads
        document, report = convert_sample_table(store)
        assert (report.rows_read, report.rows_converted, report.rows_skipped) == (20, 20, 0)
        # What a real export shows too: rows without an image or a title, and media naming processes.
        assert report.reason_counts == {"unmatched materials phrase": 13, "no image": 3, "missing title": 1}
        materials = report.lookups["materials"]
        assert (materials.matched, materials.ambiguous, materials.unmatched) == (16, 0, 23)

        result = ingest(store, [document])
        assert (result.records, result.new, result.invalid) == (20, 20, [])
        links = store.select(
            f"""SELECT ?link WHERE {{ GRAPH ?g {{ ?a <{EDM}aggregatedCHO> ?cho ; ?p ?link .
                VALUES ?p {{ <{EDM}isShownAt> <{EDM}isShownBy> }} }} }}"""
        )
        assert len(links) == 37  # a landing page for every row, a file for 17 (made-up addresses only)
        assert all(text(s["link"]).startswith("https://collection.example.org/") for s in links)
        # The first row, "oil on canvas": the text stays and the mapping adds both AAT materials beside it.
        first = table_chos()[0]
        media = {
            text(s["medium"])
            for s in store.select(f"SELECT ?medium WHERE {{ GRAPH ?g {{ <{first}> <{DCTERMS}medium> ?medium }} }}")
        }
        assert media == {"oil on canvas", AAT + "300015050", AAT + "300014078"}
    finally:
        store.close()


# -- every sample, ingested -------------------------------------------------------------------------------------
def test_every_sample_record_ingests_valid(store: Store) -> None:
    load_vocabularies(store, (loader.STARTER_VOCABULARY,))
    report = ingest(store, sample_documents(store))
    records = WITH_TABLE.records
    assert (report.records, report.new, report.invalid) == (records, records, [])
    record_graphs = {name for name in store.named_graphs() if name.startswith(GRAPHS.record_prefix)}
    assert record_graphs == {GRAPHS.record(record_id(cho)) for cho in WITH_TABLE.chos}


@dataclass
class Enriched:
    store: Store
    by_record: dict[str, list[Suggestion]]

    def concepts(self, cho: str, facet: str) -> set[str]:
        return {s.value.value for s in self.by_record.get(cho, []) if s.facet == facet}


@pytest.fixture(scope="module")
def enriched() -> Iterator[Enriched]:
    """Every sample ingested into a memory store with both bundled vocabularies, and the lexical
    enricher's suggestions for each record (not written: this is about what it finds)."""
    store = EmbeddedStore()
    load_vocabularies(store)
    ingest(store, sample_documents(store))
    lexical = LexicalEnricher.from_store(store, GRAPHS)
    views = read_record_views(store, GRAPHS, [record_id(cho) for cho in WITH_TABLE.chos], predicates=lexical.reads)
    by_record: dict[str, list[Suggestion]] = {}
    for suggestion in lexical.enrich(views):
        by_record.setdefault(suggestion.subject, []).append(suggestion)
    try:
        yield Enriched(store, by_record)
    finally:
        store.close()


def test_the_lexical_enricher_suggests_in_many_facets(enriched: Enriched) -> None:
    facets = {s.facet for suggestions in enriched.by_record.values() for s in suggestions}
    assert {"materials", "object-types", "subjects", "styles-periods", "korean-materials"} <= facets


@pytest.mark.parametrize(
    ("record", "facet", "concepts"),
    [
        # "oil on canvas", "painting", "boats", "... French Impressionism"
        ("city-gallery/p-0012", "materials", {AAT + "300015050", AAT + "300014078"}),
        ("city-gallery/p-0012", "object-types", {AAT + "300033618"}),
        ("city-gallery/p-0012", "subjects", {AAT + "300178749"}),
        ("city-gallery/p-0012", "styles-periods", {AAT + "300021503"}),
        # "woodblock print"; "waterfalls; mountains"
        ("asian-art/print-0411", "object-types", {AAT + "300041273"}),
        ("asian-art/print-0411", "subjects", {AAT + "300008736", AAT + "300008795"}),
        # "ink, tempera and gold leaf on parchment", "manuscript"
        ("state-library/ms-0007", "materials", {AAT + "300264831", AAT + "300015062", AAT + "300015012"}),
        ("state-library/ms-0007", "object-types", {AAT + "300265483"}),
        # A Dutch and a German subject, matched through the AAT's own labels: villages
        ("stadsmuseum/sk-2001", "subjects", {AAT + "300008372"}),
        ("state-library/map-0088", "subjects", {AAT + "300008372"}),
        # The celadon vase and the buncheong bottle, in the Korean museum classes
        ("asian-art/cer-0102", "korean-materials", {KM_MATERIAL + "celadon"}),
        ("asian-art/cer-0103", "korean-materials", {KM_MATERIAL + "buncheong"}),
        ("asian-art/cer-0101", "korean-materials", {KM_MATERIAL + "white-porcelain"}),
    ],
)
def test_designed_matches_are_found(enriched: Enriched, record: str, facet: str, concepts: set[str]) -> None:
    cho = collection_cho(*record.split("/"))
    assert concepts <= enriched.concepts(cho, facet), enriched.by_record.get(cho)


def test_concepts_a_record_already_has_are_not_suggested(enriched: Enriched) -> None:
    # The AAT IRIs the records carry: bronze (as a described concept), Painting, watercolors.
    assert AAT + "300010957" not in enriched.concepts(collection_cho("asian-art", "metal-0512"), "materials")
    assert AAT + "300033618" not in enriched.concepts(collection_cho("city-gallery", "p-0047"), "object-types")
    assert AAT + "300015045" not in enriched.concepts(collection_cho("city-gallery", "d-0231"), "materials")
    # ... and the materials the cmoa mapping looked up: "oil on canvas" has both, only its type is new.
    painting = table_chos()[0]
    assert enriched.concepts(painting, "materials") == set()
    assert enriched.concepts(painting, "object-types") == {AAT + "300033618"}
    # The watercolour's other material is still suggested: paper.
    assert AAT + "300014109" in enriched.concepts(collection_cho("city-gallery", "d-0231"), "materials")


def test_every_sample_record_exports_as_ingested(enriched: Enriched) -> None:
    """What the CLI's export test checks for a record of each kind, here for every record and format."""
    for cho in WITH_TABLE.chos:
        rid = record_id(cho)
        ingested = as_triples(
            pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in enriched.store.read_graph(GRAPHS.record(rid))
        )
        assert any(q.subject == NamedNode(cho) for q in ingested)
        for name, rdf_format in EXPORT_FORMATS.items():
            exported = pyoxigraph.parse(export_record(enriched.store, GRAPHS, rid, name), rdf_format)
            assert as_triples(exported) == ingested, f"{name} export of {cho}"
