"""Which records a similarity query may return: provider, dataset and facet-value filters, as sets of record ids.

A filter is read from the store once per query and handed to the index as an allowed set (the index searches
that set exactly when it is small, through its graph when it is large). Provider and dataset come from the
registry (``…/graph/system``); a facet value is a concept on the facet's target property, in the record's own
data or its accepted enrichments, the concept's narrower concepts in the facet tree included (asking for
"metal" finds bronze objects).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from enrich.ingest.errors import InputError
from enrich.ingest.journal import string_literal
from enrich.namespaces import ENR, ORE, XSD, Graphs
from enrich.store.base import Store, text

_FALSE = f'"false"^^<{XSD}boolean>'
#: Concepts per VALUES block: a facet root can have thousands of narrower concepts.
_CONCEPTS_PER_QUERY = 500


@dataclass(frozen=True, slots=True)
class Filters:
    """Optional restrictions of a query's hits; ``facet`` and ``concept`` go together."""

    provider: str | None = None
    dataset: str | None = None
    facet: str | None = None
    concept: str | None = None

    def __post_init__(self) -> None:
        if (self.facet is None) != (self.concept is None):
            raise InputError(
                "facet",
                "a facet filter needs both the facet and the concept (e.g. --facet materials "
                "--concept http://vocab.getty.edu/aat/300010957)",
            )

    @property
    def active(self) -> bool:
        return any(value is not None for value in (self.provider, self.dataset, self.facet))

    def describe(self) -> str:
        parts = [f"{name}={value}" for name, value in self.as_dict().items() if value is not None]
        return ", ".join(parts) or "none"

    def as_dict(self) -> dict[str, str | None]:
        return {"provider": self.provider, "dataset": self.dataset, "facet": self.facet, "concept": self.concept}


def allowed_records(store: Store, graphs: Graphs, filters: Filters) -> set[str] | None:
    """The live records passing every filter (None when no filter is set: every record may be returned)."""
    if not filters.active:
        return None
    found: set[str] | None = None
    for key in ("provider", "dataset"):
        value = getattr(filters, key)
        if value is not None:
            found = _narrow(found, _registry_records(store, graphs, key, value))
    if filters.facet is not None and filters.concept is not None:
        found = _narrow(found, _concept_records(store, graphs, filters.facet, filters.concept))
    return found if found is not None else set()


def live_records(store: Store, graphs: Graphs, record_ids: Collection[str]) -> set[str]:
    """Which of these records the registry holds and has not deleted (an index may be older than a delete)."""
    nodes = [graphs.record_node(rid) for rid in record_ids]
    prefix = graphs.record_node("")
    found = store.objects_of(nodes, f"{ENR}deleted", graphs.system)
    return {node.removeprefix(prefix) for node, values in found.items() if values and text(values[0]) == "false"}


def _narrow(found: set[str] | None, more: set[str]) -> set[str]:
    return more if found is None else found & more


def _registry_records(store: Store, graphs: Graphs, key: str, value: str) -> set[str]:
    """Live records whose registry ``enr:provider``/``enr:dataset`` is ``value`` (a name or an IRI)."""
    rows = store.select(
        f"SELECT ?r WHERE {{ GRAPH <{graphs.system}> {{ ?r <{ENR}{key}> ?v ; <{ENR}deleted> {_FALSE} "
        f"FILTER(STR(?v) = {string_literal(value)}) }} }}"
    )
    prefix = graphs.record_node("")
    return {text(row["r"]).removeprefix(prefix) for row in rows}


def facet_concepts(store: Store, graphs: Graphs, facet_id: str, concept: str) -> tuple[str, list[str]]:
    """The facet's target property and the concept with its narrower concepts; an unknown facet or a concept
    outside the facet is an :class:`InputError`."""
    from enrich.vocab.facets import facet_tree, get_facet, load_facets
    from enrich.vocab.loader import read_trees

    facet = get_facet(load_facets(), facet_id)
    tree = facet_tree(facet, read_trees(store, graphs))
    if concept not in tree:
        raise InputError(concept, f"not a concept of the {facet_id} facet in the loaded vocabularies")
    return facet.target_property, [concept, *tree.descendants(concept)]


def _concept_records(store: Store, graphs: Graphs, facet_id: str, concept: str) -> set[str]:
    predicate, concepts = facet_concepts(store, graphs, facet_id, concept)
    found: set[str] = set()
    for chunk in _chunks(concepts):
        values = " ".join(f"<{iri}>" for iri in chunk)
        # The value sits on the CHO or on a proxy for it, in the record graph or the enrichment graph (where
        # accepted suggestions go); suggestions themselves are reified, so pending ones never match.
        rows = store.select(
            f"SELECT DISTINCT ?r WHERE {{ VALUES ?c {{ {values} }} "
            f"{{ GRAPH ?g {{ ?cho <{predicate}> ?c }} }} "
            f"UNION {{ GRAPH ?g {{ ?proxy <{ORE}proxyFor> ?cho ; <{predicate}> ?c }} }} "
            f"GRAPH <{graphs.system}> {{ ?r <{ENR}cho> ?cho ; <{ENR}deleted> {_FALSE} }} }}"
        )
        prefix = graphs.record_node("")
        found |= {text(row["r"]).removeprefix(prefix) for row in rows}
    return found


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CONCEPTS_PER_QUERY):
        yield items[start : start + _CONCEPTS_PER_QUERY]
