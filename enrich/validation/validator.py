"""CompiledShapes: a shapes file compiled once, then used to validate many small records quickly."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pyoxigraph
from pyoxigraph import NamedNode, Quad, Triple

from enrich.resources import shapes_file
from enrich.validation.closures import Reporter
from enrich.validation.compiler import CompiledGraph, ShapeSummary, compile_graph
from enrich.validation.paths import RecordIndex, Table
from enrich.validation.shapes_graph import ShapesGraph
from enrich.validation.terms import EMPTY, Term
from enrich.validation.violation import Violation
from enrich.validation.vocabulary import RDF_TYPE, RDFS_SUBCLASS_OF

_RDF_TYPE = NamedNode(RDF_TYPE)
_RDFS_SUBCLASS_OF = NamedNode(RDFS_SUBCLASS_OF)


class CompiledShapes:
    """The shapes of one file as Python checks.

    ``validate`` takes the triples of one record. Its focus nodes are the nodes typed (``rdf:type``) with a
    shape's target class, or with a subclass of it that the record itself declares (``rdfs:subClassOf``),
    as pySHACL finds them.
    """

    def __init__(self, compiled: CompiledGraph, source: Path) -> None:
        self.source = source
        self.shapes: tuple[ShapeSummary, ...] = compiled.summaries()
        by_targets: dict[tuple[str, ...], list[Reporter]] = {}
        for shape in compiled.shapes:
            if shape.targets and not shape.deactivated:
                by_targets.setdefault(shape.targets, []).append(shape.report)
        self._groups = tuple(
            (tuple(NamedNode(iri) for iri in targets), tuple(reporters)) for targets, reporters in by_targets.items()
        )
        use = compiled.use
        self._types_slot = use.slot(RDF_TYPE, True)
        self._subclasses_slot = use.slot(RDFS_SUBCLASS_OF, True)
        self._slot_count = len(use.slots)
        # predicate -> (forward slot, backward slot), -1 where the shapes do not read that direction
        routes: dict[str, list[int]] = {}
        for (iri, backward), slot in use.slots.items():
            routes.setdefault(iri, [-1, -1])[backward] = slot
        self._routes = {NamedNode(iri): (fwd, bwd) for iri, (fwd, bwd) in routes.items()}

    @classmethod
    def from_path(cls, path: Path) -> CompiledShapes:
        """Read and compile a shapes file; raises ShapesError if it leaves the supported SHACL subset."""
        return cls(compile_graph(ShapesGraph.load(path)), path)

    @classmethod
    def edm(cls) -> CompiledShapes:
        """The EDM record shapes (``shapes/edm.ttl``), compiled once per process."""
        return _edm_shapes()

    def __repr__(self) -> str:
        return f"CompiledShapes({str(self.source)!r}, {len(self.shapes)} shapes)"

    def validate(self, triples: Iterable[Triple | Quad]) -> list[Violation]:
        """Validate one record's triples (graph names are ignored); an empty list means it conforms."""
        index = self._index(triples)
        types = index[self._types_slot]
        subclasses = index[self._subclasses_slot]
        out: list[Violation] = []
        for classes, reporters in self._groups:
            focus_nodes: dict[Term, None] = {}
            for cls in _with_subclasses(classes, subclasses) if subclasses else classes:
                focus_nodes.update(types.get(cls, EMPTY))
            for focus in focus_nodes:
                for report in reporters:
                    report(index, focus, out)
        return out

    def validate_many(self, records: Iterable[list[str]]) -> list[list[Violation]]:
        """Validate many records given as N-Triples lines (one triple per line), one result list each.

        One parser call for the whole batch costs far less than one per record.
        """
        line_lists = list(records)
        text = "\n".join(line for lines in line_lists for line in lines)
        quads = list(pyoxigraph.parse(text, pyoxigraph.RdfFormat.N_TRIPLES, lenient=True))
        results = []
        start = 0
        for lines in line_lists:
            results.append(self.validate(quads[start : start + len(lines)]))
            start += len(lines)
        return results

    def _index(self, triples: Iterable[Triple | Quad]) -> RecordIndex:
        index: RecordIndex = [{} for _ in range(self._slot_count)]
        route = self._routes.get
        for triple in triples:
            # Each attribute access builds a new Python object, so read subject and object only when needed.
            slots = route(triple.predicate)
            if slots is None:
                continue
            forward, backward = slots
            subject = triple.subject
            value = triple.object
            if forward >= 0:
                table = index[forward]
                bucket = table.get(subject)
                if bucket is None:
                    table[subject] = {value: None}
                else:
                    bucket[value] = None
            if backward >= 0:
                table = index[backward]
                bucket = table.get(value)
                if bucket is None:
                    table[value] = {subject: None}
                else:
                    bucket[subject] = None
        return index


def _with_subclasses(classes: tuple[NamedNode, ...], subclasses: Table) -> list[Term]:
    """The classes and every class the record declares a (transitive) rdfs:subClassOf one of them."""
    found: dict[Term, None] = dict.fromkeys(classes)
    pending: list[Term] = list(classes)
    while pending:
        for subclass in subclasses.get(pending.pop(), EMPTY):
            if subclass not in found:
                found[subclass] = None
                pending.append(subclass)
    return list(found)


@cache
def _edm_shapes() -> CompiledShapes:
    return CompiledShapes.from_path(shapes_file("edm.ttl"))
