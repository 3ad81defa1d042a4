"""Generated images on disk, content-addressed: ``{data_dir}/generated/{sha256[:2]}/{sha256}.png``.

The same bytes are one file whichever record or run made them; a seeded pipeline makes the same bytes
again, so a repeated run finds its images already stored.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

GENERATED_DIR = "generated"


def generated_root(data_dir: str | Path) -> Path:
    return Path(data_dir).expanduser() / GENERATED_DIR


def image_path(data_dir: str | Path, digest: str) -> Path:
    return generated_root(data_dir) / digest[:2] / f"{digest}.png"


def store_png(data_dir: str | Path, data: bytes) -> tuple[str, Path]:
    """Write ``data`` under its SHA-256 unless it is there already; returns (digest, path)."""
    digest = hashlib.sha256(data).hexdigest()
    path = image_path(data_dir, digest)
    if path.is_file() and path.stat().st_size == len(data):
        return digest, path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary file and rename: a reader never sees half a PNG, and two writers of the same
    # image leave one whole file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest, path
