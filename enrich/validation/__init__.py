"""SHACL validation of records against shapes compiled into plain Python checks.

``CompiledShapes.edm().validate(triples)`` checks one record against ``shapes/edm.ttl``; the results agree
with pySHACL's report (same focus node, path, constraint component and source shape) while running about a
hundred times faster, which matters at ingest, where every record is validated. Only a subset of SHACL
Core is compiled (see ``vocabulary.py``); a shapes file using anything else is refused with a
``ShapesError`` naming the construct and the shape.
"""

from __future__ import annotations

from enrich.validation.compiler import ShapeSummary
from enrich.validation.errors import ShapesError, UnsupportedConstructError
from enrich.validation.validator import CompiledShapes
from enrich.validation.violation import Violation

__all__ = ["CompiledShapes", "ShapeSummary", "ShapesError", "UnsupportedConstructError", "Violation"]
