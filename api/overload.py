"""503 + Retry-After when too many requests are in flight (being built)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the in-flight limit to ``app``."""
