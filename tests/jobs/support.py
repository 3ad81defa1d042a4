"""A store with real CMOA rows ingested through the bundled mapping and the starter AAT loaded."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from enrich.ingest import IngestOptions, Ingestor
from enrich.mapping.tabular import convert_table
from enrich.mapping.tabular_spec import find_mapping, load_mapping, required_facets
from enrich.namespaces import ENR, Graphs
from enrich.records_admin import list_records
from enrich.store.base import Store, text
from enrich.vocab import loader
from enrich.vocab.facets import facet_indexes
from tests.ingest.support import BASE_IRI, make_settings

CMOA_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "museums" / "cmoa" / "cmoa_objects_flat.csv"
GRAPHS = Graphs(BASE_IRI)


def cmoa_slice(tmp_path: Path, start: int, stop: int) -> Path:
    """Rows [start, stop) of the CMOA export (with its header) as a CSV file of their own."""
    if not CMOA_CSV.is_file():
        pytest.skip(f"the CMOA export is not at {CMOA_CSV}")
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / f"cmoa-{start}-{stop}.csv"
    with CMOA_CSV.open(newline="", encoding="utf-8") as source, out.open("w", newline="", encoding="utf-8") as sink:
        reader, writer = csv.reader(source), csv.writer(sink)
        writer.writerow(next(reader))
        writer.writerows(itertools.islice(reader, start, stop))
    return out


def load_starter(store: Store, graphs: Graphs = GRAPHS) -> None:
    path = loader.bundled_vocabulary()
    loader.load(store, graphs, loader.read_file(path), loader.STARTER_VOCABULARY, f"bundled:{path.name}")


def ingest_cmoa(store: Store, tmp_path: Path, start: int, stop: int, dataset: str | None = None) -> None:
    """Convert rows of the CMOA export through its mapping and ingest them (the vocabulary must be loaded)."""
    mapping = load_mapping(find_mapping("cmoa"))
    lookups = facet_indexes(store, GRAPHS, required_facets(mapping))
    document, report = convert_table(cmoa_slice(tmp_path, start, stop), mapping, lookups, base_iri=BASE_IRI)
    assert report.rows_converted > 0
    Ingestor(store, make_settings(), IngestOptions(progress=False, dataset=dataset)).run([document])


def cmoa_store(store: Store, tmp_path: Path, rows: int = 120) -> list[str]:
    """The starter vocabulary and ``rows`` CMOA records in ``store``; their record ids, in order."""
    load_starter(store)
    ingest_cmoa(store, tmp_path, 0, rows)
    return [rid for rid, _, _, _ in list_records(store, GRAPHS, limit=rows)]


def suggestion_state(store: Store, graphs: Graphs = GRAPHS) -> dict[str, tuple[str, ...]]:
    """Per suggestion node: every (predicate, object) but the runs that generated it, sorted (what two
    runs over the same data must agree on)."""
    rows = store.select(
        f"SELECT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s a <{ENR}Suggestion> ; ?p ?o }} "
        f"FILTER(STRSTARTS(STR(?g), '{graphs.suggestions('')}')) "
        "FILTER(?p != <http://www.w3.org/ns/prov#wasGeneratedBy>) }"
    )
    state: dict[str, list[str]] = {}
    for row in rows:
        state.setdefault(text(row["s"]), []).append(f"{text(row['p'])} {row['o']}")
    return {node: tuple(sorted(values)) for node, values in state.items()}
