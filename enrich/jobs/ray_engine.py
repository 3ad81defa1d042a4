"""The Ray engine: the same run definition as :func:`enrich.jobs.run.run_enrichment`, executed on a Ray cluster.

What runs where:

- The **driver** (this process) reads the selection's record ids (keyset order, as the local engine), starts
  or resumes the run node, schedules batches, saves checkpoints and finishes the run. It loads no model.
- Each enricher of the chain is a **stage** with its own actor pool: one replica of the enricher (and its
  model) per actor, built once. A stage's actor reads its batch's record views from the store, runs the
  enricher and returns the suggestions grouped by facet. Actors of model enrichers ask Ray for
  ``gpus_per_worker`` GPUs when the cluster has any (and the card does not pin the CPU); elsewhere they
  run on CPUs, and the model's own placement (``device: auto``) finds no CUDA device and stays on the CPU.
- **Batch writers** (another pool, no CPU reserved: they wait on the store) write each stage's output through
  the :class:`~enrich.provenance.ProvenanceWriter` with a receipt per batch, stage and facet, so a batch
  whose writer died after committing is not counted twice when it is written again.

A batch goes through the stages in the definition's order, and a stage's output is written before the next
stage reads the batch, exactly as in the local engine, so chained enrichers (translate → generate → embed)
see the same store. Different batches are in flight at once (``batches_in_flight``), at different stages.

Faults. A lost actor (killed, its node gone, its process crashed) fails the calls it had: the driver
replaces the actor and gives the batch step to the pool again (up to ``max_attempts`` per step). An enricher
step has written nothing, and a write step is idempotent (suggestion identity is the triple, the commit is
one atomic update, the receipt holds its counts), so nothing is lost or duplicated. An exception raised by
enricher code is not a lost worker: the run stops with it, as the local engine does, and stays unfinished at
its checkpoint.

Checkpoints. Batches finish out of order; the run's checkpoint is the last record id of the longest run of
finished batches from the start, with the counts of those batches only. A resumed run (by either engine)
continues after it; batches that had finished beyond it are written again, and their receipts (kept until
the run finishes) give back the counts they had when the batch boundaries are the same.

The store must be one every worker reaches: a remote SPARQL 1.1 store (Oxigraph server, Fuseki, GraphDB,
Virtuoso) with the Graph Store Protocol, through which the writers bulk-load their batches. An embedded store
is one process's (its directory is locked), so it is refused with a message saying how to serve it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from enrich.enrichers import enricher_class
from enrich.enrichers.base import Enricher, read_record_views
from enrich.ingest.errors import InputError
from enrich.ingest.progress import Progress
from enrich.jobs.run import (
    DEFAULT_BATCH,
    RunDefinition,
    RunSummary,
    allowed_concepts,
    build_enrichers,
    by_facet,
    save_checkpoint,
    start_or_resume,
)
from enrich.namespaces import Graphs
from enrich.provenance import ProvenanceWriter, RunHandle, WriteCounts
from enrich.settings import Settings
from enrich.store.base import Store, StoreError
from enrich.suggestion import ModelCard, Suggestion
from enrich.vocab.facets import load_facets

INSTALL_HINT = "pip install 'heritage-enrich[dist]'"
NAMESPACE = "heritage-enrich"
_SERVING_SECRETS = {"api_tokens", "session_secret", "oai_token_secret"}


class RayUnavailable(InputError):
    """Ray is not installed (the ``dist`` extra)."""

    def __init__(self, reason: str) -> None:
        super().__init__("--engine ray", f"Ray is not installed ({reason}); install the dist extra: {INSTALL_HINT}")


def import_ray() -> Any:
    """The ``ray`` module, or a :class:`RayUnavailable` that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(str(exc)) from None
    return ray


@dataclass(frozen=True, slots=True)
class RayOptions:
    """How the run uses the cluster.

    ``address`` None starts a Ray instance in this process for the run (``local_cpus`` CPUs, all by default)
    and stops it after; ``auto`` joins the cluster started on this machine with ``ray start``;
    ``ray://host:10001`` connects through Ray Client. When Ray is already initialised (a notebook, a test),
    that connection is used and left open.
    """

    address: str | None = None
    workers: int = 2  # actor replicas per enricher
    writers: int | None = None  # batch writers; as many as workers by default
    gpus_per_worker: float = 1.0  # for model enrichers, when the cluster has GPUs; 0 keeps them on CPUs
    cpus_per_worker: float | None = None  # None: the cluster's CPUs shared out between the enricher actors
    batches_in_flight: int | None = None  # 2 per worker by default
    max_attempts: int = 3  # per batch step, counting the first
    local_cpus: int | None = None

    def check(self) -> None:
        if self.workers < 1:
            raise InputError("--workers", "must be at least 1")
        if self.writers is not None and self.writers < 1:
            raise InputError("--writers", "must be at least 1")
        if self.gpus_per_worker < 0 or (self.cpus_per_worker is not None and self.cpus_per_worker <= 0):
            raise InputError("--gpus-per-worker/--cpus-per-worker", "must be positive (GPUs: or 0)")
        if self.batches_in_flight is not None and self.batches_in_flight < 1:
            raise InputError("--batches-in-flight", "must be at least 1")
        if self.max_attempts < 1:
            raise InputError("--max-attempts", "must be at least 1")


@dataclass(frozen=True, slots=True)
class _Job:
    """What every actor rebuilds its part of the run from (plain data: it crosses process boundaries)."""

    settings: dict[str, Any]
    definition: dict[str, Any]
    vocabulary: str

    def open(self) -> tuple[Settings, Store, Graphs]:
        from enrich.store import open_store

        settings = Settings(**self.settings)
        return settings, open_store(settings.store, settings, create=False), Graphs(settings.base_iri)


# --- the actors (plain classes; ``ray.remote`` wraps them when a run starts) ----------------------------------


class StageWorker:
    """One enricher of the chain with its model, loaded once; reads a batch, enriches it, returns suggestions."""

    def __init__(self, job: _Job, stage: int) -> None:
        self.job = job
        self.stage = stage
        self.enricher: Enricher | None = None

    def setup(self) -> tuple[str, ModelCard, str]:
        """Build the enricher; answer its name, model card (for the run's provenance) and where it runs."""
        from enrich.vocab.loader import read_trees

        settings, self.store, self.graphs = self.job.open()
        definition = RunDefinition.from_json(self.job.definition)
        self.wanted = set(definition.facets) if definition.facets is not None else None
        alone = replace(definition, enrichers=(definition.enrichers[self.stage],))
        trees = read_trees(self.store, self.graphs)
        self.enricher = build_enrichers(self.store, self.graphs, alone, trees, self.job.vocabulary, settings)[0]
        return self.enricher.name, self.enricher.model_card(), _where()

    def enrich(self, record_ids: Sequence[str]) -> tuple[int, dict[str, list[Suggestion]]]:
        """(how many suggestions, the suggestions by facet); the small first value lets the driver see that the
        step is done without fetching the suggestions, which go straight to a writer."""
        assert self.enricher is not None, "setup() first"
        views = read_record_views(self.store, self.graphs, record_ids, self.enricher.reads)
        grouped = by_facet(self.enricher.enrich(views), self.wanted)
        return sum(len(items) for items in grouped.values()), grouped


class BatchWriter:
    """Writes one batch step's suggestions through the provenance writer, facet by facet, with receipts."""

    def __init__(self, job: _Job) -> None:
        self.job = job
        self.writer: ProvenanceWriter | None = None

    def setup(self) -> str:
        from enrich.vocab.loader import read_trees

        _, store, graphs = self.job.open()
        self.writer = ProvenanceWriter(store, graphs, allowed_concepts(read_trees(store, graphs), load_facets()))
        return _where()

    def write(self, run: RunHandle, key: str, grouped: Mapping[str, list[Suggestion]]) -> dict[str, WriteCounts]:
        assert self.writer is not None, "setup() first"
        return {facet: self.writer.write(run, items, receipt=f"{key} {facet}") for facet, items in grouped.items()}


def _where() -> str:
    """Host, process and CUDA devices of this worker (for the log and the tests)."""
    import socket

    return f"{socket.gethostname()}:{os.getpid()} CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '')}"


# --- pools ----------------------------------------------------------------------------------------------------


@dataclass
class _Pool:
    """Actors of one kind; a dead one is replaced by a new one built the same way."""

    label: str
    actor_class: Any  # a ray.remote class
    args: tuple[Any, ...]  # its constructor's arguments
    resources: Mapping[str, Any]  # what each actor asks Ray for (num_cpus, num_gpus)
    size: int
    ray: Any
    idle: deque[Any] = field(default_factory=deque)
    every: list[Any] = field(default_factory=list)
    launched: list[Any] = field(default_factory=list)
    made: int = 0

    def launch(self) -> list[Any]:
        """Create the actors and start their setups; the setups' ObjectRefs, in actor order."""
        self.launched = [self._new() for _ in range(self.size)]
        return [actor.setup.remote() for actor in self.launched]

    def ready(self) -> None:
        self.idle.extend(self.launched)

    def _new(self) -> Any:
        self.made += 1
        # Named, so that operators (and the fault test) can find an actor with ``ray.get_actor``.
        actor = self.actor_class.options(
            name=f"{self.label}-{self.made}", namespace=NAMESPACE, max_restarts=0, **self.resources
        ).remote(*self.args)
        self.every.append(actor)
        return actor

    def replace(self, dead: Any) -> None:
        with contextlib.suppress(Exception):  # it may be gone already
            self.ray.kill(dead)
        self.every.remove(dead)
        actor = self._new()
        _unwrap(self.ray, lambda: self.ray.get(actor.setup.remote()))
        self.idle.append(actor)

    def stop(self) -> None:
        for actor in self.every:
            with contextlib.suppress(Exception):
                self.ray.kill(actor)


def _unwrap(ray: Any, call: Callable[[], Any]) -> Any:
    """Run ``call``; an exception raised in a worker comes out as itself (an ``InputError`` stays one)."""
    try:
        return call()
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise


# --- the driver -----------------------------------------------------------------------------------------------


@dataclass
class _Batch:
    index: int
    ids: list[str]
    stage: int = 0
    attempts: int = 0
    output: Any = None  # ObjectRef of the current stage's suggestions
    counts: dict[str, WriteCounts] = field(default_factory=dict)

    def key(self) -> str:
        """Names the batch step in its receipt: stable across resumes when the batch boundaries are."""
        return f"stage {self.stage} {self.ids[0]} {self.ids[-1]} {len(self.ids)}"


def run_on_ray(
    store: Store,
    graphs: Graphs,
    definition: RunDefinition,
    options: RayOptions | None = None,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH,
    resume: str | None = None,
    auto_resume: bool = True,
    run_id: str | None = None,
    settings: Settings | None = None,
) -> RunSummary:
    """Run (or resume) the definition on Ray; the arguments and the summary are those of ``run_enrichment``."""
    from enrich.vocab.loader import vocabulary_snapshot

    options = options or RayOptions()
    options.check()
    ray = import_ray()
    settings = settings or Settings()
    if batch_size < 1:
        raise InputError("--batch-size", "must be at least 1")
    if not settings.store.startswith(("http://", "https://")):
        raise InputError(
            "--engine ray",
            f"the store {settings.store} is embedded: one process holds it, and Ray's workers cannot open it. "
            "Serve it (`oxigraph serve --location DIR --bind 127.0.0.1:7878`) and point ENRICH_STORE (or --store) "
            "at http://127.0.0.1:7878, or any SPARQL 1.1 store with the Graph Store Protocol",
        )
    for spec in definition.enrichers:
        enricher_class(spec.name)  # an unknown or uninstalled enricher is named before Ray starts
    started = time.perf_counter()
    vocabulary = vocabulary_snapshot(store, graphs)
    # The serving secrets stay here: workers enrich and write, they never serve.
    job = _Job(settings.model_dump(mode="json", exclude=_SERVING_SECRETS), definition.as_json(), vocabulary)
    with _connected(ray, options) as cluster:
        scheduler = _Scheduler(ray, cluster, job, definition, options)
        try:
            cards, placement = scheduler.start()
            # The driver only starts and finishes the run: the batch writers check suggestions against the trees.
            writer = ProvenanceWriter(store, graphs)
            begun = start_or_resume(
                store, graphs, writer, definition, cards, vocabulary, resume, auto_resume, run_id, engine="ray"
            )
            summary = begun.summary
            summary.engine, summary.workers, summary.placement = "ray", options.workers, placement
            todo = definition.selection.remaining(store, graphs, begun.after)
            batches = [_Batch(n, todo[i : i + batch_size]) for n, i in enumerate(range(0, len(todo), batch_size))]
            if progress is not None:
                progress.total_bytes = summary.records_seen + len(todo)
            scheduler.run(batches, begun.run, summary, store, graphs, progress)
        finally:
            scheduler.stop()
    writer.finish(begun.run, summary.counts)
    summary.finished = True
    summary.seconds = time.perf_counter() - started
    if progress is not None:
        progress.close()
    return summary


@contextlib.contextmanager
def _connected(ray: Any, options: RayOptions) -> Iterator[Mapping[str, float]]:
    """Ray initialised for the run (and shut down after, if the run started it); yields the cluster's resources."""
    owned = not ray.is_initialized()
    if owned:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report leaves the machine
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "namespace": NAMESPACE}
        if options.address is None and options.local_cpus is not None:
            kwargs["num_cpus"] = options.local_cpus
        try:
            ray.init(address=options.address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise InputError("--address", f"cannot start or reach a Ray cluster at {options.address}: {exc}") from exc
    try:
        yield ray.cluster_resources()
    finally:
        if owned:
            ray.shutdown()


class _Scheduler:
    """Moves batches through enrich and write steps on the pools, replacing lost actors."""

    def __init__(
        self, ray: Any, cluster: Mapping[str, float], job: _Job, definition: RunDefinition, options: RayOptions
    ) -> None:
        self.ray = ray
        self.options = options
        self.stages: list[_Pool] = []
        run_tag = os.urandom(4).hex()
        for stage, (spec, resources) in enumerate(
            zip(definition.enrichers, stage_resources(definition, cluster, options), strict=True)
        ):
            self.stages.append(
                _Pool(
                    f"enrich-{run_tag}-{stage}-{spec.name}",
                    ray.remote(StageWorker),
                    (job, stage),
                    resources,
                    options.workers,
                    ray,
                )
            )
        # Writers wait on the store, they compute little: no CPU reserved, so they never hold up the enrichers.
        self.writers = _Pool(
            f"write-{run_tag}",
            ray.remote(BatchWriter),
            (job,),
            {"num_cpus": 0},
            options.writers or options.workers,
            ray,
        )

    def start(self) -> tuple[list[tuple[str, ModelCard]], dict[str, list[str]]]:
        """Start every pool, all actors setting up at once; the chain's (name, model card), checked to agree
        between replicas, and where each pool's actors run (host:pid and the CUDA devices Ray gave them)."""
        pools = [*self.stages, self.writers]
        launched = [pool.launch() for pool in pools]
        answers = _unwrap(self.ray, lambda: self.ray.get([ref for refs in launched for ref in refs]))
        cards: list[tuple[str, ModelCard]] = []
        placement: dict[str, list[str]] = {}
        position = 0
        for pool, refs in zip(pools, launched, strict=True):
            mine = answers[position : position + len(refs)]
            position += len(refs)
            pool.ready()
            if pool is self.writers:
                placement["writers"] = list(mine)
                continue
            named = {(name, card) for name, card, _ in mine}
            if len(named) != 1:
                raise InputError(pool.label, f"the replicas disagree on their model card: {sorted(map(str, named))}")
            cards.append(next(iter(named)))
            placement[f"{len(cards) - 1}:{cards[-1][0]}"] = [where for _, _, where in mine]
        return cards, placement

    def stop(self) -> None:
        for pool in [*self.stages, self.writers]:
            pool.stop()

    def run(
        self,
        batches: list[_Batch],
        run: RunHandle,
        summary: RunSummary,
        store: Store,
        graphs: Graphs,
        progress: Progress | None,
    ) -> None:
        ray = self.ray
        lost = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError, ray.exceptions.ObjectLostError)
        limit = self.options.batches_in_flight or 2 * self.options.workers
        to_enrich: list[deque[_Batch]] = [deque() for _ in self.stages]
        to_write: deque[_Batch] = deque()
        pending: dict[Any, tuple[_Batch, _Pool, Any]] = {}
        finished = [False] * len(batches)
        admitted = prefix = in_flight = 0
        records_done = summary.records_seen
        while prefix < len(batches):
            while in_flight < limit and admitted < len(batches):
                to_enrich[0].append(batches[admitted])
                admitted += 1
                in_flight += 1
            for stage, pool in enumerate(self.stages):
                while to_enrich[stage] and pool.idle:
                    batch, actor = to_enrich[stage].popleft(), pool.idle.popleft()
                    count, batch.output = actor.enrich.options(num_returns=2).remote(batch.ids)
                    pending[count] = (batch, pool, actor)
            while to_write and self.writers.idle:
                batch, actor = to_write.popleft(), self.writers.idle.popleft()
                pending[actor.write.remote(run, batch.key(), batch.output)] = (batch, self.writers, actor)
            if not pending:  # every actor idle with work queued cannot happen; never wait on nothing
                raise RuntimeError("the Ray scheduler has batches left but nothing in flight")
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                batch, pool, actor = pending.pop(ref)
                writing = pool is self.writers
                try:
                    answer = _unwrap(ray, functools.partial(ray.get, ref))
                except lost as exc:
                    batch.attempts += 1
                    summary.retried += 1
                    if batch.attempts >= self.options.max_attempts:
                        raise StoreError(
                            f"batch {batch.index} ({batch.ids[0]} … {batch.ids[-1]}) failed {batch.attempts} times "
                            f"in {pool.label}; the run stays unfinished at its checkpoint: {exc}"
                        ) from exc
                    pool.replace(actor)
                    if writing and not isinstance(exc, ray.exceptions.ObjectLostError):
                        to_write.appendleft(batch)
                    else:  # an enrich step, or a write whose input went with the worker: enrich again
                        to_enrich[batch.stage].appendleft(batch)
                    continue
                pool.idle.append(actor)
                if not writing:
                    to_write.append(batch)
                    continue
                for facet, counts in answer.items():
                    batch.counts[facet] = batch.counts.get(facet, WriteCounts()) + counts
                batch.output, batch.attempts = None, 0
                batch.stage += 1
                if batch.stage < len(self.stages):
                    to_enrich[batch.stage].append(batch)
                    continue
                finished[batch.index] = True
                in_flight -= 1
                records_done += len(batch.ids)
                advanced = False
                while prefix < len(batches) and finished[prefix]:
                    done = batches[prefix]
                    for facet, counts in sorted(done.counts.items()):
                        summary.add(facet, counts)
                    summary.records_seen += len(done.ids)
                    prefix += 1
                    advanced = True
                if advanced:
                    save_checkpoint(store, graphs, summary, batches[prefix - 1].ids[-1])
                if progress is not None:
                    progress.update(records_done, records_done)


def stage_resources(
    definition: RunDefinition, cluster: Mapping[str, float], options: RayOptions
) -> list[dict[str, float]]:
    """What each enricher's actors ask Ray for, on a cluster with these resources (``ray.cluster_resources()``).

    A model enricher (``uses_accelerator``) whose cards do not pin the CPU gets ``gpus_per_worker`` GPUs where
    the cluster has any (a fraction puts several replicas on one GPU) and a CPU for its data loading. Every
    other actor gets ``cpus_per_worker``, by default an even share of the cluster's CPUs (at most one each), so
    all of the chain's replicas fit at once: a stage that could not place its actors would stall the pipeline.
    """
    cpus = float(cluster.get("CPU", 1.0))
    has_gpus = float(cluster.get("GPU", 0.0)) > 0
    share = options.cpus_per_worker or max(min(1.0, cpus / (options.workers * len(definition.enrichers))), 0.01)
    resources: list[dict[str, float]] = []
    for spec in definition.enrichers:
        if has_gpus and options.gpus_per_worker > 0 and _wants_gpu(spec.name, spec.config):
            resources.append({"num_cpus": options.cpus_per_worker or 1.0, "num_gpus": options.gpus_per_worker})
        else:
            resources.append({"num_cpus": share})
    return resources


def _wants_gpu(name: str, config: Mapping[str, Any]) -> bool:
    """Whether an enricher's actors should ask for a GPU: a model enricher whose cards do not pin the CPU."""
    if not enricher_class(name).uses_accelerator:
        return False
    from enrich.models.cards import load_spec

    named = config.get("cards", config.get("card", []))
    devices = []
    for card in [named] if isinstance(named, str) else list(named):
        try:
            devices.append(load_spec(card).device)
        except InputError:
            continue  # the actor's setup names the broken card
    return not devices or any(device != "cpu" for device in devices)
