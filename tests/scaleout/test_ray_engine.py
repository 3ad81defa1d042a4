"""The Ray engine against a real Oxigraph server, on a local Ray instance with 2 CPUs (issue 8).

Equivalence: the same definition (lexical, a tiny embed model, zero-shot over its vectors, dummy) run by the
local engine and by the Ray engine over the same 120 CMOA records writes the same suggestion triples, with
the same confidences (within float tolerance), and the summaries count the same.

Faults: actors killed with ``ray.kill`` while batches are in flight are replaced and their batch steps given
to the pool again; the run finishes with exactly the suggestions of an undisturbed run, one status and one
confidence per node, and counts as if nothing had died (the writers' receipts).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from enrich.ingest.errors import InputError
from enrich.ingest.progress import Progress
from enrich.jobs.ray_engine import NAMESPACE, RayOptions, run_on_ray
from enrich.jobs.run import EnricherSpec, RunDefinition, RunSummary, read_run, run_enrichment
from enrich.models.cards import ModelSpec
from enrich.namespaces import ENR
from enrich.settings import Settings
from enrich.store.base import Store
from tests.ingest.support import make_settings
from tests.jobs.support import GRAPHS, cmoa_store, suggestion_state

FACETS = ["materials", "object-types"]
CONFIDENCE = f"{ENR}confidence "


def _definition(card: Path) -> RunDefinition:
    return RunDefinition.of(
        [
            EnricherSpec("lexical"),
            EnricherSpec("embed", {"cards": [str(card)], "modalities": ["text"]}),
            EnricherSpec("zero-shot", {"card": str(card), "modalities": ["text"], "top_k": 2, "min_confidence": 0.0}),
            EnricherSpec("dummy"),
        ],
        FACETS,
    )


def _settings(server: str, data_dir: Path) -> Settings:
    return make_settings(store=server, data_dir=str(data_dir))


def _split(state: dict[str, tuple[str, ...]]) -> tuple[dict[str, tuple[str, ...]], dict[str, float]]:
    """Suggestion nodes without their confidence, and the confidences as numbers (compared with a tolerance)."""
    rest: dict[str, tuple[str, ...]] = {}
    confidences: dict[str, float] = {}
    for node, values in state.items():
        rest[node] = tuple(v for v in values if not v.startswith(CONFIDENCE))
        (confidence,) = [v for v in values if v.startswith(CONFIDENCE)]
        confidences[node] = float(confidence.removeprefix(CONFIDENCE).split('"')[1])
    return rest, confidences


def _counts(summary: RunSummary) -> tuple[Any, ...]:
    return summary.records_seen, summary.counts, dict(sorted(summary.per_facet.items()))


def _local_reference(store: Store, server: str, tmp_path: Path, definition: RunDefinition) -> tuple[Any, ...]:
    store.update("DROP ALL")
    cmoa_store(store, tmp_path / "local")
    summary = run_enrichment(
        store, GRAPHS, definition, batch_size=16, settings=_settings(server, tmp_path / "local" / "data")
    )
    return summary, suggestion_state(store)


def test_local_and_ray_engines_write_the_same_suggestions(
    ray_instance: Any,
    remote_store: Store,
    oxigraph_server: str,
    tiny_encoder_card: tuple[ModelSpec, Path],
    tmp_path: Path,
) -> None:
    definition = _definition(tiny_encoder_card[1])
    local, local_state = _local_reference(remote_store, oxigraph_server, tmp_path, definition)

    remote_store.update("DROP ALL")
    ids = cmoa_store(remote_store, tmp_path / "ray")
    settings = _settings(oxigraph_server, tmp_path / "ray" / "data")  # its own cache: the workers embed again
    ray = run_on_ray(remote_store, GRAPHS, definition, RayOptions(workers=2), batch_size=16, settings=settings)
    ray_state = suggestion_state(remote_store)

    assert local.finished and ray.finished and ray.engine == "ray" and ray.workers == 2
    # Each enricher ran in two actor processes of its own, none of them this one; no GPU was given to any.
    assert list(ray.placement) == ["0:lexical", "1:embed", "2:zero-shot", "3:dummy", "writers"]
    pids = {where.split()[0].rsplit(":", 1)[1] for places in ray.placement.values() for where in places}
    assert len(pids) == 5 * 2 and str(os.getpid()) not in pids
    assert all(where.endswith("CUDA_VISIBLE_DEVICES=") for places in ray.placement.values() for where in places)
    assert {"lexical", "zero-shot", "dummy"} <= {
        v.split('"')[1] for values in ray_state.values() for v in values if v.startswith(f"{ENR}enricher ")
    }
    local_rest, local_confidences = _split(local_state)
    ray_rest, ray_confidences = _split(ray_state)
    assert len(ray_rest) == len(local_rest) > 200
    assert ray_rest == local_rest  # same nodes, triples, facets, evidence, enrichers, status
    assert ray_confidences.keys() == local_confidences.keys()
    worst = max(abs(ray_confidences[n] - local_confidences[n]) for n in local_confidences)
    assert worst < 1e-6, f"confidences differ by up to {worst}"
    assert _counts(ray) == _counts(local) and ray.counts.new == len(ray_rest)
    state = read_run(remote_store, GRAPHS, ray.run_id)
    assert state.ended is not None and state.checkpoint == ids[-1] and state.records_seen == len(ids)
    assert remote_store.ask(f'ASK {{ GRAPH <{GRAPHS.runs}> {{ <{ray.run_iri}> <{ENR}engine> "ray" }} }}')
    # The embed workers wrote their vectors to the shared data directory, as the local engine did.
    assert (tmp_path / "ray" / "data").is_dir() and any((tmp_path / "ray" / "data").rglob("*.sqlite*"))


class _KillingProgress(Progress):
    """Kills one enricher actor and one batch writer when the first batch is done, with others in flight."""

    def __init__(self, ray: Any, stage: str) -> None:
        super().__init__(None, enabled=False)
        self.ray = ray
        self.stage = stage
        self.killed: list[str] = []

    def update(self, records: int, done_bytes: int) -> None:
        super().update(records, done_bytes)
        if self.killed:
            return
        names = sorted(a["name"] for a in self.ray.util.list_named_actors(all_namespaces=True))
        victims = [n for n in names if n.startswith("enrich-") and f"-{self.stage}-" in n][:1]
        victims += [n for n in names if n.startswith("write-")][:1]
        for name in victims:
            self.ray.kill(self.ray.get_actor(name, namespace=NAMESPACE))
        self.killed = victims


def test_killed_workers_are_replaced_and_nothing_is_lost_or_duplicated(
    ray_instance: Any, remote_store: Store, oxigraph_server: str, tmp_path: Path
) -> None:
    definition = RunDefinition.of(["lexical", "dummy"], FACETS)
    local, local_state = _local_reference(remote_store, oxigraph_server, tmp_path, definition)

    remote_store.update("DROP ALL")
    ids = cmoa_store(remote_store, tmp_path / "ray")
    progress = _KillingProgress(ray_instance, "0-lexical")
    summary = run_on_ray(
        remote_store,
        GRAPHS,
        definition,
        RayOptions(workers=2, batches_in_flight=4),
        progress=progress,
        batch_size=8,
        settings=_settings(oxigraph_server, tmp_path / "ray" / "data"),
    )

    assert len(progress.killed) == 2 and summary.retried >= 1
    assert summary.finished and _counts(summary) == _counts(local)
    assert suggestion_state(remote_store) == local_state  # lexical and dummy confidences are exact
    doubled = remote_store.select(
        f"SELECT ?s WHERE {{ GRAPH ?g {{ ?s a <{ENR}Suggestion> ; ?p ?o FILTER(?p IN (<{ENR}status>, "
        f"<{ENR}confidence>)) }} }} GROUP BY ?s ?p HAVING (COUNT(?o) > 1)"
    )
    assert doubled == []
    assert not remote_store.ask(f"ASK {{ GRAPH <{GRAPHS.runs}> {{ ?receipt <{ENR}receiptOf> ?run }} }}")
    assert read_run(remote_store, GRAPHS, summary.run_id).checkpoint == ids[-1]
    # Every actor the run made is gone afterwards (the replacements too).
    assert not [a for a in ray_instance.util.list_named_actors(all_namespaces=True) if a["namespace"] == NAMESPACE]


def test_a_resumed_ray_run_continues_after_the_checkpoint_and_counts_as_one_run(
    ray_instance: Any, remote_store: Store, oxigraph_server: str, tmp_path: Path
) -> None:
    """A run stopped after some batches (the driver's checkpoint save fails) resumes on Ray with the same
    suggestions and counts as an undisturbed run: the receipts of batches finished past the checkpoint hold."""
    from enrich.jobs import ray_engine

    definition = RunDefinition.of(["lexical", "dummy"], FACETS)
    local, local_state = _local_reference(remote_store, oxigraph_server, tmp_path, definition)
    remote_store.update("DROP ALL")
    cmoa_store(remote_store, tmp_path / "ray")
    settings = _settings(oxigraph_server, tmp_path / "ray" / "data")
    original = ray_engine.save_checkpoint
    saves: list[str] = []

    def failing_save(store: Store, graphs: Any, summary: RunSummary, checkpoint: str) -> None:
        if len(saves) == 3:
            raise KeyboardInterrupt  # the operator stops the driver
        saves.append(checkpoint)
        original(store, graphs, summary, checkpoint)

    ray_engine.save_checkpoint = failing_save  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            run_on_ray(remote_store, GRAPHS, definition, RayOptions(workers=2), batch_size=8, settings=settings)
    finally:
        ray_engine.save_checkpoint = original
    resumed = run_on_ray(remote_store, GRAPHS, definition, RayOptions(workers=2), batch_size=8, settings=settings)
    assert resumed.resumed_after == saves[-1]
    assert suggestion_state(remote_store) == local_state
    assert _counts(resumed) == _counts(local)


def test_enricher_errors_come_back_as_themselves_and_nothing_starts(
    ray_instance: Any, remote_store: Store, oxigraph_server: str, tmp_path: Path
) -> None:
    cmoa_store(remote_store, tmp_path, rows=20)
    settings = _settings(oxigraph_server, tmp_path / "data")
    before = remote_store.count_triples(GRAPHS.runs)
    with pytest.raises(InputError, match="no-such-card"):
        run_on_ray(
            remote_store,
            GRAPHS,
            RunDefinition.of([EnricherSpec("embed", {"card": "no-such-card"})]),
            settings=settings,
        )
    with pytest.raises(InputError, match="unknown facet"):
        run_on_ray(remote_store, GRAPHS, RunDefinition.of(["lexical"], ["no-such-facet"]), settings=settings)
    assert remote_store.count_triples(GRAPHS.runs) == before  # no run node for a run that could not start


def test_an_embedded_store_and_bad_options_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    settings = make_settings(store=str(tmp_path / "store"))
    from enrich.store.embedded import EmbeddedStore

    store = EmbeddedStore(tmp_path / "store")
    with pytest.raises(InputError, match=r"embedded.*oxigraph serve"):
        run_on_ray(store, GRAPHS, RunDefinition.of(["lexical"]), settings=settings)
    with pytest.raises(InputError, match="--workers"):
        run_on_ray(store, GRAPHS, RunDefinition.of(["lexical"]), RayOptions(workers=0), settings=settings)
    assert store.count_triples() == 0


def test_model_enrichers_ask_for_gpus_where_the_cluster_has_them_and_share_the_cpus_elsewhere(
    tiny_encoder_card: tuple[ModelSpec, Path], tmp_path: Path
) -> None:
    from dataclasses import replace

    from enrich.jobs.ray_engine import stage_resources

    spec, auto_card = tiny_encoder_card  # device: auto
    cpu_card = replace(spec, device="cpu").save(tmp_path / "cpu-only.yaml")
    definition = RunDefinition.of(
        [
            EnricherSpec("lexical"),
            EnricherSpec("embed", {"card": str(auto_card)}),
            EnricherSpec("zero-shot", {"card": str(cpu_card)}),
        ]
    )
    gpu_node = {"CPU": 32.0, "GPU": 4.0}
    assert stage_resources(definition, gpu_node, RayOptions(workers=4)) == [
        {"num_cpus": 1.0},
        {"num_cpus": 1.0, "num_gpus": 1.0},  # the model enricher gets a GPU; the CPU-pinned card does not
        {"num_cpus": 1.0},
    ]
    two_per_gpu = stage_resources(definition, gpu_node, RayOptions(workers=8, gpus_per_worker=0.5))
    assert two_per_gpu[1] == {"num_cpus": 1.0, "num_gpus": 0.5}
    assert all("num_gpus" not in r for r in stage_resources(definition, gpu_node, RayOptions(gpus_per_worker=0)))
    # This machine: no GPU, 2 CPUs shared by 2 replicas of 3 enrichers, so all six actors fit at once.
    assert stage_resources(definition, {"CPU": 2.0}, RayOptions(workers=2)) == [{"num_cpus": 2 / 6}] * 3
    assert stage_resources(definition, {"CPU": 2.0}, RayOptions(cpus_per_worker=0.25))[0] == {"num_cpus": 0.25}
