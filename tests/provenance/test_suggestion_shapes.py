"""The cases under tests/shapes/suggestions: pySHACL (the reference) and check_suggestions must agree.

A file is named after the rule it breaks (``suggestion_confidence__missing.ttl`` breaks
``enrshape:SuggestionConfidence``); valid files conform to every rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pyoxigraph
import pyshacl
import pytest
import rdflib
from rdflib.namespace import SH

from enrich.namespaces import ENR, SKOS
from enrich.provenance import check_suggestions, facts_from_triples
from tests.validation.support import REPO, parse_turtle, to_rdflib

SHAPES = REPO / "shapes" / "suggestions.ttl"
CASES = REPO / "tests" / "shapes" / "suggestions"
VALID = sorted((CASES / "valid").glob("*.ttl"))
INVALID = sorted((CASES / "invalid").glob("*.ttl"))
SHAPES_NS = "https://w3id.org/heritage-enrich/shapes#"

# (focus node, rule: the local name of the top-level shape)
Key = tuple[str, str]


@cache
def shapes_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES, format="turtle")


def rule_of(path: Path) -> str:
    return "".join(part.capitalize() for part in path.stem.split("__")[0].split("_"))


def pyshacl_keys(quads: list[pyoxigraph.Quad]) -> tuple[bool, set[Key]]:
    shapes = shapes_graph()
    conforms, results, _text = pyshacl.validate(data_graph=to_rdflib(quads), shacl_graph=shapes)
    keys: set[Key] = set()
    for result in results.objects(None, SH.result):  # top-level results, not nested sh:detail ones
        shape = results.value(result, SH.sourceShape)
        owner = shapes.value(predicate=SH.property, object=shape) if isinstance(shape, rdflib.BNode) else shape
        keys.add((str(results.value(result, SH.focusNode)), str(owner).removeprefix(SHAPES_NS)))
    return bool(conforms), keys


def facet_subtrees(quads: Iterable[pyoxigraph.Quad]) -> dict[str, frozenset[str]]:
    """Per facet, the concepts the case's SPARQL constraint reaches: (skos:broader|^skos:member)* its root."""
    narrower: dict[str, set[str]] = {}
    roots: dict[str, str] = {}
    for q in quads:
        p, s, o = q.predicate.value, q.subject.value, q.object.value
        if p == SKOS + "broader":
            narrower.setdefault(o, set()).add(s)
        elif p == SKOS + "member":
            narrower.setdefault(s, set()).add(o)
        elif p == ENR + "root":
            roots[s] = o
    subtrees = {}
    for facet, root in roots.items():
        seen, todo = {root}, [root]
        while todo:
            for child in narrower.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        subtrees[facet] = frozenset(seen)
    return subtrees


def python_keys(quads: list[pyoxigraph.Quad]) -> set[Key]:
    facts, with_model = facts_from_triples(quads)
    return {(p.node, p.rule) for p in check_suggestions(facts, with_model, facet_subtrees(quads))}


def test_there_are_cases_for_every_rule() -> None:
    rules = {str(s).removeprefix(SHAPES_NS) for s in shapes_graph().subjects(SH.targetClass, None)}
    assert rules == {rule_of(path) for path in INVALID}
    assert len(VALID) >= 3


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_case(path: Path) -> None:
    quads = parse_turtle(path)
    conforms, keys = pyshacl_keys(quads)
    assert conforms, keys
    assert python_keys(quads) == set()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_case(path: Path) -> None:
    quads = parse_turtle(path)
    conforms, keys = pyshacl_keys(quads)
    assert not conforms
    assert rule_of(path) in {rule for _, rule in keys}
    assert python_keys(quads) == keys
