"""Paths to the real AAT reference data used by the vocabulary tests."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_AAT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "aat"
GETTY_SAMPLES = SHARED_AAT / "getty-lod-samples"
AAT_HIERARCHY_JSON = SHARED_AAT / "mdlincoln_aat_hierarchy_2014-02.json"
DATA = Path(__file__).resolve().parent / "data"


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"reference data not found: {path}")
    return path


def getty_files() -> list[Path]:
    return sorted(require(GETTY_SAMPLES).glob("aat_*.ttl"))
