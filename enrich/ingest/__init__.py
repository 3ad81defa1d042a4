"""Ingest of EDM records: safe parsing, record splitting, validation and all-or-nothing writes."""

from __future__ import annotations

from enrich.ingest.errors import IngestError, InputError, ValidationFailed
from enrich.ingest.pipeline import IngestOptions, Ingestor, IngestReport
from enrich.ingest.sources import documents

__all__ = [
    "IngestError",
    "IngestOptions",
    "IngestReport",
    "Ingestor",
    "InputError",
    "ValidationFailed",
    "documents",
]
