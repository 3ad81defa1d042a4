"""Shared fixtures: a real Oxigraph server for the session, and ``store``, run against every store kind.

Test modules add their own fixtures next to their tests; only what many modules need lives here.
"""

from __future__ import annotations

import os

# Before anything imports transformers/huggingface_hub: tests never download models.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from enrich.settings import Settings
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from enrich.store.remote import RemoteStore

SERVER_START_TIMEOUT_S = 20.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def oxigraph_binary() -> str | None:
    # The venv's own copy first (pip install oxigraph), so a stray older binary on PATH is not used.
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("oxigraph")


def _remote_settings() -> Settings:
    """Settings for Oxigraph server's layout, whatever ENRICH_REMOTE_* the environment sets."""
    return Settings(remote_query_url=None, remote_update_url=None, remote_gsp_url=None)


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"oxigraph serve exited with {process.returncode}: {log.read_text(errors='replace')}"
                )
            try:
                response = client.post(
                    f"{base_url}/query",
                    content=b"ASK {}",
                    headers={"Content-Type": "application/sparql-query"},
                )
                if response.is_success:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    raise RuntimeError(f"oxigraph serve did not answer within {SERVER_START_TIMEOUT_S} s: {log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real ``oxigraph serve`` on 127.0.0.1 (its data in a temporary directory)."""
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    workdir = tmp_path_factory.mktemp("oxigraph-server")
    log = workdir / "server.log"
    bind = f"127.0.0.1:{free_port()}"
    base_url = f"http://{bind}"
    with log.open("wb") as log_file:
        # Output goes to a file, not a pipe: a pipe nobody reads would block the server when full.
        process = subprocess.Popen(
            [binary, "serve", "--location", str(workdir / "data"), "--bind", bind],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_until_ready(process, base_url, log)
        yield base_url
    finally:
        _stop(process)


@pytest.fixture(params=["memory", "disk", "remote"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind; the same test runs against all three."""
    opened: Store
    if request.param == "memory":
        opened = EmbeddedStore()
    elif request.param == "disk":
        opened = EmbeddedStore(tmp_path / "store")
    else:
        # Only the remote case needs the server, so memory/disk runs never start it.
        base_url = request.getfixturevalue("oxigraph_server")
        opened = RemoteStore.from_base_url(base_url, _remote_settings())
        opened.update("DROP ALL")  # the server lives for the session: start every test empty
    try:
        yield opened
    finally:
        opened.close()
