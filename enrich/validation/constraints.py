"""SHACL Core constraint components compiled into small closures.

A constraint receives the record index, the focus node and the focus node's value nodes (for a node shape:
the focus node itself) and returns the offending value nodes; count-like constraints, which have no single
offending value, return ``[None]`` when they fail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from pyoxigraph import Literal

from enrich.namespaces import XSD
from enrich.validation.paths import RecordIndex
from enrich.validation.terms import TERM_TYPES, Term, ValueSet
from enrich.validation.vocabulary import (
    AND_COMPONENT,
    DATATYPE_COMPONENT,
    HAS_VALUE_COMPONENT,
    IN_COMPONENT,
    MAX_COUNT_COMPONENT,
    MIN_COUNT_COMPONENT,
    NODE_KIND_COMPONENT,
    NOT_COMPONENT,
    OR_COMPONENT,
    RDF_LANG_STRING,
    RDFS_DATATYPE,
    RDFS_LITERAL,
    XSD_BOOLEAN,
    XSD_STRING,
)

Failures = Callable[[RecordIndex, Term, ValueSet], Sequence[Term | None]]
Conforms = Callable[[RecordIndex, Term], bool]

_NO_VALUE: Final[Sequence[Term | None]] = (None,)
_PASS: Final[Sequence[Term | None]] = ()


@dataclass(frozen=True)
class Constraint:
    """One constraint component of one shape: what it is, how to say it, and the check itself."""

    component: str
    rule: str
    failures: Failures


def min_count(count: int) -> Constraint:
    def failures(index: RecordIndex, focus: Term, values: ValueSet) -> Sequence[Term | None]:
        return _NO_VALUE if len(values) < count else _PASS

    return Constraint(MIN_COUNT_COMPONENT, f"needs at least {count} value{'s' * (count != 1)}", failures)


def max_count(count: int) -> Constraint:
    def failures(index: RecordIndex, focus: Term, values: ValueSet) -> Sequence[Term | None]:
        return _NO_VALUE if len(values) > count else _PASS

    return Constraint(MAX_COUNT_COMPONENT, f"allows at most {count} value{'s' * (count != 1)}", failures)


def node_kind(kinds: frozenset[str], kind_name: str) -> Constraint:
    allowed = frozenset(term_type for term_type, term_kind in TERM_TYPES.items() if term_kind in kinds)

    def failures(index: RecordIndex, focus: Term, values: ValueSet) -> Sequence[Term | None]:
        return [value for value in values if type(value) not in allowed]

    return Constraint(NODE_KIND_COMPONENT, f"takes only values of kind {kind_name}", failures)


def one_of(allowed: Sequence[Term], listed: str) -> Constraint:
    allowed_set = frozenset(allowed)

    def failures(index: RecordIndex, focus: Term, values: ValueSet) -> Sequence[Term | None]:
        return [value for value in values if value not in allowed_set]

    return Constraint(IN_COMPONENT, f"takes only the values {listed}", failures)


def has_value(expected: Term, expected_name: str) -> Constraint:
    def failures(index: RecordIndex, focus: Term, values: ValueSet) -> Sequence[Term | None]:
        return _PASS if expected in values else _NO_VALUE

    return Constraint(HAS_VALUE_COMPONENT, f"must include the value {expected_name}", failures)


def any_of(operands: Sequence[Conforms], names: str) -> Constraint:
    def failures(index: RecordIndex, focus: Term, values: ValueSet) -> Sequence[Term | None]:
        return [value for value in values if not any(conforms(index, value) for conforms in operands)]

    return Constraint(OR_COMPONENT, f"must conform to at least one of {names}", failures)


def all_of(operands: Sequence[Conforms], names: str) -> Constraint:
    def failures(index: RecordIndex, focus: Term, values: ValueSet) -> Sequence[Term | None]:
        return [value for value in values if not all(conforms(index, value) for conforms in operands)]

    return Constraint(AND_COMPONENT, f"must conform to all of {names}", failures)


def none_of(operand: Conforms, name: str) -> Constraint:
    def failures(index: RecordIndex, focus: Term, values: ValueSet) -> Sequence[Term | None]:
        return [value for value in values if operand(index, value)]

    return Constraint(NOT_COMPONENT, f"must not conform to {name}", failures)


# sh:datatype also fails ill-typed literals ("abc"^^xsd:integer). A literal is judged well-formed the way
# rdflib, and so pySHACL, judges it: its lexical form converts to a value with rdflib's converter for the
# datatype, within the datatype's range; booleans are "true", "false", "1" or "0"; literals of datatypes that
# rdflib has no converter for are taken as well-formed.
_RANGES: Final[dict[str, tuple[int | None, int | None]]] = {
    XSD + "nonPositiveInteger": (None, 0),
    XSD + "negativeInteger": (None, -1),
    XSD + "nonNegativeInteger": (0, None),
    XSD + "positiveInteger": (1, None),
    XSD + "unsignedLong": (0, None),
    XSD + "int": (-(2**31), 2**31 - 1),
    XSD + "unsignedInt": (0, 2**32 - 1),
    XSD + "short": (-(2**15), 2**15 - 1),
    XSD + "unsignedShort": (0, 2**16 - 1),
    XSD + "byte": (-(2**7), 2**7 - 1),
    XSD + "unsignedByte": (0, 2**8 - 1),
}
_BOOLEAN_FORMS: Final = frozenset({"true", "false", "1", "0"})


def _well_formed(datatype_iri: str) -> Callable[[str], bool] | None:
    """A check of lexical forms for ``datatype_iri``, or None where every lexical form is accepted."""
    if datatype_iri == XSD_BOOLEAN:
        return _BOOLEAN_FORMS.__contains__
    from rdflib import URIRef
    from rdflib.term import XSDToPython

    converter = XSDToPython.get(URIRef(datatype_iri))
    if converter is None:
        return None
    low, high = _RANGES.get(datatype_iri, (None, None))

    @lru_cache(maxsize=4096)
    def check(lexical: str) -> bool:
        try:
            value = converter(lexical)
        except Exception:  # any failure of the converter means: not in the lexical space
            return False
        if value is None:
            return False
        if low is not None or high is not None:
            return isinstance(value, int) and (low is None or value >= low) and (high is None or value <= high)
        return True

    return check


def datatype(datatype_iri: str, datatype_name: str) -> Constraint:
    well_formed = _well_formed(datatype_iri)

    def matches(term: Term) -> bool:
        if not isinstance(term, Literal):
            return False
        # pySHACL's extensions: every literal is an rdfs:Literal, every typed one an rdfs:Datatype.
        if datatype_iri == RDFS_LITERAL:
            return True
        actual = term.datatype.value
        if datatype_iri == RDFS_DATATYPE:
            return actual not in (XSD_STRING, RDF_LANG_STRING)
        return actual == datatype_iri and (well_formed is None or well_formed(term.value))

    def failures(index: RecordIndex, focus: Term, values: ValueSet) -> Sequence[Term | None]:
        return [value for value in values if not matches(value)]

    return Constraint(DATATYPE_COMPONENT, f"takes only literals of datatype {datatype_name}", failures)
