"""Linked-data enrichment service for cultural-heritage records."""

from __future__ import annotations

__version__ = "0.1.0"
