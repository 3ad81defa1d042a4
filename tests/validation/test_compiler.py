"""The shape compiler: it refuses what it cannot compile, covers every shape, and says what went wrong."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import SH

from enrich.validation import CompiledShapes, ShapesError, ShapeSummary, UnsupportedConstructError, Violation
from tests.validation.support import REPO, keys_of, parse_turtle, pyshacl_report, shapes_graph, to_rdflib
from tests.validation.test_shapes_on_disk import INVALID, VALID, rule_shape

PREFIXES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix dc: <http://purl.org/dc/elements/1.1/> .
@prefix edm: <http://www.europeana.eu/schemas/edm/> .
@prefix ore: <http://www.openarchives.org/ore/terms/> .
@prefix ex: <http://example.org/shapes#> .
@prefix data: <http://example.org/data/> .
"""


def write(tmp_path: Path, turtle: str, name: str = "shapes.ttl") -> Path:
    path = tmp_path / name
    path.write_text(PREFIXES + turtle, encoding="utf-8")
    return path


# --- refusing what is not compiled --------------------------------------------------------------------

# The opening of a shape on dc:title of the object, and of a node shape on the object.
TITLE = "ex:Shape a sh:PropertyShape ; sh:targetClass edm:ProvidedCHO ; sh:path dc:title"
OBJECT = "ex:Shape a sh:NodeShape ; sh:targetClass edm:ProvidedCHO"

UNSUPPORTED = {
    "sh:pattern": f'{TITLE} ; sh:pattern "^A" .',
    "sh:class": f"{TITLE} ; sh:class ex:Title .",
    "sh:minLength": f"{TITLE} ; sh:minLength 1 .",
    "sh:node": f"{OBJECT} ; sh:node ex:Other .\nex:Other a sh:NodeShape .",
    "sh:xone": f"{OBJECT} ; sh:xone ( ex:Other ) .\nex:Other a sh:NodeShape .",
    "sh:closed": f"{OBJECT} ; sh:closed true .",
    "sh:targetNode": "ex:Shape a sh:NodeShape ; sh:targetNode data:object ; sh:nodeKind sh:IRI .",
    "sh:zeroOrMorePath": "ex:Shape a sh:PropertyShape ; sh:targetClass edm:ProvidedCHO ;\n"
    "    sh:path [ sh:zeroOrMorePath dc:relation ] ; sh:minCount 1 .",
    "sh:sparql": f'{OBJECT} ; sh:sparql [ sh:select "SELECT $this WHERE {{ }}" ] .',
    "sh:SPARQLConstraint": f"{OBJECT} .\nex:Check a sh:SPARQLConstraint .",
    # pySHACL walks ^(a/b) as ^a/^b, not ^b/^a: refused so that the two validators cannot disagree.
    "sh:inversePath of a sequence path": "ex:Shape a sh:PropertyShape ; sh:targetClass edm:ProvidedCHO ;\n"
    "    sh:path [ sh:inversePath ( ore:proxyFor dc:creator ) ] ; sh:maxCount 0 .",
}


@pytest.mark.parametrize("construct", sorted(UNSUPPORTED))
def test_unsupported_construct_is_refused_by_name(tmp_path: Path, construct: str) -> None:
    path = write(tmp_path, UNSUPPORTED[construct])
    with pytest.raises(UnsupportedConstructError) as raised:
        CompiledShapes.from_path(path)
    message = str(raised.value)
    assert f"uses {construct}," in message
    assert re.search(r"shape ex:(Shape|Check) ", message)
    assert "supported SHACL constructs: " in message


def test_an_unsupported_construct_in_an_operand_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ex:Shape a sh:NodeShape ; sh:targetClass edm:ProvidedCHO ; sh:or ( ex:A ex:B ) .\n"
        "ex:A a sh:PropertyShape ; sh:path dc:title ; sh:minCount 1 .\n"
        'ex:B a sh:PropertyShape ; sh:path dc:description ; sh:languageIn ( "en" ) .',
    )
    with pytest.raises(UnsupportedConstructError, match=r"shape ex:B uses sh:languageIn"):
        CompiledShapes.from_path(path)


MALFORMED = {
    "no sh:path": f"{OBJECT} ; sh:minCount 1 .",
    "non-negative integer": f'{TITLE} ; sh:minCount "one" .',
    "recursive shapes": f"{OBJECT} ; sh:not ex:Other .\nex:Other a sh:NodeShape ; sh:not ex:Shape .",
    "not a value of sh:nodeKind": f"{TITLE} ; sh:nodeKind sh:Literally .",
    "not a well-formed RDF list": f'{TITLE} ; sh:in "TEXT" .',
    "which is not a shape": f"{TITLE} ; sh:minCount 1 .\nex:Stray sh:maxCount 1 .",
}


@pytest.mark.parametrize("problem", sorted(MALFORMED))
def test_malformed_shapes_are_refused(tmp_path: Path, problem: str) -> None:
    path = write(tmp_path, MALFORMED[problem])
    with pytest.raises(ShapesError, match=re.escape(problem)):
        CompiledShapes.from_path(path)


def test_a_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "ex:Shape a sh:NodeShape ; sh:targetClass .")
    with pytest.raises(ShapesError, match=re.escape(str(path))):
        CompiledShapes.from_path(path)


# --- shapes/edm.ttl is fully covered ------------------------------------------------------------------


def edm_shapes() -> dict[str, ShapeSummary]:
    return {shape.id: shape for shape in CompiledShapes.edm().shapes}


def invalid_case_violations() -> Iterator[tuple[Path, list[Violation]]]:
    compiled = CompiledShapes.edm()
    for path in INVALID:
        yield path, compiled.validate(parse_turtle(path))


def test_edm_shapes_are_compiled_once() -> None:
    assert CompiledShapes.edm() is CompiledShapes.edm()


def test_every_edm_shape_has_an_iri_and_a_message() -> None:
    graph = shapes_graph()
    for shape_id in edm_shapes():
        assert shape_id.startswith("https://w3id.org/heritage-enrich/shapes#"), shape_id
        messages = list(graph.objects(rdflib.URIRef(shape_id), SH.message))
        assert messages, f"{shape_id} has no sh:message"


def test_every_reported_edm_shape_fails_in_some_invalid_case() -> None:
    failed = {violation.shape for _, violations in invalid_case_violations() for violation in violations}
    reported = {shape.id for shape in edm_shapes().values() if shape.reported}
    assert reported <= failed, f"no invalid case makes these shapes fail: {sorted(reported - failed)}"


def test_every_other_edm_shape_is_an_operand_of_a_reported_one() -> None:
    shapes = edm_shapes()

    def reported_users(shape: ShapeSummary) -> set[str]:
        if shape.reported:
            return {shape.id}
        return {user for parent in shape.operand_of for user in reported_users(shapes[parent])}

    for shape in shapes.values():
        assert reported_users(shape), f"{shape.id} is neither reported nor used by a reported shape"


def test_every_edm_shape_has_valid_and_invalid_files() -> None:
    shapes = edm_shapes()

    def rule_of(shape: ShapeSummary) -> set[str]:
        # A shape used only inside another (an operand of sh:or, sh:not) is exercised by that rule's files.
        if shape.targets:
            return {shape.id}
        return {rule for parent in shape.operand_of for rule in rule_of(shapes[parent])}

    valid_rules = {rule_shape(path) for path in VALID}
    invalid_rules = {rule_shape(path) for path in INVALID}
    for shape in shapes.values():
        assert rule_of(shape) & valid_rules, f"no valid case for {shape.id}"
        assert rule_of(shape) & invalid_rules, f"no invalid case for {shape.id}"


# --- messages -----------------------------------------------------------------------------------------

_NAME = re.compile(r"[a-z]+:[A-Za-z]+")


def test_messages_name_the_property() -> None:
    shapes = edm_shapes()

    def properties(shape: ShapeSummary) -> set[str]:
        own = set(_NAME.findall(shape.path or ""))
        operands = [other for other in shapes.values() if shape.id in other.operand_of]
        return own.union(*(properties(operand) for operand in operands))

    checked = 0
    for path, violations in invalid_case_violations():
        for violation in violations:
            named = properties(shapes[violation.shape])
            assert named, violation
            assert any(name in violation.message for name in named), (path.name, violation.message, named)
            checked += 1
    assert checked >= len(INVALID)


def test_generated_messages_name_the_property_and_the_rule(tmp_path: Path) -> None:
    shapes = write(
        tmp_path,
        "ex:Title a sh:PropertyShape ; sh:targetClass edm:ProvidedCHO ; sh:path dc:title ; sh:minCount 1 .\n"
        "ex:Kind a sh:NodeShape ; sh:targetClass edm:ProvidedCHO ; sh:nodeKind sh:BlankNode .",
    )
    data = write(tmp_path, "data:object a edm:ProvidedCHO .", name="data.ttl")
    messages = {v.shape: v.message for v in CompiledShapes.from_path(shapes).validate(parse_turtle(data))}
    assert messages["http://example.org/shapes#Title"] == ("Property dc:title needs at least 1 value (shape ex:Title).")
    assert messages["http://example.org/shapes#Kind"] == (
        "The node takes only values of kind sh:BlankNode (shape ex:Kind)."
    )


# --- the result fields ---------------------------------------------------------------------------------


def test_violation_fields() -> None:
    path = REPO / "tests/shapes/invalid/cho_title_or_description__missing_both.ttl"
    (violation,) = CompiledShapes.edm().validate(parse_turtle(path))
    assert violation == Violation(
        focus="http://example.org/record/1/object",
        path="dc:title | dc:description | ^ore:proxyFor/(dc:title | dc:description)",
        component="http://www.w3.org/ns/shacl#MinCountConstraintComponent",
        shape="https://w3id.org/heritage-enrich/shapes#ChoTitleOrDescription",
        message=violation.message,
        value=None,
    )
    assert "dc:title" in violation.message


def test_offending_values_are_given_in_n_triples() -> None:
    path = REPO / "tests/shapes/invalid/cho_edm_type_in_list__language_tagged.ttl"
    (violation,) = CompiledShapes.edm().validate(parse_turtle(path))
    assert violation.value == '"IMAGE"@en'
    assert violation.path == "edm:type | ^ore:proxyFor/edm:type"


def test_node_level_results_have_no_path() -> None:
    path = REPO / "tests/shapes/invalid/cho_language_for_text__text_without_language.ttl"
    (violation,) = CompiledShapes.edm().validate(parse_turtle(path))
    assert violation.path is None
    assert violation.component == "http://www.w3.org/ns/shacl#OrConstraintComponent"
    assert violation.value == "<http://example.org/record/1/object>"


def test_triples_and_quads_give_the_same_results() -> None:
    path = REPO / "tests/shapes/invalid/aggregation_rights__two_statements.ttl"
    quads = parse_turtle(path)
    compiled = CompiledShapes.edm()
    assert compiled.validate(quads) == compiled.validate(quad.triple for quad in quads)


# --- agreement with pySHACL beyond what edm.ttl uses -----------------------------------------------------

KITCHEN_SINK_SHAPES = """
ex:Object a sh:NodeShape ;
    sh:targetClass edm:ProvidedCHO ;
    sh:nodeKind sh:IRI ;
    sh:property ex:Year, ex:Off ;
    sh:and ( ex:HasTitle ex:HasType ) ;
    sh:not ex:IsDraft ;
    sh:message "object rules"@en, "Objektregeln"@de .
ex:Year a sh:PropertyShape ; sh:path dc:date ; sh:datatype xsd:gYear ; sh:maxCount 1 .
ex:Count a sh:PropertyShape ; sh:targetClass edm:ProvidedCHO ; sh:path dc:extent ; sh:datatype xsd:integer .
ex:Flag a sh:PropertyShape ; sh:targetClass edm:ProvidedCHO ; sh:path edm:ugc ; sh:datatype xsd:boolean .
ex:Off a sh:PropertyShape ; sh:path dc:format ; sh:minCount 5 ; sh:deactivated true .
ex:HasTitle a sh:PropertyShape ; sh:path dc:title ; sh:minCount 1 ; sh:datatype rdf:langString .
ex:HasType a sh:PropertyShape ; sh:path edm:type ; sh:in ( "IMAGE" "TEXT" ) .
ex:IsDraft a sh:PropertyShape ; sh:path dc:description ; sh:hasValue "draft" .
ex:Proxies a sh:PropertyShape ;
    sh:targetClass ore:Aggregation ;
    sh:path ( edm:aggregatedCHO [ sh:inversePath ore:proxyFor ] ) ;
    sh:nodeKind sh:BlankNodeOrIRI ;
    sh:or ( ex:HasTitle ex:HasType ) ;
    sh:severity sh:Warning .
ex:Back a sh:PropertyShape ;
    sh:targetClass edm:ProvidedCHO ;
    sh:path ( [ sh:inversePath [ sh:alternativePath ( ore:proxyFor edm:aggregatedCHO ) ] ] dc:creator ) ;
    sh:maxCount 0 .
"""
KITCHEN_SINK_DATA = """
data:Painting rdfs:subClassOf edm:ProvidedCHO .
data:one a data:Painting ; dc:date "1899"^^xsd:gYear, "about 1900"^^xsd:gYear ; dc:title "Still life" ;
    edm:type "PAINTING" ; dc:description "draft" ; dc:extent "12a"^^xsd:integer ; edm:ugc "yes"^^xsd:boolean .
data:two a edm:ProvidedCHO ; dc:title "Deux"@fr ; edm:type "TEXT" ; dc:date "1901" ;
    dc:extent "12"^^xsd:integer ; edm:ugc "true"^^xsd:boolean .
_:three a edm:ProvidedCHO ; dc:title "Drei"@de ; edm:type "IMAGE" .
data:agg a ore:Aggregation ; edm:aggregatedCHO data:one, data:two, _:three .
data:p1 ore:proxyFor data:one ; edm:type "SOUND" .
_:p2 ore:proxyFor data:two ; dc:title "Deux"@fr .
data:p3 ore:proxyFor _:three .
data:p3 dc:creator data:ghost .
"""


def test_constructs_beyond_edm_agree_with_pyshacl(tmp_path: Path) -> None:
    shapes = write(tmp_path, KITCHEN_SINK_SHAPES)
    data = write(tmp_path, KITCHEN_SINK_DATA, name="data.ttl")
    quads = parse_turtle(data)
    conforms, expected = pyshacl_report(to_rdflib(quads), shapes_graph(shapes))
    violations = CompiledShapes.from_path(shapes).validate(quads)
    assert not conforms
    assert keys_of(violations) == expected
    components = {key[2].rsplit("#", 1)[1] for key in expected}
    assert components >= {
        "NodeKindConstraintComponent",
        "DatatypeConstraintComponent",
        "MaxCountConstraintComponent",
        "AndConstraintComponent",
        "NotConstraintComponent",
        "OrConstraintComponent",
    }
    object_messages = {v.message for v in violations if v.shape == "http://example.org/shapes#Object"}
    assert object_messages == {"object rules"}
