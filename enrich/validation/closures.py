"""The closures a compiled shape runs: one that reports violations, one that only answers "conforms?".

Both take the record index and a focus node. The reporter is what validation runs for shapes with
targets; the conformance check is what sh:or, sh:and and sh:not ask of their operand shapes, and it stops
at the first failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from enrich.validation.constraints import Conforms, Constraint
from enrich.validation.paths import PathFunction, RecordIndex
from enrich.validation.terms import Term, ValueSet, focus_text, n_triples
from enrich.validation.violation import Violation

Reporter = Callable[[RecordIndex, Term, list[Violation]], None]


@dataclass(frozen=True)
class ShapeLabel:
    """How a shape's results name it: its id, its name in the shapes file, its path text, its sh:message."""

    id: str
    name: str
    path: str | None
    message: str | None


def shape_conforms(
    path: PathFunction | None,
    checks: Sequence[Constraint],
    properties: Sequence[Conforms],
    deactivated: bool,
) -> Conforms:
    failure_functions = tuple(check.failures for check in checks)
    property_conforms = tuple(properties)

    def conforms(index: RecordIndex, focus: Term) -> bool:
        if deactivated:
            return True
        values: ValueSet = path(index, focus) if path is not None else {focus: None}
        for failures in failure_functions:
            if failures(index, focus, values):
                return False
        for child in property_conforms:
            for value in values:
                if not child(index, value):
                    return False
        return True

    return conforms


def shape_reporter(
    label: ShapeLabel,
    path: PathFunction | None,
    checks: Sequence[Constraint],
    properties: Sequence[Reporter],
    deactivated: bool,
) -> Reporter:
    shape_id, shown_path = label.id, label.path
    # (component, message, check) for each constraint, with the message settled at compile time.
    plan = tuple(
        (check.component, label.message or generated_message(label, check), check.failures) for check in checks
    )
    property_reporters = tuple(properties)

    def report(index: RecordIndex, focus: Term, out: list[Violation]) -> None:
        if deactivated:
            return
        values: ValueSet = path(index, focus) if path is not None else {focus: None}
        for component, text, failures in plan:
            for value in failures(index, focus, values):
                out.append(
                    Violation(
                        focus_text(focus),
                        shown_path,
                        component,
                        shape_id,
                        text,
                        None if value is None else n_triples(value),
                    )
                )
        for child in property_reporters:
            for value in values:
                child(index, value, out)

    return report


def generated_message(label: ShapeLabel, check: Constraint) -> str:
    """The message of a shape without sh:message: the property (or the node), the rule and the shape."""
    if label.path is not None:
        return f"Property {label.path} {check.rule} (shape {label.name})."
    return f"The node {check.rule} (shape {label.name})."
