"""A text-to-image card's pipeline: diffusers ``AutoPipelineForText2Image`` loaded from the card's source,
placed by the card's device/dtype policy, run with the card's generation settings.

The settings live in the card's ``extra`` (so they are part of its hash and of provenance):

``negative_prompt``  what the images should not show (default: none)
``steps``            denoising steps (default 30)
``guidance``         classifier-free guidance scale (default 7.0; turbo models use 0)
``seed``             the seed of every image (default 0): one prompt always gives the same image
``width``/``height`` image size in pixels (default 1024)
``prompt_suffix``    appended to every prompt (default: a plain museum photograph)

diffusers and torch are imported when a pipeline loads, never on import.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from enrich.ingest.errors import InputError
from enrich.models.cards import ModelSpec
from enrich.models.runtime import ModelUnavailable, local_dir, placement, split_revision, unavailable

DEFAULT_SUFFIX = "museum object, studio photograph, plain background"


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    negative_prompt: str = ""
    steps: int = 30
    guidance: float = 7.0
    seed: int = 0
    width: int = 1024
    height: int = 1024
    prompt_suffix: str = DEFAULT_SUFFIX

    @classmethod
    def from_extra(cls, name: str, extra: Mapping[str, Any]) -> GenerationSettings:
        """The card's settings, checked: a wrong type or range names the key."""
        defaults = cls()
        values: dict[str, Any] = {}
        for key in ("steps", "seed", "width", "height"):
            value = extra.get(key, getattr(defaults, key))
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if key == "seed" else 1):
                raise InputError(
                    name,
                    f"extra.{key} must be a {'non-negative' if key == 'seed' else 'positive'} "
                    f"whole number, not {value!r}",
                )
            values[key] = value
        guidance = extra.get("guidance", defaults.guidance)
        if not isinstance(guidance, int | float) or isinstance(guidance, bool) or guidance < 0:
            raise InputError(name, f"extra.guidance must be a number ≥ 0, not {guidance!r}")
        values["guidance"] = float(guidance)
        for key in ("negative_prompt", "prompt_suffix"):
            value = extra.get(key, getattr(defaults, key))
            if not isinstance(value, str):
                raise InputError(name, f"extra.{key} must be text, not {value!r}")
            values[key] = value.strip()
        return cls(**values)


class TextToImage:
    """A loaded pipeline; :meth:`generate` turns prompts into PNG bytes, one seeded generator per image."""

    def __init__(self, spec: ModelSpec) -> None:
        if spec.kind != "text-to-image":
            raise InputError(spec.name, f"a {spec.kind} card generates no images (text-to-image)")
        self.spec = spec
        self.settings = GenerationSettings.from_extra(spec.name, spec.extra)
        where = placement(spec)
        self.device = where.device
        try:
            with warnings.catch_warnings():
                # diffusers' auto pipelines import every family, and one of them still calls torch.jit.script,
                # which torch now deprecates: nothing we can act on, and no reason to fail a run.
                warnings.filterwarnings("ignore", r".*torch\.jit\.script.*", FutureWarning)
                from diffusers import AutoPipelineForText2Image
        except ImportError as exc:  # pragma: no cover - diffusers is a declared dependency
            raise ModelUnavailable(spec.name, f"diffusers is not installed ({exc})") from exc
        if spec.scheme == "local-dir":
            path, revision = str(local_dir(spec)), None
        elif spec.scheme == "hf-hub":
            path, revision = split_revision(spec.location)
        else:
            raise InputError(spec.name, f"a text-to-image card loads from hf-hub: or local-dir:, not {spec.scheme}:")
        try:
            pipeline = AutoPipelineForText2Image.from_pretrained(  # type: ignore[no-untyped-call]
                path, revision=revision, dtype=where.dtype
            )
        except Exception as exc:  # any loader failure becomes a readable "cannot load" naming the card
            raise unavailable(spec, exc) from exc
        pipeline.set_progress_bar_config(disable=True)
        self.pipeline = pipeline.to(self.device)

    def generate(self, prompts: Sequence[str]) -> list[bytes]:
        """PNG bytes for each prompt, in order, in batches of the card's ``batch_size``."""
        out: list[bytes] = []
        for start in range(0, len(prompts), self.spec.batch_size):
            out += self._batch(list(prompts[start : start + self.spec.batch_size]))
        return out

    def _batch(self, prompts: list[str]) -> list[bytes]:
        return [png_bytes(image) for image in self.images(prompts)]

    def images(self, prompts: list[str]) -> list[Any]:
        """One pipeline call: PIL images for ``prompts`` (one batch, whatever its size)."""
        import torch

        s = self.settings
        # One generator per image, each seeded alike: an image depends on its prompt only, not on which
        # other prompts share its batch.
        generators = [torch.Generator(self.device).manual_seed(s.seed) for _ in prompts]
        with torch.inference_mode():
            result = self.pipeline(
                prompt=prompts,
                negative_prompt=[s.negative_prompt] * len(prompts) if s.negative_prompt else None,
                num_inference_steps=s.steps,
                guidance_scale=s.guidance,
                width=s.width,
                height=s.height,
                generator=generators,
                output_type="pil",
            )
        images: list[Any] = result.images
        return images


_LOADED: dict[str, TextToImage] = {}
_LOCK = threading.Lock()


def load_text_to_image(spec: ModelSpec) -> TextToImage:
    """The card's pipeline, from this process's cache or loaded now (one load at a time): a service or a
    chain of runs loads a multi-gigabyte pipeline once."""
    with _LOCK:
        found = _LOADED.get(spec.hash)
        if found is None:
            found = _LOADED[spec.hash] = TextToImage(spec)
        return found


def png_bytes(image: Any) -> bytes:
    """A PIL image as PNG with no metadata (so equal pixels are equal bytes)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


__all__ = ["DEFAULT_SUFFIX", "GenerationSettings", "TextToImage", "load_text_to_image", "png_bytes"]
