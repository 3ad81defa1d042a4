"""One validation result, in the terms pySHACL's report uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """A focus node that fails one constraint of one shape.

    ``focus`` is an IRI, or ``_:id`` for a blank node; ``path`` is the property path as text
    (``dc:title``, ``^ore:proxyFor/dc:title``, alternatives joined with `` | ``), or ``None`` for a
    constraint on the node itself; ``component`` is the IRI of the SHACL constraint component; ``shape`` the
    IRI of the shape that carries the constraint; ``value`` the offending value in N-Triples form, when
    there is one.
    """

    focus: str
    path: str | None
    component: str
    shape: str
    message: str
    value: str | None = None
