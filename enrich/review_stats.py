"""The review queue and the review statistics, computed from a :class:`~enrich.review_summary.Snapshot`.

The queue: live records with Pending suggestions passing the filters, with how many pass, the highest
confidence among them and their facets; sorted by ``confidence`` (that highest one), ``count``, ``record``
(id) or ``datestamp``, ties broken by record id in the same direction. Paging is a keyset: a page starts
after the sort key of the previous page's last record, so a page deep in the queue costs what the first
does, and records that come or go between pages make none repeat or go missing.

The statistics, per facet and enricher (a suggestion several enrichers agree on counts for each):

- ``counts`` by status;
- ``decided`` = Approved + AutoAccepted + Rejected + Superseded, ``approval_rate`` = (Approved +
  AutoAccepted) / decided. Superseded means a reviewer corrected the concept: the suggestion was wrong.
  Retracted is left out of both: it withdraws a decision (it is also how a reviewer undoes an approval),
  so it says nothing either way. The suggestion a correction creates is the reviewer's, not a prediction:
  having no enricher, it is in no group.
- calibration, over the human decisions (Approved, Rejected, Superseded; not AutoAccepted: a policy accepted
  those *because* of their confidence, which would make the comparison circular): predicted confidence
  against the observed approval rate in 10 equal-width bins ([0, 0.1), …, [0.9, 1.0]), and the expected
  calibration error ECE = Σ (count / decisions) · |approval_rate - mean_confidence| over the bins.

A :class:`Queue` and a :class:`StatsTally` follow a refresh of the summary record by record (``patched``):
after a review action only the records it touched are taken out and put back.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Literal

from enrich.namespaces import DC, ENR, Graphs
from enrich.review_summary import RecordFacts, Snapshot, SuggestionFacts
from enrich.store.base import Store, text
from enrich.suggestion import Status

Sort = Literal["confidence", "count", "record", "datestamp"]
Order = Literal["asc", "desc"]
#: A sort key: the sorted value, then the record id.
Key = tuple[float | int | str, str]

APPROVED = frozenset({Status.APPROVED, Status.AUTO_ACCEPTED})
DECIDED = APPROVED | {Status.REJECTED, Status.SUPERSEDED}
#: The decisions calibration compares confidence with: the reviewers' own.
HUMAN_DECIDED = frozenset({Status.APPROVED, Status.REJECTED, Status.SUPERSEDED})
BINS = 10


@dataclass(frozen=True, slots=True)
class Filters:
    facet: str | None = None
    enricher: str | None = None
    provider: str | None = None
    dataset: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None

    def record_passes(self, record: RecordFacts) -> bool:
        return (self.provider is None or self.provider in record.providers) and (
            self.dataset is None or self.dataset in record.datasets
        )

    @property
    def every_suggestion(self) -> bool:
        """Whether every suggestion passes (only record filters, or none): the loops then skip the test."""
        return (
            self.facet is None and self.enricher is None and self.min_confidence is None and self.max_confidence is None
        )

    def passes(self, suggestion: SuggestionFacts) -> bool:
        confidence = suggestion.confidence
        if self.facet is not None and suggestion.facet != self.facet:
            return False
        if self.enricher is not None and self.enricher not in suggestion.enrichers:
            return False
        if self.min_confidence is not None and (confidence is None or confidence < self.min_confidence):
            return False
        return self.max_confidence is None or (confidence is not None and confidence <= self.max_confidence)


# -- the queue -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QueueEntry:
    record: str
    pending: int
    max_confidence: float | None
    facets: tuple[str, ...]
    providers: tuple[str, ...]
    datasets: tuple[str, ...]
    datestamp: str

    def key(self, sort: Sort) -> Key:
        if sort == "confidence":
            return (-1.0 if self.max_confidence is None else self.max_confidence, self.record)
        if sort == "count":
            return (self.pending, self.record)
        return (self.datestamp if sort == "datestamp" else self.record, self.record)


@dataclass(frozen=True)
class Queue:
    """The records of one question in ascending key order (a page of a descending sort reads backwards)."""

    filters: Filters
    sort: Sort
    entries: list[QueueEntry]
    keys: list[Key]
    #: Each record's key, to find its entry again when the record changes.
    keyed: dict[str, Key]

    def page(self, order: Order, after: Key | None, limit: int) -> tuple[list[QueueEntry], bool]:
        """Up to ``limit`` entries after the key ``after`` in ``order``, and whether more follow."""
        if order == "asc":
            start = 0 if after is None else bisect_right(self.keys, after)
            return self.entries[start : start + limit], start + limit < len(self.entries)
        end = len(self.entries) if after is None else bisect_left(self.keys, after)
        start = max(0, end - limit)
        return list(reversed(self.entries[start:end])), start > 0

    def patched(self, before: Snapshot, after: Snapshot, changed: frozenset[str]) -> Queue:
        """This queue with the changed records' entries taken out and put back as they are now."""
        entries, keys, keyed = list(self.entries), list(self.keys), dict(self.keyed)
        for record in changed:
            old = keyed.pop(record, None)
            if old is not None:
                at = bisect_left(keys, old)
                del entries[at], keys[at]
            facts = after.records.get(record)
            entry = None if facts is None else _entry(facts, self.filters)
            if entry is not None:
                key = keyed[record] = entry.key(self.sort)
                at = bisect_left(keys, key)
                entries.insert(at, entry)
                keys.insert(at, key)
        return Queue(self.filters, self.sort, entries, keys, keyed)


def _entry(record: RecordFacts, filters: Filters) -> QueueEntry | None:
    """The record's place in the queue of ``filters``, or None when it has no pending suggestion there."""
    if record.deleted or not record.pending or not filters.record_passes(record):
        return None
    if filters.every_suggestion:
        count, top, facets = len(record.pending), record.top_confidence, record.pending_facets
    else:
        passing = [s for s in record.pending if filters.passes(s)]
        if not passing:
            return None
        confidences = [s.confidence for s in passing if s.confidence is not None]
        count, top, facets = len(passing), max(confidences, default=None), tuple(sorted({s.facet for s in passing}))
    return QueueEntry(record.record, count, top, facets, record.providers, record.datasets, record.datestamp)


def queue(snapshot: Snapshot, filters: Filters, sort: Sort) -> Queue:
    found = [entry for record in snapshot.records.values() if (entry := _entry(record, filters)) is not None]
    pairs = sorted(((entry.key(sort), entry) for entry in found), key=itemgetter(0))
    keys = [key for key, _ in pairs]
    return Queue(filters, sort, [entry for _, entry in pairs], keys, {key[1]: key for key in keys})


@dataclass(frozen=True, slots=True)
class Shown:
    """What a queue page shows of a record beyond the summary: its CHO and a title."""

    cho: str | None
    title: str | None


def shown(store: Store, graphs: Graphs, record_ids: Sequence[str], language: str = "en") -> dict[str, Shown]:
    """CHO and title (``dc:title`` in ``language``, else without a language, else English, else the first)."""
    if not record_ids:
        return {}
    prefix = graphs.record_node("")
    values = " ".join(f"<{graphs.record_node(rid)}>" for rid in record_ids)
    rows = store.select(
        f"SELECT ?r ?cho ?title WHERE {{ VALUES ?r {{ {values} }} GRAPH <{graphs.system}> {{ ?r <{ENR}cho> ?cho ; "
        f"<{ENR}recordGraph> ?rg }} OPTIONAL {{ GRAPH ?rg {{ ?cho <{DC}title> ?title }} }} }}"
    )
    titles: dict[str, list[tuple[int, str]]] = {}
    chos: dict[str, str] = {}
    for row in rows:
        record = text(row["r"]).removeprefix(prefix)
        chos[record] = min(text(row["cho"]), chos.get(record, text(row["cho"])))
        title = row.get("title")
        if title is not None:
            tag = getattr(title, "language", None) or ""
            rank = 0 if tag == language else 1 if not tag else 2 if tag == "en" else 3
            titles.setdefault(record, []).append((rank, text(title)))
    return {
        record: Shown(chos.get(record), min(titles[record])[1] if record in titles else None) for record in record_ids
    }


# -- statistics ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Group:
    facet: str
    enricher: str
    counts: dict[str, int]
    decided: int
    approval_rate: float | None


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    lower: float
    upper: float
    count: int
    mean_confidence: float | None
    approval_rate: float | None


@dataclass(frozen=True, slots=True)
class Calibration:
    bins: list[CalibrationBin]
    expected_calibration_error: float | None
    decisions: int


@dataclass(frozen=True, slots=True)
class ReviewStats:
    groups: list[Group]
    calibration: Calibration


def _rate(approved: int, decided: int) -> float | None:
    return approved / decided if decided else None


def bin_of(confidence: float) -> int:
    """The calibration bin of a confidence: [k/10, (k+1)/10), the last one closed at 1.0."""
    # Rounding first keeps 0.3 (0.29999…) in the bin that starts at 0.3.
    return min(BINS - 1, max(0, math.floor(round(confidence * BINS, 9))))


def calibration(counts: Sequence[int], sums: Sequence[float], approved: Sequence[int]) -> Calibration:
    """The bins from each bin's number of decisions, sum of confidences and approvals; see the module docstring."""
    total = sum(counts)
    bins = [
        CalibrationBin(
            lower=k / BINS,
            upper=(k + 1) / BINS,
            count=counts[k],
            mean_confidence=sums[k] / counts[k] if counts[k] else None,
            approval_rate=_rate(approved[k], counts[k]),
        )
        for k in range(BINS)
    ]
    ece = (
        sum(counts[k] / total * abs(approved[k] / counts[k] - sums[k] / counts[k]) for k in range(BINS) if counts[k])
        if total
        else None
    )
    return Calibration(bins, ece, total)


#: Confidences are summed as integers of this many parts, so that taking a record out is exact.
_PARTS = 10**9


@dataclass
class StatsTally:
    """The sums behind :class:`ReviewStats` for one set of filters: what a record adds can be taken out again,
    so a refresh patches them instead of counting everything anew."""

    filters: Filters
    #: (facet, enricher) → status → suggestions.
    counts: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    #: Per calibration bin: decisions, sum of confidences (in ``_PARTS``), approvals.
    bins: list[list[int]] = field(default_factory=lambda: [[0, 0, 0] for _ in range(BINS)])

    def add(self, record: RecordFacts, sign: int = 1) -> None:
        filters = self.filters
        if record.deleted or not filters.record_passes(record):
            return
        every = filters.every_suggestion
        for suggestion in record.suggestions:
            if not suggestion.enrichers or not (every or filters.passes(suggestion)):
                continue  # a reviewer's own suggestion (a correction) is no prediction
            for enricher in suggestion.enrichers:
                if filters.enricher is None or enricher == filters.enricher:
                    tally = self.counts.setdefault((suggestion.facet, enricher), {s.value: 0 for s in Status})
                    tally[suggestion.status.value] += sign
            if suggestion.status in HUMAN_DECIDED and suggestion.confidence is not None:
                sums = self.bins[bin_of(suggestion.confidence)]
                sums[0] += sign
                sums[1] += sign * round(suggestion.confidence * _PARTS)
                sums[2] += sign * (suggestion.status is Status.APPROVED)

    def patched(self, before: Snapshot, after: Snapshot, changed: frozenset[str]) -> StatsTally:
        copy = StatsTally(self.filters, {k: dict(v) for k, v in self.counts.items()}, [list(b) for b in self.bins])
        for record in changed:
            if record in before.records:
                copy.add(before.records[record], -1)
            if record in after.records:
                copy.add(after.records[record])
        return copy

    def result(self) -> ReviewStats:
        groups = []
        for (facet, enricher), counts in sorted(self.counts.items()):
            if not any(counts.values()):
                continue  # every suggestion it had has gone
            decided = sum(counts[s.value] for s in DECIDED)
            rate = _rate(sum(counts[s.value] for s in APPROVED), decided)
            groups.append(Group(facet, enricher, dict(counts), decided, rate))
        decisions = [b[0] for b in self.bins]
        sums = [b[1] / _PARTS for b in self.bins]
        return ReviewStats(groups, calibration(decisions, sums, [b[2] for b in self.bins]))


def stats_tally(snapshot: Snapshot, filters: Filters) -> StatsTally:
    tally = StatsTally(filters)
    for record in snapshot.records.values():
        tally.add(record)
    return tally


def review_stats(snapshot: Snapshot, filters: Filters) -> ReviewStats:
    """Counts and approval rates per facet and enricher, and the calibration of the human decisions."""
    return stats_tally(snapshot, filters).result()
