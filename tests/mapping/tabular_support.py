"""Helpers for the tabular mapping tests: small mappings and tables, label indexes, parsed output."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple

from enrich.ingest import IngestOptions, Ingestor, IngestReport
from enrich.ingest.sources import Document
from enrich.mapping.tabular import TableLimits, TabularReport, convert_table
from enrich.mapping.tabular_spec import TabularMapping, parse_mapping
from enrich.resources import data_dir
from enrich.store.base import Store
from enrich.vocab.labels import LabelIndex
from enrich.vocab.skos import read_skos
from enrich.vocab.tree import LabelTree
from tests.ingest.support import make_settings

DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CMOA_CSV = SHARED_DATA / "museums" / "cmoa" / "cmoa_objects_flat.csv"
MAPPINGS = data_dir("mappings")
BASE_IRI = "https://data.heritage-enrich.example/"
AAT = "http://vocab.getty.edu/aat/"
KOREAN = "https://w3id.org/heritage-enrich/vocab/korean-museum/"
STARTER_MATERIALS = "https://w3id.org/heritage-enrich/vocab/aat-starter/materials"


def facet_index(skos_file: Path, root: str) -> LabelIndex:
    tree = LabelTree.from_vocabulary(read_skos(pyoxigraph.parse(path=str(skos_file))))
    return tree.subtree([root]).index


def fixture_materials() -> LabelIndex:
    """The small fixture: real AAT IDs from cromulent, plus a test concept that makes "ink" ambiguous."""
    return facet_index(DATA / "materials.ttl", "https://example.org/test/vocab/materials")


def cmoa_materials() -> LabelIndex:
    """The bundled AAT starter vocabulary's materials when it is there, else the test fixture."""
    starter = MAPPINGS / "vocab" / "aat-starter.ttl"
    if starter.is_file():
        return facet_index(starter, STARTER_MATERIALS)
    return fixture_materials()


def korean_trees() -> dict[str, LabelTree]:
    """The local scheme's three facets, by facet id."""
    tree = LabelTree.from_vocabulary(
        read_skos(pyoxigraph.parse(path=str(MAPPINGS / "vocab" / "korean-museum-classes.ttl")))
    )
    return {
        "korean-periods": tree.subtree([KOREAN + "periods"]),
        "korean-materials": tree.subtree([KOREAN + "materials"]),
        "korean-lifestyle": tree.subtree([KOREAN + "lifestyle"]),
    }


def base_mapping(*fields: dict[str, Any], **top: Any) -> TabularMapping:
    """A minimal valid mapping over columns id, title, type, url, plus the given rules."""
    data: dict[str, Any] = {
        "source": "test-museum",
        "id_column": "id",
        "iris": {"cho": "https://example.org/object/{id}", "aggregation": "https://example.org/aggregation/{id}"},
        "provider": "Test Aggregator",
        "data_provider": "Test Museum",
        "rights": "http://creativecommons.org/publicdomain/zero/1.0/",
        "edm_type": {"value": "IMAGE"},
        "fields": [
            {"column": "title", "property": "dc:title", "language": "en", "report_missing": "missing title"},
            {"column": "type", "property": "dc:type", "language": "en"},
            {"column": "url", "property": "edm:isShownAt", "emit": "iri"},
            *fields,
        ],
    }
    data.update(top)
    return parse_mapping(data, "test mapping")


def row(n: int | str, **cells: str) -> dict[str, str]:
    """A row with a valid id, title, type and landing page; ``cells`` override or add columns."""
    return {"id": str(n), "title": f"Object {n}", "type": "bowl", "url": f"https://example.org/page/{n}", **cells}


def write_table(path: Path, rows: Sequence[Mapping[str, str]], encoding: str = "utf-8") -> Path:
    header = list(dict.fromkeys(column for r in rows for column in r))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def document_triples(document: Document) -> list[Triple]:
    with document.open(2**40) as stream:
        data = stream.read()
    return list(pyoxigraph.parse(data, RdfFormat.N_TRIPLES))


def convert(
    tmp_path: Path,
    rows: Sequence[Mapping[str, str]],
    mapping: TabularMapping | None = None,
    lookups: Mapping[str, LabelIndex] | None = None,
    limits: TableLimits | None = None,
) -> tuple[list[Triple], TabularReport]:
    table = write_table(tmp_path / "table.csv", rows)
    document, report = convert_table(table, mapping or base_mapping(), lookups or {}, base_iri=BASE_IRI, limits=limits)
    return document_triples(document), report


def objects(triples: Sequence[Triple], subject: str, predicate: str) -> list[NamedNode | Literal]:
    found = [t.object for t in triples if t.subject == NamedNode(subject) and t.predicate == NamedNode(predicate)]
    return [term for term in found if isinstance(term, NamedNode | Literal)]


def ingest(store: Store, document: Document, **options: Any) -> IngestReport:
    options.setdefault("progress", False)
    return Ingestor(store, make_settings(), IngestOptions(**options)).run([document])
