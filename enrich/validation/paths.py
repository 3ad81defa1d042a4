"""SHACL property paths: read from the shapes graph, written as text, compiled into lookup functions.

Supported: a predicate IRI, ``sh:inversePath``, a sequence (an RDF list) and ``sh:alternativePath``, nested
in any way. The compiled function maps a node to its value nodes through the per-record index: a list of
tables, one per predicate and direction the shapes read (subject -> objects forwards, object -> subjects
backwards), addressed by a slot number fixed at compile time so that evaluation never hashes a predicate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyoxigraph import NamedNode

from enrich.namespaces import SH
from enrich.validation.errors import ShapesError, UnsupportedConstructError
from enrich.validation.shapes_graph import ShapesGraph
from enrich.validation.terms import EMPTY, Term, ValueSet
from enrich.validation.vocabulary import (
    ALTERNATIVE_PATH,
    INVERSE_PATH,
    PATH_PARAMETERS,
    RDF_FIRST,
    SUPPORTED,
)

# node -> value nodes, for one predicate in one direction
Table = dict[Term, dict[Term, None]]
# The triples of one record, one table per slot of PredicateUse.
RecordIndex = list[Table]

PathFunction = Callable[[RecordIndex, Term], ValueSet]


@dataclass(frozen=True)
class Predicate:
    iri: str


@dataclass(frozen=True)
class Inverse:
    path: PathExpr


@dataclass(frozen=True)
class Sequence:
    steps: tuple[PathExpr, ...]


@dataclass(frozen=True)
class Alternative:
    options: tuple[PathExpr, ...]


PathExpr = Predicate | Inverse | Sequence | Alternative


@dataclass
class PredicateUse:
    """The (predicate, direction) pairs the paths read, each with its slot in the record index."""

    slots: dict[tuple[str, bool], int] = field(default_factory=dict)

    def slot(self, iri: str, backward: bool) -> int:
        return self.slots.setdefault((iri, backward), len(self.slots))


def read_path(graph: ShapesGraph, node: Term, shape: str, seen: set[Term], inverted: bool = False) -> PathExpr:
    """The path expression rooted at ``node`` (the object of sh:path of ``shape``).

    Every path node read is added to ``seen``, so that the compiler can tell stray SHACL triples apart.
    A sequence inside sh:inversePath is refused: pySHACL walks ``^(a/b)`` as ``^a/^b`` rather than
    ``^b/^a``, so the two validators would disagree; write the reversed sequence of inverses instead.
    """
    if isinstance(node, NamedNode):
        return Predicate(node.value)
    seen.add(node)
    predicates = graph.predicates(node)
    if RDF_FIRST in predicates:
        if inverted:
            raise UnsupportedConstructError("sh:inversePath of a sequence path", shape, SUPPORTED)
        steps = tuple(read_path(graph, step, shape, seen) for step in graph.items(node, f"sh:path of {shape}"))
        if len(steps) < 2:
            raise ShapesError(f"shape {shape}: a sequence path needs at least two steps")
        return Sequence(steps)
    for predicate in predicates:
        if predicate.startswith(SH) and predicate not in PATH_PARAMETERS:
            raise UnsupportedConstructError("sh:" + predicate.removeprefix(SH), shape, SUPPORTED)
    inverse = graph.objects(node, INVERSE_PATH)
    alternatives = graph.objects(node, ALTERNATIVE_PATH)
    if len(inverse) + len(alternatives) != 1:
        raise ShapesError(f"shape {shape}: the path node {graph.name(node)} is not a well-formed SHACL path")
    if inverse:
        return Inverse(read_path(graph, inverse[0], shape, seen, not inverted))
    options = tuple(
        read_path(graph, option, shape, seen, inverted)
        for option in graph.items(alternatives[0], f"sh:alternativePath of {shape}")
    )
    if len(options) < 2:
        raise ShapesError(f"shape {shape}: sh:alternativePath needs at least two alternatives")
    return Alternative(options)


def path_text(path: PathExpr, graph: ShapesGraph) -> str:
    """SPARQL-like text: ``dc:title | ^ore:proxyFor/(dc:title | dc:description)``."""
    if isinstance(path, Predicate):
        return graph.name(NamedNode(path.iri))
    if isinstance(path, Inverse):
        inner = path_text(path.path, graph)
        return "^" + (inner if isinstance(path.path, Predicate) else f"({inner})")
    if isinstance(path, Sequence):
        return "/".join(
            f"({path_text(step, graph)})" if isinstance(step, Alternative) else path_text(step, graph)
            for step in path.steps
        )
    return " | ".join(path_text(option, graph) for option in path.options)


def compile_path(path: PathExpr, use: PredicateUse, inverted: bool = False) -> PathFunction:
    """A function from a node to its value nodes; records in ``use`` which tables it reads."""
    if isinstance(path, Predicate):
        return _lookup(use.slot(path.iri, inverted))
    if isinstance(path, Inverse):
        return compile_path(path.path, use, not inverted)
    if isinstance(path, Sequence):
        steps = [compile_path(step, use, inverted) for step in path.steps]
        if inverted:
            steps.reverse()
        return _sequence(steps)
    return _alternative([compile_path(option, use, inverted) for option in path.options])


def _lookup(slot: int) -> PathFunction:
    def values(index: RecordIndex, node: Term) -> ValueSet:
        return index[slot].get(node, EMPTY)

    return values


def _sequence(steps: list[PathFunction]) -> PathFunction:
    first, rest = steps[0], steps[1:]

    def values(index: RecordIndex, node: Term) -> ValueSet:
        current = first(index, node)
        for step in rest:
            if not current:
                return EMPTY
            following: dict[Term, None] = {}
            for value in current:
                following.update(step(index, value))
            current = following
        return current

    return values


def _alternative(options: list[PathFunction]) -> PathFunction:
    def values(index: RecordIndex, node: Term) -> ValueSet:
        # Usually a single alternative has values (the object's own field, or its proxy's): hand that set
        # out as it is and copy only when a second one adds to it.
        found: ValueSet = EMPTY
        union: dict[Term, None] | None = None
        for option in options:
            more = option(index, node)
            if not more:
                continue
            if union is not None:
                union.update(more)
            elif found:
                union = {**found, **more}
            else:
                found = more
        return found if union is None else union

    return values
