"""Session-wide tiny models (built once, read-only for every test) and one thread for torch on small CPUs."""

from __future__ import annotations

import pytest

from enrich.models.cards import ModelSpec
from tests.ml.tiny import tiny_clip_spec, tiny_text_encoder_spec


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    # Tiny models on a 2-core machine run several times faster with one thread (ML-NOTES).
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> ModelSpec:
    """A random 32-d open_clip model saved as ``local-dir:`` (shared: do not write into its directory)."""
    return tiny_clip_spec(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def tiny_text_encoder(tmp_path_factory: pytest.TempPathFactory) -> ModelSpec:
    """A random 32-d BERT text encoder saved with ``save_pretrained`` (shared: do not write into it)."""
    return tiny_text_encoder_spec(tmp_path_factory.mktemp("tiny-bert"))
