"""``enrich run --engine ray`` as a user runs it: the installed script in a subprocess, which starts (and stops)
a Ray instance of its own, against an Oxigraph server; and its clear refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from enrich.store.base import Store
from tests.cli.support import COLLECTION_SAMPLE, MUSEUM_SAMPLE, SCAN_SAMPLE, clean_env, enrich, ok
from tests.jobs.support import GRAPHS, suggestion_state

BAD_INPUT = 3


def _seed(server: str, cwd: Path) -> None:
    ok("ingest", MUSEUM_SAMPLE, SCAN_SAMPLE, COLLECTION_SAMPLE, "--store", server, cwd=cwd)
    ok("vocab", "load", "--bundled", "aat-starter", "--store", server, cwd=cwd)


def test_the_cli_runs_on_ray_with_the_local_engines_results(
    remote_store: Store, oxigraph_server: str, tmp_path: Path
) -> None:
    _seed(oxigraph_server, tmp_path)
    local = json.loads(
        ok("run", "--enrichers", "lexical,dummy", "--json", "--store", oxigraph_server, cwd=tmp_path).stdout
    )
    local_state = suggestion_state(remote_store)

    remote_store.update("DROP ALL")
    _seed(oxigraph_server, tmp_path)
    result = ok(
        "run",
        "--enrichers",
        "lexical,dummy",
        "--engine",
        "ray",
        "--local-cpus",
        "2",
        "--workers",
        "2",
        "--batch-size",
        "10",
        "--json",
        "--store",
        oxigraph_server,
        cwd=tmp_path,
    )
    ray = json.loads(result.stdout)
    assert ray["engine"] == "ray" and ray["workers"] == 2 and ray["finished"]
    for key in ("records_seen", "counts", "per_facet"):
        assert ray[key] == local[key], key
    assert suggestion_state(remote_store) == local_state
    shown = json.loads(ok("runs", "show", ray["run_id"], "--json", "--store", oxigraph_server, cwd=tmp_path).stdout)
    assert shown["ended"] and shown["records_seen"] == ray["records_seen"] and shown["engine"] == "ray"


def test_the_cli_joins_a_running_cluster_with_address_auto(
    ray_instance: Any, remote_store: Store, oxigraph_server: str, tmp_path: Path
) -> None:
    """``--address auto`` joins the Ray instance already running on this machine (this test session's, as
    ``ray start --head`` would start one) instead of starting its own, and leaves it running."""
    _seed(oxigraph_server, tmp_path)
    result = ok(
        "run",
        "--enrichers",
        "lexical",
        "--engine",
        "ray",
        "--address",
        "auto",
        "--json",
        "--store",
        oxigraph_server,
        cwd=tmp_path,
    )
    assert "Connecting to existing Ray cluster" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["engine"] == "ray" and summary["finished"] and summary["counts"]["new"] > 0
    assert ray_instance.is_initialized() and ray_instance.cluster_resources()["CPU"] == 2


def test_an_embedded_store_is_refused_with_how_to_serve_it(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ok("ingest", MUSEUM_SAMPLE, "--store", store, cwd=tmp_path)
    result = enrich("run", "--enrichers", "lexical", "--engine", "ray", "--store", store, cwd=tmp_path)
    assert result.returncode == BAD_INPUT, result.describe()
    assert "embedded" in result.stderr and "oxigraph serve --location" in result.stderr
    assert "Traceback" not in result.stderr
    listed = ok("runs", "list", "--store", store, cwd=tmp_path)
    assert "no enrichment runs yet" in listed.stdout  # nothing was started


def test_without_ray_the_cli_says_how_to_install_it(tmp_path: Path) -> None:
    # The dist extra is installed here; a None entry in sys.modules makes `import ray` fail as if it were not.
    program = "import sys; sys.modules['ray'] = None; from enrich.cli import main; sys.exit(main())"
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            program,
            "run",
            "--enrichers",
            "lexical",
            "--engine",
            "ray",
            "--store",
            "http://127.0.0.1:9",
        ],
        cwd=tmp_path,
        capture_output=True,
        env=clean_env(),
        timeout=120,
        check=False,
    )
    stderr = completed.stderr.decode("utf-8")
    assert completed.returncode == BAD_INPUT, stderr
    assert "Ray is not installed" in stderr and "pip install 'heritage-enrich[dist]'" in stderr
    assert "Traceback" not in stderr


def test_the_run_help_names_the_engine_options(tmp_path: Path) -> None:
    shown = ok("run", "--help", cwd=tmp_path).stdout
    for option in ("--engine", "--address", "--workers", "--gpus-per-worker", "--batches-in-flight"):
        assert option in shown
    assert GRAPHS.runs  # the graphs helper is the one the other tests read suggestions with
