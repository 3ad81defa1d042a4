"""Errors raised while reading and compiling a shapes file."""

from __future__ import annotations


class ShapesError(ValueError):
    """The shapes file cannot be compiled: it is malformed or leaves the supported subset of SHACL."""


class UnsupportedConstructError(ShapesError):
    """A shape uses a SHACL construct that the compiled validator does not implement."""

    def __init__(self, construct: str, shape: str, supported: tuple[str, ...]) -> None:
        self.construct = construct
        self.shape = shape
        super().__init__(
            f"shape {shape} uses {construct}, which the compiled validator does not support; "
            f"supported SHACL constructs: {', '.join('sh:' + name for name in supported)}"
        )
