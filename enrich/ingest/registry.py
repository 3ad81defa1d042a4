"""The record registry in ``…/graph/system``: what OAI-PMH and ``enrich stats`` read.

Per record: the CHO, its graph, the datestamp of its last change (UTC, whole seconds), provider,
data provider, dataset, EDM type, deleted flag and the checksum of the source triples.
"""

from __future__ import annotations

from collections.abc import Sequence

from enrich.ingest.journal import now_literal, string_literal
from enrich.ingest.records import Record, as_n_quads, split_line
from enrich.namespaces import EDM, ENR, RDF_TYPE, XSD, Graphs
from enrich.store.base import Store, text

_PROVIDER = f"<{EDM}provider>"
_DATA_PROVIDER = f"<{EDM}dataProvider>"
_DATASET_NAME = f"<{EDM}datasetName>"
_EDM_TYPE = f"<{EDM}type>"
_TRUE = f'"true"^^<{XSD}boolean>'
_FALSE = f'"false"^^<{XSD}boolean>'


def record_facts(record: Record) -> dict[str, list[str]]:
    """Provider, data provider, dataset name and EDM type as N-Triples object text, from the record."""
    wanted = {
        _PROVIDER: "provider",
        _DATA_PROVIDER: "dataProvider",
        _DATASET_NAME: "dataset",
        _EDM_TYPE: "edmType",
    }
    facts: dict[str, list[str]] = {}
    for line in record.lines:
        if EDM not in line:  # cheap pre-filter: every wanted predicate is an EDM term
            continue
        _, predicate, obj = split_line(line)
        key = wanted.get(predicate)
        if key is not None and obj not in facts.setdefault(key, []):
            facts[key].append(obj)
    return facts


def registry_lines(record: Record, graphs: Graphs, dataset: str | None) -> list[str]:
    """The registry triples of a freshly ingested record, as N-Triples lines (without the graph)."""
    node = f"<{graphs.record_node(record.id)}>"
    facts = record_facts(record)
    datasets = [string_literal(dataset)] if dataset else facts.get("dataset") or [string_literal("default")]
    lines = [
        f"{node} <{RDF_TYPE}> <{ENR}Record> .",
        f"{node} <{ENR}cho> <{record.cho}> .",
        f"{node} <{ENR}recordGraph> <{graphs.record(record.id)}> .",
        f"{node} <{ENR}datestamp> {now_literal()} .",
        f"{node} <{ENR}checksum> {string_literal(record.checksum)} .",
        f"{node} <{ENR}deleted> {_FALSE} .",
        f"{node} <{ENR}source> {string_literal(record.source)} .",
    ]
    lines += [f"{node} <{ENR}dataset> {value} ." for value in datasets]
    for key in ("provider", "dataProvider", "edmType"):
        lines += [f"{node} <{ENR}{key}> {value} ." for value in facts.get(key, [])]
    return lines


def lookup(store: Store, graphs: Graphs, record_ids: Sequence[str]) -> dict[str, str]:
    """Checksums of the given records that the registry knows ("" for a deleted record)."""
    nodes = [graphs.record_node(rid) for rid in record_ids]
    found = store.objects_of(nodes, f"{ENR}checksum", graphs.system)
    prefix = graphs.record_node("")
    return {node.removeprefix(prefix): text(values[0]) for node, values in found.items() if values}


def mark_deleted(store: Store, graphs: Graphs, record_id: str) -> None:
    """Remove a known record's data (its record graph, and the original graph of a record converted from
    CIDOC-CRM) and keep it in the registry as deleted (OAI-PMH persistent deletes).

    The caller checks that the registry knows the record (``lookup``).
    """
    node = f"<{graphs.record_node(record_id)}>"
    system = f"<{graphs.system}>"
    store.update(
        f"DROP SILENT GRAPH <{graphs.record(record_id)}> ;\n"
        f"DROP SILENT GRAPH <{graphs.original(record_id)}> ;\n"
        f"DELETE WHERE {{ GRAPH {system} {{ {node} <{ENR}deleted> ?d }} }} ;\n"
        f"DELETE WHERE {{ GRAPH {system} {{ {node} <{ENR}datestamp> ?t }} }} ;\n"
        f"DELETE WHERE {{ GRAPH {system} {{ {node} <{ENR}checksum> ?c }} }} ;\n"
        f'INSERT DATA {{ GRAPH {system} {{ {node} <{ENR}deleted> {_TRUE} ; <{ENR}checksum> "" ; '
        f"<{ENR}datestamp> {now_literal()} . }} }}"
    )


def registry_n_quads(record: Record, graphs: Graphs, dataset: str | None) -> str:
    return as_n_quads(registry_lines(record, graphs, dataset), graphs.system)
