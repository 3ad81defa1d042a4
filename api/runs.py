"""REST: ``/runs`` — list enrichment runs, start one (admin) and follow its progress.

A run started here executes in a background thread, one at a time per application (a second start while
one runs is a 409). The start request picks the run id, waits until the run node is written (the ``progress``
hook's first call, so that a definition the run refuses is answered as an error) and then answers 202; live progress
(records done of total, rate) is kept in memory, the counts come from the run's checkpoints in the store.
A run that fails keeps its message (never a stack trace) in this application's memory; the store still
shows it as unfinished, and ``enrich run --resume`` continues it.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.auth import require_role
from api.vocab import vocabularies
from enrich.enrichers import EnricherUnavailable, UnknownEnricher, enricher_class
from enrich.ingest.errors import InputError
from enrich.ingest.progress import Progress
from enrich.jobs.run import (
    DEFAULT_BATCH,
    EnricherSpec,
    RunDefinition,
    RunNotFound,
    RunState,
    list_runs,
    read_run,
    run_enrichment,
    unfinished_run,
)
from enrich.jobs.selection import Selection
from enrich.namespaces import Graphs
from enrich.provenance import InvalidSuggestionBatch
from enrich.records_admin import resolve_record_id
from enrich.settings import Settings
from enrich.store.base import Store, StoreError
from enrich.vocab.facets import load_facets

log = logging.getLogger(__name__)
router = APIRouter(prefix="/runs", tags=["runs"])

#: How long a start request waits for the run node (vocabulary trees and indexes are built first).
START_WAIT_S = 120.0
RunId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the run id (as listed)")]
#: Failures worth showing as they are; anything else is a bug, named by its type only.
_REPORTED = (InputError, UnknownEnricher, EnricherUnavailable, InvalidSuggestionBatch, StoreError)


# -- the request ---------------------------------------------------------------------------------------
class EnricherRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    config: dict[str, Any] = Field(default_factory=dict, description="settings the enricher accepts")


class RunRequest(BaseModel):
    """What to run: enrichers (names, or ``{name, config}``), facets, and at most one record selection."""

    model_config = ConfigDict(extra="forbid")

    enrichers: list[str | EnricherRequest] = Field(min_length=1, examples=[["lexical"]])
    facets: list[str] | None = Field(None, description="default: every facet with concepts in the store")
    dataset: str | None = Field(None, description="only the records of this dataset")
    records: list[str] | None = Field(None, min_length=1, description="only these record ids or CHO IRIs")
    since: str | None = Field(None, description="only records changed since (YYYY-MM-DD or ISO date-time)")
    batch_size: int = Field(DEFAULT_BATCH, ge=1, le=100_000, description="records per batch and checkpoint")
    new: bool = Field(False, description="start anew even if an unfinished run of this definition exists")
    engine: Literal["local", "ray"] = Field(
        "local",
        description="local: in the server's process; ray: actor pools on the Ray cluster of ENRICH_RAY_ADDRESS "
        "(or one started on this machine), against a remote store (the dist extra)",
    )
    workers: int = Field(2, ge=1, le=4096, description="ray: actor replicas per enricher")

    @field_validator("enrichers")
    @classmethod
    def _known_enrichers(cls, value: list[str | EnricherRequest]) -> list[str | EnricherRequest]:
        for item in value:
            spec = item if isinstance(item, EnricherRequest) else EnricherRequest(name=item)
            try:
                accepted = inspect.signature(enricher_class(spec.name)).parameters
            except (UnknownEnricher, EnricherUnavailable) as exc:
                raise ValueError(str(exc).strip('"')) from exc
            unknown = sorted(set(spec.config) - set(accepted))
            if unknown:
                raise ValueError(f"enricher {spec.name!r} has no setting {', '.join(map(repr, unknown))}")
        return value

    @field_validator("facets")
    @classmethod
    def _known_facets(cls, value: list[str] | None) -> list[str] | None:
        known = load_facets()
        unknown = sorted(set(value or ()) - set(known))
        if unknown:
            raise ValueError(f"unknown facet {', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})")
        return value

    @model_validator(mode="after")
    def _one_selection(self) -> RunRequest:
        given = [name for name in ("dataset", "records", "since") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one record selection, not {' and '.join(given)}")
        return self

    def selection(self) -> Selection:
        try:
            if self.dataset is not None:
                return Selection.of_dataset(self.dataset)
            if self.records is not None:
                return Selection.of_records([resolve_record_id(r) for r in self.records])
            if self.since is not None:
                return Selection.changed_since(self.since)
        except InputError as exc:
            raise HTTPException(422, f"since: {exc}") from exc
        return Selection.all()

    def definition(self) -> RunDefinition:
        specs = [
            EnricherSpec(item.name, item.config) if isinstance(item, EnricherRequest) else EnricherSpec(item)
            for item in self.enrichers
        ]
        return RunDefinition.of(specs, self.facets, self.selection())


# -- the runner ----------------------------------------------------------------------------------------
@dataclass
class _Job:
    """A run started by this application."""

    definition: RunDefinition
    run_id: str
    resumes: bool  # run_id names an unfinished run of the same definition, continued
    began: bool = False  # the run node is written: a failure from here on is the run's, not the request's
    total: int | None = None
    done: int = 0
    done_at_start: int = 0
    started: float = field(default_factory=time.monotonic)
    error: str | None = None
    internal_error: bool = False  # a bug, not bad input
    ready: threading.Event = field(default_factory=threading.Event)  # the run id is known, or it failed
    finished: threading.Event = field(default_factory=threading.Event)

    def progress_json(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        return {
            "records_done": self.done,
            "records_total": self.total,
            "records_per_second": round((self.done - self.done_at_start) / elapsed, 2) if elapsed > 0 else 0.0,
            "elapsed_s": round(elapsed, 3),
        }


class _LiveProgress(Progress):
    """``run_enrichment``'s progress display, kept silent and turned into the job's live state. The run
    sets ``total_bytes`` (records, here) right after it has written or resumed its run node."""

    def __init__(self, on_start: Callable[[], None], job: _Job) -> None:
        self._on_start = on_start
        self._job = job
        super().__init__(None, enabled=False)

    @property
    def total_bytes(self) -> int | None:
        return self._job.total

    @total_bytes.setter
    def total_bytes(self, value: int | None) -> None:
        if value is not None:
            self._job.total = value
            self._on_start()

    def update(self, records: int, done_bytes: int) -> None:
        self._job.done = records


def _short(message: str, lines: int = 3) -> str:
    """The head of a long message (a refused batch lists every problem; the server log has them all)."""
    head = message.splitlines()[:lines]
    more = len(message.splitlines()) - len(head)
    return "\n".join(head) + (f"\n… ({more} more line(s) in the server log)" if more > 0 else "")


class RunBusy(Exception):
    pass


class RunManager:
    """At most one run at a time in a background thread; the last one's live state and failures in memory."""

    def __init__(self, store: Store, graphs: Graphs, settings: Settings) -> None:
        self.store = store
        self.graphs = graphs
        self.settings = settings
        self._lock = threading.Lock()
        self.current: _Job | None = None
        self.failures: dict[str, str] = {}

    def start(
        self, definition: RunDefinition, batch_size: int, auto_resume: bool, engine: str = "local", workers: int = 2
    ) -> _Job:
        with self._lock:
            if self.current is not None and not self.current.finished.is_set():
                raise RunBusy(self.current.run_id)
            # The id is chosen here, not by the run, so that the answer can name it before the run starts.
            resumed = unfinished_run(self.store, self.graphs, definition.hash()) if auto_resume else None
            job = self.current = _Job(definition, resumed or uuid.uuid4().hex, resumes=resumed is not None)
        thread = threading.Thread(
            target=self._execute, args=(job, batch_size, engine, workers), name="enrich-run", daemon=True
        )
        thread.start()
        job.ready.wait(START_WAIT_S)
        return job

    def _started(self, job: _Job) -> None:
        """Called by the run once its node is written (or resumed): live progress counts from here."""
        self.failures.pop(job.run_id, None)  # a resumed run's earlier failure is history now
        job.done = job.done_at_start = read_run(self.store, self.graphs, job.run_id).records_seen
        job.started = time.monotonic()
        job.began = True
        job.ready.set()

    def _execute(self, job: _Job, batch_size: int, engine: str, workers: int) -> None:
        progress = _LiveProgress(lambda: self._started(job), job)
        common: dict[str, Any] = {
            "progress": progress,
            "batch_size": batch_size,
            "resume": job.run_id if job.resumes else None,
            "auto_resume": False,
            "run_id": None if job.resumes else job.run_id,
            "settings": self.settings,
        }
        try:
            if engine == "ray":
                from enrich.jobs.ray_engine import RayOptions, run_on_ray

                options = RayOptions(address=self.settings.ray_address, workers=workers)
                run_on_ray(self.store, self.graphs, job.definition, options, **common)
            else:
                run_enrichment(self.store, self.graphs, job.definition, **common)
        except Exception as exc:
            if isinstance(exc, _REPORTED):
                job.error = _short(str(exc))
                log.warning("enrichment run %s failed: %s", job.run_id, exc)
            else:
                job.internal_error = True
                job.error = f"internal error ({type(exc).__name__}); the server log has the details"
                log.error("enrichment run %s failed", job.run_id, exc_info=exc)
            self.failures[job.run_id] = job.error
        finally:
            job.finished.set()
            job.ready.set()

    def live(self, run_id: str) -> _Job | None:
        job = self.current
        return job if job is not None and job.run_id == run_id and not job.finished.is_set() else None


_MANAGER_GUARD = threading.Lock()


def manager(app: FastAPI) -> RunManager:
    with _MANAGER_GUARD:
        found: RunManager | None = getattr(app.state, "run_manager", None)
        if found is None:
            found = app.state.run_manager = RunManager(app.state.store, app.state.graphs, app.state.settings)
        return found


# -- answers -------------------------------------------------------------------------------------------
def _run_json(state: RunState, runs: RunManager) -> dict[str, Any]:
    live = runs.live(state.run_id)
    error = runs.failures.get(state.run_id)
    if live is not None:
        status = "running"
    elif state.ended is not None:
        status = "finished"
    else:
        status = "failed" if error is not None else "unfinished"
    tally = dict(state.tally)
    data: dict[str, Any] = {
        "run_id": state.run_id,
        "run": state.iri,
        "status": status,
        "started": state.started,
        "ended": state.ended,
        "enrichers": list(state.enrichers),
        "selection": state.selection,
        "definition": state.definition.as_json() if state.definition is not None else None,
        "checkpoint": state.checkpoint,
        "records_seen": state.records_seen,
        "engine": state.engine,
        "counts": tally.get("counts", {}),
        "per_facet": tally.get("per_facet", {}),
        "error": error,
    }
    if live is not None:
        data["progress"] = live.progress_json()
    return data


def _read(store: Store, graphs: Graphs, run_id: str) -> RunState:
    try:
        return read_run(store, graphs, run_id)
    except RunNotFound:
        raise HTTPException(404, f"no run {run_id!r}") from None


@router.get("", summary="every enrichment run, oldest first", dependencies=[Depends(require_role("reader"))])
def runs_list(request: Request) -> dict[str, Any]:
    state = request.app.state
    runs = manager(request.app)
    return {"runs": [_run_json(run, runs) for run in list_runs(state.store, state.graphs)]}


@router.get(
    "/{run_id}", summary="one run: state, live progress, counts", dependencies=[Depends(require_role("reader"))]
)
def run_detail(request: Request, run_id: RunId) -> dict[str, Any]:
    state = request.app.state
    return _run_json(_read(state.store, state.graphs, run_id), manager(request.app))


@router.post(
    "",
    status_code=202,
    summary="start an enrichment run in the background (admin)",
    dependencies=[Depends(require_role("admin"))],
)
def start_run(request: Request, response: Response, body: RunRequest) -> dict[str, Any]:
    definition = body.definition()
    if body.facets:
        loaded = vocabularies(request.app)
        empty = [f for f in body.facets if not any(n.selectable for n in loaded.facet_tree(f).nodes.values())]
        if empty:
            raise HTTPException(
                422, f"facets: no concept of {', '.join(map(repr, empty))} is in the store's vocabularies"
            )
    runs = manager(request.app)
    try:
        job = runs.start(definition, body.batch_size, not body.new, body.engine, body.workers)
    except RunBusy as exc:
        raise HTTPException(409, f"run {exc} is still running; follow it at /runs/{exc}") from None
    if job.error is not None and not job.began:
        raise HTTPException(500 if job.internal_error else 422, job.error)
    location = str(request.url_for("run_detail", run_id=job.run_id))
    response.headers["Location"] = location
    status = "failed" if job.error is not None else "finished" if job.finished.is_set() else "running"
    return {"run_id": job.run_id, "status": status, "location": location}
