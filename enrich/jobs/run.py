"""Enrichment runs (DESIGN §7): a definition (enrichers, facets, record selection) → one ``prov:Activity``.

A run reads its records in keyset-paged batches of ids (:mod:`enrich.jobs.selection`). Per batch the
enrichers run as a chain, in the order the definition names them: each reads the batch's record views,
its suggestions are written through the :class:`ProvenanceWriter` (checked against each facet's
vocabulary subtree), and only then does the next one read the views again and run. Once the last one is
done the batch's checkpoint goes on the run node: the last record id done, the records seen and the counts
so far (a batch is done when all its enrichers are; a run killed mid-chain does the whole batch again).

How a later enricher uses an earlier one's output: through the store. Pending suggestions of this run sit
in each record's suggestions graph as soon as they are written (one suggestion node per value, tied to
this run's activity), so an enricher that builds on them queries that graph for the batch's records and
cites the suggestion node in its evidence: ``translate`` → ``generate`` reads pending English
translations this way (:mod:`enrich.generation.prompts`), ``generate`` → ``embed`` reads the generated
web resources (:func:`enrich.generation.enricher.generated_images`). :class:`RecordView` stays the
record's own data (record and enrichment graphs), so an enricher that ignores suggestions behaves the
same alone and chained, and a single-enricher run is exactly what it was before chaining.

Resuming continues after the checkpoint under the same run IRI. A run killed between a batch's write and
its checkpoint writes that batch again on resume; identity by triple makes that a no-op for the data
(the suggestions are "updated" with the same values), so the final suggestions are those of an
uninterrupted run. Only the counts can differ: such a batch's new suggestions count as updated.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from enrich.enrichers import enricher_class
from enrich.enrichers.base import Enricher, EnrichmentContext, read_record_views
from enrich.ingest.errors import InputError
from enrich.ingest.journal import string_literal
from enrich.ingest.progress import Progress
from enrich.jobs.selection import Selection
from enrich.namespaces import ENR, PROV, Graphs
from enrich.provenance import ProvenanceWriter, RunHandle, WriteCounts
from enrich.records_admin import RecordNotFound
from enrich.settings import Settings
from enrich.store.base import Store, text
from enrich.suggestion import ModelCard, Suggestion
from enrich.vocab.facets import Facet, facet_tree, get_facet, load_facets
from enrich.vocab.tree import LabelTree

DEFAULT_BATCH = 500


class RunNotFound(RecordNotFound):
    """No run with that id (a ``RecordNotFound``, so the CLI answers it as "not found")."""


@dataclass(frozen=True, slots=True)
class EnricherSpec:
    """An enricher by registry name, with its settings (JSON values: they go into the definition hash)."""

    name: str
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunDefinition:
    enrichers: tuple[EnricherSpec, ...]
    facets: tuple[str, ...] | None = None  # None: every facet with concepts in the store's vocabularies
    selection: Selection = field(default_factory=Selection)

    @classmethod
    def of(
        cls,
        enrichers: Sequence[str | EnricherSpec],
        facets: Sequence[str] | None = None,
        selection: Selection | None = None,
    ) -> RunDefinition:
        specs = tuple(e if isinstance(e, EnricherSpec) else EnricherSpec(e) for e in enrichers)
        if not specs:
            raise InputError("--enrichers", "name at least one enricher")
        return cls(specs, tuple(sorted(set(facets))) if facets else None, selection or Selection())

    def as_json(self) -> dict[str, Any]:
        return {
            "enrichers": [{"name": e.name, "config": dict(e.config)} for e in self.enrichers],
            "facets": list(self.facets) if self.facets is not None else None,
            "selection": self.selection.as_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunDefinition:
        facets = data.get("facets")
        return cls(
            tuple(EnricherSpec(e["name"], e.get("config") or {}) for e in data["enrichers"]),
            tuple(facets) if facets is not None else None,
            Selection.from_json(data.get("selection") or {}),
        )

    def hash(self) -> str:
        """Same enrichers, settings, facets and selection → same hash (an unfinished run with it resumes)."""
        canonical = json.dumps(self.as_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


@dataclass(slots=True)
class RunSummary:
    run_id: str
    run_iri: str
    selection: str
    records_seen: int = 0
    counts: WriteCounts = field(default_factory=WriteCounts)
    per_facet: dict[str, WriteCounts] = field(default_factory=dict)
    seconds: float = 0.0
    resumed_after: str | None = None
    finished: bool = False
    #: "local" (this process) or "ray"; with Ray, actor replicas per enricher and batch steps retried after a
    #: lost worker.
    engine: str = "local"
    workers: int | None = None
    retried: int = 0
    #: Ray: where each enricher's actors (by chain position and name) and the writers ran.
    placement: dict[str, list[str]] = field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        return self.records_seen / self.seconds if self.seconds > 0 else 0.0

    def add(self, facet: str, counts: WriteCounts) -> None:
        self.counts = self.counts + counts
        self.per_facet[facet] = self.per_facet.get(facet, WriteCounts()) + counts

    def render(self) -> str:
        resumed = f" (resumed after {self.resumed_after})" if self.resumed_after else ""
        c = self.counts
        lines = [
            f"run {self.run_id}{resumed}: {self.selection}",
            f"records seen: {self.records_seen:,} in {self.seconds:.1f} s ({self.records_per_second:,.0f} records/s)",
            *self._engine_lines(),
            f"suggestions: {c.new:,} new, {c.updated:,} updated, {c.skipped_rejected:,} skipped as rejected, "
            f"{c.skipped_frozen:,} skipped as reviewed",
        ]
        for facet, fc in sorted(self.per_facet.items()):
            lines.append(
                f"  {facet}: {fc.new:,} new, {fc.updated:,} updated, {fc.skipped_rejected:,} rejected, "
                f"{fc.skipped_frozen:,} reviewed"
            )
        return "\n".join(lines)

    def _engine_lines(self) -> list[str]:
        if self.engine == "local":
            return []
        retried = f"; {self.retried:,} batch step(s) retried after a lost worker" if self.retried else ""
        return [f"engine: {self.engine}, {self.workers} worker(s) per enricher{retried}"]

    def to_json(self) -> str:
        return json.dumps(
            {
                "run_id": self.run_id,
                "run": self.run_iri,
                "selection": self.selection,
                "records_seen": self.records_seen,
                "counts": self.counts.as_json(),
                "per_facet": {facet: c.as_json() for facet, c in sorted(self.per_facet.items())},
                "seconds": round(self.seconds, 3),
                "resumed_after": self.resumed_after,
                "finished": self.finished,
                "engine": self.engine,
                "workers": self.workers,
                "retried": self.retried,
                "placement": self.placement,
            },
            indent=2,
        )


# --- the run node's state in …/graph/runs ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunState:
    """What the runs graph knows of a run: enough to list it and to resume it."""

    run_id: str
    iri: str
    started: str
    ended: str | None
    selection: str
    enrichers: tuple[str, ...]
    definition_hash: str | None
    definition: RunDefinition | None
    checkpoint: str | None
    records_seen: int
    tally: Mapping[str, Any]
    engine: str = "local"  # where it was started (runs from before engines were recorded: local)


def _single(store: Store, graphs: Graphs, run_iri: str) -> dict[str, list[str]]:
    rows = store.select(f"SELECT ?p ?o WHERE {{ GRAPH <{graphs.runs}> {{ <{run_iri}> ?p ?o }} }}")
    props: dict[str, list[str]] = {}
    for row in rows:
        props.setdefault(text(row["p"]), []).append(text(row["o"]))
    return props


def read_run(store: Store, graphs: Graphs, run_id: str) -> RunState:
    iri = graphs.run(run_id)
    props = _single(store, graphs, iri)
    if not props:
        raise RunNotFound(f"no run {run_id!r} in {store.location}")

    def one(predicate: str) -> str | None:
        values = props.get(predicate)
        return values[0] if values else None

    definition_text = one(ENR + "runDefinition")
    tally_text = one(ENR + "tally")
    return RunState(
        run_id=run_id,
        iri=iri,
        started=one(PROV + "startedAtTime") or "",
        ended=one(PROV + "endedAtTime"),
        selection=one(ENR + "recordSelection") or "",
        enrichers=tuple(sorted(props.get(ENR + "enricherName", []))),
        definition_hash=one(ENR + "definitionHash"),
        definition=RunDefinition.from_json(json.loads(definition_text)) if definition_text else None,
        checkpoint=one(ENR + "checkpoint"),
        records_seen=int(one(ENR + "recordsSeen") or 0),
        tally=json.loads(tally_text) if tally_text else {},
        engine=one(ENR + "engine") or "local",
    )


def stored_definition(store: Store, graphs: Graphs, run_id: str) -> RunDefinition:
    """The definition a run was started with (what ``enrich run --resume RUN_ID`` continues)."""
    state = read_run(store, graphs, run_id)
    if state.definition is None:
        raise InputError(run_id, "the run has no stored definition (it was not started by `enrich run`)")
    return state.definition


def list_runs(store: Store, graphs: Graphs) -> list[RunState]:
    """Every enrichment run, oldest first."""
    rows = store.select(
        f"SELECT ?run ?started WHERE {{ GRAPH <{graphs.runs}> {{ ?run a <{ENR}EnrichmentRun> ; "
        f"<{PROV}startedAtTime> ?started }} }} ORDER BY ?started ?run"
    )
    prefix = graphs.run("")
    return [read_run(store, graphs, text(row["run"]).removeprefix(prefix)) for row in rows]


def unfinished_run(store: Store, graphs: Graphs, definition_hash: str) -> str | None:
    """The id of the latest run with this definition that never finished, if any."""
    rows = store.select(
        f"SELECT ?run WHERE {{ GRAPH <{graphs.runs}> {{ ?run <{ENR}definitionHash> {string_literal(definition_hash)} ; "
        f"<{PROV}startedAtTime> ?started FILTER NOT EXISTS {{ ?run <{PROV}endedAtTime> ?ended }} }} }} "
        "ORDER BY DESC(?started) LIMIT 1"
    )
    return text(rows[0]["run"]).removeprefix(graphs.run("")) if rows else None


def save_checkpoint(store: Store, graphs: Graphs, summary: RunSummary, checkpoint: str) -> None:
    node = f"<{summary.run_iri}>"
    graph = f"<{graphs.runs}>"
    tally = json.dumps(
        {
            "counts": summary.counts.as_json(),
            "per_facet": {f: c.as_json() for f, c in summary.per_facet.items()},
        },
        sort_keys=True,
    )
    deletes = " ;\n".join(
        f"DELETE WHERE {{ GRAPH {graph} {{ {node} <{ENR}{p}> ?v }} }}" for p in ("checkpoint", "recordsSeen", "tally")
    )
    store.update(
        f"{deletes} ;\nINSERT DATA {{ GRAPH {graph} {{ {node} <{ENR}checkpoint> {string_literal(checkpoint)} ; "
        f"<{ENR}recordsSeen> {summary.records_seen} ; <{ENR}tally> {string_literal(tally)} . }} }}"
    )


# --- running ------------------------------------------------------------------------------------------------


def allowed_concepts(trees: Mapping[str, LabelTree], facets: Mapping[str, Facet]) -> dict[str, frozenset[str]]:
    """Per facet id, the concepts of its vocabulary subtree (what the writer's vocabulary rule accepts)."""
    return {facet_id: frozenset(facet_tree(facet, trees).nodes) for facet_id, facet in facets.items()}


def build_enrichers(
    store: Store,
    graphs: Graphs,
    definition: RunDefinition,
    trees: Mapping[str, LabelTree],
    vocabulary: str,
    settings: Settings | None = None,
) -> list[Enricher]:
    """The run's enrichers; the lexical one gets the facet indexes built from the trees already read, model
    enrichers (``needs_context``) an :class:`EnrichmentContext`."""
    facets = load_facets()
    context = EnrichmentContext(store, graphs, settings or Settings(), trees, facets, vocabulary)
    enrichers: list[Enricher] = []
    for spec in definition.enrichers:
        cls = enricher_class(spec.name)
        config = dict(spec.config)
        if cls.needs_context:
            config["context"] = context
        if spec.name == "lexical" and "indexes" not in config:
            wanted = definition.facets if definition.facets is not None else sorted(facets)
            indexes = {}
            for facet_id in wanted:
                tree = facet_tree(get_facet(facets, facet_id), trees)
                if any(node.selectable for node in tree.nodes.values()):
                    indexes[facet_id] = tree.index
                elif definition.facets is not None:
                    raise InputError(
                        facet_id, "no concept of this facet is in the store's vocabularies; load one first"
                    )
            config.update(indexes=indexes, facets=facets, vocabulary=vocabulary)
        try:
            enrichers.append(cls.from_config(**config))
        except TypeError as exc:  # a setting the enricher does not take (from --set or a POST /runs body)
            given = ", ".join(sorted(k for k in spec.config)) or "none"
            raise InputError(spec.name, f"the enricher refused its settings ({given}): {exc}") from exc
    return enrichers


def chain_reads(enrichers: Sequence[Enricher]) -> set[str] | None:
    """The predicates a chain's enrichers read together (``None``: one of them reads every predicate)."""
    reads: set[str] | None = set()
    for enricher in enrichers:
        if enricher.reads is None or reads is None:
            reads = None
        else:
            reads |= set(enricher.reads)
    return reads


@dataclass(frozen=True, slots=True)
class RunStart:
    """A run started or resumed: its handle, the summary so far and the checkpoint it continues after."""

    run: RunHandle
    summary: RunSummary
    after: str | None


def start_or_resume(
    store: Store,
    graphs: Graphs,
    writer: ProvenanceWriter,
    definition: RunDefinition,
    enrichers: Sequence[Enricher | tuple[str, ModelCard]],
    vocabulary: str,
    resume: str | None = None,
    auto_resume: bool = True,
    run_id: str | None = None,
    engine: str = "local",
) -> RunStart:
    """Continue ``resume`` (or, with ``auto_resume``, an unfinished run of the same definition), else start a
    new run node with the definition stored on it. ``enrichers`` are built enrichers, or (name, model card)
    pairs where the enrichers live elsewhere (the Ray engine's actors)."""
    named = [(e.name, e.model_card()) if isinstance(e, Enricher) else e for e in enrichers]
    names = [name for name, _ in named]
    cards = [card for _, card in named]
    definition_hash = definition.hash()
    resumed = resume or (unfinished_run(store, graphs, definition_hash) if auto_resume else None)
    if resumed is not None:
        state = read_run(store, graphs, resumed)
        if state.ended is not None:
            raise InputError(resumed, f"the run finished at {state.ended}; nothing to resume")
        if state.definition_hash is not None and state.definition_hash != definition_hash:
            raise InputError(resumed, "the run was started with another definition (enrichers, facets or selection)")
        run = RunHandle(resumed, state.iri, tuple(cards), tuple(names))
        summary = RunSummary(resumed, run.iri, definition.selection.describe(), state.records_seen)
        summary.resumed_after = state.checkpoint
        if state.tally:
            summary.counts = WriteCounts.from_json(state.tally["counts"])
            summary.per_facet = {f: WriteCounts.from_json(c) for f, c in state.tally["per_facet"].items()}
        return RunStart(run, summary, state.checkpoint)
    run = writer.start_run(names, cards, definition.selection.describe(), vocabulary, run_id)
    stored = string_literal(json.dumps(definition.as_json(), sort_keys=True))
    store.update(
        f"INSERT DATA {{ GRAPH <{graphs.runs}> {{ <{run.iri}> <{ENR}definitionHash> "
        f"{string_literal(definition_hash)} ; <{ENR}runDefinition> {stored} ; "
        f"<{ENR}engine> {string_literal(engine)} . }} }}"
    )
    return RunStart(run, RunSummary(run.run_id, run.iri, definition.selection.describe()), None)


def run_enrichment(
    store: Store,
    graphs: Graphs,
    definition: RunDefinition,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH,
    resume: str | None = None,
    auto_resume: bool = True,
    run_id: str | None = None,
    settings: Settings | None = None,
) -> RunSummary:
    """Run (or resume) the definition over its records and return what it did.

    ``resume`` names a run to continue (its stored definition is used; ``definition`` must match it).
    With ``auto_resume`` an unfinished run of the same definition is continued instead of starting anew.
    ``run_id`` names a new run (a caller such as the REST API hands the id out before the run starts).
    ``settings`` reach model enrichers (data directory, devices); the environment's by default.
    """
    from enrich.vocab.loader import read_trees, vocabulary_snapshot

    if batch_size < 1:
        raise InputError("--batch-size", "must be at least 1")
    started = time.perf_counter()
    trees = read_trees(store, graphs)
    facets = load_facets()
    vocabulary = vocabulary_snapshot(store, graphs)
    enrichers = build_enrichers(store, graphs, definition, trees, vocabulary, settings)
    wanted_facets = set(definition.facets) if definition.facets is not None else None
    writer = ProvenanceWriter(store, graphs, allowed_concepts(trees, facets))
    begun = start_or_resume(store, graphs, writer, definition, enrichers, vocabulary, resume, auto_resume, run_id)
    run, summary = begun.run, begun.summary

    reads = chain_reads(enrichers)
    todo = definition.selection.remaining(store, graphs, begun.after)
    if progress is not None:
        progress.total_bytes = summary.records_seen + len(todo)  # the display's "bytes" are records here
    for start in range(0, len(todo), batch_size):
        ids = todo[start : start + batch_size]
        for position, enricher in enumerate(enrichers):
            # The first enricher reads the batch with everyone's fields; later ones read it again so that
            # they see what the ones before them just wrote (enrichment graph values included).
            views = read_record_views(store, graphs, ids, reads if position == 0 else enricher.reads)
            for facet_id, suggestions in by_facet(enricher.enrich(views), wanted_facets).items():
                summary.add(facet_id, writer.write(run, suggestions))
        summary.records_seen += len(ids)
        save_checkpoint(store, graphs, summary, ids[-1])
        if progress is not None:
            progress.update(summary.records_seen, summary.records_seen)
    writer.finish(run, summary.counts)
    summary.finished = True
    summary.seconds = time.perf_counter() - started
    if progress is not None:
        progress.close()
    return summary


def by_facet(suggestions: Iterable[Suggestion], wanted: set[str] | None) -> dict[str, list[Suggestion]]:
    """Suggestions grouped by facet, in facet order, keeping only the run's facets (``None``: all)."""
    grouped: dict[str, list[Suggestion]] = {}
    for suggestion in suggestions:
        if wanted is None or suggestion.facet in wanted:
            grouped.setdefault(suggestion.facet, []).append(suggestion)
    return dict(sorted(grouped.items()))
