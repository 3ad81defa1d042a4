"""What Europeana's ``EDM.xsd`` lets an ``rdf:RDF`` document hold, as data: the classes, the order and the
number of their property elements, and each element's value type.

Which schema. ``EDM.xsd`` (it imports ``EDM-EXTERNAL-MAIN.xsd``) is the one Metis, Europeana's ingestion
platform, validates what providers send against; ``EDM-INTERNAL.xsd`` is Europeana's own enriched form (with
``ore:Proxy`` and ``edm:EuropeanaAggregation``), which providers do not send. The external schema has no
proxies, so the writer folds a proxy's statements onto the object it stands for (see ``edm_xml``).

Why a table and not the XSD read at run time: the schemas live in ``../shared/data`` and are not part of
the installed service (nor may they be copied into it), and the content models are plain sequences of
element references with counts, which a table says as clearly as the XSD. ``tests/api/test_oai_edm.py``
derives the same table from the real schema files and compares, so a mistake here fails a test.

A class is a tuple of :class:`Slot` in schema order. A slot is one element with its counts, or a group
of elements that may come in any order and number (the XSD's ``sequence maxOccurs="unbounded"`` around
a ``choice``), e.g. the Dublin Core part of ``edm:ProvidedCHO``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from enrich.namespaces import DC, DCTERMS, EDM, ORE, RDF, RDFS, SKOS

OWL: Final = "http://www.w3.org/2002/07/owl#"
WGS84: Final = "http://www.w3.org/2003/01/geo/wgs84_pos#"
RDAGR2: Final = "http://rdvocab.info/ElementsGr2/"
FOAF: Final = "http://xmlns.com/foaf/0.1/"
EBUCORE: Final = "http://www.ebu.ch/metadata/ontologies/ebucore/ebucore#"
SVCS: Final = "http://rdfs.org/sioc/services#"
DOAP: Final = "http://usefulinc.com/ns/doap#"
CC: Final = "http://creativecommons.org/ns#"
ODRL: Final = "http://www.w3.org/ns/odrl/2/"
SCHEMA: Final = "https://schema.org/"
DQV: Final = "http://www.w3.org/ns/dqv#"

#: The prefixes the schema files use, for readable output.
PREFIXES: Final = {
    "rdf": RDF,
    "dc": DC,
    "dcterms": DCTERMS,
    "edm": EDM,
    "ore": ORE,
    "skos": SKOS,
    "owl": OWL,
    "wgs84_pos": WGS84,
    "rdaGr2": RDAGR2,
    "foaf": FOAF,
    "ebucore": EBUCORE,
    "svcs": SVCS,
    "doap": DOAP,
    "cc": CC,
    "odrl": ODRL,
    "rdfs": RDFS,
    "schema": SCHEMA,
    "dqv": DQV,
}


@dataclass(frozen=True)
class Slot:
    elements: tuple[str, ...]
    min: int = 0
    max: int | None = None  # None: unbounded


def terms(namespace: str, names: str) -> tuple[str, ...]:
    """IRIs of space-separated local names in one namespace."""
    return tuple(namespace + name for name in names.split())


def _one(element: str, least: int = 0) -> Slot:
    return Slot((element,), least, 1)


def _many(element: str, least: int = 0, most: int | None = None) -> Slot:
    return Slot((element,), least, most)


def _any_of(*elements: str) -> Slot:
    return Slot(elements)


_DC_TERMS = (
    *terms(DC, "contributor coverage creator date description format identifier language publisher relation"),
    *terms(DC, "rights source subject title type"),
    *terms(
        DCTERMS,
        "alternative conformsTo created extent hasFormat hasPart hasVersion isFormatOf isPartOf isReferencedBy "
        "isReplacedBy isRequiredBy issued isVersionOf medium provenance references replaces requires spatial "
        "tableOfContents temporal",
    ),
)
_LABELS = (_many(SKOS + "prefLabel"), _many(SKOS + "altLabel"), _many(SKOS + "note"))
_PARTS = (_many(DCTERMS + "hasPart"), _many(DCTERMS + "isPartOf"))

#: Class IRI -> its slots, for the classes EDM.xsd allows under rdf:RDF, in the schema's order.
CLASSES: Final[dict[str, tuple[Slot, ...]]] = {
    EDM + "ProvidedCHO": (
        _any_of(*_DC_TERMS),  # EuropeanaType
        _one(EDM + "currentLocation"),  # BaseProvidedCHOType
        *(_many(EDM + n) for n in ("hasMet", "hasType", "incorporates", "isDerivativeOf", "isNextInSequence")),
        _many(EDM + "isRelatedTo"),
        _one(EDM + "isRepresentationOf"),
        *(_many(EDM + n) for n in ("isSimilarTo", "isSuccessorOf", "realizes")),
        _many(EDM + "pid"),  # ProvidedCHOType
        _one(EDM + "type", 1),
        _many(OWL + "sameAs"),
    ),
    EDM + "WebResource": (
        _many(EDM + "pid"),
        *(_many(DC + n) for n in ("creator", "description", "format", "rights", "source", "type", "title")),
        _many(DC + "language"),
        *(_many(DCTERMS + n) for n in ("conformsTo", "created", "extent", "hasPart", "isFormatOf", "isPartOf")),
        *(_many(DCTERMS + n) for n in ("issued", "temporal")),
        _one(EDM + "isNextInSequence"),
        _one(EDM + "rights"),
        _many(OWL + "sameAs"),
        _one(RDF + "type"),
        _one(EDM + "codecName"),
        *(_one(EBUCORE + n) for n in ("hasMimeType", "fileByteSize", "duration", "width", "height")),
        _one(EDM + "spatialResolution"),
        *(_one(EBUCORE + n) for n in ("sampleSize", "sampleRate", "bitRate", "frameRate")),
        _one(EDM + "hasColorSpace"),
        _many(EDM + "componentColor", 0, 6),
        *(_one(EDM + n) for n in ("pointCount", "polygonCount", "vertexCount")),
        _many(RDFS + "seeAlso"),
        _one(EBUCORE + "orientation"),
        _one(EBUCORE + "audioChannelNumber"),
        _many(DCTERMS + "isReferencedBy"),
        _one(EDM + "preview"),
        _many(SVCS + "has_service"),
        _one(EDM + "type"),
        _one(SCHEMA + "digitalSourceType"),
        _many(EDM + "intendedUsage"),
    ),
    EDM + "Agent": (
        *_LABELS,
        _many(DC + "date"),
        _many(DC + "identifier"),
        *_PARTS,
        _one(EDM + "begin"),
        _one(EDM + "end"),
        _many(EDM + "hasMet"),
        _many(EDM + "isRelatedTo"),
        _many(FOAF + "name"),
        _many(RDAGR2 + "biographicalInformation"),
        *(_one(RDAGR2 + n) for n in ("dateOfBirth", "dateOfDeath", "dateOfEstablishment", "dateOfTermination")),
        _one(RDAGR2 + "gender"),
        *(_many(RDAGR2 + n) for n in ("placeOfBirth", "placeOfDeath", "professionOrOccupation")),
        _many(OWL + "sameAs"),
    ),
    EDM + "Place": (
        *(_one(WGS84 + n) for n in ("lat", "long", "alt")),
        *_LABELS,
        *_PARTS,
        _one(EDM + "isNextInSequence"),
        _many(OWL + "sameAs"),
    ),
    EDM + "TimeSpan": (
        *_LABELS,
        *_PARTS,
        _one(EDM + "begin"),
        _one(EDM + "end"),
        _one(EDM + "isNextInSequence"),
        _many(OWL + "sameAs"),
        _many(SKOS + "hiddenLabel"),
        _one(SKOS + "notation"),
    ),
    SKOS + "Concept": (
        _any_of(
            *terms(
                SKOS,
                "prefLabel altLabel broader narrower related broadMatch narrowMatch relatedMatch exactMatch "
                "closeMatch note notation inScheme",
            )
        ),
    ),
    ORE + "Aggregation": (
        _one(EDM + "aggregatedCHO", 1),
        _one(EDM + "dataProvider"),
        _many(EDM + "hasView"),
        *(_one(EDM + n) for n in ("isShownAt", "isShownBy", "object")),
        _one(EDM + "provider", 1),
        _many(DC + "rights"),
        _one(EDM + "rights", 1),
        _one(EDM + "ugc"),
        _many(EDM + "intermediateProvider"),
        _many(DQV + "hasQualityAnnotation"),
        _one(DCTERMS + "created"),
        _one(DCTERMS + "modified"),
    ),
    CC + "License": (_one(ODRL + "inheritFrom", 1), _one(CC + "deprecatedOn")),
    SVCS + "Service": (_many(DCTERMS + "conformsTo", 1), _many(DOAP + "implements")),
}

_RESOURCE = "ResourceType"
_LITERAL = "LiteralType"
_EITHER = "ResourceOrLiteralType"

#: Element IRI -> the name of its XSD type (the keys of ``edm_xml.VALUE_TYPES``). Elements are global in the
#: schema, so one type each; ``edm:pid`` is declared locally as ``LiteralType`` in both classes that have it.
ELEMENT_TYPES: Final[dict[str, str]] = {
    **dict.fromkeys(terms(DC, "contributor coverage creator date description format publisher relation"), _EITHER),
    **dict.fromkeys(terms(DC, "rights source subject type"), _EITHER),
    **dict.fromkeys(terms(DC, "identifier language title"), _LITERAL),
    **dict.fromkeys((term for term in _DC_TERMS if term.startswith(DCTERMS)), _EITHER),
    DCTERMS + "alternative": _LITERAL,
    DCTERMS + "modified": _EITHER,
    **dict.fromkeys(
        terms(EDM, "currentLocation hasType isRelatedTo dataProvider provider intermediateProvider"), _EITHER
    ),
    **dict.fromkeys(
        terms(
            EDM,
            "hasMet incorporates isDerivativeOf isNextInSequence isRepresentationOf isSimilarTo isSuccessorOf "
            "realizes aggregatedCHO hasView isShownAt isShownBy object rights preview intendedUsage",
        ),
        _RESOURCE,
    ),
    **dict.fromkeys(terms(EDM, "pid begin end"), _LITERAL),
    EDM + "type": "EdmType",
    EDM + "ugc": "UGCType",
    EDM + "codecName": "string",
    EDM + "spatialResolution": "NonNegativeIntegerType",
    EDM + "hasColorSpace": "ColorSpaceType",
    EDM + "componentColor": "HexBinaryType",
    **dict.fromkeys(terms(EDM, "pointCount polygonCount vertexCount"), "NonNegativeIntegerWithoutDataTypeType"),
    OWL + "sameAs": _RESOURCE,
    RDF + "type": _RESOURCE,
    RDFS + "seeAlso": _RESOURCE,
    **dict.fromkeys(terms(EBUCORE, "hasMimeType duration"), "string"),
    EBUCORE + "fileByteSize": "LongType",
    **dict.fromkeys(terms(EBUCORE, "width height sampleSize sampleRate"), "IntegerType"),
    **dict.fromkeys(terms(EBUCORE, "bitRate audioChannelNumber"), "NonNegativeIntegerType"),
    EBUCORE + "frameRate": "DoubleType",
    EBUCORE + "orientation": "OrientationType",
    SVCS + "has_service": _RESOURCE,
    SCHEMA + "digitalSourceType": _RESOURCE,
    **dict.fromkeys(terms(SKOS, "prefLabel altLabel hiddenLabel note notation"), _LITERAL),
    **dict.fromkeys(
        terms(SKOS, "broader narrower related broadMatch narrowMatch relatedMatch exactMatch closeMatch inScheme"),
        _RESOURCE,
    ),
    FOAF + "name": _LITERAL,
    **dict.fromkeys(terms(RDAGR2, "dateOfBirth dateOfDeath dateOfEstablishment dateOfTermination gender"), _LITERAL),
    **dict.fromkeys(terms(RDAGR2, "biographicalInformation placeOfBirth placeOfDeath professionOrOccupation"), _EITHER),
    **dict.fromkeys(terms(WGS84, "lat long alt"), "float"),
    ODRL + "inheritFrom": _RESOURCE,
    CC + "deprecatedOn": "DateType",
    DOAP + "implements": _RESOURCE,
    # A nested dqv:QualityAnnotation element, not a value: nothing of ours writes it.
    DQV + "hasQualityAnnotation": "nested",
}
