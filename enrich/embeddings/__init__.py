"""Embeddings of records' images and texts, cached by (model card, content) (DESIGN §6).

Readers of vectors (the similarity index, the classifiers) go through :func:`record_vectors` or
:meth:`EmbeddingCache.record_vectors`. Importing this package loads no model library.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from enrich.embeddings.cache import MODALITIES, EmbeddingCache, Modality, content_hash

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from enrich.settings import Settings


def embeddings_root(data_dir: str | Path) -> Path:
    """Where the embedding cache lives under the settings' ``data_dir``."""
    return Path(data_dir) / "embeddings"


def cache_for(settings: Settings) -> EmbeddingCache:
    """The embedding cache of these settings (``{data_dir}/embeddings``)."""
    return EmbeddingCache(embeddings_root(settings.data_dir))


def record_vectors(settings: Settings, spec_hash: str, modality: Modality) -> tuple[list[str], npt.NDArray[np.float32]]:
    """Record ids (sorted) and their unit vectors for one card and modality, from the settings' cache."""
    return cache_for(settings).record_vectors(spec_hash, modality)


__all__ = ["MODALITIES", "EmbeddingCache", "Modality", "cache_for", "content_hash", "embeddings_root", "record_vectors"]
