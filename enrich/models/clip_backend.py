"""The ``clip`` kind: an open_clip model loaded through ``open_clip.create_model_and_transforms``.

Sources: ``open_clip:ARCH/TAG`` (a built-in architecture with a pretrained tag or weights file),
``open_clip:ARCH`` (random weights: benchmarks), ``hf-hub:org/name[@rev]`` (an open_clip hub repository) and
``local-dir:PATH`` (``open_clip_config.json`` + weights, the hub layout on disk). The card's
``preprocessing`` may override open_clip's ``mean``, ``std``, ``interpolation`` and ``resize_mode``; ``draft:
false`` makes the embedding pipeline decode JPEGs at full scale (by default it lets the decoder skip detail
the model's input size cannot hold, several times faster on large photographs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Self

from enrich.models.cards import ModelSpec
from enrich.models.runtime import LoadedModel, Placement, local_dir, placement, split_revision, unavailable, unit_rows

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import torch
    from PIL.Image import Image

#: Card preprocessing keys → open_clip's override arguments (the image size belongs to the architecture).
_PREPROCESS_KEYS = {
    "mean": "image_mean",
    "std": "image_std",
    "interpolation": "image_interpolation",
    "resize_mode": "image_resize_mode",
}
#: What a hub snapshot needs for open_clip (its config, safetensors weights, tokenizer files), not every format.
_HUB_FILES = ["open_clip_config.json", "open_clip_model.safetensors", "*.txt", "*.json", "*.model"]


def _model_name(spec: ModelSpec) -> tuple[str, str | None]:
    """(open_clip model name, pretrained tag/file) for the card's source."""
    if spec.scheme == "open_clip":
        arch, _, pretrained = spec.location.partition("/")
        return arch, pretrained or None
    if spec.scheme == "local-dir":
        return f"local-dir:{local_dir(spec)}", None
    if spec.scheme == "hf-hub":
        repo, revision = split_revision(spec.location)
        if revision is None:
            return f"hf-hub:{repo}", None
        # open_clip's hub loader takes no revision: fetch that revision's files and load them as a folder.
        from huggingface_hub import snapshot_download

        folder = snapshot_download(repo, revision=revision, allow_patterns=_HUB_FILES)
        return f"local-dir:{folder}", None
    raise ValueError(f"a clip card cannot load {spec.source} (use open_clip:, hf-hub: or local-dir:)")


class OpenClipEncoder(LoadedModel):
    """Both towers of one open_clip model; text and image vectors share one space."""

    def __init__(
        self,
        spec: ModelSpec,
        model: Any,
        transform: Callable[[Image], torch.Tensor],
        tokenizer: Callable[[list[str]], torch.Tensor],
        where: Placement,
    ) -> None:
        self._spec = spec
        self.model = model
        self.transform = transform
        self.tokenizer = tokenizer
        self.where = where
        size = model.visual.image_size
        self.image_size: int = int(max(size) if isinstance(size, tuple | list) else size)
        self._dim = int(model.visual.output_dim)

    @classmethod
    def load(cls, spec: ModelSpec) -> Self:
        import open_clip  # type: ignore[import-untyped]

        where = placement(spec)
        try:
            name, pretrained = _model_name(spec)
            overrides = {
                arg: spec.preprocessing[key] for key, arg in _PREPROCESS_KEYS.items() if key in spec.preprocessing
            }
            model, _, transform = open_clip.create_model_and_transforms(
                name,
                pretrained=pretrained,
                precision=where.open_clip_precision,
                device=where.device,
                **overrides,
            )
            tokenizer = open_clip.get_tokenizer(name)
        except (OSError, RuntimeError, ValueError, KeyError) as exc:
            raise unavailable(spec, exc) from exc
        model.eval()
        return cls(spec, model, transform, tokenizer, where)

    def preprocess(self, image: Image) -> torch.Tensor:
        """One RGB image → the model's input tensor (3, size, size), on the CPU (thread-safe)."""
        tensor: torch.Tensor = self.transform(image)
        return tensor

    def encode_pixels(self, pixels: torch.Tensor) -> npt.NDArray[np.float32]:
        """A batch of preprocessed images (n, 3, size, size) → unit vectors."""
        import torch

        with torch.inference_mode():
            batch = pixels.to(self.where.device, self.where.dtype, non_blocking=True)
            features = self.model.encode_image(batch)
            return unit_rows(features)

    def encode_images(self, images: Sequence[Image]) -> npt.NDArray[np.float32]:
        import torch

        return self._batched(images, lambda chunk: self.encode_pixels(torch.stack([self.preprocess(i) for i in chunk])))

    def encode_texts(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        import torch

        def run(chunk: Sequence[str]) -> npt.NDArray[np.float32]:
            tokens = self.tokenizer(list(chunk))
            with torch.inference_mode():
                return unit_rows(self.model.encode_text(tokens.to(self.where.device)))

        return self._batched(texts, run)

    def encode_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.encode_texts(texts)

    def _batched(
        self, items: Sequence[Any], run: Callable[[Sequence[Any]], npt.NDArray[np.float32]]
    ) -> npt.NDArray[np.float32]:
        import numpy as np

        size = self._spec.batch_size
        parts = [run(items[start : start + size]) for start in range(0, len(items), size)]
        out: npt.NDArray[np.float32] = np.concatenate(parts) if parts else np.zeros((0, self._dim), dtype=np.float32)
        return out
