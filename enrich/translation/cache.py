"""Translations already made, so a re-run (or another record with the same title) generates nothing twice.

One SQLite file under ``{data_dir}/translations/``. A row is keyed by the card hash (model, prompt and
decoding settings), the source and target languages and the exact source text; it keeps the translation and
its confidence, also when the confidence is below today's threshold (a later run with a lower threshold
then needs no model call either).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from enrich.translation.base import Translation

#: Rows per lookup statement (SQLite's default limit on host parameters is 32,766).
_LOOKUP_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translation (
    card TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    text TEXT NOT NULL,
    translation TEXT NOT NULL,
    confidence REAL NOT NULL,
    PRIMARY KEY (card, source, target, text)
) WITHOUT ROWID
"""


class TranslationCache:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / "translations.sqlite"
        # One connection shared under a lock: an enricher may be driven from a worker thread.
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def get(self, card: str, source: str, target: str, texts: Iterable[str]) -> dict[str, Translation]:
        """The cached translations of those of ``texts`` that have one."""
        wanted = list(dict.fromkeys(texts))
        found: dict[str, Translation] = {}
        with self._lock:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT text, translation, confidence FROM translation "  # only ? marks go in
                    f"WHERE card = ? AND source = ? AND target = ? AND text IN ({marks})",
                    [card, source, target, *chunk],
                )
                found.update({text: Translation(out, conf) for text, out, conf in rows})
        return found

    def put(self, card: str, source: str, target: str, done: Mapping[str, Translation]) -> None:
        rows: Sequence[tuple[str, str, str, str, str, float]] = [
            (card, source, target, text, t.text, t.confidence) for text, t in done.items()
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO translation VALUES (?, ?, ?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")

    def count(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT count(*) FROM translation").fetchone()
        return int(n)

    def close(self) -> None:
        with self._lock:
            self._db.close()


__all__ = ["TranslationCache"]
