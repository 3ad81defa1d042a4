"""The main job end to end: ``enrich demo --serve`` as the README runs it, then harvested by real clients."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sickle import Sickle

from tests.cli.support import ENRICH, clean_env, enrich
from tests.conftest import free_port

READY_TIMEOUT_S = 180.0


@dataclass
class Demo:
    base: str
    store: Path
    reviewer_token: str
    admin_token: str
    stdout: list[str]


def _read_banner(process: subprocess.Popen[str]) -> list[str]:
    """stdout lines up to the admin token line (the banner ends there); the server starts after it."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("admin token:"):
            return lines
    raise AssertionError("the demo printed no tokens:\n" + "\n".join(lines))


def _token(lines: list[str], label: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith(label))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("demo-serve")
    port = free_port()
    store = workdir / "store"
    process = subprocess.Popen(
        [str(ENRICH), "demo", "--serve", "--port", str(port), "--store", str(store)],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = _read_banner(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "the demo server never answered"
            time.sleep(0.1)
        yield Demo(base, store, _token(lines, "reviewer token:"), _token(lines, "admin token:"), lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            if process.stdout is not None:
                process.stdout.close()


def test_the_banner_names_every_interface(demo: Demo) -> None:
    banner = "\n".join(demo.stdout)
    for path in ("/sparql", "/oai?verb=Identify", "/records", "/suggestions", "/ui/", "/docs", "/metrics"):
        assert f"{demo.base}{path}" in banner
    assert "ingested the bundled samples" in banner
    assert len(demo.reviewer_token) >= 32 and demo.reviewer_token != demo.admin_token


def test_sickle_harvests_every_sample_record_in_both_formats(demo: Demo) -> None:
    records = httpx.get(f"{demo.base}/health", timeout=10).json()["records"]
    harvester = Sickle(f"{demo.base}/oai")
    edm = list(harvester.ListRecords(metadataPrefix="edm"))
    dc = list(harvester.ListRecords(metadataPrefix="oai_dc"))
    assert records > 4
    assert len(edm) == len(dc) == records
    assert len({r.header.identifier for r in edm}) == records
    assert all(r.metadata.get("title") for r in dc)


def test_the_printed_reviewer_token_signs_in_to_the_reviewer_page(demo: Demo) -> None:
    with httpx.Client(base_url=demo.base) as browser:
        assert browser.get("/ui/queue").status_code in (302, 303, 307)  # not signed in: to the sign-in page
        signed_in = browser.post("/ui/login", data={"token": demo.reviewer_token}, follow_redirects=True)
        assert signed_in.status_code == 200, signed_in.text
        queue = browser.get("/review/queue", params={"limit": 5})
        assert queue.status_code == 200 and queue.json()["total"] > 0


def test_sparql_answers_over_the_demo_store(demo: Demo) -> None:
    cho = "<http://www.europeana.eu/schemas/edm/ProvidedCHO>"
    query = f"SELECT (COUNT(DISTINCT ?cho) AS ?n) WHERE {{ GRAPH ?g {{ ?cho a {cho} }} }}"
    answer = httpx.get(
        f"{demo.base}/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert answer.status_code == 200
    assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) >= 4


def test_the_printed_reviewer_token_approves_and_the_harvest_sees_it(demo: Demo) -> None:
    reviewer = {"Authorization": f"Bearer {demo.reviewer_token}"}
    pending = httpx.get(f"{demo.base}/suggestions", params={"status": "pending", "limit": 1}, headers=reviewer)
    assert pending.status_code == 200, pending.text
    suggestion = pending.json()["items"][0]
    anonymous = httpx.post(f"{demo.base}/suggestions/{suggestion['id']}/approve", json={})
    assert anonymous.status_code == 401
    approved = httpx.post(f"{demo.base}/suggestions/{suggestion['id']}/approve", json={}, headers=reviewer)
    assert approved.status_code == 200, approved.text
    now = httpx.get(f"{demo.base}/suggestions/{suggestion['id']}", headers=reviewer).json()
    assert now["status"].lower() == "approved"
    accepted = list(Sickle(f"{demo.base}/oai").ListIdentifiers(metadataPrefix="oai_dc", set="review:accepted"))
    assert len(accepted) >= 1


def test_check_mode_harvests_once_and_stops(tmp_path: Path) -> None:
    result = enrich("demo", "--check", "--port", str(free_port()), "--store", tmp_path / "store", cwd=tmp_path)
    assert result.returncode == 0, result.describe()
    assert "check: OAI-PMH ListRecords (edm) harvested" in result.stdout
    assert "check failed" not in result.stderr


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = enrich("demo", "--serve", "--port", str(port), "--store", ":memory:", cwd=tmp_path)
    assert result.returncode == 3, result.describe()
    assert f"127.0.0.1:{port}" in result.stderr and "pick another --port" in result.stderr
