"""A record with its enrichments, in two forms (issue 4, item 7).

- ``export_enriched``: plain EDM for aggregators: the provider's record graph plus the accepted
  enrichments (the enrichment graph's triples on the ProvidedCHO and the contextual entities they name,
  e.g. the skos:Concept with its labels and broader links), as one graph. No suggestion, review or run
  node leaks into it.
- ``export_full``: the whole picture as a dataset: the record graph, the enrichment graph, the suggestions
  graph, the registry node (in the system graph) and the run activities and model cards the suggestions
  cite (in the runs graph), in TriG, N-Quads or JSON-LD.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyoxigraph
from pyoxigraph import NamedNode, Quad, RdfFormat, Triple

from enrich.namespaces import DC, DCTERMS, EDM, ENR, ORE, PROV, RDF, SKOS, Graphs
from enrich.records_admin import RecordNotFound, resolve_record_id
from enrich.store.base import Store, text

ENRICHED_FORMATS: dict[str, RdfFormat] = {
    "turtle": RdfFormat.TURTLE,
    "rdfxml": RdfFormat.RDF_XML,
    "ntriples": RdfFormat.N_TRIPLES,
    "jsonld": RdfFormat.JSON_LD,
}
FULL_FORMATS: dict[str, RdfFormat] = {
    "trig": RdfFormat.TRIG,
    "nquads": RdfFormat.N_QUADS,
    "jsonld": RdfFormat.JSON_LD,
}
PREFIXES = {"rdf": RDF, "dc": DC, "dcterms": DCTERMS, "edm": EDM, "ore": ORE, "skos": SKOS, "prov": PROV, "enr": ENR}
#: Predicates of ours or of provenance never belong in plain EDM, whatever the enrichment graph holds.
_NOT_EDM = (ENR, PROV)


def _record_triples(store: Store, graphs: Graphs, reference: str) -> tuple[str, list[Triple]]:
    rid = resolve_record_id(reference)
    triples = store.read_graph(graphs.record(rid))
    if not triples:
        raise RecordNotFound(f"no record {reference!r} in {store.location}")
    return rid, triples


def _cho(store: Store, graphs: Graphs, record_id: str) -> str | None:
    found = store.objects_of([graphs.record_node(record_id)], ENR + "cho", graphs.system)
    values = found.get(graphs.record_node(record_id))
    return text(values[0]) if values else None


def enrichment_triples(store: Store, graphs: Graphs, record_id: str, cho: str | None) -> list[Triple]:
    """The accepted enrichments fit for plain EDM: triples on the CHO, and on the entities those name
    (transitively: a concept's broader concept described there comes along)."""
    triples = store.read_graph(graphs.enrichment(record_id))
    by_subject: dict[str, list[Triple]] = {}
    for t in triples:
        if isinstance(t.subject, NamedNode) and not t.predicate.value.startswith(_NOT_EDM):
            by_subject.setdefault(t.subject.value, []).append(t)
    keep: list[Triple] = []
    seen: set[str] = set()
    todo = [cho] if cho is not None else []
    while todo:
        subject = todo.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for t in by_subject.get(subject, ()):
            keep.append(t)
            if isinstance(t.object, NamedNode) and t.object.value in by_subject:
                todo.append(t.object.value)
    return keep


def _unique(items: Iterable[Triple]) -> list[Triple]:
    return list(dict.fromkeys(items))


def _serialize(items: Sequence[Triple] | Sequence[Quad], rdf_format: RdfFormat) -> bytes:
    prefixes = PREFIXES if rdf_format in (RdfFormat.TURTLE, RdfFormat.RDF_XML, RdfFormat.TRIG) else None
    data = pyoxigraph.serialize(items, format=rdf_format, prefixes=prefixes)
    assert data is not None, "serialize() returns bytes when no output is given"
    return data


def export_enriched(store: Store, graphs: Graphs, record_id: str, format_name: str) -> bytes:
    """Provider data + accepted enrichments as one plain EDM graph (turtle, rdfxml, ntriples, jsonld)."""
    if format_name not in ENRICHED_FORMATS:
        raise ValueError(f"unknown format {format_name!r} (known: {', '.join(ENRICHED_FORMATS)})")
    rid, triples = _record_triples(store, graphs, record_id)
    merged = _unique([*triples, *enrichment_triples(store, graphs, rid, _cho(store, graphs, rid))])
    return _serialize(merged, ENRICHED_FORMATS[format_name])


def _cited_runs(suggestion_triples: Iterable[Triple]) -> list[str]:
    return sorted(
        {
            t.object.value
            for t in suggestion_triples
            if t.predicate.value == PROV + "wasGeneratedBy" and isinstance(t.object, NamedNode)
        }
    )


def _run_triples(store: Store, graphs: Graphs, runs: Sequence[str]) -> list[Triple]:
    """The cited runs' descriptions and their model cards' (prov:SoftwareAgent), from the runs graph."""
    if not runs:
        return []
    values = " ".join(f"<{run}>" for run in runs)
    return store.construct(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graphs.runs}> {{ VALUES ?run {{ {values} }} "
        f"{{ BIND(?run AS ?s) ?s ?p ?o }} UNION {{ ?run <{PROV}wasAssociatedWith> ?s . ?s ?p ?o }} }} }}"
    )


def _registry_triples(store: Store, graphs: Graphs, record_id: str) -> list[Triple]:
    node = graphs.record_node(record_id)
    return store.construct(f"CONSTRUCT {{ <{node}> ?p ?o }} WHERE {{ GRAPH <{graphs.system}> {{ <{node}> ?p ?o }} }}")


def full_quads(store: Store, graphs: Graphs, record_id: str) -> list[Quad]:
    """Every graph that says something about the record, as quads in their own named graphs."""
    rid, record = _record_triples(store, graphs, record_id)
    suggestions = store.read_graph(graphs.suggestions(rid))
    parts: list[tuple[str, Sequence[Triple]]] = [
        (graphs.record(rid), record),
        (graphs.original(rid), store.read_graph(graphs.original(rid))),
        (graphs.enrichment(rid), store.read_graph(graphs.enrichment(rid))),
        (graphs.suggestions(rid), suggestions),
        (graphs.system, _registry_triples(store, graphs, rid)),
        (graphs.runs, _run_triples(store, graphs, _cited_runs(suggestions))),
    ]
    quads: list[Quad] = []
    for graph, triples in parts:
        name = NamedNode(graph)
        quads += [Quad(t.subject, t.predicate, t.object, name) for t in _unique(triples)]
    return quads


def export_full(store: Store, graphs: Graphs, record_id: str, format_name: str) -> bytes:
    """The record with suggestions and provenance as named graphs (trig, nquads, jsonld)."""
    if format_name not in FULL_FORMATS:
        raise ValueError(f"unknown format {format_name!r} (known: {', '.join(FULL_FORMATS)})")
    return _serialize(full_quads(store, graphs, record_id), FULL_FORMATS[format_name])


#: For ``enrich export --view …``: which function serves which view, and the formats each accepts.
VIEWS = {"enriched": (export_enriched, ENRICHED_FORMATS), "full": (export_full, FULL_FORMATS)}


def export_view(store: Store, graphs: Graphs, reference: str, view: str, format_name: str) -> bytes:
    """One entry point for the CLI; an unfitting format is an :class:`InputError`."""
    from enrich.ingest.errors import InputError

    function, formats = VIEWS[view]
    if format_name not in formats:
        raise InputError("--format", f"the {view} view is exported as {', '.join(formats)}, not {format_name}")
    return function(store, graphs, reference, format_name)
