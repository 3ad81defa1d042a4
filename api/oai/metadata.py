"""The metadata formats: ``oai_dc`` (flattened from the ProvidedCHO) and ``edm`` (EDM RDF/XML)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from pyoxigraph import Literal, NamedNode, Triple

from enrich.export import enrichment_triples, export_enriched
from enrich.namespaces import DC, DCTERMS, SKOS, Graphs
from enrich.store.base import Store

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: dcterms refinements folded into the element they refine (DCMI's dumb-down rule).
_DCTERMS_TO_DC = {
    "alternative": "title",
    "abstract": "description",
    "tableOfContents": "description",
    "created": "date",
    "issued": "date",
    "medium": "format",
    "extent": "format",
    "spatial": "coverage",
    "temporal": "coverage",
    "isPartOf": "relation",
    "hasPart": "relation",
    "isVersionOf": "relation",
    "hasVersion": "relation",
    "references": "relation",
    "isReferencedBy": "relation",
    "conformsTo": "relation",
    "provenance": "description",
}
_DC_ORDER = [
    "title",
    "creator",
    "subject",
    "description",
    "publisher",
    "contributor",
    "date",
    "type",
    "format",
    "identifier",
    "source",
    "language",
    "relation",
    "coverage",
    "rights",
]


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    render: Callable[[Store, Graphs, str, str | None], etree._Element]


def _label(node: NamedNode, triples: list[Triple]) -> str:
    labels = [
        t.object
        for t in triples
        if t.subject == node and t.predicate.value == SKOS + "prefLabel" and isinstance(t.object, Literal)
    ]
    labels.sort(key=lambda lit: (lit.language not in (None, "en"), lit.language or "", lit.value))
    return labels[0].value if labels else node.value


def oai_dc(store: Store, graphs: Graphs, record_id: str, cho: str | None) -> etree._Element:
    """Unqualified Dublin Core from the CHO's dc: and dcterms: values (provider data + accepted enrichments)."""
    triples = store.read_graph(graphs.record(record_id)) + enrichment_triples(store, graphs, record_id, cho)
    values: dict[str, list[tuple[str, str | None]]] = {}
    for t in triples:
        if cho is None or t.subject != NamedNode(cho):
            continue
        predicate = t.predicate.value
        if predicate.startswith(DC):
            element = predicate.removeprefix(DC)
        elif predicate.startswith(DCTERMS):
            element = _DCTERMS_TO_DC.get(predicate.removeprefix(DCTERMS), "")
        else:
            continue
        if element not in _DC_ORDER:
            continue
        if isinstance(t.object, Literal):
            item = (t.object.value, t.object.language)
        elif isinstance(t.object, NamedNode):
            item = (_label(t.object, triples), None)
        else:
            continue
        if item not in values.setdefault(element, []):
            values[element].append(item)
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    for element in _DC_ORDER:
        for value, language in values.get(element, []):
            child = etree.SubElement(root, f"{{{DC}}}{element}")
            child.text = value
            if language:
                child.set(XML_LANG, language)
    return root


def edm(store: Store, graphs: Graphs, record_id: str, cho: str | None) -> etree._Element:
    """The record's EDM RDF/XML: provider data plus accepted enrichments, as ``enrich export`` writes it."""
    data = export_enriched(store, graphs, record_id, "rdfxml")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.fromstring(data, parser)


FORMATS = {
    "oai_dc": MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC, oai_dc),
    "edm": MetadataFormat(
        "edm",
        "http://www.europeana.eu/schemas/edm/EDM.xsd",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        edm,
    ),
}
