"""A vector index over unit vectors: exact top-k with numpy, and an optional HNSW graph (usearch) for big ones.

Rows are L2-normalised, so a dot product is the cosine and the score of a hit. Exact search is one matrix-vector
product and an ``argpartition``; the matrix is memory-mapped from ``vectors.npy``, so opening a 1M x 512 index
reads nothing until the first query (the page cache keeps it warm after that).

Exact search reads the whole matrix per query (2 GB at 1M x 512 float32), which memory bandwidth bounds at a few
hundred milliseconds on a small CPU. Indexes of at least ``IndexOptions.ann_min_vectors`` rows therefore also
get an HNSW graph when usearch is installed; ``exact=True`` still answers exactly. Filters narrow the rows to an
allowed set: a small set is searched exactly over its own rows (fast, whatever the graph), a large one through
the graph with over-fetching, falling back to exact when too few allowed hits come back.

Files, under one folder per (model card, modality)::

    meta.json                   what the index holds and which files are current (written last: the commit)
    vectors-{build}.npy         the (n, dim) matrix, float32 or float16
    ids-{build}.json            the record id of every row
    ann-{build}.usearch         the HNSW graph (only for large indexes)

A rebuild writes new files under a new build id and then replaces ``meta.json``; readers that mapped the old
files keep reading them (unlinked files live on while mapped), and a crash mid-build leaves the old index whole.
"""

from __future__ import annotations

import json
import os
import time
import uuid
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

FORMAT = 1
Storage = Literal["float32", "float16"]
#: Below this many allowed rows a filtered query is answered exactly over those rows alone (a gather and a
#: product over at most this many rows costs less than a graph walk that must over-fetch).
EXACT_FILTER_MAX = 50_000
#: Rows per block when scoring float16 vectors without torch (numpy has no fast float16 product).
_BLOCK = 65_536


class IndexUnavailable(LookupError):
    """An index folder is missing, unreadable or of another format."""


@dataclass(frozen=True, slots=True)
class IndexOptions:
    """How an index is built. ``ann_min_vectors``: smallest index that gets an HNSW graph (0: never)."""

    storage: Storage = "float32"
    ann_min_vectors: int = 200_000
    connectivity: int = 16
    #: Candidates kept while inserting / searching. Measured at 1M x 512 (tests/benchmarks/bench_similarity.py):
    #: expansion_search 64 → 128 → 256 gives recall@10 0.953 → 0.966 → 0.976 at p50 0.9 → 1.0 → 1.3 ms.
    expansion_add: int = 64
    expansion_search: int = 128
    threads: int = 0  # 0: every core


@dataclass(frozen=True, slots=True)
class IndexMeta:
    """``meta.json``: what was indexed, from which state of the source, and the current files."""

    count: int
    dim: int
    storage: Storage
    build: str
    built_at: float
    ann: bool
    #: What the source looked like when the index was built (the embedding cache's counts): a different
    #: state means new vectors, and a rebuild.
    source_state: Mapping[str, Any] = field(default_factory=dict)
    #: Free-form description (card hash, modality, card name).
    about: Mapping[str, Any] = field(default_factory=dict)
    build_seconds: float = 0.0
    #: Candidates a graph search keeps (usearch's ``expansion_search``): more is slower and more exact.
    expansion_search: int = 128
    format: int = FORMAT

    def file(self, kind: str) -> str:
        suffix = {"vectors": "npy", "ids": "json", "ann": "usearch"}[kind]
        return f"{kind}-{self.build}.{suffix}"


def _unit_query(query: npt.ArrayLike, dim: int) -> npt.NDArray[np.float32]:
    import numpy as np

    vector = np.asarray(query, dtype=np.float32).reshape(-1)
    if vector.shape[0] != dim:
        raise ValueError(f"the query has {vector.shape[0]} dimensions, the index {dim}")
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("the query vector is zero or not finite")
    return vector / norm


def _top(scores: npt.NDArray[np.float32], rows: npt.NDArray[np.int64] | None, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (row, score), best first; ``rows`` maps score positions to index rows (None: identity)."""
    import numpy as np

    if k <= 0 or scores.shape[0] == 0:
        return []
    best = np.argpartition(scores, -k)[-k:] if k < scores.shape[0] else np.arange(scores.shape[0])
    order = best[np.lexsort((best, -scores[best]))]  # score descending, then row: a stable answer on ties
    picked = order if rows is None else rows[order]
    return [(int(row), float(scores[pos])) for row, pos in zip(picked, order, strict=True)]


class VectorIndex:
    """Record ids and their unit vectors, searchable by cosine. Build one with :meth:`build` (in memory) or
    :meth:`write` (on disk), open one with :meth:`open`."""

    def __init__(
        self,
        ids: Sequence[str],
        matrix: npt.NDArray[np.floating],
        meta: IndexMeta | None = None,
        ann: Any = None,
    ) -> None:
        if len(ids) != matrix.shape[0]:
            raise ValueError(f"{len(ids)} ids for {matrix.shape[0]} vectors")
        if len(set(ids)) != len(ids):
            raise ValueError("record ids must be unique in an index")
        self.ids = list(ids)
        self.matrix = matrix
        self.dim = int(matrix.shape[1]) if matrix.ndim == 2 else 0
        self.meta = meta
        self.ann = ann
        #: Largest allowed set searched exactly over its own rows when the index has a graph.
        self.exact_filter_max = EXACT_FILTER_MAX

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def rows(self) -> dict[str, int]:
        """Record id → row (built on first use: filters and record look-ups need it, plain queries do not)."""
        return {rid: row for row, rid in enumerate(self.ids)}

    # -- building --------------------------------------------------------------------------------------

    @classmethod
    def build(cls, ids: Sequence[str], matrix: npt.ArrayLike, storage: Storage = "float32") -> VectorIndex:
        """An in-memory exact index; rows are normalised here (zero rows are refused)."""
        return cls(ids, _normalised(matrix, storage))

    @classmethod
    def write(
        cls,
        folder: Path,
        ids: Sequence[str],
        matrix: npt.ArrayLike,
        options: IndexOptions = IndexOptions(),
        source_state: Mapping[str, Any] | None = None,
        about: Mapping[str, Any] | None = None,
    ) -> VectorIndex:
        """Write an index to ``folder`` (replacing what is there, atomically) and open it."""
        import numpy as np

        started = time.perf_counter()
        vectors = _normalised(matrix, options.storage)
        if len(ids) != vectors.shape[0]:
            raise ValueError(f"{len(ids)} ids for {vectors.shape[0]} vectors")
        if len(set(ids)) != len(ids):
            raise ValueError("record ids must be unique in an index")
        folder.mkdir(parents=True, exist_ok=True)
        build = f"{int(time.time())}-{uuid.uuid4().hex[:8]}"
        want_ann = 0 < options.ann_min_vectors <= len(ids) and ann_available()
        meta = IndexMeta(
            count=len(ids),
            dim=int(vectors.shape[1]),
            storage=options.storage,
            build=build,
            built_at=time.time(),
            ann=want_ann,
            source_state=dict(source_state or {}),
            about=dict(about or {}),
            expansion_search=options.expansion_search,
        )
        _atomic(folder / meta.file("vectors"), lambda handle: np.save(handle, vectors, allow_pickle=False))
        _atomic(folder / meta.file("ids"), lambda handle: handle.write(json.dumps(list(ids)).encode("utf-8")))
        if want_ann:
            graph = _new_graph(meta.dim, options)
            graph.add(np.arange(len(ids), dtype=np.uint64), vectors, threads=options.threads)
            partial = folder / (meta.file("ann") + ".partial")
            graph.save(str(partial))
            os.replace(partial, folder / meta.file("ann"))
        meta = IndexMeta(**{**asdict(meta), "build_seconds": round(time.perf_counter() - started, 3)})
        previous = _read_meta(folder)
        _atomic(folder / "meta.json", lambda handle: handle.write(json.dumps(asdict(meta), indent=2).encode("utf-8")))
        if previous is not None and previous.build != build:
            for kind in ("vectors", "ids", "ann"):
                (folder / previous.file(kind)).unlink(missing_ok=True)
        return cls.open(folder)

    @classmethod
    def open(cls, folder: Path) -> VectorIndex:
        """An index written by :meth:`write`, its matrix memory-mapped (and its graph, when it has one)."""
        import numpy as np

        meta = _read_meta(folder)
        if meta is None:
            raise IndexUnavailable(f"no vector index in {folder}")
        try:
            matrix = np.load(folder / meta.file("vectors"), mmap_mode="r", allow_pickle=False)
            ids = json.loads((folder / meta.file("ids")).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"the vector index in {folder} is unreadable: {exc}") from exc
        ann = None
        if meta.ann and ann_available():
            from usearch.index import Index

            ann = Index.restore(str(folder / meta.file("ann")), view=True, expansion_search=meta.expansion_search)
            if ann is None:
                raise IndexUnavailable(f"the graph of the vector index in {folder} is unreadable")
        return cls(ids, matrix, meta, ann)

    # -- searching -------------------------------------------------------------------------------------

    def vector(self, record_id: str) -> npt.NDArray[np.float32] | None:
        """The stored (unit) vector of a record, or None when the index does not hold it."""
        import numpy as np

        row = self.rows.get(record_id)
        return None if row is None else np.asarray(self.matrix[row], dtype=np.float32)

    def search(
        self,
        query: npt.ArrayLike,
        k: int,
        filter_ids: Collection[str] | None = None,
        exclude: Collection[str] = (),
        exact: bool = False,
    ) -> list[tuple[str, float]]:
        """The ``k`` records nearest to ``query`` as (record id, cosine), best first.

        ``filter_ids``: only these records (None: all); ``exclude``: never these (the query record itself).
        """
        import numpy as np

        if k < 1:
            raise ValueError("k must be at least 1")
        vector = _unit_query(query, self.dim)
        skip = {self.rows[rid] for rid in exclude if rid in self.rows}
        if filter_ids is not None:
            rows = self.rows
            allowed = np.unique(np.array([rows[rid] for rid in filter_ids if rid in rows], dtype=np.int64))
            if skip:
                allowed = allowed[~np.isin(allowed, np.array(sorted(skip), dtype=np.int64))]
            if allowed.shape[0] == 0:
                return []
            if allowed.shape[0] <= self.exact_filter_max or self.ann is None or exact:
                return self._named(_top(self._scores(vector, allowed), allowed, k))
            hits = self._graph_filtered(vector, k, allowed)
            return self._named(hits if hits is not None else _top(self._scores(vector, allowed), allowed, k))
        if self.ann is not None and not exact:
            hits = self._graph(vector, k + len(skip), skip)
            if len(hits) >= min(k, len(self) - len(skip)):
                return self._named(hits[:k])
        scores = self._scores(vector, None)
        if skip:
            scores[list(skip)] = -np.inf
        found = _top(scores, None, min(k, len(self) - len(skip)))
        return self._named(found)

    def _named(self, hits: list[tuple[int, float]]) -> list[tuple[str, float]]:
        return [(self.ids[row], score) for row, score in hits]

    def _scores(self, vector: npt.NDArray[np.float32], rows: npt.NDArray[np.int64] | None) -> npt.NDArray[np.float32]:
        """Cosines of the query with every row (or the given rows), float32."""
        import numpy as np

        if rows is not None and rows.shape[0] * 4 > len(self):
            # Gathering most of the rows costs as much as reading them all: score everything, keep the rows.
            return self._scores(vector, None)[rows]
        matrix = self.matrix if rows is None else self.matrix[rows]
        if matrix.dtype == np.float32:
            return np.asarray(matrix @ vector, dtype=np.float32)
        return _half_scores(matrix, vector)

    def _graph(self, vector: npt.NDArray[np.float32], count: int, skip: Collection[int]) -> list[tuple[int, float]]:
        """Approximate nearest rows from the HNSW graph, skipped rows left out."""
        found = self.ann.search(vector, count)
        hits = [(int(key), 1.0 - float(distance)) for key, distance in zip(found.keys, found.distances, strict=True)]
        return [(row, score) for row, score in hits if row not in skip]

    def _graph_filtered(
        self, vector: npt.NDArray[np.float32], k: int, allowed: npt.NDArray[np.int64]
    ) -> list[tuple[int, float]] | None:
        """Graph search over-fetching by the inverse of the allowed share; None when too few allowed hits."""
        share = allowed.shape[0] / len(self)
        count = min(len(self), int(k / share * 2) + 16)
        permitted = set(allowed.tolist())
        hits = [(row, score) for row, score in self._graph(vector, count, ()) if row in permitted]
        return hits[:k] if len(hits) >= min(k, allowed.shape[0]) else None


def _normalised(matrix: npt.ArrayLike, storage: Storage) -> npt.NDArray[np.floating]:
    import numpy as np

    rows = np.asarray(matrix, dtype=np.float32)
    if rows.ndim != 2:
        raise ValueError(f"expected an (n, dim) matrix, got shape {rows.shape}")
    if rows.shape[0] and not np.isfinite(rows).all():
        raise ValueError("the vectors hold NaN or infinite values")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    if rows.shape[0] and float(norms.min()) == 0.0:
        raise ValueError("a zero vector cannot be indexed")
    unit = rows / norms if rows.shape[0] else rows
    return unit.astype(np.float16 if storage == "float16" else np.float32)


def _half_scores(matrix: npt.NDArray[np.floating], vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """float16 rows · query: through torch when installed (a half-precision product is fast there), else in
    float32 blocks (numpy computes float16 products without SIMD, tens of times slower)."""
    import numpy as np

    try:
        import torch
    except ImportError:
        out = np.empty(matrix.shape[0], dtype=np.float32)
        for start in range(0, matrix.shape[0], _BLOCK):
            out[start : start + _BLOCK] = matrix[start : start + _BLOCK].astype(np.float32) @ vector
        return out
    with warnings.catch_warnings():
        # A memory-mapped index is read-only; torch warns about that, and the product never writes to it.
        warnings.simplefilter("ignore", UserWarning)
        rows = torch.from_numpy(np.ascontiguousarray(matrix))
    product = rows @ torch.from_numpy(vector.astype(np.float16))
    return np.asarray(product.float().numpy(), dtype=np.float32)


def ann_available() -> bool:
    """Whether usearch (the optional HNSW library) is installed."""
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        return False
    return True


def _new_graph(dim: int, options: IndexOptions) -> Any:
    from usearch.index import Index

    return Index(
        ndim=dim,
        metric="ip",  # rows are unit vectors: inner product is the cosine, distance = 1 - cosine
        dtype="f16",
        connectivity=options.connectivity,
        expansion_add=options.expansion_add,
        expansion_search=options.expansion_search,
    )


def _read_meta(folder: Path) -> IndexMeta | None:
    path = folder / "meta.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise IndexUnavailable(f"the vector index in {folder} has format {data.get('format')}, not {FORMAT}")
        return IndexMeta(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexUnavailable(f"the vector index in {folder} is unreadable: {exc}") from exc


def read_meta(folder: Path) -> IndexMeta | None:
    """The index's ``meta.json`` (None when the folder holds no index)."""
    return _read_meta(folder)


def _atomic(path: Path, write: Any) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
