"""The wheel carries the code, the data folders and the samples, and works away from the checkout."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.support import COLLECTION_SAMPLE, REPO, TABLE_SAMPLE, clean_env, demo_counts, parse_stats

pytestmark = pytest.mark.slow

PIP_TIMEOUT_S = 120

#: Run away from the checkout: drop it from sys.path (the editable install's .pth adds it), then use
#: whatever ``enrich`` the rest of sys.path (PYTHONPATH=the unpacked wheel) offers.
ISOLATED_CHECK = """
import json, os, sys
repo, store, out = os.path.realpath(sys.argv[1]), sys.argv[2], sys.argv[3]
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.getcwd()) != repo]

import enrich
from enrich.resources import data_dir, samples_dir, shapes_file
from enrich.validation import CompiledShapes

shapes = CompiledShapes.edm()
facts = {
    "enrich": enrich.__file__,
    "data": {name: str(data_dir(name)) for name in ("shapes", "ontology", "mappings")},
    "samples": sorted(str(p) for p in samples_dir().iterdir()),
    "edm_shapes": str(shapes_file("edm.ttl")),
    "shape_count": len(shapes.shapes),
    "project_modules_from_repo": sorted(
        name for name, module in list(sys.modules.items())
        if name.split(".")[0] in ("enrich", "api")
        and (getattr(module, "__file__", None) or "").startswith(repo + os.sep)
    ),
}
with open(out, "w", encoding="utf-8") as handle:
    json.dump(facts, handle)

import runpy
sys.argv = ["enrich", "demo", "--store", store]
runpy.run_module("enrich.cli", run_name="__main__")  # as python -m enrich.cli demo --store STORE
"""


@dataclass
class Built:
    wheel: Path
    site: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The project's wheel, built from this checkout, and unpacked into a site folder of its own."""
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling (the build backend) is not installed; building offline needs it")
    workdir = tmp_path_factory.mktemp("wheel")
    dist = workdir / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    # No build isolation: use the hatchling already installed rather than fetch one from the index.
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(REPO)],
        cwd=workdir,
        check=True,
        timeout=PIP_TIMEOUT_S,
        env=clean_env(),
    )
    [wheel] = dist.glob("heritage_enrich-*.whl")
    site = workdir / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        cwd=workdir,
        check=True,
        timeout=PIP_TIMEOUT_S,
        env=clean_env(),
    )
    return Built(wheel, site)


def test_wheel_contents(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = wheel.read(entry_points).decode("utf-8")
    for required in (
        "enrich/__init__.py",
        "enrich/cli.py",
        "enrich/_data/shapes/edm.ttl",
        "enrich/_data/ontology/enrich.ttl",
        "enrich/_data/mappings/README.md",
        "enrich/samples/README.md",
        "api/__init__.py",
    ):
        assert required in names, required
    samples = {name for name in names if name.startswith("enrich/samples/") and name.endswith(".rdf")}
    assert samples, "no RDF/XML sample records in the wheel"
    assert "enrich/samples/scan-sample.ttl" in names
    for sample in (COLLECTION_SAMPLE, TABLE_SAMPLE):
        assert f"enrich/samples/{sample.name}" in names
    assert "enrich = enrich.cli:main" in scripts
    assert not any(name.startswith(("tests/", "shapes/", "ontology/", ".venv/")) for name in names)


def test_installed_wheel_works_without_the_checkout(built: Built, tmp_path: Path) -> None:
    facts_file = tmp_path / "facts.json"
    store = tmp_path / "store"
    completed = subprocess.run(
        [sys.executable, "-c", ISOLATED_CHECK, str(REPO), str(store), str(facts_file)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_env(PYTHONPATH=str(built.site)),
        timeout=PIP_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    facts = json.loads(facts_file.read_text(encoding="utf-8"))
    site = built.site.resolve()

    assert Path(facts["enrich"]).resolve().is_relative_to(site)
    assert facts["project_modules_from_repo"] == []
    for name, folder in facts["data"].items():
        assert Path(folder).resolve() == site / "enrich" / "_data" / name
    assert Path(facts["edm_shapes"]).resolve() == site / "enrich" / "_data" / "shapes" / "edm.ttl"
    assert facts["shape_count"] > 0
    samples = [Path(p).resolve() for p in facts["samples"]]
    assert samples and all(p.is_relative_to(site / "enrich" / "samples") for p in samples)

    assert f"ingested the bundled samples into {store}" in completed.stdout
    records = demo_counts(completed.stdout).records
    assert f"{records} record(s): {records} new" in completed.stdout
    assert parse_stats(completed.stdout).records == records
    assert store.is_dir()
