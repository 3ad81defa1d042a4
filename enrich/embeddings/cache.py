"""The embedding cache: vectors keyed by (model card hash, content hash), and which records they belong to.

Layout under the root (``{data_dir}/embeddings``), one folder per card hash::

    {spec_hash}/index.sqlite        content hash → (shard, row); record → content hashes; source → content hash
    {spec_hash}/shards/{n:08d}.npy  float16 matrices, one per write

A vector is computed once per (card, content): the same image bytes or the same text under another record,
URL or run is a cache hit. Vectors are kept as float16 (half the disk of float32, far below the models'
own noise) and come back as float32 rows renormalised to length 1.

Crash safety: a write takes SQLite's write lock, writes its shard to a temporary file and renames it into
place, then commits the rows that point at it. A crash before the commit leaves at most an unreferenced
shard, which the next write of the same number replaces; the index never names a missing or partial shard.
Each call opens its own connection, so threads and processes can share a cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: What a record's vector is made of. ``generated-image`` links the record's machine-made images (the
#: ``generate`` enricher's suggestions) apart from the provider's, so ``image`` keeps meaning real images.
Modality = Literal["image", "text", "generated-image"]
#: The modalities a search or a similarity run may ask for (generated images are opt-in by name).
MODALITIES: tuple[Modality, ...] = ("image", "text")
GENERATED_IMAGE: Modality = "generated-image"
#: Rows per SQLite statement when looking up many keys (below SQLite's variable limit).
_CHUNK = 900

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (content TEXT PRIMARY KEY, shard INTEGER NOT NULL, row INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS shards (id INTEGER PRIMARY KEY, rows INTEGER NOT NULL, dim INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    modality TEXT NOT NULL, record TEXT NOT NULL, position INTEGER NOT NULL, content TEXT NOT NULL,
    PRIMARY KEY (modality, record, position)
);
CREATE TABLE IF NOT EXISTS sources (source TEXT PRIMARY KEY, content TEXT NOT NULL, stamp TEXT NOT NULL);
"""


def content_hash(data: bytes | str) -> str:
    """32 hex digits of SHA-256 (text as UTF-8): the key of one input to a model."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:32]


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marks(n: int) -> str:
    return ",".join("?" * n)


class EmbeddingCache:
    """Vectors of every card under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, spec_hash: str) -> Path:
        if not spec_hash or not all(c.isalnum() or c in "-_" for c in spec_hash):
            raise ValueError(f"not a card hash: {spec_hash!r}")
        return self.root / spec_hash

    @contextmanager
    def _connect(self, spec_hash: str, write: bool = False) -> Iterator[sqlite3.Connection]:
        folder = self.folder(spec_hash)
        if write:
            (folder / "shards").mkdir(parents=True, exist_ok=True)
        elif not (folder / "index.sqlite").is_file():
            raise FileNotFoundError(folder / "index.sqlite")
        with closing(sqlite3.connect(folder / "index.sqlite", timeout=60.0, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            if write:
                db.executescript(_SCHEMA)
            yield db

    def _shard_path(self, spec_hash: str, shard: int) -> Path:
        return self.folder(spec_hash) / "shards" / f"{shard:08d}.npy"

    # -- vectors by content -----------------------------------------------------------------------------

    def put_many(self, spec_hash: str, contents: Sequence[str], vectors: npt.NDArray[np.floating]) -> int:
        """Store one vector per content hash (rows of ``vectors``); hashes already stored are skipped.
        Returns how many were new."""
        import numpy as np

        if len(contents) != len(vectors):
            raise ValueError(f"{len(contents)} content hashes for {len(vectors)} vectors")
        if not len(contents):
            return 0
        matrix = np.asarray(vectors, dtype=np.float32)
        with self._connect(spec_hash, write=True) as db:
            db.execute("BEGIN IMMEDIATE")  # one writer: shard numbers and rows stay consistent
            try:
                known = self._known(db, list(dict.fromkeys(contents)))
                keep: dict[str, int] = {}
                for row, content in enumerate(contents):
                    if content not in known and content not in keep:
                        keep[content] = row
                if not keep:
                    db.execute("ROLLBACK")
                    return 0
                shard = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM shards").fetchone()[0]
                rows = matrix[list(keep.values())].astype(np.float16)
                self._write_shard(self._shard_path(spec_hash, shard), rows)
                db.execute("INSERT INTO shards (id, rows, dim) VALUES (?, ?, ?)", (shard, len(rows), rows.shape[1]))
                db.executemany(
                    "INSERT INTO vectors (content, shard, row) VALUES (?, ?, ?)",
                    [(content, shard, i) for i, content in enumerate(keep)],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(keep)

    @staticmethod
    def _write_shard(path: Path, rows: npt.NDArray[np.float16]) -> None:
        import numpy as np

        partial = path.with_suffix(".partial")
        with partial.open("wb") as handle:
            np.save(handle, rows, allow_pickle=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)

    @staticmethod
    def _known(db: sqlite3.Connection, contents: Sequence[str]) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for chunk in _chunks(contents):
            query = f"SELECT content, shard, row FROM vectors WHERE content IN ({_marks(len(chunk))})"
            for content, shard, row in db.execute(query, list(chunk)):
                found[content] = (shard, row)
        return found

    def has_many(self, spec_hash: str, contents: Sequence[str]) -> set[str]:
        """Which of these content hashes have a vector (nothing is read from the shards)."""
        try:
            with self._connect(spec_hash) as db:
                return set(self._known(db, list(dict.fromkeys(contents))))
        except FileNotFoundError:
            return set()

    def get_many(self, spec_hash: str, contents: Sequence[str]) -> dict[str, npt.NDArray[np.float32]]:
        """The stored vectors of these content hashes (missing ones are left out), float32, unit length."""
        import numpy as np

        try:
            with self._connect(spec_hash) as db:
                where = self._known(db, list(dict.fromkeys(contents)))
        except FileNotFoundError:
            return {}
        if not where:
            return {}
        keys = list(where)
        matrix = self._gather(spec_hash, [where[k] for k in keys])
        return {key: np.asarray(matrix[i]) for i, key in enumerate(keys)}

    def _gather(self, spec_hash: str, places: Sequence[tuple[int, int]]) -> npt.NDArray[np.float32]:
        """Rows at (shard, row) places, in order, float32 and renormalised."""
        import numpy as np

        by_shard: dict[int, list[int]] = {}
        for i, (shard, _) in enumerate(places):
            by_shard.setdefault(shard, []).append(i)
        out: npt.NDArray[np.float32] | None = None
        for shard, positions in by_shard.items():
            data = np.load(self._shard_path(spec_hash, shard), mmap_mode="r", allow_pickle=False)
            if out is None:
                out = np.empty((len(places), data.shape[1]), dtype=np.float32)
            out[positions] = data[[places[i][1] for i in positions]]
        assert out is not None
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    # -- records and sources ---------------------------------------------------------------------------

    def link_records(self, spec_hash: str, modality: Modality, links: Mapping[str, Sequence[str]]) -> None:
        """Say which content (in order) each record's ``modality`` vector is made of; an empty sequence removes
        the record. Replaces what the records had."""
        if not links:
            return
        with self._connect(spec_hash, write=True) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "DELETE FROM records WHERE modality = ? AND record = ?", [(modality, rid) for rid in links]
                )
                db.executemany(
                    "INSERT INTO records (modality, record, position, content) VALUES (?, ?, ?, ?)",
                    [(modality, rid, i, c) for rid, contents in links.items() for i, c in enumerate(contents)],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def record_contents(self, spec_hash: str, modality: Modality, record_ids: Sequence[str]) -> dict[str, list[str]]:
        """The content hashes linked to each of these records (records without any are left out)."""
        found: dict[str, list[str]] = {}
        try:
            with self._connect(spec_hash) as db:
                for chunk in _chunks(list(record_ids)):
                    query = (
                        "SELECT record, content FROM records WHERE modality = ? AND record IN "
                        f"({_marks(len(chunk))}) ORDER BY record, position"
                    )
                    for record, content in db.execute(query, [modality, *chunk]):
                        found.setdefault(record, []).append(content)
        except FileNotFoundError:
            pass
        return found

    def vectors_for(
        self, spec_hash: str, modality: Modality, record_ids: Sequence[str]
    ) -> dict[str, npt.NDArray[np.float32]]:
        """One unit vector per record of these that has any (the normalised mean of a record's several
        images): what :meth:`record_vectors` gives, for a batch of records instead of all of them."""
        import numpy as np

        contents = self.record_contents(spec_hash, modality, record_ids)
        stored = self.get_many(spec_hash, [c for group in contents.values() for c in group])
        out: dict[str, npt.NDArray[np.float32]] = {}
        for rid, group in contents.items():
            rows = [stored[c] for c in group if c in stored]
            if rows:
                total = np.sum(rows, axis=0)
                norm = float(np.linalg.norm(total))
                out[rid] = (total / norm if norm > 0 else total).astype(np.float32)
        return out

    def record_vectors(self, spec_hash: str, modality: Modality) -> tuple[list[str], npt.NDArray[np.float32]]:
        """Every record with a ``modality`` vector under this card: ids (sorted) and one unit row each (the
        normalised mean when a record has several images)."""
        import numpy as np

        try:
            with self._connect(spec_hash) as db:
                rows = db.execute(
                    "SELECT r.record, v.shard, v.row FROM records r JOIN vectors v ON v.content = r.content "
                    "WHERE r.modality = ? ORDER BY r.record, r.position",
                    (modality,),
                ).fetchall()
                dim_row = db.execute("SELECT dim FROM shards LIMIT 1").fetchone()
        except FileNotFoundError:
            return [], np.zeros((0, 0), dtype=np.float32)
        if not rows:
            return [], np.zeros((0, dim_row[0] if dim_row else 0), dtype=np.float32)
        vectors = self._gather(spec_hash, [(shard, row) for _, shard, row in rows])
        ids: list[str] = []
        starts: list[int] = []
        for i, (record, _, _) in enumerate(rows):
            if not ids or ids[-1] != record:
                ids.append(record)
                starts.append(i)
        if len(ids) == len(rows):
            return ids, vectors
        summed = np.add.reduceat(vectors, starts, axis=0)
        norms = np.linalg.norm(summed, axis=1, keepdims=True)
        np.divide(summed, norms, out=summed, where=norms > 0)
        return ids, summed.astype(np.float32, copy=False)

    def forget_records(self, spec_hash: str, record_ids: Sequence[str]) -> None:
        """Drop the links of records (deleted ones); their vectors stay for any other record sharing them."""
        for modality in get_args(Modality):
            self.link_records(spec_hash, modality, {rid: () for rid in record_ids})

    def sources(self, spec_hash: str, stamps: Mapping[str, str]) -> dict[str, str]:
        """Content hashes of sources (image URLs, paths) seen before with the same stamp (for a file, its
        size and mtime; for a URL, nothing: a URL is taken to keep its content)."""
        found: dict[str, str] = {}
        try:
            with self._connect(spec_hash) as db:
                for chunk in _chunks(list(stamps)):
                    query = f"SELECT source, content, stamp FROM sources WHERE source IN ({_marks(len(chunk))})"
                    for source, content, stamp in db.execute(query, list(chunk)):
                        if stamps[source] == stamp:
                            found[source] = content
        except FileNotFoundError:
            pass
        return found

    def put_sources(self, spec_hash: str, seen: Mapping[str, tuple[str, str]]) -> None:
        """Remember source → (content hash, stamp)."""
        if not seen:
            return
        with self._connect(spec_hash, write=True) as db:
            db.executemany(
                "INSERT OR REPLACE INTO sources (source, content, stamp) VALUES (?, ?, ?)",
                [(source, content, stamp) for source, (content, stamp) in seen.items()],
            )

    def describe(self, spec_hash: str, card: Mapping[str, object]) -> None:
        """Keep the card beside its vectors (``card.json``), so a folder says which model made it."""
        folder = self.folder(spec_hash)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "card.json"
        text = json.dumps(card, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            partial = target.with_suffix(".partial")
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, target)

    def stats(self, spec_hash: str) -> dict[str, int]:
        """Counts: vectors, shards, and records per modality."""
        try:
            with self._connect(spec_hash) as db:
                counts = {
                    "vectors": db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0],
                    "shards": db.execute("SELECT COUNT(*) FROM shards").fetchone()[0],
                }
                for modality in MODALITIES:
                    counts[f"{modality}_records"] = db.execute(
                        "SELECT COUNT(DISTINCT record) FROM records WHERE modality = ?", (modality,)
                    ).fetchone()[0]
                return counts
        except FileNotFoundError:
            return {"vectors": 0, "shards": 0, "image_records": 0, "text_records": 0}
