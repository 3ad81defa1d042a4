"""Moves prepared batches into the store, journalling each one before its data lands.

On the embedded store the whole ingest feeds *one* bulk load through a reader: Oxigraph's loader
pulls bytes, each pull runs our parsing for the next batch, and its Rust threads index the batches
already read meanwhile, so both cores work. One long load is also much cheaper than one per batch
(every load writes and ingests its own index files). Other stores get one bulk request per batch.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, cast

from pyoxigraph import RdfFormat

from enrich.ingest.journal import IngestJournal
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore


@dataclass(frozen=True)
class Batch:
    new_ids: list[str]
    replaced_ids: list[str]
    n_quads: bytes


def write_batches(store: Store, journal: IngestJournal, batches: Iterator[Batch]) -> None:
    """Write every batch; on an error part of the data may have landed, and the journal lists it."""
    # In memory, Oxigraph holds a lock for the whole bulk load, so journalling from inside it would
    # deadlock; there, one load per batch is cheap anyway.
    if isinstance(store, EmbeddedStore) and store.on_disk:
        reader = _JournallingReader(journal, batches)
        store.bulk_load(cast(IO[bytes], reader), RdfFormat.N_QUADS, lenient=True)
        store.flush()
        return
    for batch in batches:
        journal.prepare_batch(batch.new_ids, batch.replaced_ids)
        store.bulk_load(batch.n_quads, RdfFormat.N_QUADS, lenient=True)


class _JournallingReader(io.RawIOBase):
    """A byte stream over the batches that journals each batch before handing out its first byte."""

    def __init__(self, journal: IngestJournal, batches: Iterator[Batch]) -> None:
        super().__init__()
        self._journal = journal
        self._batches = batches
        self._buffer = memoryview(b"")
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._position >= len(self._buffer):
            batch = next(self._batches, None)
            if batch is None:
                return 0
            self._journal.prepare_batch(batch.new_ids, batch.replaced_ids)
            self._buffer = memoryview(batch.n_quads)
            self._position = 0
        count = min(len(target), len(self._buffer) - self._position)
        target[:count] = self._buffer[self._position : self._position + count]
        self._position += count
        return count
