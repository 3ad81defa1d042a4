"""The ``embed`` enricher: fills the embedding cache for a run's records and suggests nothing.

Configuration (``enrich run --enrichers embed`` with a definition's config, or ``EnricherSpec("embed", …)``):

``cards``            card names or paths (default: the bundled ``clip-vit-b-32-laion2b``); ``card`` for one
``modalities``       ``image`` and/or ``text`` (default: both; a text-encoder card does text only)
``fields``           predicates (IRIs or ``dc:title``-style names) for the text, in order
``languages``        preferred languages for the text (default: every language, for multilingual models)
``images_per_record`` how many image links per record (default 1: the main image; ``0`` for all)
``workers``          fetch/decode threads (default 8)
``generated``        also embed the record's generated images (default true): the ``generate`` enricher's
                     web resources, pending ones of this run included, linked under the ``generated-image``
                     modality so ``record_vectors(hash, "image")`` stays the provider's images only

Models load when the enricher is built, so a card that cannot load stops the run before anything is
written. Fetch limits come from each card's ``extra`` (see :class:`enrich.embeddings.images.FetchLimits`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from enrich.embeddings import embeddings_root
from enrich.embeddings.cache import GENERATED_IMAGE, EmbeddingCache, Modality
from enrich.embeddings.images import FetchLimits, image_sources
from enrich.embeddings.pipeline import DEFAULT_WORKERS, EmbedReport, ImageEmbedder, TextEmbedder
from enrich.embeddings.texts import DEFAULT_TEXT_FIELDS, RecordText
from enrich.enrichers.base import Enricher, EnrichmentContext, RecordView
from enrich.ingest.errors import InputError
from enrich.models.cards import ModelSpec, load_spec
from enrich.models.encoders import load_image_encoder, load_text_encoder
from enrich.suggestion import Suggestion

DEFAULT_CARD = "clip-vit-b-32-laion2b"
_SETTINGS = frozenset(
    {"context", "cards", "modalities", "fields", "languages", "images_per_record", "workers", "generated"}
)


class EmbedEnricher(Enricher):
    name = "embed"
    version = "1"
    needs_context = True
    uses_accelerator = True

    def __init__(
        self,
        context: EnrichmentContext,
        cards: Sequence[str | ModelSpec] = (DEFAULT_CARD,),
        modalities: Sequence[str] = ("image", "text"),
        fields: Sequence[str] = DEFAULT_TEXT_FIELDS,
        languages: Sequence[str] | None = None,
        images_per_record: int = 1,
        workers: int = DEFAULT_WORKERS,
        generated: bool = True,
    ) -> None:
        unknown = sorted(set(modalities) - {"image", "text"})
        if unknown or not modalities:
            raise InputError("embed", f"modalities must be image and/or text, not {list(modalities)}")
        if images_per_record < 0:
            raise InputError("embed", "images_per_record must be 0 (all) or more")
        self.context = context
        self.specs = [card if isinstance(card, ModelSpec) else load_spec(card) for card in cards]
        if not self.specs:
            raise InputError("embed", "name at least one model card")
        try:
            self.text = RecordText(fields, languages, context.trees)
        except ValueError as exc:
            raise InputError("embed", str(exc)) from None
        self.images_per_record = images_per_record
        self.generated = generated
        self.cache = EmbeddingCache(embeddings_root(context.settings.data_dir))
        self.report = EmbedReport()
        self.image_work: list[ImageEmbedder] = []
        self.text_work: list[TextEmbedder] = []
        for spec in self.specs:
            wants: list[Modality] = [m for m in ("image", "text") if m in modalities]
            if spec.kind == "text-encoder":
                wants = [m for m in wants if m == "text"]
            elif spec.kind != "clip":
                raise InputError(spec.name, f"a {spec.kind} card computes no embeddings (clip or text-encoder)")
            if "image" in wants:
                limits = FetchLimits.from_extra(spec.extra, context.settings)
                threads = int(spec.extra.get("fetch_workers", workers))
                self.image_work.append(ImageEmbedder(load_image_encoder(spec), self.cache, limits, threads))
            if "text" in wants:
                self.text_work.append(TextEmbedder(load_text_encoder(spec), self.cache))
            self.cache.describe(spec.hash, spec.as_json())
        self.reads = frozenset(self.text.fields) if self.text_work else frozenset()

    @classmethod
    def from_config(cls, **config: Any) -> Self:
        if "card" in config:
            config["cards"] = [config.pop("card")]
        if isinstance(config.get("cards"), str):
            config["cards"] = [config["cards"]]
        unknown = sorted(set(config) - _SETTINGS)
        if unknown:
            raise InputError(
                "embed",
                f"unknown setting(s) {', '.join(unknown)} (known: card, {', '.join(sorted(_SETTINGS - {'context'}))})",
            )
        for key in ("images_per_record", "workers"):
            if key in config and (not isinstance(config[key], int) or isinstance(config[key], bool)):
                raise InputError("embed", f"{key} must be a whole number, not {config[key]!r}")
        if "generated" in config and not isinstance(config["generated"], bool):
            raise InputError("embed", f"generated must be true or false, not {config['generated']!r}")
        return cls(**config)

    def settings(self) -> dict[str, Any]:
        return {
            "cards": {spec.name: spec.hash for spec in self.specs},
            "image_cards": [embedder.spec_hash for embedder in self.image_work],
            "text_cards": [embedder.spec_hash for embedder in self.text_work],
            "fields": list(self.text.fields),
            "languages": list(self.text.languages),
            "images_per_record": self.images_per_record,
            "generated": self.generated,
        }

    def enrich(self, records: Sequence[RecordView]) -> list[Suggestion]:
        if self.image_work:
            per_record = self.images_per_record or None
            sources = image_sources(self.context.store, self.context.graphs, records, per_record)
            with_images = {view.record_id: sources.get(view.record_id, []) for view in records}
            for embedder in self.image_work:
                self.report.add(embedder.embed(with_images))
            if self.generated:
                # Imported here: the generation package imports this one's image helpers.
                from enrich.generation.enricher import generated_images

                made = generated_images(self.context.store, self.context.graphs, records)
                machine_made = {view.record_id: made.get(view.record_id, []) for view in records}
                for embedder in self.image_work:
                    self.report.add(embedder.embed(machine_made, GENERATED_IMAGE))
        if self.text_work:
            texts = {view.record_id: self.text(view) for view in records}
            for text_embedder in self.text_work:
                self.report.add(text_embedder.embed(texts))
        return []
