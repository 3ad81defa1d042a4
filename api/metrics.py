"""Prometheus /metrics (being built)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the request-counting middleware and the /metrics route to ``app``."""
