"""Sorted snapshots of what a list request selects, kept between the pages of one harvest.

Why: no index orders records by datestamp, and Oxigraph's ORDER BY decodes every term it compares (about
5 s for 100k records), so sorting the registry for every page makes a full harvest quadratic. A snapshot
is the sorted list of (datestamp, record id) that a ListRecords/ListIdentifiers request selects, built
once when the harvest starts (one SELECT without ORDER BY, sorted in Python: about 2 s and 13 MB per 100k
records) and found again by the id its resumption tokens carry. Each page then costs a
bisection and the page's own reads.

Tokens stay stateless: a process that does not have a token's snapshot (a restart, another worker, an
evicted snapshot) builds it again from the store and goes on from the token's keyset position.

What a harvest sees (OAI-PMH 2.0, 3.5: the list must hold every record unchanged during the harvest; a
record changed meanwhile may or may not be in it): every record registered when the harvest began, at its
place then, with its header and metadata as they are when its page is served. A record that changes during
the harvest therefore comes once (twice at most, where the snapshot had to be built again); one that is
new since the harvest began comes with the next incremental harvest, its datestamp being later than the
start of this one.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from api.oai.tokens import TOKEN_LIFETIME

Keys = list[tuple[str, str]]


@dataclass
class Snapshot:
    keys: Keys
    created: float = field(default_factory=time.monotonic)


class Listings:
    """The snapshots of one application, least recently used evicted first."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._snapshots: OrderedDict[str, Snapshot] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, build: Callable[[], Keys]) -> tuple[str, Snapshot]:
        """A new snapshot for a harvest's first request, and its id."""
        snapshot = Snapshot(build())
        listing = uuid.uuid4().hex[:16]
        self._keep(listing, snapshot)
        return listing, snapshot

    def resume(self, listing: str, build: Callable[[], Keys]) -> Snapshot:
        """The snapshot a token names, built again when this process does not have it (and each time for a
        token from before snapshots, which names none)."""
        if not listing:
            return Snapshot(build())
        with self._lock:
            snapshot = self._snapshots.get(listing)
            if snapshot is not None:
                self._snapshots.move_to_end(listing)
                return snapshot
        snapshot = Snapshot(build())
        self._keep(listing, snapshot)
        return snapshot

    def _keep(self, listing: str, snapshot: Snapshot) -> None:
        oldest = time.monotonic() - TOKEN_LIFETIME.total_seconds()
        with self._lock:
            self._snapshots[listing] = snapshot
            for name in [name for name, kept in self._snapshots.items() if kept.created < oldest]:
                del self._snapshots[name]
            while len(self._snapshots) > self.capacity:
                self._snapshots.popitem(last=False)
