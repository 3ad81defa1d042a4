"""The worked examples: the CMOA export (28,258 real rows) and the Korean museum sample, converted with
the bundled mappings, ingested into a real store and validated against the EDM shapes."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from enrich.mapping.tabular import convert_table, load_mapping
from enrich.namespaces import DC, DCTERMS, EDM
from enrich.store.base import text
from enrich.store.embedded import EmbeddedStore
from enrich.vocab.labels import LabelIndex
from tests.mapping.tabular_support import (
    BASE_IRI,
    CMOA_CSV,
    KOREAN,
    MAPPINGS,
    cmoa_materials,
    document_triples,
    ingest,
    korean_trees,
)

needs_cmoa = pytest.mark.skipif(not CMOA_CSV.is_file(), reason=f"shared data not found: {CMOA_CSV}")
CMOA_ROWS = 28_258


@pytest.fixture(scope="module")
def materials() -> LabelIndex:
    return cmoa_materials()


@needs_cmoa
@pytest.mark.slow
def test_every_cmoa_row_converts(materials: LabelIndex) -> None:
    started = time.perf_counter()
    document, report = convert_table(
        CMOA_CSV, load_mapping(MAPPINGS / "sources" / "cmoa.yaml"), {"materials": materials}
    )
    seconds = time.perf_counter() - started
    assert (report.rows_read, report.rows_converted, report.rows_skipped) == (CMOA_ROWS, CMOA_ROWS, 0)
    reasons = report.reason_counts
    # Facts of the export, whatever the vocabulary: 3,261 rows without an images cell and 5,757 with an
    # empty list; 115 without a title; 2 without a classification; one year 71959.
    assert reasons["no image"] == 9_018
    assert reasons["missing title"] == 115
    assert reasons["missing classification"] == 2
    assert reasons["unparseable date"] == 1
    assert reasons["reversed date range"] == 4
    stats = report.lookups["materials"]
    assert stats.matched > 10_000 and stats.unmatched > 0
    assert document.size is not None and document.size > 100_000_000
    assert report.triples > 800_000
    assert seconds < 60, seconds


@needs_cmoa
def test_a_cmoa_slice_ingests_and_every_record_is_valid(tmp_path: Path, materials: LabelIndex) -> None:
    with CMOA_CSV.open(encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        rows = [next(reader) for _ in range(301)]
    table = tmp_path / "cmoa-300.csv"
    with table.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    document, report = convert_table(
        table, load_mapping(MAPPINGS / "sources" / "cmoa.yaml"), {"materials": materials}, base_iri=BASE_IRI
    )
    assert report.rows_converted == 300
    triples = document_triples(document)
    store = EmbeddedStore(tmp_path / "store")
    try:
        result = ingest(store, document, validate=True)
        assert (result.records, result.new, result.invalid) == (300, 300, [])
        # The first row: a textile, "satin with cut and uncut velvet", no image, dated c. 1860.
        cho = BASE_IRI + "cmoa/object/00078d13-d7c7-4f1b-bbe2-b9afcc25fcbd"
        solutions = store.select(
            f"""SELECT ?title ?begin ?agent WHERE {{ GRAPH ?g {{
                <{cho}> <{DC}title> ?title ; <{DCTERMS}created> ?span ; <{DC}creator> ?agent .
                ?span <{EDM}begin> ?begin .
                ?aggregation <{EDM}aggregatedCHO> <{cho}> ; <{EDM}isShownAt> ?page . }} }}"""
        )
        assert [(text(s["title"]), text(s["begin"])) for s in solutions] == [("Textile fragment", "1855-01-01")]
        oil_on_canvas = [t.subject for t in triples if text(t.object) == "oil on canvas"]
        for subject in oil_on_canvas:
            media = {
                text(t.object) for t in triples if t.subject == subject and t.predicate.value == DCTERMS + "medium"
            }
            assert {"http://vocab.getty.edu/aat/300015050", "http://vocab.getty.edu/aat/300014078"} <= media
    finally:
        store.close()


def test_the_korean_sample_converts_ingests_and_resolves(tmp_path: Path) -> None:
    trees = korean_trees()
    indexes = {facet: tree.index for facet, tree in trees.items()}
    mapping = load_mapping(MAPPINGS / "sources" / "korean-museum.yaml")
    table = MAPPINGS / "sources" / "examples" / "korean-museum-sample.csv"
    document, report = convert_table(table, mapping, indexes, base_iri=BASE_IRI)
    assert (report.rows_read, report.rows_converted) == (34, 34)
    assert [(issue.record_id, issue.reasons) for issue in report.issues] == [
        ("본관 1013", ["no image: no value in column '이미지'"]),
        ("민속 4003", ["unmatched korean-materials phrase: '대나무' (재질) names no concept"]),
        ("신수 3009", ["unmatched korean-periods phrase: '한국-미상' (국적/시대) names no concept"]),
    ]
    store = EmbeddedStore(tmp_path / "store")
    try:
        result = ingest(store, document, validate=True)
        assert (result.new, result.invalid) == (34, [])
        cho = BASE_IRI + "korean-museum/object/%EB%B3%B8%EA%B4%80%201001"  # 본관 1001
        rows = store.select(f"""SELECT ?p ?o WHERE {{ GRAPH ?g {{ <{cho}> ?p ?o }} }} ORDER BY ?p ?o""")
        values = {(text(s["p"]), text(s["o"]), getattr(s["o"], "language", None)) for s in rows}
        assert (DC + "title", "청자 상감운학문 매병", "ko") in values
        assert (DC + "title", "靑磁 象嵌雲鶴文 梅甁", "ko-hani") in values
        assert (DCTERMS + "temporal", KOREAN + "period/goryeo", None) in values
        assert (DCTERMS + "temporal", "한국-고려", "ko") in values
        assert (DCTERMS + "medium", KOREAN + "material/celadon", None) in values
        assert (DC + "subject", KOREAN + "lifestyle/food", None) in values
        # Every concept link lands in the facet's own subtree of the local scheme.
        for prop, facet in (
            (DCTERMS + "temporal", "korean-periods"),
            (DCTERMS + "medium", "korean-materials"),
            (DC + "subject", "korean-lifestyle"),
        ):
            found = store.select(f"SELECT DISTINCT ?c WHERE {{ GRAPH ?g {{ ?cho <{prop}> ?c FILTER isIRI(?c) }} }}")
            concepts = {text(s["c"]) for s in found}
            assert concepts and concepts <= set(trees[facet].nodes), (facet, concepts - set(trees[facet].nodes))
        counts = {facet: (stats.matched, stats.ambiguous, stats.unmatched) for facet, stats in report.lookups.items()}
        assert counts == {"korean-lifestyle": (34, 0, 0), "korean-materials": (33, 0, 1), "korean-periods": (33, 0, 1)}
        # Paths fall back to their broader step: 토제-기와 (roof tile) is fired clay, 나무-오동나무 is wood.
        tile = BASE_IRI + "korean-museum/object/%EC%8B%A0%EC%88%98%203005"  # 신수 3005
        assert store.ask(f"ASK {{ GRAPH ?g {{ <{tile}> <{DCTERMS}medium> <{KOREAN}material/earthen> }} }}")
    finally:
        store.close()
