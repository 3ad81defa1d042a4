"""What OAI-PMH reads from the store: the record registry (``Graphs.system``), sets and record data."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import cast

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from enrich.export import enrichment_triples
from enrich.namespaces import ENR, RDF_TYPE, XSD, Graphs
from enrich.store.base import Store, Term, text
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import Status

_STAMP = f"<{ENR}datestamp>"
#: Set kinds read from registry properties: setSpec prefix -> (predicate, label of the setName).
PROPERTY_SETS = {"provider": (ENR + "provider", "Provider"), "dataset": (ENR + "dataset", "Dataset")}
REVIEW_SETS = {
    "review:accepted": "Records with accepted enrichments",
    "review:pending": "Records with suggestions pending review",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


def slug(value: str) -> str:
    """A setSpec-safe form of a provider or dataset name (stable: the same name, the same slug)."""
    return _UNSAFE.sub("-", value).strip("-").lower() or "unnamed"


@dataclass(frozen=True)
class OaiSet:
    spec: str
    name: str


@dataclass(frozen=True)
class Header:
    record_id: str
    datestamp: str
    deleted: bool
    cho: str | None


@dataclass
class RecordData:
    """What a metadata format renders for one live record: its record graph, and its accepted enrichments
    (read only when asked for, and only when the record has some)."""

    store: Store
    graphs: Graphs
    header: Header
    triples: list[Triple]
    has_enrichments: bool

    @cached_property
    def enrichments(self) -> list[Triple]:
        if not self.has_enrichments:
            return []
        return enrichment_triples(self.store, self.graphs, self.header.record_id, self.header.cho)


def _literal(stamp: str) -> str:
    return f'"{stamp}"^^<{XSD}dateTime>'


class Repository:
    def __init__(self, store: Store, graphs: Graphs) -> None:
        self.store = store
        self.graphs = graphs
        self.node_prefix = graphs.record_node("")

    # -- sets ------------------------------------------------------------------------------------------
    def property_sets(self) -> dict[str, tuple[str, list[Term]]]:
        """setSpec -> (setName, the registry values it stands for)."""
        found: dict[str, tuple[str, list[Term]]] = {}
        for kind, (predicate, label) in PROPERTY_SETS.items():
            rows = self.store.select(
                f"SELECT DISTINCT ?v WHERE {{ GRAPH <{self.graphs.system}> {{ ?r <{predicate}> ?v }} }}"
            )
            for row in rows:
                value = row["v"]
                spec = f"{kind}:{slug(text(value))}"
                _, values = found.setdefault(spec, (f"{label}: {text(value)}", []))
                values.append(value)
        return dict(sorted(found.items()))

    def sets(self) -> list[OaiSet]:
        named = [OaiSet(spec, name) for spec, (name, _) in self.property_sets().items()]
        return named + [OaiSet(spec, name) for spec, name in REVIEW_SETS.items()]

    def _review_pattern(self, spec: str) -> str:
        record = f'STRAFTER(STR(?r), "{self.node_prefix}")'
        if spec == "review:accepted":
            graph = self.graphs.enrichment("")
            return f'BIND(IRI(CONCAT("{graph}", {record})) AS ?eg) FILTER EXISTS {{ GRAPH ?eg {{ ?es ?ep ?eo }} }}'
        graph = self.graphs.suggestions("")
        return (
            f'BIND(IRI(CONCAT("{graph}", {record})) AS ?sg) '
            f"FILTER EXISTS {{ GRAPH ?sg {{ ?sn <{ENR}status> <{Status.PENDING.iri}> }} }}"
        )

    def set_pattern(self, spec: str | None) -> str | None:
        """The SPARQL pattern (outside the system graph) restricting ``?r`` to a set; None: no such set."""
        if spec is None:
            return ""
        if spec in REVIEW_SETS:
            return self._review_pattern(spec)
        kind = spec.partition(":")[0]
        entry = self.property_sets().get(spec)
        if entry is None or kind not in PROPERTY_SETS:
            return None
        values = " ".join(str(value) for value in entry[1])
        return f"GRAPH <{self.graphs.system}> {{ ?r <{PROPERTY_SETS[kind][0]}> ?sv VALUES ?sv {{ {values} }} }}"

    def set_specs(self, record_ids: Sequence[str]) -> dict[str, list[str]]:
        """The setSpecs of each record (the same specs ListSets shows)."""
        specs: dict[str, list[str]] = {rid: [] for rid in record_ids}
        if not record_ids:
            return specs
        nodes = [self.graphs.record_node(rid) for rid in record_ids]
        for kind, (predicate, _) in PROPERTY_SETS.items():
            for node, values in self.store.objects_of(nodes, predicate, self.graphs.system).items():
                specs[node.removeprefix(self.node_prefix)] += sorted({f"{kind}:{slug(text(v))}" for v in values})
        for spec, members in self._review_members(record_ids).items():
            for rid in members:
                specs[rid].append(spec)
        return specs

    def _review_members(self, record_ids: Sequence[str]) -> dict[str, list[str]]:
        """Per review set, which of the records are in it."""
        if isinstance(self.store, EmbeddedStore):
            # Two index look-ups per record, stopping at the first quad: cheaper than the SPARQL below.
            native = self.store.oxigraph
            status, pending = NamedNode(ENR + "status"), NamedNode(Status.PENDING.iri)

            def has(
                subject: NamedNode | None, predicate: NamedNode | None, value: NamedNode | None, graph: str
            ) -> bool:
                return next(native.quads_for_pattern(subject, predicate, value, NamedNode(graph)), None) is not None

            return {
                "review:accepted": [rid for rid in record_ids if has(None, None, None, self.graphs.enrichment(rid))],
                "review:pending": [
                    rid for rid in record_ids if has(None, status, pending, self.graphs.suggestions(rid))
                ],
            }
        listed = " ".join(f"<{self.graphs.record_node(rid)}>" for rid in record_ids)
        return {
            spec: [
                text(row["r"]).removeprefix(self.node_prefix)
                for row in self.store.select(
                    f"SELECT ?r WHERE {{ VALUES ?r {{ {listed} }} {self._review_pattern(spec)} }}"
                )
            ]
            for spec in REVIEW_SETS
        }

    # -- registry --------------------------------------------------------------------------------------
    def keys(self, start: str | None, end: str | None, set_pattern: str) -> list[tuple[str, str]]:
        """(datestamp, record id) of every record a list request selects, sorted: one SELECT without ORDER
        BY, sorted here (Oxigraph's ORDER BY decodes every term it compares: seconds for 100k records)."""
        filters = ""
        if start:
            filters += f" FILTER(?stamp >= {_literal(start)})"
        if end:
            filters += f" FILTER(?stamp <= {_literal(end)})"
        rows = self.store.select(
            f"SELECT ?r ?stamp WHERE {{ GRAPH <{self.graphs.system}> {{ ?r <{RDF_TYPE}> <{ENR}Record> ; "
            f"{_STAMP} ?stamp }}{filters} {set_pattern} }}"
        )
        # Interned: the records of one ingest batch share a datestamp, and a snapshot keeps them all.
        keys = [(sys.intern(text(row["stamp"])), text(row["r"]).removeprefix(self.node_prefix)) for row in rows]
        keys.sort()
        return keys

    def headers(self, record_ids: Sequence[str]) -> dict[str, Header]:
        """The current headers of records, by id (direct look-ups; a record no longer registered is left out)."""
        nodes = [self.graphs.record_node(rid) for rid in record_ids]
        system = self.graphs.system
        stamps = self.store.objects_of(nodes, ENR + "datestamp", system)
        deleted = self.store.objects_of(nodes, ENR + "deleted", system)
        chos = self.store.objects_of(nodes, ENR + "cho", system)
        found: dict[str, Header] = {}
        for rid, node in zip(record_ids, nodes, strict=True):
            if node not in stamps:
                continue
            cho = chos.get(node, [None])[0]
            found[rid] = Header(
                record_id=rid,
                datestamp=text(stamps[node][0]),
                deleted=any(text(v) == "true" for v in deleted.get(node, ())),
                cho=cho.value if isinstance(cho, NamedNode) else None,
            )
        return found

    def header(self, record_id: str) -> Header | None:
        return self.headers([record_id]).get(record_id)

    def record_data(self, headers: Sequence[Header], specs: Mapping[str, Sequence[str]]) -> list[RecordData]:
        """What the metadata formats render for each live record of a page, its graph read in one go."""
        live = [h for h in headers if not h.deleted]
        graphs = self._record_graphs([h.record_id for h in live])
        return [
            RecordData(self.store, self.graphs, h, graphs.get(h.record_id, []), "review:accepted" in specs[h.record_id])
            for h in live
        ]

    def _record_graphs(self, record_ids: Sequence[str]) -> dict[str, list[Triple]]:
        if isinstance(self.store, EmbeddedStore):
            # Direct index scans, one per graph: cheaper than a SPARQL query over all of them.
            native = self.store.oxigraph
            return {
                rid: [q.triple for q in native.quads_for_pattern(None, None, None, NamedNode(self.graphs.record(rid)))]
                for rid in record_ids
            }
        # A remote store: one request for the page instead of one per record.
        found: dict[str, list[Triple]] = {rid: [] for rid in record_ids}
        prefix = self.graphs.record("")
        for first in range(0, len(record_ids), 200):
            values = " ".join(f"<{self.graphs.record(rid)}>" for rid in record_ids[first : first + 200])
            rows = self.store.select(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")
            for row in rows:
                subject, predicate = cast("NamedNode | BlankNode", row["s"]), cast("NamedNode", row["p"])
                found[text(row["g"]).removeprefix(prefix)].append(Triple(subject, predicate, row["o"]))
        return found

    def earliest_datestamp(self) -> str | None:
        rows = self.store.select(
            f"SELECT (MIN(?stamp) AS ?min) WHERE {{ GRAPH <{self.graphs.system}> {{ ?r {_STAMP} ?stamp }} }}"
        )
        value = rows[0].get("min") if rows else None
        return value.value if isinstance(value, Literal) else None
