"""Records → vectors in the cache, computing only what the cache lacks.

Images: sources already seen with the same stamp and content in the cache are not fetched again; the rest
are fetched, decoded and preprocessed by a thread pool that runs ahead of the model (a bounded window, so
memory stays at a few batches), while the calling thread runs the forward passes batch by batch. Content
already in the cache (the same bytes under another link) skips the forward pass. Texts: one per record;
texts whose hash is cached are not encoded again.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from enrich.embeddings.cache import EmbeddingCache, Modality, content_hash
from enrich.embeddings.images import FetchLimits, ImageError, ImageFetcher, decode_image, stamp_of
from enrich.models.encoders import ImageEncoder, PixelEncoder, TextEncoder

if TYPE_CHECKING:
    import torch
    from PIL.Image import Image

log = logging.getLogger("enrich.embeddings")

#: Fetch/decode threads: enough to hide HTTP latency; decoding itself releases the GIL in PIL.
DEFAULT_WORKERS = 8


@dataclass(slots=True)
class EmbedReport:
    """What one call did: how many inputs were found cached, computed, or failed (with why)."""

    records: int = 0
    cached: int = 0
    computed: int = 0
    forward_batches: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (record id, source, problem)

    def add(self, other: EmbedReport) -> None:
        self.records += other.records
        self.cached += other.cached
        self.computed += other.computed
        self.forward_batches += other.forward_batches
        self.failures += other.failures


@dataclass(slots=True)
class _Prepared:
    source: str
    stamp: str
    content: str | None = None
    pixels: torch.Tensor | None = None
    image: Image | None = None
    problem: str | None = None


class ImageEmbedder:
    """Embeds records' images with one image encoder into one cache."""

    def __init__(
        self,
        encoder: ImageEncoder,
        cache: EmbeddingCache,
        limits: FetchLimits | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.encoder = encoder
        self.cache = cache
        self.limits = limits or FetchLimits()
        self.workers = max(1, workers)
        self.spec_hash = encoder.spec.hash
        self.min_side = getattr(encoder, "image_size", None) if encoder.spec.preprocessing.get("draft", True) else None
        # Preprocessing in the workers when the encoder allows it; else whole images go to encode_images.
        self.pixels: PixelEncoder | None = encoder if isinstance(encoder, PixelEncoder) else None

    def _prepare(self, fetcher: ImageFetcher, source: str, stamp: str) -> _Prepared:
        """Fetch, hash, decode, preprocess: one image, in a worker thread."""
        item = _Prepared(source, stamp)
        try:
            data = fetcher.read(source)
            item.content = content_hash(data)
            image = decode_image(source, data, self.limits.max_pixels, self.min_side)
            if self.pixels is not None:
                item.pixels = self.pixels.preprocess(image)
            else:
                item.image = image
        except ImageError as exc:
            item.problem = exc.problem
        except Exception as exc:  # a preprocessing bug on one odd image must not end the run
            item.problem = f"cannot preprocess: {exc!r}"
        return item

    def embed(self, sources: Mapping[str, Sequence[str]], modality: Modality = "image") -> EmbedReport:
        """Fill the cache for these records' image sources and link each record to its images under
        ``modality`` (``generated-image`` for machine-made ones, kept apart from the real ``image``)."""
        report = EmbedReport(records=len(sources))
        stamps = {src: stamp_of(src) for srcs in sources.values() for src in srcs}
        seen = self.cache.sources(self.spec_hash, stamps)
        present = self.cache.has_many(self.spec_hash, list(seen.values()))
        contents: dict[str, str] = {src: c for src, c in seen.items() if c in present}
        report.cached = len(contents)
        todo = [src for src in stamps if src not in contents]
        problems: dict[str, str] = {}
        if todo:
            with ImageFetcher(self.limits) as fetcher:
                self._compute(fetcher, todo, stamps, contents, problems, report)
        links: dict[str, list[str]] = {}
        for record_id, srcs in sources.items():
            for src in srcs:
                if src in problems:
                    report.failures.append((record_id, src, problems[src]))
                    log.warning("record %s: image skipped: %s: %s", record_id, src, problems[src])
            done = [contents[src] for src in srcs if src in contents]
            # No image links: no image vector. Links that all failed this time: keep what the record had.
            if done or not srcs:
                links[record_id] = list(dict.fromkeys(done))
        self.cache.link_records(self.spec_hash, modality, links)
        return report

    def _compute(
        self,
        fetcher: ImageFetcher,
        todo: Sequence[str],
        stamps: Mapping[str, str],
        contents: dict[str, str],
        problems: dict[str, str],
        report: EmbedReport,
    ) -> None:
        batch_size = self.encoder.spec.batch_size
        window = 2 * batch_size + self.workers  # prepared images held at once, at most
        batch: list[_Prepared] = []
        fetched: dict[str, tuple[str, str]] = {}
        with ThreadPoolExecutor(self.workers, thread_name_prefix="embed-image") as pool:
            pending: deque[Future[_Prepared]] = deque()
            upcoming = iter(todo)
            for src in upcoming:
                pending.append(pool.submit(self._prepare, fetcher, src, stamps[src]))
                if len(pending) >= window:
                    break
            while pending:
                item = pending.popleft().result()
                following = next(upcoming, None)
                if following is not None:
                    pending.append(pool.submit(self._prepare, fetcher, following, stamps[following]))
                if item.problem is not None or item.content is None:
                    problems[item.source] = item.problem or "no content"
                    continue
                contents[item.source] = item.content
                fetched[item.source] = (item.content, item.stamp)
                batch.append(item)
                if len(batch) >= batch_size:
                    self._forward(batch, report)
                    batch = []
            if batch:
                self._forward(batch, report)
        self.cache.put_sources(self.spec_hash, fetched)

    def _forward(self, batch: list[_Prepared], report: EmbedReport) -> None:
        """One forward pass over the batch's images whose content the cache lacks."""
        import torch

        present = self.cache.has_many(self.spec_hash, [item.content or "" for item in batch])
        unique: dict[str, _Prepared] = {}
        for item in batch:
            if item.content is not None and item.content not in present and item.content not in unique:
                unique[item.content] = item
        report.cached += len(batch) - len(unique)
        if not unique:
            return
        items = list(unique.values())
        if self.pixels is not None:
            vectors = self.pixels.encode_pixels(torch.stack([item.pixels for item in items if item.pixels is not None]))
        else:
            vectors = self.encoder.encode_images([item.image for item in items if item.image is not None])
        self.cache.put_many(self.spec_hash, list(unique), vectors)
        report.computed += len(items)
        report.forward_batches += 1


class TextEmbedder:
    """Embeds one text per record with one text encoder into one cache."""

    def __init__(self, encoder: TextEncoder, cache: EmbeddingCache) -> None:
        self.encoder = encoder
        self.cache = cache
        self.spec_hash = encoder.spec.hash

    def embed(self, texts: Mapping[str, str]) -> EmbedReport:
        """Fill the cache for these records' texts (record id → text; an empty text unlinks the record)."""
        import numpy as np

        report = EmbedReport(records=len(texts))
        contents = {record_id: content_hash(text) for record_id, text in texts.items() if text}
        present = self.cache.has_many(self.spec_hash, list(contents.values()))
        missing: dict[str, str] = {}
        for record_id, content in contents.items():
            if content not in present and content not in missing:
                missing[content] = texts[record_id]
        report.cached = len(contents) - len(missing)
        if missing:
            vectors = np.asarray(self.encoder.encode_texts(list(missing.values())), dtype=np.float32)
            self.cache.put_many(self.spec_hash, list(missing), vectors)
            report.computed = len(missing)
            report.forward_batches = -(-len(missing) // self.encoder.spec.batch_size)
        self.cache.link_records(
            self.spec_hash, "text", {rid: [contents[rid]] if rid in contents else [] for rid in texts}
        )
        return report
