"""The scale-out tests (issue 8; the folder is not called ``dist``: pytest skips folders of that name).

One local Ray instance for the session (2 CPUs, as the issue asks), and a remote store per test.

Ray is started once: a start costs ~5 s on a 2-core machine. The engine finds it initialised and uses it
(it only starts and stops an instance of its own when none is running, as the CLI test shows).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from enrich.models.cards import ModelSpec
from enrich.store.base import Store
from enrich.store.remote import RemoteStore
from tests.conftest import _remote_settings
from tests.ml.tiny import tiny_text_encoder_spec

RAY_CPUS = 2


@pytest.fixture(scope="session")
def ray_instance() -> Iterator[object]:
    import ray

    ray.init(
        num_cpus=RAY_CPUS,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=150 * 1024**2,
        namespace="heritage-enrich-tests",
    )
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
def remote_store(oxigraph_server: str) -> Iterator[Store]:
    """The session's Oxigraph server, emptied for this test."""
    store = RemoteStore.from_base_url(oxigraph_server, _remote_settings())
    store.update("DROP ALL")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="session")
def tiny_encoder_card(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelSpec, Path]:
    """A random 32-d BERT saved with ``save_pretrained`` and its card file (what ``--set embed.card=`` names)."""
    directory = tmp_path_factory.mktemp("tiny-bert")
    spec = tiny_text_encoder_spec(directory)
    return spec, spec.save(directory / "tiny-bert.yaml")
