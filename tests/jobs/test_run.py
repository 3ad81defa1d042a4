"""Enrichment runs end to end on real CMOA rows: suggestions per facet, idempotent re-runs, rejected triples
never coming back, interruption and resume, record selection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from enrich.enrichers.lexical import LexicalEnricher
from enrich.ingest.errors import InputError
from enrich.ingest.registry import mark_deleted
from enrich.jobs import RunDefinition, RunNotFound, Selection, list_runs, read_run, run_enrichment
from enrich.jobs import run as run_module
from enrich.namespaces import ENR, XSD
from enrich.store.base import Store, text
from enrich.store.embedded import EmbeddedStore
from tests.jobs.support import GRAPHS, cmoa_store, ingest_cmoa, load_starter, suggestion_state

LEXICAL = RunDefinition.of(["lexical"], ["materials", "object-types"])


def test_lexical_run_suggests_per_facet_and_a_second_run_only_updates(store: Store, tmp_path: Path) -> None:
    ids = cmoa_store(store, tmp_path)
    first = run_enrichment(store, GRAPHS, LEXICAL, batch_size=40)
    assert first.finished and first.records_seen == len(ids) == 120
    assert first.per_facet["materials"].new > 0 and first.per_facet["object-types"].new > 0
    assert set(first.per_facet) == {"materials", "object-types"}
    state = suggestion_state(store)
    assert len(state) == first.counts.new
    evidence = [v for values in state.values() for v in values if v.startswith(ENR + "evidence")]
    assert any("dcterms:medium" in v for v in evidence)

    second = run_enrichment(store, GRAPHS, LEXICAL, batch_size=40)
    assert second.run_id != first.run_id
    assert second.counts.new == 0 and second.counts.updated == first.counts.new
    assert suggestion_state(store) == state  # nothing duplicated, nothing changed
    runs = {r.run_id: r for r in list_runs(store, GRAPHS)}
    assert runs[first.run_id].ended and runs[second.run_id].checkpoint == ids[-1]
    summary = json.loads(second.to_json())
    assert summary["counts"]["updated"] == first.counts.new and "materials" in second.render()


def test_a_rejected_suggestion_is_not_suggested_again(tmp_path: Path) -> None:
    store = EmbeddedStore()
    cmoa_store(store, tmp_path, rows=60)
    run_enrichment(store, GRAPHS, LEXICAL)
    node = text(
        store.select(
            f"SELECT ?s WHERE {{ GRAPH ?g {{ ?s <{ENR}facet> ?f ; <{ENR}status> <{ENR}Pending> }} }} "
            "ORDER BY ?s LIMIT 1"
        )[0]["s"]
    )
    store.update(
        f"DELETE {{ GRAPH ?g {{ <{node}> <{ENR}status> ?old }} }} INSERT {{ GRAPH ?g {{ <{node}> <{ENR}status> "
        f"<{ENR}Rejected> }} }} WHERE {{ GRAPH ?g {{ <{node}> <{ENR}status> ?old }} }}"
    )
    before = suggestion_state(store)
    again = run_enrichment(store, GRAPHS, LEXICAL)
    assert again.counts.skipped_rejected == 1 and again.counts.new == 0
    after = suggestion_state(store)
    assert after[node] == before[node]  # still rejected, not touched
    assert f"{ENR}status <{ENR}Rejected>" in after[node]


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("where", ["enrich", "checkpoint"])
def test_an_interrupted_run_resumes_to_the_same_suggestions(
    where: str, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed in the middle of a batch (enricher) or between a batch's write and its checkpoint: the
    resumed run ends with exactly the suggestions of an uninterrupted run."""
    reference = EmbeddedStore()
    cmoa_store(reference, tmp_path / "reference")
    whole = run_enrichment(reference, GRAPHS, LEXICAL, batch_size=25)
    expected = suggestion_state(reference)

    cmoa_store(store, tmp_path / "interrupted")
    calls = {"n": 0}
    if where == "enrich":
        original_enrich = LexicalEnricher.enrich

        def failing_enrich(self: LexicalEnricher, records: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 3:
                raise Boom("enricher died on the third batch")
            return original_enrich(self, records)

        monkeypatch.setattr(LexicalEnricher, "enrich", failing_enrich)
    else:
        original_save = run_module.save_checkpoint

        def failing_save(*args: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 3:
                raise Boom("killed after writing the third batch, before its checkpoint")
            original_save(*args)

        monkeypatch.setattr(run_module, "save_checkpoint", failing_save)
    with pytest.raises(Boom):
        run_enrichment(store, GRAPHS, LEXICAL, batch_size=25)
    monkeypatch.undo()
    (unfinished,) = list_runs(store, GRAPHS)
    assert unfinished.ended is None and unfinished.records_seen == 50

    resumed = run_enrichment(store, GRAPHS, LEXICAL, batch_size=25)  # automatic: same definition
    assert resumed.run_id == unfinished.run_id and resumed.resumed_after == unfinished.checkpoint
    assert resumed.records_seen == whole.records_seen == 120
    assert suggestion_state(store) == expected
    if where == "enrich":
        assert resumed.counts == whole.counts
    else:  # the re-written batch's suggestions count as updated, not new
        assert resumed.counts.new + resumed.counts.updated == whole.counts.new
    assert read_run(store, GRAPHS, resumed.run_id).ended is not None
    with pytest.raises(InputError, match="finished"):
        run_enrichment(store, GRAPHS, LEXICAL, resume=resumed.run_id)


def test_resume_by_id_and_unknown_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EmbeddedStore()
    cmoa_store(store, tmp_path, rows=40)
    monkeypatch.setattr(run_module, "save_checkpoint", _fail_second(run_module.save_checkpoint))
    with pytest.raises(Boom):
        run_enrichment(store, GRAPHS, LEXICAL, batch_size=10)
    monkeypatch.undo()
    (state,) = list_runs(store, GRAPHS)
    assert state.definition == LEXICAL
    fresh = run_enrichment(store, GRAPHS, LEXICAL, batch_size=10, auto_resume=False)
    assert fresh.run_id != state.run_id and fresh.records_seen == 40
    resumed = run_enrichment(store, GRAPHS, LEXICAL, batch_size=10, resume=state.run_id)
    assert resumed.run_id == state.run_id and resumed.records_seen == 40
    other = RunDefinition.of(["dummy"], ["object-types"])
    stopped = _unfinished(store)
    with pytest.raises(InputError, match="another definition"):
        run_enrichment(store, GRAPHS, other, resume=stopped)
    with pytest.raises(RunNotFound):
        read_run(store, GRAPHS, "no-such-run")


def _fail_second(original: Any) -> Any:
    calls = {"n": 0}

    def failing(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Boom("stopped")
        original(*args)

    return failing


def _unfinished(store: Store) -> str:
    """Start a lexical run and stop it after its first batch; its id."""
    definition = RunDefinition.of(["lexical"], ["materials"], Selection.all())
    original = run_module.save_checkpoint
    run_module.save_checkpoint = _fail_second(original)
    try:
        with pytest.raises(Boom):
            run_enrichment(store, GRAPHS, definition, batch_size=10)
    finally:
        run_module.save_checkpoint = original
    return next(r.run_id for r in list_runs(store, GRAPHS) if r.ended is None)


def test_selection_by_dataset_ids_and_since_skips_deleted_records(tmp_path: Path) -> None:
    store = EmbeddedStore()
    load_starter(store)
    ingest_cmoa(store, tmp_path, 0, 30, dataset="cmoa-a")
    ingest_cmoa(store, tmp_path, 30, 50, dataset="cmoa-b")
    dummy = ["dummy"]

    def seen(selection: Selection) -> int:
        return run_enrichment(store, GRAPHS, RunDefinition.of(dummy, None, selection), batch_size=7).records_seen

    assert seen(Selection.all()) == 50
    assert seen(Selection.of_dataset("cmoa-b")) == 20
    assert seen(Selection.of_dataset("nothing")) == 0

    b_ids = [
        text(r["r"]).removeprefix(GRAPHS.record_node(""))
        for r in store.select(
            f"SELECT ?r WHERE {{ GRAPH <{GRAPHS.system}> {{ ?r <{ENR}dataset> 'cmoa-b' }} }} ORDER BY ?r"
        )
    ]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("# three records and one unknown\n" + "\n".join(b_ids[:3]) + "\nunknown-000000000000\n\n")
    assert seen(Selection.from_file(ids_file)) == 3

    store.update(
        f"DELETE {{ GRAPH <{GRAPHS.system}> {{ ?r <{ENR}datestamp> ?d }} }} "
        f'INSERT {{ GRAPH <{GRAPHS.system}> {{ ?r <{ENR}datestamp> "2001-01-01T00:00:00Z"^^<{XSD}dateTime> }} }} '
        f"WHERE {{ GRAPH <{GRAPHS.system}> {{ ?r <{ENR}dataset> 'cmoa-a' ; <{ENR}datestamp> ?d }} }}"
    )
    assert seen(Selection.changed_since("2010-06-01")) == 20
    assert seen(Selection.changed_since("2000-12-31T23:00:00+00:00")) == 50

    mark_deleted(store, GRAPHS, b_ids[0])
    assert seen(Selection.all()) == 49
    assert seen(Selection.from_file(ids_file)) == 2


def test_bad_selections_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        Selection.changed_since("last tuesday")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(InputError):
        Selection.from_file(empty)
    with pytest.raises(InputError):
        RunDefinition.of([])
