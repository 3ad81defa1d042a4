"""A small vocabulary, two registered records and a helper to write suggestions, for the review tests."""

from __future__ import annotations

from pathlib import Path

from enrich.namespaces import DCTERMS, ENR, XSD, Graphs
from enrich.provenance import ProvenanceWriter
from enrich.store.base import Store, text
from enrich.suggestion import ModelCard, Status, SuggestedValue, Suggestion
from enrich.vocab import loader

GRAPHS = Graphs("https://example.org/enrich")
V = "https://example.org/vocab/"
MATERIALS, METAL, BRONZE, BRASS, WOOD, VESSEL = (
    V + n for n in ("materials", "metal", "bronze", "brass", "wood", "vessel")
)
OLD_DATESTAMP = "2000-01-01T00:00:00Z"
CARD = ModelCard("lexical", "1.0", "cfg")
RECORDS = {"r1": ("Museum A", "ds1"), "r2": ("Museum B", "ds2")}

VOCABULARY = f"""
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix v: <{V}> .
v:scheme a skos:ConceptScheme .
v:materials a skos:Concept ; skos:inScheme v:scheme ; skos:topConceptOf v:scheme ; skos:prefLabel "Materials Facet"@en .
v:metal a skos:Concept ; skos:inScheme v:scheme ; skos:prefLabel "metal"@en , "metaal"@nl ; skos:broader v:materials .
v:bronze a skos:Concept ; skos:inScheme v:scheme ; skos:prefLabel "bronze"@en ; skos:altLabel "bronze alloy"@en ;
    skos:broader v:metal .
v:brass a skos:Concept ; skos:inScheme v:scheme ; skos:prefLabel "brass"@en ; skos:broader v:metal .
v:wood a skos:Concept ; skos:inScheme v:scheme ; skos:prefLabel "wood"@en ; skos:broader v:materials .
v:objects a skos:Concept ; skos:inScheme v:scheme ; skos:topConceptOf v:scheme ; skos:prefLabel "Objects Facet"@en .
v:vessel a skos:Concept ; skos:inScheme v:scheme ; skos:prefLabel "vessel"@en ; skos:broader v:objects .
"""


def cho(record: str) -> str:
    return f"https://example.org/cho/{record}"


def prepare(store: Store, tmp_path: Path) -> None:
    """Load the vocabulary and register the records (with an old datestamp, so a bump shows)."""
    path = tmp_path / "vocab.ttl"
    path.write_text(VOCABULARY, encoding="utf-8")
    loader.load(store, GRAPHS, loader.read_file(path), "test", "test")
    lines = []
    for record, (provider, dataset) in RECORDS.items():
        node = f"<{GRAPHS.record_node(record)}>"
        lines.append(
            f'{node} a <{ENR}Record> ; <{ENR}datestamp> "{OLD_DATESTAMP}"^^<{XSD}dateTime> ; '
            f'<{ENR}provider> "{provider}" ; <{ENR}dataset> "{dataset}" .'
        )
    store.update(f"INSERT DATA {{ GRAPH <{GRAPHS.system}> {{ {' '.join(lines)} }} }}")


def suggestion(
    concept: str = BRONZE,
    record: str = "r1",
    confidence: float = 0.8,
    enricher: str = "lexical",
    facet: str = "materials",
    predicate: str = DCTERMS + "medium",
) -> Suggestion:
    return Suggestion(
        record, cho(record), predicate, SuggestedValue(concept), facet, confidence, enricher, CARD, ("e",)
    )


def suggest(store: Store, *suggestions: Suggestion) -> list[str]:
    writer = ProvenanceWriter(store, GRAPHS)
    run = writer.start_run(["lexical"], [CARD], selection="test", vocabulary_snapshot="test")
    writer.write(run, list(suggestions))
    return [s.suggestion_id for s in suggestions]


def status_of(store: Store, sid: str) -> list[Status]:
    node = GRAPHS.suggestion_node(sid)
    rows = store.select(f"SELECT ?s WHERE {{ GRAPH ?g {{ <{node}> <{ENR}status> ?s }} }}")
    return sorted(Status(text(row["s"]).removeprefix(ENR)) for row in rows)


def enrichment(store: Store, record: str = "r1") -> set[tuple[str, str, str]]:
    return {(text(t.subject), text(t.predicate), text(t.object)) for t in store.read_graph(GRAPHS.enrichment(record))}


def datestamp(store: Store, record: str = "r1") -> str:
    rows = store.select(
        f"SELECT ?d WHERE {{ GRAPH <{GRAPHS.system}> {{ <{GRAPHS.record_node(record)}> <{ENR}datestamp> ?d }} }}"
    )
    assert len(rows) == 1, rows
    return text(rows[0]["d"])


class CountingStore:
    """Wraps a store and counts the update requests sent through it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.updates: list[str] = []

    def update(self, sparql_update: str) -> None:
        self.updates.append(sparql_update)
        self._store.update(sparql_update)

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)
