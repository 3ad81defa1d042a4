"""Every suggestion's review state in memory, kept up to date cheaply: what the review queue and the review
statistics are computed from.

Why. Asking the store per request does not scale: a SPARQL GROUP BY over 100k pending suggestions takes
over a second in Oxigraph (most of it reading the rows out), and the queue's sorts and counts need all of
them. So the suggestions are read once into a :class:`Snapshot` (per record: registry facts, review event
IRIs and, per suggestion, facet, status, confidence and enrichers), and each request only asks the store
whether anything changed since, with the two aggregate queries of :func:`read_stamp`.

The stamp. Every writer of what the snapshot holds leaves a trace that they notice:

- review actions (:mod:`enrich.review`: approve, reject, correct, retract, reopen, bulk, auto-accept) each
  write a review event (a fresh IRI) into the suggestions graph of every record they touch, and events are
  never removed: the number of (event, graph) pairs grows with every action;
- enrichment runs (:mod:`enrich.jobs`) write suggestions batch by batch, each batch followed by a
  checkpoint (the last record id done) on the run's node: the (run, checkpoint, ended) list changes;
- ingest and deletion (:mod:`enrich.ingest`, :mod:`enrich.records_admin`) set a record's registry
  datestamp (so do approvals and retractions): the number of records, of deleted ones or the latest
  datestamp changes.

A request costs that stamp (Oxigraph counts about 0.4 µs per review event and 0.6 µs per record: some 25 ms
at 30k records, 60 ms with 100k review events more) and a few milliseconds of Python.

Bringing a snapshot up to date reads again only the records that did change. Review events and datestamps
written since the previous stamp was read (less ``MARGIN_S``, for clocks and for the time a writer takes
between stamping and writing) are compared with the snapshot: a record with an event it does not hold, or
with another datestamp, is read again (a few indexed queries per 500 records); so are the records in the id
range a run's checkpoint moved over (runs go through records in id order). The rest of the snapshot is
shared with the previous one. A run that ended without any checkpoint, counts that went down, or more than
``REBUILD_ABOVE`` changed records, rebuild the snapshot from scratch (about 10 s at 100k suggestions).

Datestamps have one-second granularity, so a second registry change in the same second would not show: a
stamp read within ``RACY_S`` of its latest datestamp is "racy" (as git calls index entries with the same
problem) and is checked again on the next request, and records whose datestamp is that close are read again.

Limits. A change made by hand (a SPARQL update that leaves none of these traces) is seen at the next
rebuild: restart the service, or call :meth:`SummaryCache.rebuild`. Suggestions a run writes become visible
at the checkpoint after them. Snapshots are immutable and replaced whole, so readers never see one half
updated; one refresh runs at a time per cache. A generation counter that every writer bumped would make the
per-request check a single look-up; it needs those writers' cooperation, which the trace left above does not.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar, runtime_checkable

from pyoxigraph import QueryResultsFormat, QuerySolutions

from enrich.ingest.journal import string_literal
from enrich.namespaces import ENR, PROV, RDF_TYPE, XSD, Graphs
from enrich.provenance import FACET_BASE
from enrich.store.base import Store, text
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import Status

T = TypeVar("T")

#: How far before the previous stamp a change is looked for (clock differences, a writer's own delay).
MARGIN_S = 60
#: A stamp read this soon after its latest datestamp may miss a change in the same second.
RACY_S = 2
#: Records asked about in one query.
CHUNK = 500
#: More changed records than this, and reading everything again is cheaper than reading them one by one.
REBUILD_ABOVE = 5000
#: Results derived from one snapshot (queue orderings, statistics) kept at once.
DERIVED_KEPT = 32

_REGISTRY = ("provider", "dataset", "datestamp", "deleted")


@dataclass(frozen=True, slots=True)
class SuggestionFacts:
    facet: str
    status: Status
    confidence: float | None
    #: Empty for a suggestion a reviewer made (the concept a correction approved): not a prediction.
    enrichers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """A record that has suggestions: its registry facts and its suggestions."""

    record: str
    providers: tuple[str, ...]
    datasets: tuple[str, ...]
    datestamp: str
    deleted: bool
    suggestions: tuple[SuggestionFacts, ...]
    #: The review events in the record's suggestions graph (what tells a new one from those seen).
    events: frozenset[str] = frozenset()
    #: The Pending suggestions, their facets and highest confidence (what the unfiltered queue shows).
    pending: tuple[SuggestionFacts, ...] = field(init=False)
    pending_facets: tuple[str, ...] = field(init=False)
    top_confidence: float | None = field(init=False)

    def __post_init__(self) -> None:
        pending = tuple(s for s in self.suggestions if s.status is Status.PENDING)
        confidences = [s.confidence for s in pending if s.confidence is not None]
        object.__setattr__(self, "pending", pending)
        object.__setattr__(self, "pending_facets", tuple(sorted({s.facet for s in pending})))
        object.__setattr__(self, "top_confidence", max(confidences) if confidences else None)


@dataclass(frozen=True)
class Stamp:
    """What the store says about its latest changes (see the module docstring); ``read_at`` is when."""

    reviews: int
    records: int
    deleted: int
    latest: str
    #: (run IRI, checkpoint or "", ended) per run.
    runs: tuple[tuple[str, str, bool], ...]
    read_at: float = field(compare=False)

    @property
    def racy(self) -> bool:
        if not self.latest:
            return False
        try:
            latest = datetime.fromisoformat(self.latest).timestamp()
        except ValueError:
            return True
        return self.read_at < latest + RACY_S


@dataclass(frozen=True)
class Snapshot:
    generation: int
    stamp: Stamp
    records: Mapping[str, RecordFacts]


@runtime_checkable
class Patchable(Protocol):
    """A result derived from a snapshot that can follow the snapshot's refresh record by record."""

    def patched(self, before: Snapshot, after: Snapshot, changed: frozenset[str]) -> Patchable: ...


def read_stamp(store: Store, graphs: Graphs) -> Stamp:
    """Two small queries: counts and the latest datestamp, and the runs' checkpoints."""
    read_at = time.time()
    system = f"<{graphs.system}>"
    row = store.select(
        f"SELECT ?reviews ?records ?latest ?deleted WHERE {{ "
        f"{{ SELECT (COUNT(*) AS ?reviews) WHERE {{ GRAPH ?g {{ ?e <{RDF_TYPE}> <{ENR}Review> }} }} }} "
        f"{{ SELECT (COUNT(*) AS ?records) (MAX(?d) AS ?latest) "
        f"WHERE {{ GRAPH {system} {{ ?r <{ENR}datestamp> ?d }} }} }} "
        f"{{ SELECT (COUNT(*) AS ?deleted) WHERE {{ GRAPH {system} {{ ?r <{ENR}deleted> true }} }} }} }}"
    )[0]
    runs = store.select(
        f"SELECT ?run ?checkpoint ?ended WHERE {{ GRAPH <{graphs.runs}> {{ ?run <{RDF_TYPE}> <{ENR}EnrichmentRun> "
        f"OPTIONAL {{ ?run <{ENR}checkpoint> ?checkpoint }} OPTIONAL {{ ?run <{PROV}endedAtTime> ?ended }} }} }}"
    )
    return Stamp(
        reviews=int(text(row["reviews"])),
        records=int(text(row["records"])),
        deleted=int(text(row["deleted"])),
        latest=text(row["latest"]) if "latest" in row else "",
        runs=tuple(
            sorted({(text(r["run"]), text(r["checkpoint"]) if "checkpoint" in r else "", "ended" in r) for r in runs})
        ),
        read_at=read_at,
    )


# -- reading suggestions -------------------------------------------------------------------------------
def _chunks(iris: list[str] | None) -> list[str]:
    """VALUES blocks for ?g of at most ``CHUNK`` IRIs each; one empty block (no restriction) for None.
    They go inside ``GRAPH ?g {…}``: Oxigraph evaluates a VALUES block outside it after scanning every graph."""
    if iris is None:
        return [""]
    return [
        f"VALUES ?g {{ {' '.join(f'<{iri}>' for iri in iris[i : i + CHUNK])} }}" for i in range(0, len(iris), CHUNK)
    ]


def select_values(store: Store, query: str) -> list[dict[str, str]]:
    """The lexical values of a SELECT's bindings (unbound variables left out)."""
    if isinstance(store, EmbeddedStore):
        # Oxigraph writes TSV some three times faster than Python turns its terms into strings one by one,
        # which is most of the time a full read takes.
        solutions = store.oxigraph.query(query)
        assert isinstance(solutions, QuerySolutions), "a SELECT query"
        data = solutions.serialize(format=QueryResultsFormat.TSV)
        assert data is not None, "serialize() returns bytes when no output is given"
        header, *lines = data.decode("utf-8").split("\n")
        names = [name.removeprefix("?") for name in header.split("\t")]
        return [
            {name: _tsv_value(cell) for name, cell in zip(names, line.split("\t"), strict=True) if cell}
            for line in lines
            if line
        ]
    return [{name: text(term) for name, term in row.items()} for row in store.select(query)]


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ESCAPED = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _tsv_value(cell: str) -> str:
    """The lexical value of one SPARQL TSV cell: ``<iri>``, ``"text"`` with a language or datatype, or a bare
    number or boolean (an N-Triples-like term; a string's quotes end at its last ``"``)."""
    if cell.startswith("<"):
        return cell[1:-1]
    if not cell.startswith('"'):
        return cell
    lexical = cell[1 : cell.rindex('"')]
    if "\\" not in lexical:
        return lexical
    return _ESCAPE.sub(lambda m: chr(int(m[1] or m[2], 16)) if m[3] is None else _ESCAPED.get(m[3], m[3]), lexical)


def _read(store: Store, graphs: Graphs, record_ids: list[str] | None) -> dict[str, RecordFacts]:
    """The facts of the given records (all records with suggestions when None); a record without
    suggestions is left out. One query per predicate: Oxigraph joins them more slowly than Python does.
    The status is a suggestion's commit mark (see :mod:`enrich.provenance`): a node without one is none."""
    prefix = graphs.suggestions("")
    status: dict[str, tuple[str, Status]] = {}
    facet: dict[str, str] = {}
    confidence: dict[str, float] = {}
    enrichers: dict[str, list[str]] = {}
    events: dict[str, set[str]] = {}
    for scope in _chunks(None if record_ids is None else [graphs.suggestions(rid) for rid in record_ids]):

        def objects(predicate: str, scope: str = scope, chosen: str = "?node ?v") -> list[dict[str, str]]:
            return select_values(
                store, f"SELECT {chosen} WHERE {{ GRAPH ?g {{ {scope} ?node <{ENR}{predicate}> ?v }} }}"
            )

        for row in objects("status", chosen="?g ?node ?v"):
            if row["g"].startswith(prefix) and row["v"].startswith(ENR):
                status[row["node"]] = (row["g"].removeprefix(prefix), Status(row["v"].removeprefix(ENR)))
        facet.update((row["node"], row["v"].removeprefix(FACET_BASE)) for row in objects("facet"))
        confidence.update((row["node"], float(row["v"])) for row in objects("confidence"))
        for row in objects("enricher"):
            enrichers.setdefault(row["node"], []).append(row["v"])
        for row in select_values(
            store, f"SELECT ?g ?e WHERE {{ GRAPH ?g {{ {scope} ?e <{RDF_TYPE}> <{ENR}Review> }} }}"
        ):
            events.setdefault(row["g"].removeprefix(prefix), set()).add(row["e"])
    by_record: dict[str, list[SuggestionFacts]] = {}
    for node, (record, state) in status.items():
        if node in facet:
            facts = SuggestionFacts(facet[node], state, confidence.get(node), tuple(sorted(enrichers.get(node, ()))))
            by_record.setdefault(record, []).append(facts)
    registry = _registry(store, graphs, None if record_ids is None else sorted(by_record))
    return {
        record: RecordFacts(
            record=record,
            providers=tuple(sorted(registry.get((record, "provider"), ()))),
            datasets=tuple(sorted(registry.get((record, "dataset"), ()))),
            datestamp=max(registry.get((record, "datestamp"), [""])),
            deleted="true" in registry.get((record, "deleted"), ()),
            suggestions=tuple(suggestions),
            events=frozenset(events.get(record, ())),
        )
        for record, suggestions in by_record.items()
    }


def _registry(store: Store, graphs: Graphs, record_ids: list[str] | None) -> dict[tuple[str, str], list[str]]:
    """Provider, dataset, datestamp and deleted flag by (record id, name), of every record when None."""
    node_prefix = graphs.record_node("")
    found: dict[tuple[str, str], list[str]] = {}
    for name in _REGISTRY:
        predicate = ENR + name
        if record_ids is None:
            rows = select_values(store, f"SELECT ?r ?v WHERE {{ GRAPH <{graphs.system}> {{ ?r <{predicate}> ?v }} }}")
            pairs = [(row["r"], row["v"]) for row in rows]
        else:  # index look-ups in the embedded store
            objects = store.objects_of([graphs.record_node(rid) for rid in record_ids], predicate, graphs.system)
            pairs = [(node, text(value)) for node, values in objects.items() for value in values]
        for node, value in pairs:
            found.setdefault((node.removeprefix(node_prefix), name), []).append(value)
    return found


# -- what changed ----------------------------------------------------------------------------------------
def _since(stamp: Stamp) -> str:
    moment = datetime.fromtimestamp(stamp.read_at - MARGIN_S, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'"{moment}"^^<{XSD}dateTime>'


def _changed_records(store: Store, graphs: Graphs, old: Snapshot, new: Stamp) -> set[str] | None:
    """Ids of the records that changed since ``old`` was read; None when only a rebuild will do.

    Review events and datestamps since the old stamp (less ``MARGIN_S``) are compared with what the
    snapshot holds, so only records that did change are read again; plus those whose datestamp is so
    close to the old stamp that a change in the same second would not show (racy)."""
    stamp = old.stamp
    if new.reviews < stamp.reviews or new.records < stamp.records or new.deleted < stamp.deleted:
        return None  # something was removed by hand: nothing says what
    changed: set[str] = set()
    since = _since(stamp)
    if new.reviews != stamp.reviews:
        prefix = graphs.suggestions("")
        for row in select_values(
            store,
            # Only review events have a prov:endedAtTime in a suggestions graph. The filter inside the GRAPH
            # block, and no type joined in, make Oxigraph scan the times once (about 0.5 µs per event).
            f"SELECT ?g ?e WHERE {{ GRAPH ?g {{ ?e <{PROV}endedAtTime> ?t FILTER(?t >= {since}) }} }}",
        ):
            if row["g"].startswith(prefix):
                record = row["g"].removeprefix(prefix)
                facts = old.records.get(record)
                if facts is None or row["e"] not in facts.events:
                    changed.add(record)
    if (new.records, new.deleted, new.latest) != (stamp.records, stamp.deleted, stamp.latest) or stamp.racy:
        racy = datetime.fromtimestamp(stamp.read_at - RACY_S, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        node_prefix = graphs.record_node("")
        for row in select_values(
            store,
            f"SELECT ?r ?d WHERE {{ GRAPH <{graphs.system}> {{ ?r <{ENR}datestamp> ?d FILTER(?d >= {since}) }} }}",
        ):
            record = row["r"].removeprefix(node_prefix)
            facts = old.records.get(record)
            # Records without suggestions have nothing in the summary a registry change could alter.
            if facts is not None and (row["d"] != facts.datestamp or row["d"] >= racy):
                changed.add(record)
    before = {run: (checkpoint, ended) for run, checkpoint, ended in stamp.runs}
    for run, checkpoint, ended in new.runs:
        previous = before.get(run, ("", False))
        if (checkpoint, ended) == previous:
            continue
        if not checkpoint:
            if ended:
                return None  # suggestions written without checkpoints: nothing says which records
            continue  # started, nothing checkpointed yet
        changed.update(_ids_between(store, graphs, previous[0], checkpoint))
    return changed


def _ids_between(store: Store, graphs: Graphs, after: str, upto: str) -> list[str]:
    """Record ids in (after, upto]: what a run went through between two checkpoints."""
    node = graphs.record_node("")
    lower = f"STR(?r) > {string_literal(node + after)} && " if after else ""
    rows = store.select(
        f"SELECT ?r WHERE {{ GRAPH <{graphs.system}> {{ ?r <{ENR}cho> ?cho }} "
        f"FILTER({lower}STR(?r) <= {string_literal(node + upto)}) }}"
    )
    return [text(r["r"]).removeprefix(node) for r in rows]


# -- the cache -------------------------------------------------------------------------------------------
class SummaryCache:
    """The latest snapshot of one store, refreshed on demand; and results derived from it, per snapshot."""

    def __init__(self, store: Store, graphs: Graphs) -> None:
        self.store = store
        self.graphs = graphs
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self._derived: dict[Hashable, object] = {}
        self._derived_generation = 0
        #: Snapshot numbers: what was derived from one snapshot is only reused with that snapshot.
        self._generations = itertools.count(1)
        self._derived_lock = threading.Lock()
        #: How the last refresh went ("rebuilt", "refreshed N", "unchanged"), for benchmarks and logs.
        self.last_refresh = ""

    def snapshot(self) -> Snapshot:
        """The summary as of now: one stamp query when nothing changed."""
        seen = self._current
        stamp = read_stamp(self.store, self.graphs)
        if seen is not None and stamp == seen.stamp and not seen.stamp.racy:
            self.last_refresh = "unchanged"
            return seen
        with self._lock:
            if self._current is not seen:  # refreshed by another request meanwhile: start from a fresh stamp
                stamp = read_stamp(self.store, self.graphs)
            self._current = self._refreshed(self._current, stamp)
            return self._current

    def rebuild(self) -> Snapshot:
        """Read everything again (after changes made by hand)."""
        with self._lock:
            self._current = self._refreshed(None, read_stamp(self.store, self.graphs))
            return self._current

    def derived(self, snapshot: Snapshot, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, remembered with the latest snapshot under ``key`` (a description of the question)."""
        with self._derived_lock:
            if snapshot.generation > self._derived_generation:
                self._derived, self._derived_generation = {}, snapshot.generation
            if snapshot.generation == self._derived_generation and key in self._derived:
                return self._derived[key]  # type: ignore[return-value]
        value = compute()
        with self._derived_lock:
            if snapshot.generation == self._derived_generation:
                if len(self._derived) >= DERIVED_KEPT:
                    self._derived.clear()
                self._derived[key] = value
        return value

    def _refreshed(self, current: Snapshot | None, stamp: Stamp) -> Snapshot:
        if current is not None and stamp == current.stamp and not current.stamp.racy:
            self.last_refresh = "unchanged"
            return current
        changed = None if current is None else _changed_records(self.store, self.graphs, current, stamp)
        if current is None or changed is None or len(changed) > REBUILD_ABOVE:
            self.last_refresh = "rebuilt"
            return Snapshot(next(self._generations), stamp, _read(self.store, self.graphs, None))
        if not changed:  # the same records: what was derived from them still holds
            self.last_refresh = "refreshed 0"
            return Snapshot(current.generation, stamp, current.records)
        records = dict(current.records)
        fresh = _read(self.store, self.graphs, sorted(changed))
        for record in changed:
            records.pop(record, None)
        records.update(fresh)
        self.last_refresh = f"refreshed {len(changed)}"
        refreshed = Snapshot(next(self._generations), stamp, records)
        self._carry(current, refreshed, frozenset(changed))
        return refreshed

    def _carry(self, before: Snapshot, after: Snapshot, changed: frozenset[str]) -> None:
        """Patch what was derived from ``before`` to hold for ``after`` (what cannot be patched is dropped)."""
        with self._derived_lock:
            if self._derived_generation != before.generation:
                return
            self._derived = {
                key: value.patched(before, after, changed)
                for key, value in self._derived.items()
                if isinstance(value, Patchable)
            }
            self._derived_generation = after.generation
