"""The SHACL Core subset the compiled validator understands, as IRIs.

Anything in the ``sh:`` namespace that is not listed here makes the compiler refuse the shapes file, so a
shape cannot quietly use a construct that the fast validator would skip.
"""

from __future__ import annotations

from typing import Final

from enrich.namespaces import RDF, RDFS, SH, XSD

# Shape classes and the target declaration.
NODE_SHAPE: Final = SH + "NodeShape"
PROPERTY_SHAPE: Final = SH + "PropertyShape"
TARGET_CLASS: Final = SH + "targetClass"

# Parameters read off a shape.
PROPERTY: Final = SH + "property"
PATH: Final = SH + "path"
MIN_COUNT: Final = SH + "minCount"
MAX_COUNT: Final = SH + "maxCount"
NODE_KIND: Final = SH + "nodeKind"
IN: Final = SH + "in"
DATATYPE: Final = SH + "datatype"
HAS_VALUE: Final = SH + "hasValue"
OR: Final = SH + "or"
NOT: Final = SH + "not"
AND: Final = SH + "and"
MESSAGE: Final = SH + "message"
NAME: Final = SH + "name"
SEVERITY: Final = SH + "severity"
DEACTIVATED: Final = SH + "deactivated"

# Path nodes.
INVERSE_PATH: Final = SH + "inversePath"
ALTERNATIVE_PATH: Final = SH + "alternativePath"

# Values of sh:nodeKind, each with the term kinds it admits.
IRI_KIND: Final = "iri"
BLANK_KIND: Final = "blank"
LITERAL_KIND: Final = "literal"
NODE_KINDS: Final[dict[str, frozenset[str]]] = {
    SH + "IRI": frozenset({IRI_KIND}),
    SH + "BlankNode": frozenset({BLANK_KIND}),
    SH + "Literal": frozenset({LITERAL_KIND}),
    SH + "BlankNodeOrIRI": frozenset({BLANK_KIND, IRI_KIND}),
    SH + "BlankNodeOrLiteral": frozenset({BLANK_KIND, LITERAL_KIND}),
    SH + "IRIOrLiteral": frozenset({IRI_KIND, LITERAL_KIND}),
}

SEVERITIES: Final = frozenset({SH + "Violation", SH + "Warning", SH + "Info"})

# Parameters allowed on any shape, and the ones that only make sense with a path.
SHAPE_PARAMETERS: Final = frozenset(
    {
        TARGET_CLASS,
        PROPERTY,
        NODE_KIND,
        IN,
        DATATYPE,
        HAS_VALUE,
        OR,
        NOT,
        AND,
        MESSAGE,
        NAME,
        SEVERITY,
        DEACTIVATED,
    }
)
PROPERTY_SHAPE_PARAMETERS: Final = frozenset({PATH, MIN_COUNT, MAX_COUNT})
PATH_PARAMETERS: Final = frozenset({INVERSE_PATH, ALTERNATIVE_PATH})
SHAPE_CLASSES: Final = frozenset({NODE_SHAPE, PROPERTY_SHAPE})
# sh: IRIs that may appear as objects (values of sh:nodeKind and sh:severity).
VALUE_TERMS: Final = frozenset(NODE_KINDS) | SEVERITIES

SUPPORTED: Final = tuple(
    sorted(
        name.removeprefix(SH) for name in SHAPE_CLASSES | SHAPE_PARAMETERS | PROPERTY_SHAPE_PARAMETERS | PATH_PARAMETERS
    )
)

# Constraint components, as pySHACL and the SHACL recommendation name them in results.
MIN_COUNT_COMPONENT: Final = SH + "MinCountConstraintComponent"
MAX_COUNT_COMPONENT: Final = SH + "MaxCountConstraintComponent"
NODE_KIND_COMPONENT: Final = SH + "NodeKindConstraintComponent"
IN_COMPONENT: Final = SH + "InConstraintComponent"
DATATYPE_COMPONENT: Final = SH + "DatatypeConstraintComponent"
HAS_VALUE_COMPONENT: Final = SH + "HasValueConstraintComponent"
OR_COMPONENT: Final = SH + "OrConstraintComponent"
NOT_COMPONENT: Final = SH + "NotConstraintComponent"
AND_COMPONENT: Final = SH + "AndConstraintComponent"

# Data terms the validator reads besides the shapes' own paths.
RDF_TYPE: Final = RDF + "type"
RDF_FIRST: Final = RDF + "first"
RDF_REST: Final = RDF + "rest"
RDF_NIL: Final = RDF + "nil"
RDF_LANG_STRING: Final = RDF + "langString"
RDFS_SUBCLASS_OF: Final = RDFS + "subClassOf"
RDFS_LITERAL: Final = RDFS + "Literal"
RDFS_DATATYPE: Final = RDFS + "Datatype"
XSD_STRING: Final = XSD + "string"
XSD_BOOLEAN: Final = XSD + "boolean"
XSD_INTEGER: Final = XSD + "integer"
