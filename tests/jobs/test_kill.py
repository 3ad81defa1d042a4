"""A run process killed with SIGKILL resumes from its checkpoint without duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from enrich.jobs import list_runs, run_enrichment
from enrich.store.embedded import EmbeddedStore
from tests.jobs.support import GRAPHS, cmoa_store, suggestion_state
from tests.jobs.test_run import LEXICAL

ROOT = Path(__file__).resolve().parents[2]
# The child runs lexical over the store, slowed down after each checkpoint so the parent can kill it
# in the middle of the run; it prints a line per checkpoint.
CHILD = textwrap.dedent(
    """
    import sys, time
    from enrich.jobs import run as run_module
    from enrich.store.embedded import EmbeddedStore
    from tests.jobs.support import GRAPHS
    from tests.jobs.test_run import LEXICAL

    save = run_module.save_checkpoint
    def slow_save(*args):
        save(*args)
        print("checkpoint", args[-1], flush=True)
        time.sleep(0.2)
    run_module.save_checkpoint = slow_save
    run_module.run_enrichment(EmbeddedStore(sys.argv[1]), GRAPHS, LEXICAL, batch_size=10)
    print("finished", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_run_process_resumes_without_duplicates(tmp_path: Path) -> None:
    reference = EmbeddedStore()
    cmoa_store(reference, tmp_path / "reference")
    run_enrichment(reference, GRAPHS, LEXICAL, batch_size=10)
    expected = suggestion_state(reference)

    location = tmp_path / "store"
    with EmbeddedStore(location) as store:
        cmoa_store(store, tmp_path / "killed")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(location)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    checkpoints = 0
    try:
        for line in child.stdout:
            checkpoints += line.startswith("checkpoint")
            if checkpoints == 4:
                child.send_signal(signal.SIGKILL)
                break
    finally:
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    with EmbeddedStore(location) as store:
        (killed,) = list_runs(store, GRAPHS)
        assert killed.ended is None and killed.records_seen >= 40
        resumed = run_enrichment(store, GRAPHS, LEXICAL, batch_size=10)
        assert resumed.run_id == killed.run_id and resumed.records_seen == 120
        assert suggestion_state(store) == expected
