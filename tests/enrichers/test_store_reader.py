"""Reading record views from a real store (every store kind), and lexical suggestions end to end."""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from enrich.enrichers import get_enricher
from enrich.enrichers.base import FieldValue, read_record_views
from enrich.enrichers.lexical import LexicalEnricher
from enrich.ingest.records import record_id
from enrich.namespaces import DC, DCTERMS, ORE, RDF_TYPE
from enrich.store.base import Store
from enrich.vocab import loader
from tests.enrichers.support import AAT, KM_MATERIAL
from tests.ingest.support import GRAPHS, ingest

SAMPLE = Path(__file__).resolve().parents[2] / "enrich" / "samples" / "museum-sample.rdf"
MIRROR = "http://data.example-museum.org/object/metal-0107"
EWER = "http://data.example-museum.org/object/ceramics-0042"
BOOK = "http://data.example-library.org/book/rare-1888-03"
BRONZE = AAT + "300010957"


def _sample_store(store: Store) -> dict[str, str]:
    """The three sample records and the two bundled vocabularies; CHO IRI → record id."""
    report = ingest(store, [SAMPLE])
    assert report.written == 3
    for name in ("aat-starter", "korean-museum-classes"):
        path = loader.bundled_vocabulary(name)
        loader.load(store, GRAPHS, loader.read_file(path), name, str(path))
    return {cho: record_id(cho) for cho in (MIRROR, EWER, BOOK)}


def test_views_of_a_batch(store: Store) -> None:
    ids = _sample_store(store)
    views = read_record_views(store, GRAPHS, [ids[MIRROR], "unknown-000000000000", ids[EWER], ids[BOOK]])
    assert [v.cho for v in views] == [MIRROR, EWER, BOOK]  # the order asked; unknown ids left out
    mirror = views[0]
    assert mirror.record_id == ids[MIRROR]
    assert mirror.values[DCTERMS + "medium"] == [FieldValue("bronze", "en")]
    assert mirror.present(DC + "subject") == {"http://data.example-museum.org/concept/mirrors"}
    assert mirror.literals(DC + "title") == [FieldValue("Bronze mirror with floral scrolls", "en")]
    assert views[1].values[DCTERMS + "medium"] == [FieldValue("청자", "ko")]
    # Only the predicates asked for.
    (book,) = read_record_views(store, GRAPHS, [ids[BOOK]], predicates={DC + "type"})
    assert dict(book.values) == {DC + "type": [FieldValue("book", "en")]}
    (nothing,) = read_record_views(store, GRAPHS, [ids[BOOK]], predicates={DCTERMS + "medium"})
    assert nothing.cho == BOOK and dict(nothing.values) == {}


def test_proxies_and_approved_enrichments_are_part_of_the_view(store: Store) -> None:
    ids = _sample_store(store)
    rid = ids[MIRROR]
    proxy = NamedNode("http://data.example-museum.org/proxy/metal-0107")
    record_graph, enrichment = NamedNode(GRAPHS.record(rid)), NamedNode(GRAPHS.enrichment(rid))
    store.add(
        [
            Quad(proxy, NamedNode(RDF_TYPE), NamedNode(ORE + "Proxy"), record_graph),
            Quad(proxy, NamedNode(ORE + "proxyFor"), NamedNode(MIRROR), record_graph),
            Quad(proxy, NamedNode(DC + "type"), Literal("mirror", language="en"), record_graph),
            Quad(NamedNode(MIRROR), NamedNode(DCTERMS + "medium"), NamedNode(BRONZE), enrichment),
        ]
    )
    (mirror,) = read_record_views(store, GRAPHS, [rid])
    assert mirror.literals(DC + "type") == [FieldValue("mirror", "en")]
    assert mirror.present(DCTERMS + "medium") == {BRONZE}
    # The approved concept is not suggested again.
    lexical = LexicalEnricher.from_store(store, GRAPHS, ["materials"])
    assert all(s.value.value != BRONZE for s in lexical.enrich([mirror]))


def test_lexical_end_to_end(store: Store) -> None:
    ids = _sample_store(store)
    lexical = get_enricher("lexical", store=store, graphs=GRAPHS)
    assert isinstance(lexical, LexicalEnricher)
    assert {"materials", "object-types", "korean-materials"} <= set(lexical.facets)
    views = read_record_views(store, GRAPHS, list(ids.values()), predicates=lexical.reads)
    suggestions = lexical.enrich(views)
    found = {(s.subject, s.facet, s.value.value): s for s in suggestions}
    bronze = found[(MIRROR, "materials", BRONZE)]
    assert bronze.confidence > 0.9  # the medium, the title and the description agree
    assert bronze.evidence[0] == 'dcterms:medium "bronze": span "bronze" = prefLabel "bronze"@en'
    assert bronze.record_id == ids[MIRROR] and bronze.predicate == DCTERMS + "medium"
    assert found[(EWER, "korean-materials", KM_MATERIAL + "celadon")].confidence >= 0.9
    book = [s for s in suggestions if s.subject == BOOK and s.facet == "object-types"]
    assert [s.evidence[0].split(" = ")[0] for s in book] == ['dc:type "book": span "book"']
    assert lexical.model_card().config_hash  # the vocabularies loaded are part of the settings
    assert "aat-starter" in lexical.settings()["vocabulary"]
