"""The data cases under tests/shapes: pySHACL and the compiled validator must agree on every one.

A file is named after the rule it exercises (``cho_title_or_description__missing_both.ttl`` is a case for
``enrshape:ChoTitleOrDescription``); valid files conform, invalid ones break at least that rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich.validation import CompiledShapes
from tests.validation.support import REPO, keys_of, parse_turtle, pyshacl_report, shapes_graph, to_rdflib

CASES_DIR = REPO / "tests" / "shapes"
VALID = sorted((CASES_DIR / "valid").glob("*.ttl"))
INVALID = sorted((CASES_DIR / "invalid").glob("*.ttl"))
SHAPES_NS = "https://w3id.org/heritage-enrich/shapes#"


def rule_shape(path: Path) -> str:
    """``cho_title_or_description__missing_both.ttl`` -> the IRI of enrshape:ChoTitleOrDescription."""
    rule = path.stem.split("__")[0]
    return SHAPES_NS + "".join(part.capitalize() for part in rule.split("_"))


def test_there_are_cases() -> None:
    assert len(VALID) >= 10
    assert len(INVALID) >= 10


@pytest.mark.parametrize("path", VALID + INVALID, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case_is_named_after_a_shape(path: Path) -> None:
    shape_ids = {shape.id for shape in CompiledShapes.edm().shapes}
    assert rule_shape(path) in shape_ids, f"{path.name} does not name a shape of shapes/edm.ttl"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_case(path: Path) -> None:
    quads = parse_turtle(path)
    conforms, results = pyshacl_report(to_rdflib(quads), shapes_graph())
    assert conforms, results
    assert CompiledShapes.edm().validate(quads) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_case(path: Path) -> None:
    quads = parse_turtle(path)
    conforms, results = pyshacl_report(to_rdflib(quads), shapes_graph())
    assert not conforms
    violations = CompiledShapes.edm().validate(quads)
    assert keys_of(violations) == results
    assert rule_shape(path) in {violation.shape for violation in violations}
