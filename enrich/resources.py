"""Locates the data folders (ontology, shapes, mappings) in a checkout or an installed package."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
# A wheel carries the folders under enrich/_data/; a checkout (or editable install) has them at the top.
_CANDIDATES = (_PACKAGE_DIR / "_data", _PACKAGE_DIR.parent)


def data_dir(name: str) -> Path:
    """Return the folder ``ontology``, ``shapes`` or ``mappings`` that ships with the package."""
    for root in _CANDIDATES:
        candidate = root / name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"data folder {name!r} not found under {', '.join(map(str, _CANDIDATES))}")


def shapes_file(name: str) -> Path:
    return data_dir("shapes") / name


def ontology_file(name: str) -> Path:
    return data_dir("ontology") / name


def samples_dir() -> Path:
    """The bundled sample records (written for this project) used by the default job."""
    return _PACKAGE_DIR / "samples"
