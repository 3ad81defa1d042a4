"""Batch validation over N-Triples lines (what the ingest uses) gives the per-record results."""

from __future__ import annotations

import pyoxigraph

from enrich.validation import CompiledShapes
from tests.validation.test_shapes_on_disk import INVALID, VALID


def _lines(path: object) -> list[str]:
    text = pyoxigraph.serialize(
        pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE), format=pyoxigraph.RdfFormat.N_TRIPLES
    )
    assert text is not None
    return [line for line in text.decode().split("\n") if line]


def test_batch_results_equal_one_by_one_results() -> None:
    shapes = CompiledShapes.edm()
    cases = VALID + INVALID
    records = [_lines(path) for path in cases]
    one_by_one = [
        shapes.validate(pyoxigraph.parse("\n".join(lines), pyoxigraph.RdfFormat.N_TRIPLES)) for lines in records
    ]
    batched = shapes.validate_many(records)
    assert batched == one_by_one
    assert sum(1 for result in batched if result) == len(INVALID)


def test_an_empty_batch_has_no_results() -> None:
    assert CompiledShapes.edm().validate_many([]) == []
