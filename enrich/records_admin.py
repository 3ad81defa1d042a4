"""Read-side operations on ingested records: resolve ids, export, statistics, delete."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pyoxigraph
from pyoxigraph import RdfFormat

from enrich.ingest.records import record_id
from enrich.ingest.registry import lookup, mark_deleted
from enrich.namespaces import DC, DCTERMS, EDM, ENR, ORE, RDF, RDF_TYPE, SKOS, Graphs
from enrich.store.base import Store, text

_RECORD_ID = re.compile(r"^[A-Za-z0-9._-]*-[0-9a-f]{12}$")
EXPORT_FORMATS: dict[str, RdfFormat] = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "nquads": RdfFormat.N_QUADS,
    "rdfxml": RdfFormat.RDF_XML,
    "jsonld": RdfFormat.JSON_LD,
    "trig": RdfFormat.TRIG,
}
#: CIDOC-CRM views of a record (the original CRM when it was ingested from CRM, else its EDM mapped).
CRM_EXPORT_FORMATS = ("crm-turtle", "linked-art")
PREFIXES = {"rdf": RDF, "dc": DC, "dcterms": DCTERMS, "edm": EDM, "ore": ORE, "skos": SKOS}


class RecordNotFound(LookupError):
    pass


def resolve_record_id(reference: str) -> str:
    """Accept a record id (as ``enrich stats``/exports show) or the record's ProvidedCHO IRI."""
    return reference if _RECORD_ID.match(reference) else record_id(reference)


def export_record(store: Store, graphs: Graphs, reference: str, format_name: str) -> bytes:
    rid = resolve_record_id(reference)
    triples = store.read_graph(graphs.record(rid))
    if not triples:
        raise RecordNotFound(f"no record {reference!r} in {store.location}")
    if format_name in CRM_EXPORT_FORMATS:
        return _as_crm(store, graphs, rid, format_name)
    rdf_format = EXPORT_FORMATS[format_name]
    if rdf_format in (RdfFormat.N_QUADS, RdfFormat.TRIG):
        graph = pyoxigraph.NamedNode(graphs.record(rid))
        quads = [pyoxigraph.Quad(t.subject, t.predicate, t.object, graph) for t in triples]
        return _serialized(pyoxigraph.serialize(quads, format=rdf_format))
    prefixes = PREFIXES if rdf_format in (RdfFormat.TURTLE, RdfFormat.RDF_XML) else None
    return _serialized(pyoxigraph.serialize(triples, format=rdf_format, prefixes=prefixes))


def _as_crm(store: Store, graphs: Graphs, record_id: str, format_name: str) -> bytes:
    """The record in CIDOC-CRM: the CRM it was ingested from, or its EDM mapped (Linked Art's shape)."""
    from enrich.mapping.crm import HUMAN_MADE_OBJECT, crm_turtle, record_as_crm
    from enrich.mapping.linked_art import to_linked_art

    triples = record_as_crm(store, graphs, record_id)
    if format_name == "crm-turtle":
        return crm_turtle(triples).encode("utf-8")
    human_made = pyoxigraph.NamedNode(HUMAN_MADE_OBJECT)
    objects = sorted(
        t.subject.value
        for t in triples
        if isinstance(t.subject, pyoxigraph.NamedNode) and t.predicate.value == RDF_TYPE and t.object == human_made
    )
    if not objects:
        raise RecordNotFound(f"record {record_id!r} has no object to describe in Linked Art")
    document = to_linked_art(triples, objects[0])
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _serialized(data: bytes | None) -> bytes:
    assert data is not None, "serialize() returns bytes when no output is given"
    return data


def delete_records(store: Store, graphs: Graphs, references: list[str]) -> list[str]:
    """Mark records deleted; if any is unknown, none is deleted."""
    ids = [resolve_record_id(reference) for reference in references]
    known = lookup(store, graphs, ids)
    missing = [ref for ref, rid in zip(references, ids, strict=True) if rid not in known]
    if missing:
        raise RecordNotFound(f"no record {', '.join(map(repr, missing))} in {store.location}; nothing was deleted")
    for rid in ids:
        mark_deleted(store, graphs, rid)
    return ids


def list_records(store: Store, graphs: Graphs, limit: int, offset: int = 0) -> list[tuple[str, str, str, bool]]:
    """(record id, ProvidedCHO IRI, datestamp, deleted) in record-id order."""
    prefix = graphs.record_node("")
    rows = store.select(
        f"SELECT ?r ?cho ?stamp ?deleted WHERE {{ GRAPH <{graphs.system}> {{ ?r <{ENR}cho> ?cho ; "
        f"<{ENR}datestamp> ?stamp ; <{ENR}deleted> ?deleted }} }} ORDER BY ?r LIMIT {int(limit)} OFFSET {int(offset)}"
    )
    return [
        (text(row["r"]).removeprefix(prefix), text(row["cho"]), text(row["stamp"]), text(row["deleted"]) == "true")
        for row in rows
    ]


@dataclass
class Stats:
    records: int
    deleted: int
    triples: int
    record_triples: int
    providers: list[tuple[str, int]] = field(default_factory=list)
    data_providers: list[tuple[str, int]] = field(default_factory=list)
    datasets: list[tuple[str, int]] = field(default_factory=list)
    edm_types: list[tuple[str, int]] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"records:   {self.records:,} (+{self.deleted:,} deleted)",
            f"triples:   {self.triples:,} in the store, {self.record_triples:,} in record graphs",
        ]
        for title, counts in (
            ("providers", self.providers),
            ("data providers", self.data_providers),
            ("datasets", self.datasets),
            ("EDM types", self.edm_types),
        ):
            lines.append(f"{title} ({len(counts)}):")
            lines += [f"  {count:>8,}  {name}" for name, count in counts[:10]]
            if len(counts) > 10:
                lines.append(f"  … and {len(counts) - 10} more")
        return "\n".join(lines)


def stats(store: Store, graphs: Graphs) -> Stats:
    system = f"<{graphs.system}>"

    def count_where(pattern: str) -> int:
        rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {system} {{ {pattern} }} }}")
        return int(text(rows[0]["n"]))

    def breakdown(predicate: str) -> list[tuple[str, int]]:
        rows = store.select(
            f"SELECT ?v (COUNT(?r) AS ?n) WHERE {{ GRAPH {system} {{ ?r <{ENR}{predicate}> ?v ; "
            f"<{ENR}deleted> false }} }} GROUP BY ?v ORDER BY DESC(?n) STR(?v)"
        )
        return [(text(row["v"]), int(text(row["n"]))) for row in rows]

    record_triples = int(
        text(
            store.select(
                "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                f'FILTER(STRSTARTS(STR(?g), "{graphs.record_prefix}")) }}'
            )[0]["n"]
        )
    )
    return Stats(
        records=count_where(f"?r <{ENR}deleted> false"),
        deleted=count_where(f"?r <{ENR}deleted> true"),
        triples=store.count_triples(),
        record_triples=record_triples,
        providers=breakdown("provider"),
        data_providers=breakdown("dataProvider"),
        datasets=breakdown("dataset"),
        edm_types=breakdown("edmType"),
    )
