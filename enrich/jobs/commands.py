"""The ``enrich run`` and ``enrich runs list|show`` commands: arguments here, dispatch in :mod:`enrich.cli`.

Importing this module loads no RDF library (``enrich --help`` stays fast); handlers import what they use.

Handlers take ``(args, settings, store, graphs)`` and return an exit code, like :mod:`enrich.vocab.commands`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enrich.command_support import Handler, add_store_argument

if TYPE_CHECKING:
    from enrich.jobs.run import EnricherSpec
    from enrich.namespaces import Graphs
    from enrich.settings import Settings
    from enrich.store.base import Store


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run",
        help="run enrichers over records and write suggestions with provenance (resumable)",
        description="Run enrichers over a selection of records in batches. Each batch is checkpointed; an "
        "unfinished run with the same enrichers, facets and selection is resumed automatically.",
    )
    run.add_argument("--enrichers", type=_names, help="comma-separated enricher names (e.g. lexical,dummy)")
    run.add_argument("--facets", type=_names, help="comma-separated facet ids (default: every facet with concepts)")
    run.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="ENRICHER.KEY=VALUE",
        help="an enricher setting (repeatable; the value is read as JSON when it parses, else as text), "
        "e.g. --set embed.cards='[\"all-minilm-l6-v2\"]' --set classify.model=materials-v1",
    )
    selection = run.add_mutually_exclusive_group()
    selection.add_argument("--dataset", help="only the records of this dataset")
    selection.add_argument("--records", type=Path, metavar="FILE", help="only these record ids (one a line)")
    selection.add_argument("--since", metavar="DATE", help="only records changed since (YYYY-MM-DD or ISO date-time)")
    run.add_argument("--batch-size", type=int, default=500, help="records per batch and checkpoint (default 500)")
    run.add_argument("--resume", metavar="RUN_ID", help="continue this unfinished run after its checkpoint")
    run.add_argument("--new", action="store_true", help="start a new run even if an unfinished one matches")
    run.add_argument("--json", action="store_true", help="print the run summary as JSON")
    engine = run.add_argument_group("engine", "where the run executes (the results are the same)")
    engine.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: in this process (default); ray: actor pools on a Ray cluster, against a remote store "
        "(needs the dist extra)",
    )
    engine.add_argument(
        "--address",
        help="Ray cluster to join: 'auto' (started here with `ray start --head`) or ray://HOST:10001 "
        "(default: start a Ray instance on this machine for the run)",
    )
    engine.add_argument("--workers", type=int, default=2, help="Ray: actor replicas per enricher (default 2)")
    engine.add_argument("--writers", type=int, help="Ray: batch writer actors (default: as many as --workers)")
    engine.add_argument(
        "--gpus-per-worker",
        type=float,
        default=1.0,
        help="Ray: GPUs each model enricher actor asks for when the cluster has GPUs (default 1; 0: CPU only)",
    )
    engine.add_argument(
        "--cpus-per-worker", type=float, help="Ray: CPUs per enricher actor (default: the cluster's shared out)"
    )
    engine.add_argument(
        "--batches-in-flight",
        type=int,
        help="Ray: batches in the pipeline at once (default 2 per worker)",
    )
    engine.add_argument("--local-cpus", type=int, help="Ray: CPUs of the instance started here (default: all)")
    progress = run.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None, help="show progress")
    progress.add_argument("--quiet", dest="progress", action="store_false", help="no progress display")
    add_store_argument(run)

    runs = commands.add_parser("runs", help="enrichment runs: list them, show one")
    actions = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every run with its state, records and counts")
    add_store_argument(listing)
    show = actions.add_parser("show", help="one run: definition, model cards, checkpoint, counts")
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--json", action="store_true", help="as JSON")
    add_store_argument(show)


def enricher_specs(names: list[str], assignments: list[str]) -> list[EnricherSpec]:
    """The named enrichers with the ``--set ENRICHER.KEY=VALUE`` settings given for them."""
    from enrich.ingest.errors import InputError
    from enrich.jobs.run import EnricherSpec

    configs: dict[str, dict[str, Any]] = {name: {} for name in names}
    for assignment in assignments:
        target, equals, raw = assignment.partition("=")
        name, dot, key = target.partition(".")
        if not equals or not dot or not key:
            raise InputError(f"--set {assignment}", "expected ENRICHER.KEY=VALUE")
        if name not in configs:
            raise InputError(f"--set {assignment}", f"{name!r} is not one of the --enrichers ({', '.join(names)})")
        try:
            configs[name][key] = json.loads(raw)
        except json.JSONDecodeError:
            configs[name][key] = raw
    return [EnricherSpec(name, config) for name, config in configs.items()]


def run(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from enrich.enrichers import EnricherUnavailable, UnknownEnricher
    from enrich.ingest.errors import InputError
    from enrich.ingest.progress import Progress
    from enrich.jobs.run import RunDefinition, run_enrichment, stored_definition
    from enrich.jobs.selection import Selection
    from enrich.provenance import InvalidSuggestionBatch

    if args.resume and not args.enrichers:
        definition = stored_definition(store, graphs, args.resume)
    else:
        if not args.enrichers:
            raise InputError("--enrichers", "name the enrichers to run (e.g. --enrichers lexical)")
        if args.dataset:
            selection = Selection.of_dataset(args.dataset)
        elif args.records:
            selection = Selection.from_file(args.records)
        elif args.since:
            selection = Selection.changed_since(args.since)
        else:
            selection = Selection.all()
        definition = RunDefinition.of(enricher_specs(args.enrichers, args.settings), args.facets, selection)
    progress = Progress(None, enabled=args.progress)
    common: dict[str, Any] = {
        "progress": progress,
        "batch_size": args.batch_size,
        "resume": args.resume,
        "auto_resume": not args.new,
    }
    try:
        if args.engine == "ray":
            from enrich.jobs.ray_engine import RayOptions, run_on_ray

            options = RayOptions(
                address=args.address or settings.ray_address,
                workers=args.workers,
                writers=args.writers,
                gpus_per_worker=args.gpus_per_worker,
                cpus_per_worker=args.cpus_per_worker,
                batches_in_flight=args.batches_in_flight,
                local_cpus=args.local_cpus,
            )
            # The workers open the store themselves: they need its location, --store included.
            located = settings.model_copy(update={"store": args.store or settings.store})
            summary = run_on_ray(store, graphs, definition, options, settings=located, **common)
        else:
            summary = run_enrichment(store, graphs, definition, settings=settings, **common)
    except (UnknownEnricher, EnricherUnavailable) as exc:
        raise InputError("--enrichers", str(exc)) from exc
    except InvalidSuggestionBatch as exc:
        # An enricher produced suggestions the shapes refuse: a bug to report, not bad input. The run stays
        # unfinished at its last checkpoint.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary.to_json() if args.json else summary.render())
    return 0


def runs_list(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from enrich.jobs.run import list_runs

    found = list_runs(store, graphs)
    if not found:
        print("no enrichment runs yet (try: enrich run --enrichers lexical)")
    for state in found:
        status = f"finished {state.ended}" if state.ended else f"UNFINISHED after {state.checkpoint or 'nothing'}"
        counts = state.tally.get("counts", {}) if state.tally else {}
        print(
            f"{state.run_id}\t{state.started}\t{status}\t{','.join(state.enrichers)}\t{state.selection}\t"
            f"{state.records_seen} records\t{counts.get('new', 0)} new\t{counts.get('updated', 0)} updated"
        )
    return 0


def runs_show(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from enrich.jobs.run import read_run

    state = read_run(store, graphs, args.run_id)
    data = {
        "run_id": state.run_id,
        "run": state.iri,
        "started": state.started,
        "ended": state.ended,
        "enrichers": list(state.enrichers),
        "selection": state.selection,
        "definition_hash": state.definition_hash,
        "definition": state.definition.as_json() if state.definition else None,
        "checkpoint": state.checkpoint,
        "records_seen": state.records_seen,
        "engine": state.engine,
        "tally": dict(state.tally),
    }
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for key, value in data.items():
        if key in ("definition", "tally"):
            value = json.dumps(value, sort_keys=True)
        print(f"{key}:\t{value if value is not None else '-'}")
    return 0


def runs(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    return RUNS_ACTIONS[args.runs_command](args, settings, store, graphs)


RUNS_ACTIONS: dict[str, Handler] = {"list": runs_list, "show": runs_show}
#: Top-level command name → handler, for enrich.cli's COMMANDS.
HANDLERS: dict[str, Handler] = {"run": run, "runs": runs}
