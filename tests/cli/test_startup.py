"""``enrich --help`` stays fast: the command line imports its heavy dependencies only inside commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.support import COMMAND_TIMEOUT_S, clean_env

#: Machine-learning, distributed and web stacks, and the SHACL engine: never needed to print help.
HEAVY = ("torch", "transformers", "open_clip", "diffusers", "ray", "fastapi", "pyshacl")
#: Needed by the commands, but not to parse a command line.
STORE_AND_RDF = ("pyoxigraph", "rdflib")


def modules_after(code: str, tmp_path: Path) -> set[str]:
    """Top-level names of the modules a fresh interpreter has loaded after running ``code``."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))\n"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    loaded: list[str] = json.loads(completed.stdout.splitlines()[-1])
    return {name.split(".", 1)[0] for name in loaded}


def help_code(*argv: str) -> str:
    return (
        "from enrich import cli\n"
        "try:\n"
        f"    cli.main({list(argv)!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    )


@pytest.mark.parametrize("argv", [["--help"], ["ingest", "--help"], ["export", "--help"]], ids=" ".join)
def test_help_imports_nothing_heavy(tmp_path: Path, argv: list[str]) -> None:
    loaded = modules_after(help_code(*argv), tmp_path)
    assert "enrich" in loaded
    assert loaded.isdisjoint(HEAVY + STORE_AND_RDF), sorted(loaded.intersection(HEAVY + STORE_AND_RDF))


def test_importing_the_cli_imports_no_store(tmp_path: Path) -> None:
    loaded = modules_after("import enrich.cli", tmp_path)
    assert "pyoxigraph" not in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded.intersection(HEAVY))


def test_the_check_would_see_an_import(tmp_path: Path) -> None:
    """The helper does report what a command loads (so the tests above cannot pass vacuously)."""
    loaded = modules_after("import enrich.cli\nimport enrich.records_admin", tmp_path)
    assert "pyoxigraph" in loaded
