"""The metadata formats: ``oai_dc`` (flattened from the ProvidedCHO), ``edm`` (EDM RDF/XML valid against
Europeana's EDM.xsd) and ``edm-suggestions`` (the record with its suggestions and their provenance).

Each renders a :class:`RecordData` (one live record, its graph read with the rest of its page) as the bytes
of one XML element (UTF-8, no declaration), which the protocol places inside the record's ``metadata``.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph
from lxml import etree
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple

from api.oai.edm_xml import fold_proxies, write_edm, xml_compatible
from api.oai.repository import RecordData
from enrich.export import PREFIXES, full_quads
from enrich.namespaces import DC, DCTERMS, EDM, ENR, SKOS

log = logging.getLogger(__name__)

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
    render: Callable[[RecordData], bytes]


def _label(node: NamedNode, triples: list[Triple]) -> str:
    labels = [
        t.object
        for t in triples
        if t.subject == node and t.predicate.value == SKOS + "prefLabel" and isinstance(t.object, Literal)
    ]
    labels.sort(key=lambda lit: (lit.language not in (None, "en"), lit.language or "", lit.value))
    return labels[0].value if labels else node.value


def oai_dc(record: RecordData) -> bytes:
    """Unqualified Dublin Core from the CHO's dc: and dcterms: values (provider data + accepted enrichments,
    with the values internal EDM keeps on proxies read as the object's own)."""
    cho = record.header.cho
    triples = fold_proxies([*record.triples, *record.enrichments])
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
        if xml_compatible(item[0]) and item not in values.setdefault(element, []):
            values[element].append(item)
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    for element in _DC_ORDER:
        for value, language in values.get(element, []):
            child = etree.SubElement(root, f"{{{DC}}}{element}")
            child.text = value
            if language:
                child.set(XML_LANG, language)
    return _bytes(root)


def _bytes(element: etree._Element) -> bytes:
    data: bytes = etree.tostring(element, encoding="UTF-8", xml_declaration=False)
    return data


def edm(record: RecordData) -> bytes:
    """Provider data plus accepted enrichments as EDM RDF/XML valid against EDM.xsd; what the schema cannot
    hold is left out (the ``edm-suggestions`` format and ``enrich export`` still carry it) and logged."""
    document = write_edm([*record.triples, *record.enrichments])
    if document.dropped:
        reasons = Counter(d.reason for d in document.dropped)
        level = logging.WARNING if any(d.incomplete for d in document.dropped) else logging.DEBUG
        log.log(
            level,
            "edm output of %s leaves out %d triple(s) EDM.xsd cannot hold: %s",
            record.header.record_id,
            len(document.dropped),
            "; ".join(f"{count}x {reason}" for reason, count in reasons.most_common()),
        )
    return document.xml


# RDF/XML needs each predicate split into a namespace and an XML name; pyoxigraph writes broken XML
# for one it cannot split (e.g. an IRI ending in "/"), so such triples are left out (and logged), as are
# values XML cannot carry and RDF-star quoted triples.
_XML_NAME_END = re.compile(r"[^\W\d][\w.-]*$")


def _rdf_xml_can_hold(t: Triple) -> bool:
    subject, value = t.subject, t.object
    if isinstance(subject, Triple) or isinstance(value, Triple):
        return False
    predicate = t.predicate.value
    return _XML_NAME_END.search(predicate) is not None and all(
        xml_compatible(v) for v in (predicate, subject.value, value.value)
    )


def edm_suggestions(record: RecordData) -> bytes:
    """The record's provider data, accepted enrichments and every suggestion (all statuses: a rejection is
    provenance too, and tells a harvester not to make the same suggestion again) with its review events
    and the runs and model cards that made it, as one RDF/XML graph. RDF/XML has no named graphs; the
    suggestions need none, as each is already a node (an ``rdf:Statement`` with ``enr:status``,
    ``enr:confidence``, ``prov:wasGeneratedBy`` …) in the record's suggestions graph."""
    graphs = record.graphs
    rid = record.header.record_id
    # Of the graphs ``enrich export --view full`` writes, all but the registry entry (the OAI header gives
    # it) and a converted record's CRM original.
    wanted = {f"<{g}>" for g in (graphs.record(rid), graphs.enrichment(rid), graphs.suggestions(rid), graphs.runs)}
    triples = list(
        dict.fromkeys(q.triple for q in full_quads(record.store, graphs, rid) if str(q.graph_name) in wanted)
    )
    writable = [t for t in triples if _rdf_xml_can_hold(t)]
    if len(writable) < len(triples):
        log.warning(
            "edm-suggestions output of %s leaves out %d triple(s) RDF/XML cannot hold",
            rid,
            len(triples) - len(writable),
        )
    data = pyoxigraph.serialize(writable, format=RdfFormat.RDF_XML, prefixes=PREFIXES) or b""
    # Parsed and written again: checks it is well-formed, and drops the XML declaration.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return _bytes(etree.fromstring(data, parser))


#: The schema location and namespace announced for ``edm-suggestions``: RDF/XML in our own vocabulary, with
#: no XSD of its own (any well-formed RDF/XML of these triples is a valid instance).
SUGGESTIONS_SCHEMA = "https://w3id.org/heritage-enrich/oai/edm-suggestions"

FORMATS = {
    "oai_dc": MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC, oai_dc),
    "edm": MetadataFormat("edm", "http://www.europeana.eu/schemas/edm/EDM.xsd", EDM, edm),
    "edm-suggestions": MetadataFormat("edm-suggestions", SUGGESTIONS_SCHEMA, ENR, edm_suggestions),
}
