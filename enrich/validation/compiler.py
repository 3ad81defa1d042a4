"""Compiles the shapes of a shapes graph into report and conformance closures.

Every shape is compiled once, whether it has targets or is only used from another shape, so a construct
outside the supported subset is refused even where no record would reach it. After compiling, any
``sh:`` triple that no shape or path consumed is an error as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode

from enrich.namespaces import SH
from enrich.validation import constraints
from enrich.validation.closures import Reporter, ShapeLabel, shape_conforms, shape_reporter
from enrich.validation.constraints import Conforms, Constraint
from enrich.validation.errors import ShapesError, UnsupportedConstructError
from enrich.validation.paths import PathFunction, PredicateUse, compile_path, path_text, read_path
from enrich.validation.shapes_graph import ShapesGraph
from enrich.validation.terms import Term, focus_text
from enrich.validation.vocabulary import (
    AND,
    DATATYPE,
    DEACTIVATED,
    HAS_VALUE,
    IN,
    MAX_COUNT,
    MESSAGE,
    MIN_COUNT,
    NODE_KIND,
    NODE_KINDS,
    NODE_SHAPE,
    NOT,
    OR,
    PATH,
    PROPERTY,
    PROPERTY_SHAPE,
    PROPERTY_SHAPE_PARAMETERS,
    RDF_TYPE,
    SEVERITIES,
    SEVERITY,
    SHAPE_CLASSES,
    SHAPE_PARAMETERS,
    SUPPORTED,
    TARGET_CLASS,
    VALUE_TERMS,
    XSD_BOOLEAN,
    XSD_INTEGER,
)


@dataclass(frozen=True)
class ShapeSummary:
    """What the compiler learnt about one shape, for tests and tooling."""

    id: str
    targets: tuple[str, ...]
    path: str | None
    components: tuple[str, ...]
    operand_of: tuple[str, ...]
    reported: bool


@dataclass
class CompiledShape:
    id: str
    name: str
    targets: tuple[str, ...]
    path: str | None
    components: tuple[str, ...]
    properties: tuple[CompiledShape, ...]
    deactivated: bool
    conforms: Conforms
    report: Reporter
    operand_of: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CompiledGraph:
    shapes: tuple[CompiledShape, ...]
    use: PredicateUse

    def summaries(self) -> tuple[ShapeSummary, ...]:
        reported: set[str] = set()

        def mark(shape: CompiledShape) -> None:
            if shape.deactivated or shape.id in reported:
                return
            reported.add(shape.id)
            for child in shape.properties:
                mark(child)

        for shape in self.shapes:
            if shape.targets:
                mark(shape)
        return tuple(
            ShapeSummary(
                shape.id,
                shape.targets,
                shape.path,
                shape.components,
                tuple(shape.operand_of),
                shape.id in reported,
            )
            for shape in self.shapes
        )


def compile_graph(graph: ShapesGraph) -> CompiledGraph:
    compiler = _Compiler(graph)
    for node in _shape_roots(graph):
        compiler.shape(node)
    compiler.check_nothing_left_over()
    return CompiledGraph(tuple(compiler.compiled.values()), compiler.use)


def _shape_roots(graph: ShapesGraph) -> list[Term]:
    roots: list[Term] = []
    for subject in graph.subjects():
        types = {t.value for t in graph.objects(subject, RDF_TYPE) if isinstance(t, NamedNode)}
        if types & SHAPE_CLASSES or graph.objects(subject, TARGET_CLASS):
            roots.append(subject)
    return roots


class _Compiler:
    def __init__(self, graph: ShapesGraph) -> None:
        self.graph = graph
        self.use = PredicateUse()
        self.compiled: dict[Term, CompiledShape] = {}
        self.in_progress: list[Term] = []
        self.path_nodes: set[Term] = set()

    def shape(self, node: Term) -> CompiledShape:
        done = self.compiled.get(node)
        if done is not None:
            return done
        if node in self.in_progress:
            cycle = " -> ".join(self.graph.name(n) for n in [*self.in_progress, node])
            raise ShapesError(f"recursive shapes are not supported: {cycle}")
        self.in_progress.append(node)
        compiled = self._compile(node)
        self.in_progress.pop()
        self.compiled[node] = compiled
        return compiled

    def _compile(self, node: Term) -> CompiledShape:
        graph = self.graph
        name = graph.name(node)
        predicates = graph.predicates(node)
        has_path = PATH in predicates
        for predicate in predicates:
            if not predicate.startswith(SH) or predicate in SHAPE_PARAMETERS:
                continue
            if predicate in PROPERTY_SHAPE_PARAMETERS:
                if not has_path:
                    raise ShapesError(f"shape {name} has sh:{predicate.removeprefix(SH)} but no sh:path")
                continue
            raise UnsupportedConstructError("sh:" + predicate.removeprefix(SH), name, SUPPORTED)
        declared = {t.value for t in graph.objects(node, RDF_TYPE) if isinstance(t, NamedNode)}
        if NODE_SHAPE in declared and has_path:
            raise ShapesError(f"shape {name} is a sh:NodeShape but has a sh:path")
        if PROPERTY_SHAPE in declared and not has_path:
            raise ShapesError(f"shape {name} is a sh:PropertyShape but has no sh:path")

        targets = tuple(self._iri(value, name, TARGET_CLASS) for value in graph.objects(node, TARGET_CLASS))
        deactivated = self._deactivated(node, name)
        self._severity(node, name)
        message = self._message(node)

        path_function: PathFunction | None = None
        shown_path: str | None = None
        if has_path:
            path_expr = read_path(graph, self._single(node, PATH, name), name, self.path_nodes)
            path_function = compile_path(path_expr, self.use)
            shown_path = path_text(path_expr, graph)

        checks = self._constraints(node, name)
        properties = tuple(self._property(value, name) for value in graph.objects(node, PROPERTY))
        shape_id = _shape_id(node)
        return CompiledShape(
            id=shape_id,
            name=name,
            targets=targets,
            path=shown_path,
            components=tuple(check.component for check in checks),
            properties=properties,
            deactivated=deactivated,
            conforms=shape_conforms(path_function, checks, [p.conforms for p in properties], deactivated),
            report=shape_reporter(
                ShapeLabel(shape_id, name, shown_path, message),
                path_function,
                checks,
                [p.report for p in properties],
                deactivated,
            ),
        )

    def _constraints(self, node: Term, name: str) -> list[Constraint]:
        graph = self.graph
        checks: list[Constraint] = []
        if graph.objects(node, MIN_COUNT):
            checks.append(constraints.min_count(self._count(node, MIN_COUNT, name)))
        if graph.objects(node, MAX_COUNT):
            checks.append(constraints.max_count(self._count(node, MAX_COUNT, name)))
        if graph.objects(node, NODE_KIND):
            value = self._single(node, NODE_KIND, name)
            kinds = NODE_KINDS.get(value.value) if isinstance(value, NamedNode) else None
            if kinds is None:
                raise ShapesError(f"shape {name}: {graph.name(value)} is not a value of sh:nodeKind")
            checks.append(constraints.node_kind(kinds, graph.name(value)))
        if graph.objects(node, DATATYPE):
            value = self._single(node, DATATYPE, name)
            checks.append(constraints.datatype(self._iri(value, name, DATATYPE), graph.name(value)))
        if graph.objects(node, IN):
            members = graph.items(self._single(node, IN, name), f"sh:in of {name}")
            checks.append(constraints.one_of(members, "(" + " ".join(map(graph.name, members)) + ")"))
        for value in graph.objects(node, HAS_VALUE):
            checks.append(constraints.has_value(value, graph.name(value)))
        for head in graph.objects(node, AND):
            operands = self._operands(head, node, name, AND)
            checks.append(constraints.all_of([s.conforms for s in operands], _names(operands)))
        for head in graph.objects(node, OR):
            operands = self._operands(head, node, name, OR)
            checks.append(constraints.any_of([s.conforms for s in operands], _names(operands)))
        for value in graph.objects(node, NOT):
            operand = self.shape(value)
            operand.operand_of.append(_shape_id(node))
            checks.append(constraints.none_of(operand.conforms, operand.name))
        return checks

    def _operands(self, head: Term, node: Term, name: str, parameter: str) -> list[CompiledShape]:
        members = self.graph.items(head, f"sh:{parameter.removeprefix(SH)} of {name}")
        if not members:
            raise ShapesError(f"shape {name}: sh:{parameter.removeprefix(SH)} needs at least one shape")
        operands = [self.shape(member) for member in members]
        for operand in operands:
            operand.operand_of.append(_shape_id(node))
        return operands

    def _property(self, value: Term, name: str) -> CompiledShape:
        if not self.graph.objects(value, PATH):
            raise ShapesError(f"shape {name}: sh:property {self.graph.name(value)} has no sh:path")
        return self.shape(value)

    def _single(self, node: Term, predicate: str, name: str) -> Term:
        values = self.graph.objects(node, predicate)
        if len(values) != 1:
            raise ShapesError(f"shape {name} must have exactly one sh:{predicate.removeprefix(SH)}")
        return values[0]

    def _iri(self, value: Term, name: str, predicate: str) -> str:
        if not isinstance(value, NamedNode):
            raise ShapesError(f"shape {name}: the value of sh:{predicate.removeprefix(SH)} must be an IRI")
        return value.value

    def _count(self, node: Term, predicate: str, name: str) -> int:
        value = self._single(node, predicate, name)
        if not (
            isinstance(value, Literal)
            and value.datatype.value == XSD_INTEGER
            and value.value.isascii()
            and value.value.isdigit()
        ):
            raise ShapesError(f"shape {name}: sh:{predicate.removeprefix(SH)} must be a non-negative integer")
        return int(value.value)

    def _deactivated(self, node: Term, name: str) -> bool:
        if not self.graph.objects(node, DEACTIVATED):
            return False
        value = self._single(node, DEACTIVATED, name)
        if not (isinstance(value, Literal) and value.datatype.value == XSD_BOOLEAN):
            raise ShapesError(f"shape {name}: sh:deactivated must be a boolean")
        return value.value in ("true", "1")

    def _severity(self, node: Term, name: str) -> None:
        if self.graph.objects(node, SEVERITY):
            value = self._single(node, SEVERITY, name)
            if not (isinstance(value, NamedNode) and value.value in SEVERITIES):
                raise ShapesError(f"shape {name}: sh:severity must be sh:Violation, sh:Warning or sh:Info")

    def _message(self, node: Term) -> str | None:
        messages = [m for m in self.graph.objects(node, MESSAGE) if isinstance(m, Literal)]
        if not messages:
            return None
        # English first, then untagged, then the rest in a stable order.
        messages.sort(key=lambda m: (m.language != "en", m.language is not None, m.language or "", m.value))
        return messages[0].value

    def check_nothing_left_over(self) -> None:
        """Refuse sh: triples that no compiled shape or path used, and unsupported sh: classes or values."""
        graph = self.graph
        for subject in graph.subjects():
            consumed = subject in self.compiled or subject in self.path_nodes
            for predicate, values in graph.predicates(subject).items():
                if predicate.startswith(SH) and not consumed:
                    construct = "sh:" + predicate.removeprefix(SH)
                    if predicate in SHAPE_PARAMETERS or predicate in PROPERTY_SHAPE_PARAMETERS:
                        raise ShapesError(
                            f"{construct} on {graph.name(subject)}, which is not a shape: "
                            "declare it a sh:NodeShape or sh:PropertyShape, or reach it from one"
                        )
                    raise UnsupportedConstructError(construct, graph.name(subject), SUPPORTED)
                for value in values:
                    if (
                        isinstance(value, NamedNode)
                        and value.value.startswith(SH)
                        and value.value not in SHAPE_CLASSES | VALUE_TERMS
                    ):
                        raise UnsupportedConstructError(graph.name(value), graph.name(subject), SUPPORTED)


def _shape_id(node: Term) -> str:
    return focus_text(node)


def _names(shapes: Sequence[CompiledShape]) -> str:
    return ", ".join(shape.name for shape in shapes)
