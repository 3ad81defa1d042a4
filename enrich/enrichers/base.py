"""The one interface every enricher shares (batch of records in, :class:`Suggestion` values out), and the
read side it works on: :class:`RecordView`, a record's field values as plain data, read from the store a
batch at a time.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pyoxigraph import Literal, NamedNode

from enrich.namespaces import ENR, ORE, Graphs
from enrich.store.base import Store, text
from enrich.suggestion import ModelCard, Suggestion

if TYPE_CHECKING:
    from enrich.settings import Settings
    from enrich.vocab.facets import Facet
    from enrich.vocab.tree import LabelTree

#: Records per SELECT when reading views: large enough to amortise the query, small enough for the
#: VALUES block to stay a few hundred kilobytes.
READ_BATCH = 500


@dataclass(frozen=True, slots=True)
class FieldValue:
    """One object of a record field: literal text with its language, or an IRI (``is_iri``)."""

    text: str
    language: str | None = None
    is_iri: bool = False


@dataclass(frozen=True, slots=True)
class RecordView:
    """What an enricher sees of a record: the values of its ProvidedCHO and of the CHO's proxies, by
    predicate IRI (approved enrichments included, so accepted concepts count as present)."""

    record_id: str
    cho: str
    values: Mapping[str, Sequence[FieldValue]] = field(default_factory=dict)

    def literals(self, predicate: str) -> list[FieldValue]:
        return [value for value in self.values.get(predicate, ()) if not value.is_iri]

    def present(self, predicate: str) -> frozenset[str]:
        """The IRIs (concepts) the record already has on ``predicate``."""
        return frozenset(value.text for value in self.values.get(predicate, ()) if value.is_iri)


def config_hash(config: Mapping[str, Any]) -> str:
    """A short stable hash of an enricher's settings (JSON with sorted keys; other values by ``str``)."""
    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class EnrichmentContext:
    """What a model enricher may need besides its records, handed to ``from_config(context=…)`` when the class
    sets ``needs_context``: the store and graph names (record images, training data, stored artefacts), the
    settings (``data_dir`` for caches and trained models), the facets and their trees, and the vocabulary
    snapshot the run works against."""

    store: Store
    graphs: Graphs
    settings: Settings
    trees: Mapping[str, LabelTree]
    facets: Mapping[str, Facet]
    vocabulary: str


class Enricher(ABC):
    """Base of every enricher. A subclass sets ``name`` and ``version`` and fills in :meth:`enrich`.

    ``settings()`` is what the model card hashes: everything that changes the output belongs in it.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    #: Predicates the enricher reads; ``None`` reads every predicate of the record.
    reads: Collection[str] | None = None
    #: Whether ``from_config`` takes ``context`` (an :class:`EnrichmentContext`).
    needs_context: ClassVar[bool] = False
    #: Whether it runs a neural model that an accelerator speeds up (the Ray engine asks for GPUs for its actors).
    uses_accelerator: ClassVar[bool] = False

    @classmethod
    def from_config(cls, **config: Any) -> Self:
        return cls(**config)

    def settings(self) -> dict[str, Any]:
        return {}

    def model_card(self) -> ModelCard:
        return ModelCard(name=self.name, version=self.version, config_hash=config_hash(self.settings()))

    @abstractmethod
    def enrich(self, records: Sequence[RecordView]) -> list[Suggestion]:
        """Suggestions for a batch of records (in no promised order; none for a record is fine)."""


def read_record_views(
    store: Store,
    graphs: Graphs,
    record_ids: Sequence[str],
    predicates: Collection[str] | None = None,
) -> list[RecordView]:
    """Views of the given records, in the order asked, one SELECT per :data:`READ_BATCH` records.

    Values come from the record graph (the CHO and every ``ore:Proxy`` for it) and from the record's
    enrichment graph. Ids the registry does not know are left out; a deleted record has no values.
    """
    views: list[RecordView] = []
    for start in range(0, len(record_ids), READ_BATCH):
        views += _read_batch(store, graphs, record_ids[start : start + READ_BATCH], predicates)
    return views


def _read_batch(
    store: Store, graphs: Graphs, record_ids: Sequence[str], predicates: Collection[str] | None
) -> list[RecordView]:
    rows = " ".join(
        f"(<{graphs.record_node(rid)}> <{graphs.record(rid)}> <{graphs.enrichment(rid)}>)" for rid in record_ids
    )
    wanted = f"VALUES ?p {{ {' '.join(f'<{p}>' for p in sorted(predicates))} }}" if predicates is not None else ""
    # The batch's VALUES sits inside each branch: a UNION branch is planned on its own, and without the
    # bindings there it would scan every graph of the store.
    batch = f"VALUES (?r ?g ?e) {{ {rows} }} GRAPH <{graphs.system}> {{ ?r <{ENR}cho> ?cho }}"
    query = f"""SELECT ?r ?cho ?p ?o WHERE {{
  {{ {batch} GRAPH ?g {{ ?cho ?p ?o }} }}
  UNION {{ {batch} GRAPH ?g {{ ?proxy <{ORE}proxyFor> ?cho . ?proxy ?p ?o }} }}
  UNION {{ {batch} GRAPH ?e {{ ?cho ?p ?o }} }}
  {wanted}
}}"""
    prefix = graphs.record_node("")
    chos: dict[str, str] = {}
    values: dict[str, dict[str, list[FieldValue]]] = {}
    for row in store.select(query):
        rid = text(row["r"]).removeprefix(prefix)
        chos[rid] = text(row["cho"])
        obj = row["o"]
        if isinstance(obj, Literal):
            value = FieldValue(obj.value, obj.language or None)
        elif isinstance(obj, NamedNode):
            value = FieldValue(obj.value, is_iri=True)
        else:  # blank nodes carry no value an enricher can use
            continue
        bucket = values.setdefault(rid, {}).setdefault(text(row["p"]), [])
        if value not in bucket:
            bucket.append(value)
    missing = [rid for rid in record_ids if rid not in chos]
    if missing:  # known records without any wanted value (or deleted): their CHO from the registry
        found = store.objects_of([graphs.record_node(rid) for rid in missing], f"{ENR}cho", graphs.system)
        for node, objects in found.items():
            chos[node.removeprefix(prefix)] = text(objects[0])
    return [RecordView(rid, chos[rid], values.get(rid, {})) for rid in record_ids if rid in chos]
