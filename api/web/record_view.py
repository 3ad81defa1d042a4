"""What the record page shows, read from the store: the registry entry, the images (the provider's and any
generated ones, told apart by their IPTC digital source type), the provider's fields in their languages,
and each suggestion's evidence (matched spans, enrichers, models).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from enrich.embeddings.images import IMAGE_PREDICATES
from enrich.namespaces import DC, DCTERMS, EDM, ENR, ORE, PROV, RDF_TYPE, SKOS, Graphs
from enrich.store.base import Store, text
from enrich.vocab.tree import Node

IPTC_SOURCE_TYPE = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/DigitalSourceType"
_SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
#: IPTC digital source types of media a model or algorithm made: never a picture of the object.
GENERATED_SOURCE_TYPES = frozenset(
    _SOURCE_TYPES + code
    for code in (
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "algorithmicMedia",
        "compositeSynthetic",
    )
)
#: The aggregation's links to the object's own media, in the order the page shows them.
#: Provider fields in reading order; any other property of the CHO follows, sorted.
FIELD_ORDER = tuple(
    namespace + name
    for namespace, name in (
        (DC, "title"),
        (DCTERMS, "alternative"),
        (DC, "description"),
        (DC, "type"),
        (DCTERMS, "medium"),
        (DC, "format"),
        (DC, "subject"),
        (DC, "creator"),
        (DC, "contributor"),
        (DCTERMS, "created"),
        (DC, "date"),
        (DCTERMS, "temporal"),
        (DCTERMS, "spatial"),
        (DC, "coverage"),
        (DCTERMS, "extent"),
        (DC, "language"),
        (DC, "identifier"),
        (EDM, "type"),
    )
)
PREFIXES = {"dc": DC, "dcterms": DCTERMS, "edm": EDM, "ore": ORE, "skos": SKOS}


def curie(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri.removeprefix(namespace)}"
    return iri


@dataclass(frozen=True)
class Value:
    """A field value: a literal with its language, or an entity with its label (in the label language)."""

    text: str
    language: str | None = None
    iri: str | None = None


@dataclass
class Field:
    predicate: str
    values: list[Value] = field(default_factory=list)


@dataclass(frozen=True)
class Image:
    url: str
    #: isShownBy, object or hasView for the provider's media; "generated" for a machine-made one.
    role: str
    media_type: str | None

    @property
    def generated(self) -> bool:
        return self.role == "generated"

    @property
    def is_picture(self) -> bool:
        return self.media_type is None or self.media_type.startswith("image/")


@dataclass
class RecordData:
    id: str
    cho: str
    provider: str | None
    data_provider: str | None
    dataset: str | None
    edm_type: str | None
    title: str
    fields: list[Field]
    images: list[Image]


def _labels(triples: Sequence[Triple]) -> dict[str, dict[str, str]]:
    """prefLabels of the entities described in the record graph, by IRI and language."""
    found: dict[str, dict[str, str]] = {}
    for t in triples:
        if t.predicate.value == SKOS + "prefLabel" and isinstance(t.object, Literal):
            found.setdefault(text(t.subject), {}).setdefault(t.object.language or "", t.object.value)
    return found


def _pick(labels: dict[str, str], iri: str, languages: Sequence[str]) -> str:
    # The tree's own fallback (the asked language, English, untagged, a variant, any), for entity labels too.
    return Node(iri, labels, [], True).label(languages)


def _registry(store: Store, graphs: Graphs, record_id: str) -> dict[str, str] | None:
    rows = store.select(
        f"SELECT ?p ?o WHERE {{ GRAPH <{graphs.system}> {{ <{graphs.record_node(record_id)}> ?p ?o }} }} ORDER BY ?p ?o"
    )
    facts: dict[str, str] = {}
    for row in rows:
        facts.setdefault(text(row["p"]).removeprefix(ENR), text(row["o"]))
    if "cho" not in facts or facts.get("deleted") == "true":
        return None
    return facts


def read_record(store: Store, graphs: Graphs, record_id: str, languages: Sequence[str]) -> RecordData | None:
    """The record as the page shows it, labels in ``languages`` (with fallbacks); None if unknown or deleted."""
    facts = _registry(store, graphs, record_id)
    if facts is None:
        return None
    cho = facts["cho"]
    triples = store.read_graph(graphs.record(record_id))
    labels = _labels(triples)
    fields: dict[str, Field] = {}
    for t in triples:
        if text(t.subject) != cho or t.predicate.value == RDF_TYPE:
            continue
        value = (
            Value(t.object.value, t.object.language or None)
            if isinstance(t.object, Literal)
            else Value(_pick(labels.get(text(t.object), {}), text(t.object), languages), iri=text(t.object))
        )
        fields.setdefault(t.predicate.value, Field(t.predicate.value)).values.append(value)
    order = {predicate: rank for rank, predicate in enumerate(FIELD_ORDER)}
    ordered = sorted(fields.values(), key=lambda f: (order.get(f.predicate, len(order)), f.predicate))
    for item in ordered:
        item.values.sort(key=lambda v: (v.language or "", v.text))
    titles = {v.language or "": v.text for v in fields.get(DC + "title", Field("")).values}
    return RecordData(
        id=record_id,
        cho=cho,
        provider=facts.get("provider"),
        data_provider=facts.get("dataProvider"),
        dataset=facts.get("dataset"),
        edm_type=facts.get("edmType"),
        title=_pick(titles, record_id, languages) if titles else record_id,
        fields=ordered,
        images=images(store, graphs, record_id, cho, triples),
    )


def images(store: Store, graphs: Graphs, record_id: str, cho: str, triples: Sequence[Triple]) -> list[Image]:
    """The provider's media (isShownBy, object, hasView of the CHO's aggregation) and every web resource in
    the record's graphs marked as machine-made. A machine-made resource is shown as generated even where an
    aggregation links it as the object's own."""
    generated: dict[str, str | None] = {}
    for row in store.select(
        f"SELECT ?wr ?type ?format WHERE {{ VALUES ?g {{ <{graphs.record(record_id)}> "
        f"<{graphs.suggestions(record_id)}> <{graphs.enrichment(record_id)}> }} GRAPH ?g {{ "
        f"?wr <{IPTC_SOURCE_TYPE}> ?type OPTIONAL {{ ?wr <{DC}format> ?format }} }} }} ORDER BY ?wr"
    ):
        if text(row["type"]) in GENERATED_SOURCE_TYPES:
            generated.setdefault(text(row["wr"]), text(row["format"]) if row.get("format") else None)
    aggregations = {
        text(t.subject) for t in triples if t.predicate.value == EDM + "aggregatedCHO" and text(t.object) == cho
    }
    formats = {text(t.subject): text(t.object) for t in triples if t.predicate.value == DC + "format"}
    links = [
        (IMAGE_PREDICATES.index(t.predicate.value), text(t.object))
        for t in triples
        if t.predicate.value in IMAGE_PREDICATES and text(t.subject) in aggregations and isinstance(t.object, NamedNode)
    ]
    found: list[Image] = []
    for rank, url in sorted(links):
        if url not in generated and all(image.url != url for image in found):
            found.append(Image(url, IMAGE_PREDICATES[rank].removeprefix(EDM), formats.get(url)))
    found += [Image(url, "generated", media_type) for url, media_type in generated.items()]
    return found


@dataclass(frozen=True)
class Evidence:
    evidence: tuple[str, ...]
    enrichers: tuple[str, ...]
    models: tuple[str, ...]

    def as_dict(self) -> dict[str, list[str]]:
        return {"evidence": list(self.evidence), "enrichers": list(self.enrichers), "models": list(self.models)}


def evidence(store: Store, graphs: Graphs, record_id: str) -> dict[str, Evidence]:
    """Why each suggestion of a record was made: the evidence texts (field, matched span, label), the
    enrichers, and the models (name and version) of the runs that generated it; by suggestion id."""
    graph = f"<{graphs.suggestions(record_id)}>"
    values: dict[str, dict[str, set[str]]] = {}
    rows = store.select(
        f"SELECT ?node ?p ?o WHERE {{ GRAPH {graph} {{ ?node a <{ENR}Suggestion> ; ?p ?o . "
        f"VALUES ?p {{ <{ENR}evidence> <{ENR}enricher> }} }} }}"
    )
    for row in rows:
        values.setdefault(text(row["node"]), {}).setdefault(text(row["p"]), set()).add(text(row["o"]))
    for row in store.select(
        f"SELECT ?node ?name ?version WHERE {{ GRAPH {graph} {{ ?node a <{ENR}Suggestion> ; "
        f"<{PROV}wasGeneratedBy> ?run }} GRAPH <{graphs.runs}> {{ ?run <{PROV}wasAssociatedWith> ?agent . "
        f"?agent <{ENR}modelName> ?name OPTIONAL {{ ?agent <{ENR}modelVersion> ?version }} }} }}"
    ):
        model = text(row["name"]) + (f" {text(row['version'])}" if row.get("version") else "")
        values.setdefault(text(row["node"]), {}).setdefault("model", set()).add(model)
    prefix = graphs.suggestion_node("")
    return {
        node.removeprefix(prefix): Evidence(
            tuple(sorted(found.get(ENR + "evidence", ()))),
            tuple(sorted(found.get(ENR + "enricher", ()))),
            tuple(sorted(found.get("model", ()))),
        )
        for node, found in values.items()
    }
