"""An EDM RDF/XML writer whose output is valid against Europeana's ``EDM.xsd`` (see ``edm_schema``).

RDF/XML in general is not what the XSD wants: it asks for one typed node element per resource
(``edm:ProvidedCHO``, ``ore:Aggregation``, ``edm:WebResource``, ``skos:Concept`` …) directly under
``rdf:RDF``, its property elements in the order and numbers its content model gives, and for each property
``rdf:resource`` or text with ``xml:lang`` as the element's type allows. :func:`write_edm` groups a record's
triples by subject, picks each subject's EDM class and writes the properties slot by slot. It writes the
XML text itself (escaped here), which is about twice as fast as building an lxml tree: this is the
per-record work of a harvest.

What the schema cannot hold is left out and reported (:class:`Dropped`), never written invalid: subjects
with no EDM class or no IRI, properties a class does not have, values its type does not take (an IRI where
only text goes, an ``edm:type`` outside the five, a typed literal where no datatype may be written), values
beyond a property's maximum, and whole resources that lack a required property. Every triple given ends up
either written or dropped, so the full formats still carry what this one leaves out.

Internal EDM keeps the provider's fields on ``ore:Proxy`` nodes, which the external schema does not have:
:func:`by_subject` moves a proxy's statements onto the object it stands for (the same reading as our SHACL
shapes, which take a value "on the object or on any proxy for it"); what a ProvidedCHO cannot hold of them
(``ore:proxyIn``, ``edm:europeanaProxy`` …) is then dropped like anything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, cast

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from api.oai.edm_schema import CLASSES, ELEMENT_TYPES, PREFIXES, Slot, terms
from enrich.namespaces import ORE, RDF, RDF_TYPE, XSD
from enrich.store.base import Term

_XSD_STRING: Final = XSD + "string"
_PROXY: Final = ORE + "Proxy"
_PROXY_FOR: Final = ORE + "proxyFor"
# Characters XML 1.0 cannot carry at all (lxml refuses them): such a value cannot be written.
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# What a property element writes: its text (escaped) or None for an empty element, and its attributes.
Written = tuple[str | None, str]
_TEXT_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE_ESCAPES: Final = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}
)


def xml_compatible(value: str) -> bool:
    """Whether XML 1.0 can carry the text at all."""
    return _NOT_XML.search(value) is None


_ESCAPED: Final = re.compile('[&<>"\r\n\t]')


def _attribute(name: str, value: str) -> str:
    return f' {name}="{value.translate(_ATTRIBUTE_ESCAPES) if _ESCAPED.search(value) else value}"'


# -- value types -------------------------------------------------------------------------------------------
def _one_of(*values: str) -> Callable[[str], bool]:
    allowed = frozenset(values)
    return allowed.__contains__


def _pattern(regex: str) -> Callable[[str], bool]:
    compiled = re.compile(regex)
    return lambda value: compiled.fullmatch(value) is not None


_FLOAT = _pattern(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([Ee][+-]?[0-9]+)?|[+-]?INF|NaN")
_NON_NEGATIVE = _pattern(r"\+?[0-9]+")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)?")


def _long(value: str) -> bool:
    return _INTEGER.fullmatch(value) is not None and -(2**63) <= int(value) < 2**63


def _date(value: str) -> bool:
    match = _DATE.fullmatch(value)
    if match is None:
        return False
    try:
        date(abs(int(match[1])) or 1, int(match[2]), int(match[3]))  # the day must exist (no 30 February)
    except ValueError:
        return False
    return True


#: Oxigraph gives every integer type back as xsd:integer ("13"^^xsd:long is stored as "13"^^xsd:integer),
#: so an element whose type fixes xsd:long or xsd:integer takes any of them and writes its own.
_INTEGERS: Final = frozenset(
    terms(
        XSD,
        "integer long int short byte nonNegativeInteger positiveInteger nonPositiveInteger negativeInteger "
        "unsignedLong unsignedInt unsignedShort unsignedByte",
    )
)


@dataclass(frozen=True)
class ValueType:
    """What an element of one XSD type can hold, and how it writes a term (None: it cannot)."""

    resource: bool = False  # an IRI, as rdf:resource
    text: bool = False  # a literal, as the element's text
    language: bool = False  # ... with xml:lang
    any_datatype: bool = False  # ... with rdf:datatype (rdf:LiteralType)
    datatypes: frozenset[str] = frozenset({_XSD_STRING})  # the literal datatypes it holds otherwise
    fixed: str | None = None  # the rdf:datatype the XSD type requires
    lexical: Callable[[str], bool] | None = None

    def write(self, term: object) -> Written | None:
        if isinstance(term, NamedNode):
            iri = term.value
            return (None, _attribute("rdf:resource", iri)) if self.resource and xml_compatible(iri) else None
        if not isinstance(term, Literal) or not self.text:
            return None
        value = term.value
        if not xml_compatible(value):
            return None
        text = value.translate(_TEXT_ESCAPES) if _ESCAPED.search(value) else value
        language = term.language
        if language is not None:
            return (text, _attribute("xml:lang", language)) if self.language else None
        datatype = term.datatype.value
        if self.any_datatype:
            return text, ("" if datatype == _XSD_STRING else _attribute("rdf:datatype", datatype))
        if datatype not in self.datatypes or (self.lexical is not None and not self.lexical(value)):
            return None
        return text, ("" if self.fixed is None else _attribute("rdf:datatype", self.fixed))


def _typed(datatype: str, lexical: Callable[[str], bool], accepted: Iterable[str] = ()) -> ValueType:
    return ValueType(text=True, datatypes=frozenset({datatype, *accepted}), fixed=datatype, lexical=lexical)


#: XSD type name (``edm_schema.ELEMENT_TYPES``) -> what it holds.
VALUE_TYPES: Final[dict[str, ValueType]] = {
    "ResourceType": ValueType(resource=True),
    "LiteralType": ValueType(text=True, language=True, any_datatype=True),
    "ResourceOrLiteralType": ValueType(resource=True, text=True, language=True),
    "EdmType": ValueType(text=True, lexical=_one_of("TEXT", "VIDEO", "IMAGE", "SOUND", "3D")),
    "UGCType": ValueType(text=True, lexical=_one_of("true")),
    "ColorSpaceType": ValueType(
        text=True,
        lexical=_one_of(
            *terms(
                "",
                "CMY CMYK grayscale HCL HCLp HSB HSI HSL HSV HWB Lab LCHab LCHuv LMS Log Luv OHTA Rec601Luma "
                "Rec601YCbCr Rec709Luma Rec709YCbCr RGB scRGB sRGB XYZ xyY YCbCr YDbDr YCC YIQ YPbPr YUV other",
            )
        ),
    ),
    "string": ValueType(text=True),
    "float": ValueType(text=True, lexical=_FLOAT),
    "NonNegativeIntegerWithoutDataTypeType": ValueType(text=True, lexical=_NON_NEGATIVE),
    "LongType": _typed(XSD + "long", _long, _INTEGERS),
    "IntegerType": _typed(XSD + "integer", _long, _INTEGERS),  # its base type is xs:long
    "NonNegativeIntegerType": _typed(XSD + "nonNegativeInteger", _NON_NEGATIVE, _INTEGERS),
    "DoubleType": _typed(XSD + "double", _FLOAT),
    "HexBinaryType": _typed(XSD + "hexBinary", _pattern("[0-9A-Fa-f]{6}")),
    "OrientationType": _typed(_XSD_STRING, _one_of("landscape", "portrait")),
    "DateType": _typed(XSD + "date", _date),
    "nested": ValueType(),
}


def _split(iri: str) -> tuple[str, str]:
    """(namespace, prefix) of a schema element's IRI."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and "/" not in iri[len(namespace) :] and "#" not in iri[len(namespace) :]:
            return namespace, prefix
    raise ValueError(f"{iri} is in no namespace of EDM.xsd")


def curie(iri: str) -> str:
    try:
        namespace, prefix = _split(iri)
    except ValueError:
        return f"<{iri}>"
    return f"{prefix}:{iri[len(namespace) :]}"


# -- the writer --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dropped:
    """A triple the schema cannot hold, and why."""

    triple: Triple
    reason: str
    incomplete: bool = False  # its resource lacks a property EDM.xsd requires, so all of it was left out


@dataclass
class EdmDocument:
    xml: bytes  # an rdf:RDF element (UTF-8, no XML declaration)
    dropped: list[Dropped]


@dataclass(frozen=True)
class _Element:
    """A property element of one class, resolved once: where it goes and what it holds."""

    iri: str
    name: str  # its qualified name, e.g. dc:title
    namespace: str
    value_type: ValueType
    slot: int  # the index of its slot in the class
    order: int  # its place among the elements of its slot


@dataclass(frozen=True)
class _Plan:
    """A class of EDM.xsd, resolved once."""

    cls: str
    node: NamedNode
    name: str
    namespace: str
    slots: tuple[Slot, ...]
    elements: dict[str, _Element]
    required: tuple[int, ...]  # the slots that need at least one value


def _plan(cls: str, slots: tuple[Slot, ...]) -> _Plan:
    elements = {
        element: _Element(
            element, curie(element), _split(element)[0], VALUE_TYPES[ELEMENT_TYPES[element]], index, order
        )
        for index, slot in enumerate(slots)
        for order, element in enumerate(slot.elements)
    }
    required = tuple(index for index, slot in enumerate(slots) if slot.min > 0)
    return _Plan(cls, NamedNode(cls), curie(cls), _split(cls)[0], slots, elements, required)


_PLANS: Final = {cls: _plan(cls, slots) for cls, slots in CLASSES.items()}
_PROXY_NODE: Final = NamedNode(_PROXY)


@dataclass
class _Entity:
    subject: NamedNode
    plan: _Plan
    properties: list[tuple[_Element, Written]]


Subject = NamedNode | BlankNode
#: One statement of a subject: (predicate IRI, object, the triple as written, with a proxy's subject folded).
Statement = tuple[str, Term, Triple]


def by_subject(triples: Iterable[Triple]) -> dict[Subject, list[Statement]]:
    """The triples (duplicates removed) by subject, with every ``ore:Proxy``'s statements moved onto the
    object it is a proxy for (its one ``ore:proxyFor``; a proxy with none or several stays as it is)."""
    grouped: dict[Subject, list[Statement]] = {}
    proxies: list[Subject] = []
    for t in dict.fromkeys(triples):
        subject, predicate, value = cast("Subject", t.subject), t.predicate.value, t.object
        grouped.setdefault(subject, []).append((predicate, value, t))
        if predicate == RDF_TYPE and value == _PROXY_NODE:
            proxies.append(subject)
    for proxy in proxies:
        targets = [value for p, value, _ in grouped[proxy] if p == _PROXY_FOR and isinstance(value, NamedNode)]
        if len(targets) != 1 or targets[0] == proxy:
            continue
        target = targets[0]
        into = grouped.setdefault(target, [])
        present = {t for _, _, t in into}
        for predicate, value, t in grouped.pop(proxy):
            folded = Triple(target, t.predicate, value)
            if folded not in present:
                present.add(folded)
                into.append((predicate, value, folded))
    return grouped


def fold_proxies(triples: Iterable[Triple]) -> list[Triple]:
    """The triples as :func:`write_edm` reads them: proxies folded onto their objects, no duplicates."""
    return [t for statements in by_subject(triples).values() for _, _, t in statements]


# A value ready to write: (place in its slot, text, attributes, element, what to write, the triple).
_Value = tuple[int, str, str, _Element, Written, Triple]


def _entity(subject: NamedNode, plan: _Plan, statements: list[Statement], dropped: list[Dropped]) -> _Entity | None:
    """The subject written as ``plan``'s class, or None (all its triples dropped) when it cannot be."""
    by_slot: dict[int, list[_Value]] = {}
    left: list[Dropped] = []
    for predicate, value, t in statements:
        if predicate == RDF_TYPE and value == plan.node:
            continue  # said by the node element itself
        element = plan.elements.get(predicate)
        if element is None:
            left.append(Dropped(t, f"{curie(predicate)} is not a property of {curie(plan.cls)} in EDM.xsd"))
            continue
        written = element.value_type.write(value)
        if written is None:
            left.append(Dropped(t, f"{curie(predicate)} cannot hold {value} ({ELEMENT_TYPES[predicate]})"))
            continue
        by_slot.setdefault(element.slot, []).append((element.order, written[0] or "", written[1], element, written, t))
    missing = [curie(plan.slots[index].elements[0]) for index in plan.required if index not in by_slot]
    if missing:
        reason = f"{curie(plan.cls)} <{subject.value}> lacks {', '.join(missing)}, which EDM.xsd requires"
        dropped += [Dropped(t, reason, incomplete=True) for _, _, t in statements]
        return None
    properties: list[tuple[_Element, Written]] = []
    for index in sorted(by_slot):
        values = by_slot[index]
        if len(values) > 1:
            values.sort(key=_value_order)  # a stable order, whatever order the store gives
        most = plan.slots[index].max
        if most is not None and len(values) > most:
            left += [
                Dropped(v[5], f"{curie(v[3].iri)} is allowed {most} time(s) in {curie(plan.cls)}")
                for v in values[most:]
            ]
            values = values[:most]
        properties += [(v[3], v[4]) for v in values]
    dropped += left
    return _Entity(subject, plan, properties)


def _value_order(value: _Value) -> tuple[int, str, str]:
    return value[0], value[1], value[2]


def write_edm(triples: Iterable[Triple]) -> EdmDocument:
    """The triples (read by :func:`by_subject`) as an ``rdf:RDF`` element valid against EDM.xsd, and what
    was left out."""
    dropped: list[Dropped] = []
    entities: list[_Entity] = []
    for subject, found in by_subject(triples).items():
        types = {value.value for p, value, _ in found if p == RDF_TYPE and isinstance(value, NamedNode)}
        plan = next((plan for cls, plan in _PLANS.items() if cls in types), None)
        if not isinstance(subject, NamedNode) or not xml_compatible(subject.value):
            dropped += [Dropped(t, "EDM.xsd describes only resources with an IRI (rdf:about)") for _, _, t in found]
        elif plan is None:
            named = ", ".join(sorted(curie(t) for t in types)) or "no rdf:type"
            dropped += [Dropped(t, f"<{subject.value}> has no class of EDM.xsd ({named})") for _, _, t in found]
        elif (entity := _entity(subject, plan, found, dropped)) is not None:
            entities.append(entity)
    entities.sort(key=lambda e: (_CLASS_ORDER[e.plan.cls], e.subject.value))
    return EdmDocument(_serialize(entities), dropped)


_CLASS_ORDER: Final = {cls: index for index, cls in enumerate(CLASSES)}


def _serialize(entities: Sequence[_Entity]) -> bytes:
    used = {RDF} | {e.plan.namespace for e in entities}
    used.update(element.namespace for e in entities for element, _ in e.properties)
    parts = ["<rdf:RDF", *(f' xmlns:{prefix}="{ns}"' for prefix, ns in PREFIXES.items() if ns in used), ">"]
    for entity in entities:
        parts.append(f"<{entity.plan.name}{_attribute('rdf:about', entity.subject.value)}>")
        for element, (text, attributes) in entity.properties:
            name = element.name
            parts.append(f"<{name}{attributes}/>" if text is None else f"<{name}{attributes}>{text}</{name}>")
        parts.append(f"</{entity.plan.name}>")
    parts.append("</rdf:RDF>")
    return "".join(parts).encode("utf-8")
