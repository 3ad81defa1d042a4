"""Label indexes of the bundled vocabularies, and records written by hand, for the enricher tests."""

from __future__ import annotations

from functools import cache

import pyoxigraph

from enrich.enrichers.base import FieldValue, RecordView
from enrich.resources import data_dir
from enrich.vocab.facets import facet_tree, load_facets
from enrich.vocab.labels import LabelIndex
from enrich.vocab.skos import read_skos
from enrich.vocab.tree import LabelTree

AAT = "http://vocab.getty.edu/aat/"
KM_MATERIAL = "https://w3id.org/heritage-enrich/vocab/korean-museum/material/"


@cache
def bundled_tree(name: str) -> LabelTree:
    path = data_dir("mappings") / "vocab" / f"{name}.ttl"
    return LabelTree.from_vocabulary(read_skos(pyoxigraph.parse(path=str(path))))


def bundled_indexes(*facet_ids: str) -> dict[str, LabelIndex]:
    """Indexes of the given facets over the starter AAT and the Korean museum classes."""
    facets = load_facets()
    trees = {name: bundled_tree(name) for name in ("aat-starter", "korean-museum-classes")}
    return {facet_id: facet_tree(facets[facet_id], trees).index for facet_id in facet_ids}


def view(record_id: str = "rec-1", **fields: object) -> RecordView:
    """A record from ``predicate IRI → [text | (text, language) | FieldValue]``, passed as a dict in
    ``fields["values"]``."""
    values: dict[str, list[FieldValue]] = {}
    raw = fields.get("values", {})
    assert isinstance(raw, dict)
    for predicate, items in raw.items():
        for item in items:
            if isinstance(item, FieldValue):
                value = item
            elif isinstance(item, tuple):
                value = FieldValue(item[0], item[1])
            else:
                value = FieldValue(str(item), "en")
            values.setdefault(predicate, []).append(value)
    return RecordView(record_id, f"http://example.org/cho/{record_id}", values)
