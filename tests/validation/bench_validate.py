"""Throughput of CompiledShapes.validate on synthetic EDM records (not a test; run by hand).

    python -m tests.validation.bench_validate [records]

Each record (~23 triples, tests/benchmarks/synthetic_edm.py) is parsed beforehand, so the figure is
validation alone: records per second on one core, best of five rounds.
"""

from __future__ import annotations

import sys
import time

import pyoxigraph

from enrich.validation import CompiledShapes
from tests.benchmarks.synthetic_edm import RDF_XML_FOOTER, RDF_XML_HEADER, record_rdf_xml


def main(count: int = 20_000) -> None:
    documents = (RDF_XML_HEADER + record_rdf_xml(i) + RDF_XML_FOOTER for i in range(count))
    records = [list(pyoxigraph.parse(document, pyoxigraph.RdfFormat.RDF_XML)) for document in documents]
    shapes = CompiledShapes.edm()
    rejected = sum(1 for record in records if shapes.validate(record))
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for record in records:
            shapes.validate(record)
        best = min(best, time.perf_counter() - start)
    triples = sum(map(len, records)) / count
    print(f"{count} records of {triples:.1f} triples, {rejected} rejected")
    print(f"{count / best:,.0f} records/s ({best / count * 1e6:.1f} µs per record)")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:2]))
