"""What a head reads: per record, one vector per feature source (a model card and a modality).

Training, evaluation and the ``classify`` enricher take a :class:`FeatureProvider`, never the embedding
cache itself: the real pipeline feeds the ``embed`` enricher's vectors (:func:`embedding_features`), tests
feed synthetic matrices (:class:`ArrayFeatures`), and the heads cannot tell the difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast, get_args

import numpy as np

from enrich.embeddings.cache import GENERATED_IMAGE, Modality
from enrich.ingest.errors import InputError

if TYPE_CHECKING:
    from enrich.embeddings.cache import EmbeddingCache
    from enrich.models.cards import ModelSpec


@dataclass(frozen=True, slots=True)
class FeatureSource:
    """One input of the heads: the vectors of ``modality`` from the model card ``card`` (by name and hash)."""

    card: str
    card_hash: str
    modality: str
    dim: int

    @property
    def name(self) -> str:
        return f"{self.card}:{self.modality}"

    def as_json(self) -> dict[str, object]:
        return {"card": self.card, "card_hash": self.card_hash, "modality": self.modality, "dim": self.dim}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> FeatureSource:
        return cls(str(data["card"]), str(data["card_hash"]), str(data["modality"]), int(str(data["dim"])))


class FeatureProvider(Protocol):
    """Record ids in, one float32 matrix per source out (rows in the order asked, zeros where a record has
    no vector), with a (records x sources) boolean matrix saying which rows are real."""

    @property
    def sources(self) -> tuple[FeatureSource, ...]: ...

    def features(self, record_ids: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]: ...


class ArrayFeatures:
    """A feature provider over matrices held in memory: per source, record ids and their rows."""

    def __init__(self, data: Mapping[FeatureSource, tuple[Sequence[str], np.ndarray]]) -> None:
        if not data:
            raise InputError("--features", "no feature source given")
        self._sources = tuple(sorted(data, key=lambda s: s.name))
        self._rows: dict[str, dict[str, int]] = {}
        self._matrices: dict[str, np.ndarray] = {}
        for source in self._sources:
            ids, matrix = data[source]
            matrix = np.asarray(matrix, dtype=np.float32)
            if matrix.ndim != 2 or matrix.shape[0] != len(ids) or matrix.shape[1] != source.dim:
                raise InputError(
                    source.name, f"expected {len(ids)} x {source.dim} vectors, got a matrix of shape {matrix.shape}"
                )
            self._rows[source.name] = {rid: i for i, rid in enumerate(ids)}
            self._matrices[source.name] = matrix

    @property
    def sources(self) -> tuple[FeatureSource, ...]:
        return self._sources

    def features(self, record_ids: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        out: dict[str, np.ndarray] = {}
        present = np.zeros((len(record_ids), len(self._sources)), dtype=bool)
        for j, source in enumerate(self._sources):
            rows = self._rows[source.name]
            picked = np.array([rows.get(rid, -1) for rid in record_ids], dtype=np.int64)
            present[:, j] = picked >= 0
            matrix = np.zeros((len(record_ids), source.dim), dtype=np.float32)
            if present[:, j].any():
                matrix[present[:, j]] = self._matrices[source.name][picked[present[:, j]]]
            out[source.name] = matrix
        return out, present

    def coverage(self) -> dict[str, int]:
        """Records with a vector, per source."""
        return {name: len(rows) for name, rows in self._rows.items()}


def cache_modality(value: str) -> Modality:
    """A feature source's modality as the embedding cache names it (real images, text, generated images)."""
    for known in get_args(Modality):
        if value == known:
            return cast("Modality", known)
    raise InputError(value, f"not a modality of the embedding cache ({', '.join(get_args(Modality))})")


def modalities_of(spec: ModelSpec, generated: bool = False) -> tuple[str, ...]:
    """The vectors a card gives records: a CLIP card images and text (one space), a text encoder text. With
    ``generated``, a CLIP card also gives the vectors of generated images, as a source of their own, so that
    evaluation can report real-image and generated-image results apart."""
    if spec.kind == "clip":
        return ("image", "text", GENERATED_IMAGE) if generated else ("image", "text")
    if spec.kind == "text-encoder":
        return ("text",)
    raise InputError(spec.name, f"a {spec.kind} card gives no record vectors (use a clip or text-encoder card)")


def embedding_features(data_dir: str, specs: Sequence[ModelSpec], generated: bool = False) -> ArrayFeatures:
    """The ``embed`` enricher's record vectors for the given cards (what ``enrich train --features`` reads).

    A modality no record has a vector of is left out (a CLIP card used on a collection without images gives
    text features only); no vector at all for any card is an error naming the command that makes them.
    """
    cache = _cache(data_dir)
    data: dict[FeatureSource, tuple[Sequence[str], np.ndarray]] = {}
    for spec in specs:
        for modality in modalities_of(spec, generated):
            ids, matrix = cache.record_vectors(spec.hash, cache_modality(modality))
            if len(ids):
                data[FeatureSource(spec.name, spec.hash, modality, int(matrix.shape[1]))] = (ids, matrix)
    if not data:
        names = ",".join(spec.name for spec in specs)
        raise InputError(
            "--features",
            f"no record vectors of {names} in {data_dir}/embeddings; compute them first with the embed "
            "enricher (enrich run --enrichers embed, configured with the card)",
        )
    return ArrayFeatures(data)


def embedding_features_for(data_dir: str, sources: Sequence[FeatureSource]) -> ArrayFeatures:
    """The record vectors of a trained model's feature sources (by card hash), as they are now."""
    cache = _cache(data_dir)
    data: dict[FeatureSource, tuple[Sequence[str], np.ndarray]] = {}
    for source in sources:
        ids, matrix = cache.record_vectors(source.card_hash, cache_modality(source.modality))
        if len(ids) and matrix.shape[1] != source.dim:
            raise InputError(source.name, f"the cached vectors have {matrix.shape[1]} dimensions, not {source.dim}")
        data[source] = (ids, matrix if len(ids) else np.zeros((0, source.dim), dtype=np.float32))
    return ArrayFeatures(data)


def _cache(data_dir: str) -> EmbeddingCache:
    from enrich.embeddings import EmbeddingCache, embeddings_root

    return EmbeddingCache(embeddings_root(data_dir))


class CachedFeatures:
    """A feature provider that reads the embedding cache a batch of records at a time (the ``classify``
    enricher's: a run touches each record once, so nothing is held beyond the batch)."""

    def __init__(self, data_dir: str, sources: Sequence[FeatureSource]) -> None:
        self._cache = _cache(data_dir)
        self._sources = tuple(sources)

    @property
    def sources(self) -> tuple[FeatureSource, ...]:
        return self._sources

    def features(self, record_ids: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        out: dict[str, np.ndarray] = {}
        present = np.zeros((len(record_ids), len(self._sources)), dtype=bool)
        for j, source in enumerate(self._sources):
            vectors = self._cache.vectors_for(source.card_hash, cache_modality(source.modality), record_ids)
            matrix = np.zeros((len(record_ids), source.dim), dtype=np.float32)
            for i, rid in enumerate(record_ids):
                if rid in vectors:
                    matrix[i] = vectors[rid]
                    present[i, j] = True
            out[source.name] = matrix
        return out, present
