"""Similar records, as the CLI (``enrich similar``) and the REST API (``/similar``) ask for them.

One index per (model card, modality) under ``{data_dir}/indexes/{card hash}-{modality}/``, built from the
embedding cache (:meth:`EmbeddingCache.record_vectors`) the first time it is needed and rebuilt when the cache's
counts (vectors, shards, records of the modality) differ from those the index was built from: a run of the
``embed`` enricher that added vectors makes the next query rebuild. A process keeps its open indexes and checks
the counts at most every :data:`FRESHNESS_S` seconds (a count over a million rows is not free).

A query is a record (its stored vector), a text (the card's text tower; with a CLIP card, text finds images),
or an image (the card's image tower). Hits are live records only, the query record excluded, with their CHO
IRI and title read from the store.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enrich.embeddings import cache_for
from enrich.embeddings.cache import MODALITIES, Modality
from enrich.embeddings.enricher import DEFAULT_CARD
from enrich.ingest.errors import InputError
from enrich.ingest.registry import lookup
from enrich.models.cards import ModelCardError, ModelSpec, bundled_specs, load_spec
from enrich.namespaces import DC, Graphs
from enrich.records_admin import RecordNotFound, resolve_record_id
from enrich.settings import Settings
from enrich.similarity import MAX_K
from enrich.similarity.filters import Filters, allowed_records, live_records
from enrich.similarity.index import IndexOptions, IndexUnavailable, VectorIndex, read_meta
from enrich.store.base import Store

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Seconds an open index is trusted before the cache's counts are compared again.
FRESHNESS_S = 10.0


class NoIndex(InputError):
    """The card has no vectors to search yet (or the record has none): the embed enricher must run first."""


@dataclass(frozen=True, slots=True)
class Hit:
    record_id: str
    record_iri: str
    cho: str
    title: str | None
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.record_id,
            "iri": self.record_iri,
            "cho": self.cho,
            "title": self.title,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True, slots=True)
class SimilarResult:
    card: str
    card_hash: str
    modality: Modality
    query: str
    indexed: int
    filters: Filters
    hits: list[Hit] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "card": self.card,
            "card_hash": self.card_hash,
            "modality": self.modality,
            "query": self.query,
            "indexed": self.indexed,
            "filters": {k: v for k, v in self.filters.as_dict().items() if v is not None},
            "items": [hit.as_dict() for hit in self.hits],
        }


# -- cards -----------------------------------------------------------------------------------------------


def cached_cards(settings: Settings) -> dict[str, ModelSpec]:
    """Cards that have vectors in the embedding cache, by name (from the ``card.json`` kept beside them)."""
    found: dict[str, ModelSpec] = {}
    root = cache_for(settings).root
    for path in sorted(root.glob("*/card.json")) if root.is_dir() else []:
        try:
            spec = ModelSpec.from_mapping(json.loads(path.read_text(encoding="utf-8")), str(path))
        except (OSError, ValueError, ModelCardError):
            continue  # an unreadable description hides its card; the others stay usable
        if spec.hash == path.parent.name:
            found[spec.name] = spec
    return found


def resolve_card(settings: Settings, name: str | None, allow_paths: bool = False) -> ModelSpec:
    """A card by name: one with cached vectors, or a bundled one (with ``allow_paths``, also a YAML path).

    Without a name: the default CLIP card, or the only card with cached vectors when that is another one.
    """
    cached = cached_cards(settings)
    if name is None:
        if DEFAULT_CARD not in cached and len(cached) == 1:
            return next(iter(cached.values()))
        if DEFAULT_CARD not in cached and len(cached) > 1:
            raise InputError("card", f"several cards have vectors ({', '.join(sorted(cached))}): name one")
        name = DEFAULT_CARD
    if name in cached:
        return cached[name]
    if not allow_paths and name not in bundled_specs():
        # A name only: a path (or a bare file name in the working directory) would read the server's files.
        known = ", ".join(sorted({*cached, *bundled_specs()}))
        raise InputError("card", f"no card named {name!r} (known: {known}); paths are not accepted here")
    return load_spec(name)


def default_modality(spec: ModelSpec) -> Modality:
    return "image" if spec.kind == "clip" else "text"


def check_modality(spec: ModelSpec, modality: str | None) -> Modality:
    chosen = modality or default_modality(spec)
    if chosen not in MODALITIES:
        raise InputError("modality", f"must be one of {', '.join(MODALITIES)}, not {chosen!r}")
    if chosen == "image" and spec.kind != "clip":
        raise InputError("modality", f"the {spec.kind} card {spec.name!r} has no image vectors (a clip card does)")
    return chosen


# -- indexes ---------------------------------------------------------------------------------------------


def index_folder(settings: Settings, spec_hash: str, modality: Modality) -> Path:
    return Path(settings.data_dir) / "indexes" / f"{spec_hash}-{modality}"


@dataclass(slots=True)
class _Held:
    index: VectorIndex
    checked: float


_OPEN: dict[Path, _Held] = {}
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock(folder: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(folder, threading.Lock())


def _source_state(settings: Settings, spec_hash: str, modality: Modality) -> dict[str, int]:
    counts = cache_for(settings).stats(spec_hash)
    return {key: counts[key] for key in ("vectors", "shards", f"{modality}_records")}


def default_options() -> IndexOptions:
    """float16 rows where torch is installed: the cache keeps float16 anyway, and torch's half-precision
    product is about 3x faster than numpy's float32 one at 1M rows (numpy has no fast float16 product)."""
    from importlib.util import find_spec

    return IndexOptions(storage="float16" if find_spec("torch") is not None else "float32")


def open_index(
    settings: Settings,
    spec: ModelSpec,
    modality: Modality,
    rebuild: bool = False,
    options: IndexOptions | None = None,
) -> VectorIndex:
    """The card's index for ``modality``, built or rebuilt from the embedding cache when missing or stale.

    Raises :class:`NoIndex` when the cache holds no ``modality`` vectors of the card.
    """
    folder = index_folder(settings, spec.hash, modality)
    with _lock(folder):
        held = _OPEN.get(folder)
        now = time.monotonic()
        if held is not None and not rebuild and now - held.checked < FRESHNESS_S:
            return held.index
        state = _source_state(settings, spec.hash, modality)
        if not state[f"{modality}_records"]:
            _OPEN.pop(folder, None)
            raise NoIndex(
                spec.name,
                f"no {modality} vectors for this card yet: run the embed enricher first "
                f"(enrich run --enrichers embed with card {spec.name!r})",
            )
        try:
            meta = read_meta(folder)
        except IndexUnavailable:
            meta = None  # unreadable: built again below
        if meta is not None and dict(meta.source_state) == state and not rebuild:
            index = held.index if held is not None and held.index.meta == meta else VectorIndex.open(folder)
        else:
            ids, matrix = cache_for(settings).record_vectors(spec.hash, modality)
            about = {"card": spec.name, "card_hash": spec.hash, "modality": modality}
            index = VectorIndex.write(folder, ids, matrix, options or default_options(), state, about)
        _OPEN[folder] = _Held(index, now)
        return index


def forget_open_indexes() -> None:
    """Drop the indexes this process holds open (tests; a process whose data directory changed)."""
    with _LOCKS_GUARD:
        _OPEN.clear()


def check_k(k: int) -> None:
    if not 1 <= k <= MAX_K:
        raise InputError("k", f"must be between 1 and {MAX_K}")


# -- queries ---------------------------------------------------------------------------------------------


def record_vector(
    store: Store, graphs: Graphs, index: VectorIndex, reference: str, spec: ModelSpec, modality: Modality
) -> tuple[str, npt.NDArray[np.float32]]:
    """A known record's id and its vector in the index; 404-like for an unknown or deleted record."""
    rid = resolve_record_id(reference)
    if not lookup(store, graphs, [rid]).get(rid):  # unknown, or deleted ("" checksum)
        raise RecordNotFound(f"no record {reference!r}")
    vector = index.vector(rid)
    if vector is None:
        raise NoIndex(
            rid, f"the record has no {modality} vector under card {spec.name!r}: run the embed enricher for it"
        )
    return rid, vector


def text_vector(spec: ModelSpec, query: str) -> npt.NDArray[np.float32]:
    from enrich.models.encoders import load_text_encoder

    if not query.strip():
        raise InputError("text", "the query text is empty")
    import numpy as np

    return np.asarray(load_text_encoder(spec).encode_queries([query])[0], dtype=np.float32)


def image_vector(spec: ModelSpec, data: bytes, source: str = "uploaded image") -> npt.NDArray[np.float32]:
    """The card's vector of an image given as bytes (checked like a fetched image: size, pixels, format)."""
    from enrich.embeddings.images import FetchLimits, ImageError, decode_image
    from enrich.models.encoders import load_image_encoder

    if spec.kind != "clip":
        raise InputError("image", f"the {spec.kind} card {spec.name!r} encodes no images (a clip card does)")
    limits = FetchLimits.from_extra(spec.extra)
    if len(data) > limits.max_bytes:
        raise InputError(source, f"{len(data):,} bytes, more than the limit of {limits.max_bytes:,}")
    try:
        image = decode_image(source, data, limits.max_pixels)
    except ImageError as exc:
        raise InputError(source, exc.problem) from None
    import numpy as np

    return np.asarray(load_image_encoder(spec).encode_images([image])[0], dtype=np.float32)


def search_index(
    store: Store,
    graphs: Graphs,
    index: VectorIndex,
    vector: npt.ArrayLike,
    k: int,
    filters: Filters = Filters(),  # noqa: B008 - frozen, never mutated
    exclude: frozenset[str] = frozenset(),
    exact: bool = False,
) -> list[tuple[str, float]]:
    """The ``k`` best live records passing the filters (the index may still hold deleted records)."""
    check_k(k)
    allowed = allowed_records(store, graphs, filters)
    wanted = k
    while True:
        # Over-fetch a little: hits the registry says were deleted are dropped afterwards.
        found = index.search(vector, wanted + 8, filter_ids=allowed, exclude=exclude, exact=exact)
        live = live_records(store, graphs, [rid for rid, _ in found])
        kept = [(rid, score) for rid, score in found if rid in live]
        if len(kept) >= k or len(found) < wanted + 8:
            return kept[:k]
        wanted *= 4


def describe_hits(store: Store, graphs: Graphs, found: list[tuple[str, float]]) -> list[Hit]:
    """Hits with their CHO IRI and a title (English first, else the first in order)."""
    from enrich.enrichers.base import read_record_views

    views = {
        view.record_id: view for view in read_record_views(store, graphs, [rid for rid, _ in found], {DC + "title"})
    }
    hits = []
    for rid, score in found:
        view = views.get(rid)
        titles = sorted(view.literals(DC + "title"), key=lambda v: (v.language != "en", v.text)) if view else []
        hits.append(
            Hit(rid, graphs.record_node(rid), view.cho if view else "", titles[0].text if titles else None, score)
        )
    return hits


@dataclass(frozen=True, slots=True)
class SimilarQuery:
    """Exactly one of ``record``, ``text`` or ``image`` (bytes)."""

    record: str | None = None
    text: str | None = None
    image: bytes | None = None

    def __post_init__(self) -> None:
        given = [name for name in ("record", "text", "image") if getattr(self, name) is not None]
        if len(given) != 1:
            raise InputError("query", "give exactly one of a record, a text or an image")

    def describe(self) -> str:
        if self.record is not None:
            return f"record {self.record}"
        if self.text is not None:
            return f"text {self.text!r}"
        return f"image ({len(self.image or b''):,} bytes)"


def find_similar(
    store: Store,
    graphs: Graphs,
    settings: Settings,
    query: SimilarQuery,
    k: int = 10,
    card: str | ModelSpec | None = None,
    modality: str | None = None,
    filters: Filters = Filters(),  # noqa: B008 - frozen, never mutated
    exact: bool = False,
    allow_paths: bool = False,
) -> SimilarResult:
    """The records most similar to the query under one card (see the module's docstring)."""
    check_k(k)
    spec = card if isinstance(card, ModelSpec) else resolve_card(settings, card, allow_paths)
    chosen = check_modality(spec, modality)
    index = open_index(settings, spec, chosen)
    exclude: frozenset[str] = frozenset()
    if query.record is not None:
        rid, vector = record_vector(store, graphs, index, query.record, spec, chosen)
        exclude = frozenset({rid})
    elif query.text is not None:
        vector = text_vector(spec, query.text)
    else:
        vector = image_vector(spec, query.image or b"")
    found = search_index(store, graphs, index, vector, k, filters, exclude, exact)
    return SimilarResult(
        spec.name, spec.hash, chosen, query.describe(), len(index), filters, describe_hits(store, graphs, found)
    )
