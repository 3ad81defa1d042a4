"""Enrichment runs: definitions, record selection, batching, checkpoints and resuming (DESIGN §7).

Names are imported on first use, so ``enrich.jobs.commands`` (argument parsing) loads no RDF library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from enrich.jobs.run import (
        EnricherSpec,
        RunDefinition,
        RunNotFound,
        RunState,
        RunSummary,
        list_runs,
        read_run,
        run_enrichment,
        stored_definition,
        unfinished_run,
    )
    from enrich.jobs.selection import Selection

_WHERE = {
    "EnricherSpec": "run",
    "RunDefinition": "run",
    "RunNotFound": "run",
    "RunState": "run",
    "RunSummary": "run",
    "list_runs": "run",
    "read_run": "run",
    "run_enrichment": "run",
    "stored_definition": "run",
    "unfinished_run": "run",
    "Selection": "selection",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'enrich.jobs' has no attribute {name!r}")
    return getattr(importlib.import_module(f"enrich.jobs.{module}"), name)


__all__ = [
    "EnricherSpec",
    "RunDefinition",
    "RunNotFound",
    "RunState",
    "RunSummary",
    "Selection",
    "list_runs",
    "read_run",
    "run_enrichment",
    "stored_definition",
    "unfinished_run",
]
