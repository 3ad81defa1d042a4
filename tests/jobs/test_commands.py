"""The run/runs command handlers, parsed with the parser they add (enrich.cli dispatches to them)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from enrich.ingest.errors import InputError
from enrich.jobs.commands import HANDLERS, add_commands
from enrich.jobs.run import RunNotFound
from enrich.store.embedded import EmbeddedStore
from tests.ingest.support import make_settings
from tests.jobs.support import GRAPHS, cmoa_store


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="enrich")
    add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_run_then_list_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = EmbeddedStore()
    cmoa_store(store, tmp_path, rows=30)
    settings = make_settings()

    def call(*argv: str) -> int:
        args = _parse(*argv)
        return HANDLERS[args.command](args, settings, store, GRAPHS)

    assert call("run", "--enrichers", "lexical,dummy", "--facets", "materials,object-types", "--quiet", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["records_seen"] == 30 and summary["finished"]
    assert set(summary["per_facet"]) == {"materials", "object-types"}
    assert call("runs", "list") == 0
    listed = capsys.readouterr().out
    assert summary["run_id"] in listed and "finished" in listed
    assert call("runs", "show", summary["run_id"], "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["definition"]["facets"] == ["materials", "object-types"] and shown["checkpoint"]
    assert call("runs", "show", summary["run_id"]) == 0
    assert "definition_hash" in capsys.readouterr().out
    with pytest.raises(RunNotFound):
        call("runs", "show", "nope")
    with pytest.raises(InputError, match="unknown enricher"):
        call("run", "--enrichers", "nosuch", "--quiet")
    with pytest.raises(InputError):
        call("run", "--quiet")
    with pytest.raises(InputError, match="finished"):
        call("run", "--resume", summary["run_id"], "--quiet")
