"""The ``zero-shot`` enricher: facet suggestions from CLIP prompts (:mod:`enrich.similarity.zero_shot`).

It reads the record vectors the ``embed`` enricher left in the embedding cache (image first, else text), so it
runs after ``embed`` (``--enrichers embed,zero-shot``, or a later run); a record without vectors gets nothing.

Configuration:

``card``           the CLIP card (default: the bundled ``clip-vit-b-32-laion2b``); a text encoder also works, on
                   text vectors only
``facets``         facet ids (default: every facet with concepts in the loaded vocabularies)
``top_k``          suggestions per record and facet (default 3)
``min_confidence`` lowest score suggested (default 0.05)
``languages``      label languages for the prompts (default: each facet's label languages)
``templates``      a YAML file of prompt templates (default: the bundled ``prompts.yaml``)
``activation``     ``softmax`` (default) or ``sigmoid``; ``scale`` (default 100, CLIP's logit scale), ``bias``
``modalities``     which record vectors to use, in order of preference (default image, then text)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from enrich.embeddings import cache_for
from enrich.embeddings.cache import MODALITIES, Modality
from enrich.embeddings.enricher import DEFAULT_CARD
from enrich.enrichers.base import Enricher, EnrichmentContext, RecordView
from enrich.ingest.errors import InputError
from enrich.models.cards import ModelSpec, load_spec
from enrich.similarity.zero_shot import (
    TEMPLATES_FILE,
    Activation,
    PromptSet,
    consistent,
    load_templates,
    prompt_set,
    raw_scores,
)
from enrich.suggestion import ModelCard, SuggestedValue, Suggestion
from enrich.vocab.facets import Facet, facet_tree, get_facet

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from enrich.vocab.tree import LabelTree


class ZeroShotEnricher(Enricher):
    name = "zero-shot"
    version = "1"
    needs_context = True
    uses_accelerator = True

    def __init__(
        self,
        context: EnrichmentContext,
        card: str | ModelSpec = DEFAULT_CARD,
        facets: Sequence[str] | None = None,
        top_k: int = 3,
        min_confidence: float = 0.05,
        languages: Sequence[str] | None = None,
        templates: str | Path | None = None,
        activation: Activation = "softmax",
        scale: float = 100.0,
        bias: float = 0.0,
        modalities: Sequence[str] = ("image", "text"),
    ) -> None:
        from enrich.models.encoders import load_text_encoder

        if top_k < 1:
            raise InputError("zero-shot", "top_k must be at least 1")
        if activation not in ("softmax", "sigmoid"):
            raise InputError("zero-shot", f"activation must be softmax or sigmoid, not {activation!r}")
        if not modalities or set(modalities) - set(MODALITIES):
            raise InputError("zero-shot", f"modalities must be image and/or text, not {list(modalities)}")
        self.spec = card if isinstance(card, ModelSpec) else load_spec(card)
        self.modalities: list[Modality] = [m for m in MODALITIES if m in modalities]
        self.modalities.sort(key=list(modalities).index)
        if self.spec.kind == "text-encoder":
            self.modalities = [m for m in self.modalities if m == "text"]
        elif self.spec.kind != "clip":
            raise InputError("zero-shot", f"the {self.spec.kind} card {self.spec.name!r} has no text tower")
        if not self.modalities:
            raise InputError("zero-shot", f"the text-encoder card {self.spec.name!r} has text vectors only")
        self.context = context
        self.top_k = top_k
        self.min_confidence = min_confidence
        self.activation: Activation = activation
        self.scale = scale
        self.bias = bias
        self.templates_path = Path(templates) if templates is not None else TEMPLATES_FILE
        templates_data = load_templates(self.templates_path)
        self.templates_hash = hashlib.sha256(json.dumps(templates_data, sort_keys=True).encode()).hexdigest()[:16]
        self.cache = cache_for(context.settings)
        encoder = load_text_encoder(self.spec)
        self.facets: dict[str, Facet] = {}
        self.trees: dict[str, LabelTree] = {}
        self.prompts: dict[str, PromptSet] = {}
        self.languages = list(languages) if languages else None
        for facet_id in facets if facets is not None else sorted(context.facets):
            facet = get_facet(context.facets, facet_id)
            tree = facet_tree(facet, context.trees)
            if not any(node.selectable for node in tree.nodes.values()):
                if facets is not None:
                    raise InputError(facet_id, "no concept of this facet is in the store's vocabularies")
                continue
            wanted = self.languages or list(facet.languages)
            self.facets[facet_id] = facet
            self.trees[facet_id] = tree
            self.prompts[facet_id] = prompt_set(encoder, tree, facet_id, wanted, templates_data, self.cache)
        self.reads = frozenset(facet.target_property for facet in self.facets.values())

    @classmethod
    def from_config(cls, **config: Any) -> Self:
        return cls(**config)

    def settings(self) -> dict[str, Any]:
        return {
            "card": {"name": self.spec.name, "hash": self.spec.hash},
            "facets": sorted(self.facets),
            "languages": self.languages,
            "templates": self.templates_hash,
            "activation": self.activation,
            "scale": self.scale,
            "bias": self.bias,
            "top_k": self.top_k,
            "min_confidence": self.min_confidence,
            "modalities": list(self.modalities),
            "vocabulary": self.context.vocabulary,
        }

    def enrich(self, records: Sequence[RecordView]) -> list[Suggestion]:
        import numpy as np

        chosen: dict[str, tuple[Modality, npt.NDArray[np.float32]]] = {}
        for modality in self.modalities:
            todo = [view.record_id for view in records if view.record_id not in chosen]
            if todo:
                found = self.cache.vectors_for(self.spec.hash, modality, todo)
                chosen.update({rid: (modality, vector) for rid, vector in found.items()})
        views = [view for view in records if view.record_id in chosen]
        if not views:
            return []
        matrix = np.stack([chosen[view.record_id][1] for view in views])
        card = self.model_card()
        out: list[Suggestion] = []
        for facet_id, prompts in self.prompts.items():
            raw = raw_scores(matrix, prompts, self.activation, self.scale, self.bias)
            nodes, scores = consistent(self.trees[facet_id], prompts.concepts, raw)
            for i, view in enumerate(views):
                out += self._suggestions(
                    view, chosen[view.record_id], facet_id, prompts, raw[i], nodes, scores[i], card
                )
        return out

    def _suggestions(
        self,
        view: RecordView,
        vector: tuple[Modality, npt.NDArray[np.float32]],
        facet_id: str,
        prompts: PromptSet,
        raw: npt.NDArray[np.float32],
        nodes: list[str],
        scores: npt.NDArray[np.float32],
        card: ModelCard,
    ) -> list[Suggestion]:
        """The record's top concepts of one facet: own (not inherited) scores, absent from the record."""
        facet = self.facets[facet_id]
        present = view.present(facet.target_property)
        final = dict(zip(nodes, scores.tolist(), strict=True))
        ranked = sorted(range(len(prompts.concepts)), key=lambda row: (-float(raw[row]), prompts.concepts[row]))
        out: list[Suggestion] = []
        modality, record_vector = vector
        for row in ranked:
            concept = prompts.concepts[row]
            confidence = float(raw[row])
            if confidence < self.min_confidence or len(out) == self.top_k:
                break
            if concept in present or final[concept] > confidence:  # inherited: a narrower concept scored higher
                continue
            prompt, cosine = prompts.best_prompt(row, record_vector)
            evidence = (
                f'zero-shot ({self.spec.name}, {modality} vector): prompt "{prompt.text}"@{prompt.language} '
                f"cosine {cosine:.3f}"
            )
            out.append(
                Suggestion(
                    record_id=view.record_id,
                    subject=view.cho,
                    predicate=facet.target_property,
                    value=SuggestedValue(concept),
                    facet=facet_id,
                    confidence=round(min(confidence, 1.0), 4),
                    enricher=self.name,
                    model=card,
                    evidence=(evidence,),
                )
            )
        return out
