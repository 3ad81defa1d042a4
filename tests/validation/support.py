"""Runs pySHACL, through its public API, as the reference for the compiled validator.

Both validators see the same triples: a file is parsed once with pyoxigraph and the quads are copied into
an rdflib graph term by term, blank node labels included, so that focus nodes compare as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pyoxigraph
import pyshacl
import rdflib
from rdflib.namespace import SH, XSD

from enrich.validation import Violation

REPO = Path(__file__).resolve().parents[2]
EDM_SHAPES = REPO / "shapes" / "edm.ttl"

# (focus node, whether the result has a path, constraint component, source shape)
ResultKey = tuple[str, bool, str, str]


def parse_turtle(path: Path) -> list[pyoxigraph.Quad]:
    return list(pyoxigraph.parse(path=path, format=pyoxigraph.RdfFormat.TURTLE))


def to_rdflib(quads: Iterable[pyoxigraph.Quad | pyoxigraph.Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for quad in quads:
        graph.add((_term(quad.subject), _term(quad.predicate), _term(quad.object)))
    return graph


def _term(term: object) -> rdflib.term.Node:
    if isinstance(term, pyoxigraph.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language is not None:
            return rdflib.Literal(term.value, lang=term.language)
        # rdflib's own parsers leave a plain literal without a datatype; do the same.
        datatype = term.datatype.value
        return rdflib.Literal(term.value, datatype=None if datatype == str(XSD.string) else datatype)
    raise TypeError(f"no rdflib form for {term!r}")


@cache
def shapes_graph(path: Path = EDM_SHAPES) -> rdflib.Graph:
    return rdflib.Graph().parse(path, format="turtle")


def pyshacl_report(data: rdflib.Graph, shapes: rdflib.Graph) -> tuple[bool, set[ResultKey]]:
    conforms, results, _text = pyshacl.validate(data_graph=data, shacl_graph=shapes)
    keys: set[ResultKey] = set()
    for result in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        keys.add(
            (
                _node_text(results.value(result, SH.focusNode)),
                results.value(result, SH.resultPath) is not None,
                str(results.value(result, SH.sourceConstraintComponent)),
                _node_text(results.value(result, SH.sourceShape)),
            )
        )
    return bool(conforms), keys


def _node_text(node: rdflib.term.Node | None) -> str:
    if isinstance(node, rdflib.BNode):
        return f"_:{node}"
    return str(node)


def keys_of(violations: Iterable[Violation]) -> set[ResultKey]:
    return {(v.focus, v.path is not None, v.component, v.shape) for v in violations}
