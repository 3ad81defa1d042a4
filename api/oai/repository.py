"""What OAI-PMH reads from the store: the record registry (``Graphs.system``), sets and record data."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from enrich.ingest.journal import string_literal
from enrich.namespaces import ENR, RDF_TYPE, XSD, Graphs
from enrich.store.base import Store, Term, text
from enrich.suggestion import Status

_STAMP = f"<{ENR}datestamp>"
_DELETED = f"<{ENR}deleted>"
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
        listed = " ".join(f"<{node}>" for node in nodes)
        for spec in REVIEW_SETS:
            rows = self.store.select(f"SELECT ?r WHERE {{ VALUES ?r {{ {listed} }} {self._review_pattern(spec)} }}")
            for row in rows:
                specs[text(row["r"]).removeprefix(self.node_prefix)].append(spec)
        return specs

    # -- registry --------------------------------------------------------------------------------------
    def _where(self, start: str | None, end: str | None, set_pattern: str) -> str:
        filters = ""
        if start:
            filters += f" FILTER(?stamp >= {_literal(start)})"
        if end:
            filters += f" FILTER(?stamp <= {_literal(end)})"
        return (
            f"GRAPH <{self.graphs.system}> {{ ?r <{RDF_TYPE}> <{ENR}Record> ; {_STAMP} ?stamp ; "
            f"{_DELETED} ?deleted . OPTIONAL {{ ?r <{ENR}cho> ?cho }} }}{filters} {set_pattern}"
        )

    def count(self, start: str | None, end: str | None, set_pattern: str) -> int:
        rows = self.store.select(f"SELECT (COUNT(?r) AS ?n) WHERE {{ {self._where(start, end, set_pattern)} }}")
        return int(text(rows[0]["n"])) if rows else 0

    def page(
        self, start: str | None, end: str | None, set_pattern: str, after: tuple[str, str] | None, limit: int
    ) -> list[Header]:
        """Up to ``limit`` records after the keyset position ``after`` = (datestamp, record id)."""
        keyset = ""
        if after is not None:
            stamp, node = _literal(after[0]), string_literal(self.graphs.record_node(after[1]))
            keyset = f" FILTER(?stamp > {stamp} || (?stamp = {stamp} && STR(?r) > {node}))"
        rows = self.store.select(
            f"SELECT ?r ?stamp ?deleted ?cho WHERE {{ {self._where(start, end, set_pattern)}{keyset} }} "
            f"ORDER BY ?stamp STR(?r) LIMIT {int(limit)}"
        )
        return [self._header(row) for row in rows]

    def _header(self, row: dict[str, Term]) -> Header:
        cho = row.get("cho")
        return Header(
            record_id=text(row["r"]).removeprefix(self.node_prefix),
            datestamp=text(row["stamp"]),
            deleted=text(row["deleted"]) == "true",
            cho=text(cho) if isinstance(cho, NamedNode) else None,
        )

    def header(self, record_id: str) -> Header | None:
        node = f"<{self.graphs.record_node(record_id)}>"
        rows = self.store.select(
            f"SELECT ?r ?stamp ?deleted ?cho WHERE {{ VALUES ?r {{ {node} }} {self._where(None, None, '')} }} LIMIT 1"
        )
        return self._header(rows[0]) if rows else None

    def earliest_datestamp(self) -> str | None:
        rows = self.store.select(
            f"SELECT (MIN(?stamp) AS ?min) WHERE {{ GRAPH <{self.graphs.system}> {{ ?r {_STAMP} ?stamp }} }}"
        )
        value = rows[0].get("min") if rows else None
        return value.value if isinstance(value, Literal) else None
