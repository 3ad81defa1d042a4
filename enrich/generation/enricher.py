"""The ``generate`` enricher: an image for each record that has none, made from its English text.

Configuration (``enrich run --enrichers generate --set generate.card=…``):

``card``   a text-to-image card name or path (default: the bundled ``sdxl-base-1.0``)

A record with any image of its own (``edm:isShownBy``/``edm:object``/``edm:hasView`` on its aggregation)
is skipped, and so is one without English text (original, or a pending/approved translation suggestion).
Each image is stored content-addressed under ``{data_dir}/generated/`` and described as a per-record
``edm:WebResource`` (the file's URL with the record id as fragment) in the record's *suggestions* graph,
marked synthetic with the IPTC digital source type ``trainedAlgorithmicMedia``, ``prov:wasDerivedFrom``
the CHO and ``prov:wasAttributedTo`` the run's model card. Nothing links it from the aggregation, so it is
never the object's image: plain EDM (OAI ``edm``, ``export --view enriched``) leaves it out, and only the
provenance-carrying export (``--view full``) has it.
The enricher also returns one suggestion per image, ``<image> dcterms:description "prompt"@en`` with the
prompt's sources, seed and card as evidence, so the writer ties the image to the run that made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote, urlsplit

from enrich.embeddings.images import image_sources, local_path
from enrich.enrichers.base import Enricher, EnrichmentContext, RecordView
from enrich.generation.pipeline import load_text_to_image
from enrich.generation.prompts import READS, Prompt, record_prompts
from enrich.generation.storage import store_png
from enrich.ingest.errors import InputError
from enrich.ingest.journal import string_literal
from enrich.models.cards import ModelSpec, load_spec
from enrich.namespaces import DC, DCTERMS, EDM, PROV, RDF_TYPE, Graphs
from enrich.provenance import card_id
from enrich.store.base import Store, text
from enrich.suggestion import SuggestedValue, Suggestion

DEFAULT_CARD = "sdxl-base-1.0"
FACET = "generated-image"
IPTC_SOURCE_TYPE = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/DigitalSourceType"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
#: A generated image says nothing certain about the object: a middling confidence keeps it out of any
#: auto-accept threshold and leaves the call to a reviewer.
CONFIDENCE = 0.5
_SETTINGS = frozenset({"context", "card"})


def record_image_iri(path: Path, record_id: str) -> str:
    """The web resource IRI of a generated image for one record: the content-addressed PNG's ``file:`` URL
    with the record id as fragment. Two records with the same prompt share the file but each gets its own
    resource (and so its own suggestion); a ``file:`` reader ignores the fragment and finds the PNG."""
    return f"{path.resolve().as_uri()}#{quote(record_id, safe='')}"


def generated_images(store: Store, graphs: Graphs, records: Sequence[RecordView]) -> dict[str, list[str]]:
    """The machine-made images of each record (web resources in its suggestions graph with the IPTC type
    ``trainedAlgorithmicMedia`` derived from its CHO), sorted; records without any are left out. What the
    ``embed`` enricher reads to embed generated images apart from the provider's (flagged as generated)."""
    if not records:
        return {}
    rows = " ".join(f"(<{graphs.suggestions(v.record_id)}> <{v.cho}> {string_literal(v.record_id)})" for v in records)
    query = (
        f"SELECT ?rid ?wr WHERE {{ VALUES (?g ?cho ?rid) {{ {rows} }} GRAPH ?g {{ ?wr <{PROV}wasDerivedFrom> ?cho ; "
        f"<{IPTC_SOURCE_TYPE}> <{TRAINED_ALGORITHMIC_MEDIA}> }} }} ORDER BY ?rid ?wr"
    )
    out: dict[str, list[str]] = {}
    for row in store.select(query):
        out.setdefault(text(row["rid"]), []).append(text(row["wr"]))
    return out


class GenerateEnricher(Enricher):
    name = "generate"
    version = "1"
    needs_context = True
    uses_accelerator = True
    reads = READS

    def __init__(self, context: EnrichmentContext, card: str | ModelSpec = DEFAULT_CARD) -> None:
        self.context = context
        self.spec = card if isinstance(card, ModelSpec) else load_spec(card)
        if self.spec.kind != "text-to-image":
            raise InputError(self.spec.name, f"a {self.spec.kind} card generates no images (text-to-image)")
        # The model loads now, so a card that cannot load stops the run before anything is written.
        self.model = load_text_to_image(self.spec)
        self.generated = 0
        self.reused = 0

    @classmethod
    def from_config(cls, **config: Any) -> Self:
        unknown = sorted(set(config) - _SETTINGS)
        if unknown:
            raise InputError("generate", f"unknown setting(s) {', '.join(unknown)} (known: card)")
        return cls(**config)

    def settings(self) -> dict[str, Any]:
        return {"card": self.spec.name, "card_hash": self.spec.hash}

    @property
    def agent(self) -> str:
        """The run's model-card agent for this enricher (what ``prov:wasAttributedTo`` names)."""
        return self.context.graphs.model_card(card_id(self.model_card()))

    def enrich(self, records: Sequence[RecordView]) -> list[Suggestion]:
        store, graphs = self.context.store, self.context.graphs
        with_images = image_sources(store, graphs, records, per_record=1)
        without = [view for view in records if view.record_id not in with_images]
        prompts = record_prompts(store, graphs, without, self.model.settings.prompt_suffix)
        if not prompts:
            return []
        done = self._already_generated(prompts)
        todo = [prompt for prompt in prompts if (prompt.record_id, prompt.text) not in done]
        # Records with identical prompts would get identical bytes from the seeded pipeline: make each once.
        texts = list(dict.fromkeys(p.text for p in todo))
        made = dict(zip(texts, self.model.generate(texts), strict=True))
        images = {p.record_id: made[p.text] for p in todo}
        suggestions: list[Suggestion] = []
        lines: dict[str, list[str]] = {}
        for prompt in prompts:
            if prompt.record_id in images:
                digest, path = store_png(self.context.settings.data_dir, images[prompt.record_id])
                resource = record_image_iri(path, prompt.record_id)
                lines[graphs.suggestions(prompt.record_id)] = self._describe(resource, digest, prompt)
                self.generated += 1
            else:
                resource = done[(prompt.record_id, prompt.text)]
                digest = urlsplit(resource).path.rsplit("/", 1)[-1].removesuffix(".png")
                self.reused += 1
            suggestions.append(self._suggestion(resource, digest, prompt))
        if lines:
            blocks = "\n".join(f"GRAPH <{g}> {{\n" + "\n".join(body) + "\n}" for g, body in lines.items())
            store.update(f"INSERT DATA {{\n{blocks}\n}}")
        return suggestions

    def _generation_note(self) -> str:
        s = self.model.settings
        note = f"seed {s.seed}; {s.steps} steps; guidance {s.guidance:g}; {s.width}x{s.height}"
        return note + (f"; negative prompt: {s.negative_prompt}" if s.negative_prompt else "")

    def _describe(self, resource: str, digest: str, prompt: Prompt) -> list[str]:
        node = f"<{resource}>"
        return [
            f"{node} <{RDF_TYPE}> <{EDM}WebResource> .",
            f'{node} <{DC}format> "image/png" .',
            f"{node} <{IPTC_SOURCE_TYPE}> <{TRAINED_ALGORITHMIC_MEDIA}> .",
            f"{node} <{DCTERMS}description> {string_literal(prompt.text)}@en .",
            f"{node} <{DC}description> {string_literal(self._generation_note())}@en .",
            f"{node} <{DCTERMS}identifier> {string_literal('sha256:' + digest)} .",
            f"{node} <{PROV}wasDerivedFrom> <{prompt.cho}> .",
            f"{node} <{PROV}wasAttributedTo> <{self.agent}> .",
        ]

    def _suggestion(self, resource: str, digest: str, prompt: Prompt) -> Suggestion:
        evidence = (
            f"prompt: {prompt.text}",
            *prompt.evidence,
            f"generation: {self._generation_note()}",
            f"card: {self.spec.name} {self.spec.version} ({self.spec.hash})",
            f"image: sha256:{digest}",
        )
        return Suggestion(
            record_id=prompt.record_id,
            subject=resource,
            predicate=DCTERMS + "description",
            value=SuggestedValue(prompt.text, is_iri=False, language="en"),
            facet=FACET,
            confidence=CONFIDENCE,
            enricher=self.name,
            model=self.model_card(),
            evidence=evidence,
        )

    def _already_generated(self, prompts: Sequence[Prompt]) -> dict[tuple[str, str], str]:
        """Images this card already made from the same prompt for the same record: (record id, prompt) →
        image IRI. A seeded pipeline would make the same bytes again, so they are not generated twice."""
        graphs = self.context.graphs
        rows = " ".join(
            f"(<{graphs.suggestions(p.record_id)}> <{p.cho}> {string_literal(p.record_id)} {string_literal(p.text)}@en)"
            for p in prompts
        )
        query = (
            f"SELECT ?rid ?prompt ?wr WHERE {{ VALUES (?g ?cho ?rid ?prompt) {{ {rows} }} GRAPH ?g {{ "
            f"?wr <{PROV}wasDerivedFrom> ?cho ; <{DCTERMS}description> ?prompt ; "
            f"<{PROV}wasAttributedTo> <{self.agent}> ; <{IPTC_SOURCE_TYPE}> <{TRAINED_ALGORITHMIC_MEDIA}> }} }}"
        )
        found: dict[tuple[str, str], str] = {}
        for row in self.context.store.select(query):
            image = local_path(text(row["wr"]))
            if image is not None and image.is_file():  # a deleted file is made again
                found.setdefault((text(row["rid"]), text(row["prompt"])), text(row["wr"]))
        return found
