"""Errors raised by ingest, each naming the input and, where known, the line or record."""

from __future__ import annotations

from typing import Any


class IngestError(RuntimeError):
    """Ingest stopped; nothing from this run was kept."""


class InputError(IngestError):
    """An input cannot be read or parsed (malformed, hostile, too large, unknown format)."""

    def __init__(self, source: str, problem: str, line: int | None = None, column: int | None = None) -> None:
        self.source = source
        self.problem = problem
        self.line = line
        self.column = column
        where = source if line is None else f"{source}:{line}" + ("" if column is None else f":{column}")
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled across processes (Ray workers): subclasses have other constructors, so rebuild through ours.
        return (_rebuild_input_error, (type(self), self.source, self.problem, self.line, self.column))


def _rebuild_input_error(
    kind: type[InputError], source: str, problem: str, line: int | None, column: int | None
) -> InputError:
    error = kind.__new__(kind)
    InputError.__init__(error, source, problem, line, column)
    return error


class ValidationFailed(IngestError):
    """Some records break the EDM rules and ``--skip-invalid`` was not given."""

    def __init__(self, message: str, invalid_records: int) -> None:
        self.invalid_records = invalid_records
        super().__init__(message)
