"""The review commands: in-process through their own parsers, and as the real ``enrich`` process."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from enrich import review
from enrich.review_commands import CONFLICT, HANDLERS, NOT_FOUND, add_commands
from enrich.settings import Settings
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import Status
from tests.cli.support import Result, clean_env, enrich
from tests.review.support import BRONZE, GRAPHS, METAL, WOOD, prepare, status_of, suggest, suggestion


def run(store: Store, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="enrich")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return HANDLERS[args.command](args, Settings(), store, GRAPHS)


@pytest.fixture
def prepared(tmp_path: Path) -> Store:
    store = EmbeddedStore()
    prepare(store, tmp_path)
    return store


def test_list_as_json_and_table(prepared: Store, capsys: pytest.CaptureFixture[str]) -> None:
    bronze, wood = suggest(prepared, suggestion(BRONZE, confidence=0.9), suggestion(WOOD, confidence=0.4))
    assert run(prepared, "suggestions", "list", "--format", "json", "--min-confidence", "0.5") == 0
    document = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in document["suggestions"]] == [bronze]
    assert document["by_status"] == {"Pending": 2}
    assert run(prepared, "suggestions", "list", "--status", "pending", "--limit", "1", "--offset", "1") == 0
    out = capsys.readouterr()
    assert out.out.startswith(f"{wood}\tPending\t0.400\tmaterials\tr1\t{WOOD}")
    assert "1 shown (offset 1); 2 suggestion(s): 2 Pending" in out.err


def test_approve_reject_correct_retract_reopen(prepared: Store, capsys: pytest.CaptureFixture[str]) -> None:
    bronze, wood = suggest(prepared, suggestion(BRONZE), suggestion(WOOD))
    assert run(prepared, "review", "approve", bronze, "--reviewer", "ann", "--comment", "yes") == 0
    assert run(prepared, "review", "approve", bronze, "nosuch") == 3  # the first failure's code
    assert "cannot go from Approved to Approved" in capsys.readouterr().err
    assert run(prepared, "review", "reject", "nosuch", "--reason", "duplicate") == NOT_FOUND
    assert run(prepared, "review", "retract", bronze, "--reason", "wrong-concept") == 0
    assert run(prepared, "review", "reopen", bronze) == 0
    assert run(prepared, "review", "correct", bronze, "--concept", METAL, "--reviewer", "ann") == 0
    assert status_of(prepared, bronze) == [Status.SUPERSEDED]
    assert run(prepared, "review", "reject", wood, "--reason", "too-broad") == 0
    assert status_of(prepared, wood) == [Status.REJECTED]
    with pytest.raises(SystemExit):
        run(prepared, "review", "reject", wood, "--reason", "ugly")


def test_policy_auto_and_approve_all(prepared: Store, capsys: pytest.CaptureFixture[str]) -> None:
    bronze, wood = suggest(prepared, suggestion(BRONZE, confidence=0.95), suggestion(WOOD, confidence=0.7))
    assert run(prepared, "review", "policy", "set", "--facet", "materials", "--threshold", "0.9") == 0
    assert run(prepared, "review", "policy", "list") == 0
    assert "materials\t≥ 0.9\t≥ 1 enricher(s)" in capsys.readouterr().out
    assert run(prepared, "review", "auto", "--facet", "materials", "--dry-run") == 0
    assert "would auto-accept 1 suggestion(s)" in capsys.readouterr().out
    assert status_of(prepared, bronze) == [Status.PENDING]
    assert run(prepared, "review", "auto", "--facet", "materials") == 0
    assert status_of(prepared, bronze) == [Status.AUTO_ACCEPTED]
    assert run(prepared, "review", "approve-all", "--min-confidence", "0.5", "--facet", "materials") == 0
    assert "approved 1 suggestion(s) in one transaction" in capsys.readouterr().out
    assert status_of(prepared, wood) == [Status.APPROVED]


def test_a_conflict_has_its_own_exit_code(prepared: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    (bronze,) = suggest(prepared, suggestion(BRONZE))

    def conflicted(*args: object, **kwargs: object) -> review.Review:
        raise review.ReviewConflict(bronze, Status.PENDING, Status.REJECTED)

    monkeypatch.setattr(review, "approve", conflicted)
    assert run(prepared, "review", "approve", bronze) == CONFLICT


def enrich_ok(env: dict[str, str], *args: str | Path, cwd: Path) -> Result:
    result = enrich(*args, cwd=cwd, env=env)
    assert result.returncode == 0, result.describe()
    return result


def test_the_real_process(tmp_path: Path) -> None:
    """Needs the commands wired into enrich/cli.py (see the module docstring of enrich.review_commands)."""
    store_dir = tmp_path / "store"
    with EmbeddedStore(store_dir) as store:
        prepare(store, tmp_path)
        (bronze,) = suggest(store, suggestion(BRONZE, confidence=0.9))
    # The process builds its graph names from ENRICH_BASE_IRI; the test data uses GRAPHS's base.
    env = clean_env(ENRICH_BASE_IRI=GRAPHS.base)
    listed = enrich_ok(env, "suggestions", "list", "--store", store_dir, "--format", "json", cwd=tmp_path)
    assert [s["id"] for s in json.loads(listed.stdout)["suggestions"]] == [bronze]
    enrich_ok(env, "review", "approve", bronze, "--store", store_dir, "--reviewer", "ann", cwd=tmp_path)
    again = enrich("review", "approve", bronze, "--store", store_dir, cwd=tmp_path, env=env)
    assert again.returncode == 3 and "cannot go from Approved" in again.stderr, again.describe()
