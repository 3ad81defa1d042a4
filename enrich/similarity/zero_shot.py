"""Zero-shot facet scores: a record's CLIP vector against text prompts made from each concept's labels.

Prompts. Each selectable concept of a facet gets prompts from its preferred labels in the wanted languages
(default: the facet's label languages) and the templates of :data:`TEMPLATES_FILE` for that facet and
language ("an object made of {label}" for materials, "a photo of a {label}" for object types, …). The card's
text tower embeds every prompt; a concept's vector is the normalised mean of its prompts (CLIP's prompt
ensembling, here over languages too). Prompt vectors go through the embedding cache (keyed by card and prompt
text), and a process keeps each facet's prompt set, so a vocabulary is embedded once per card.

Scores. ``scale · cosine`` between the record's vector and each concept vector, turned into a softmax over the
facet's concepts (default: which concept is it?) or a sigmoid with a bias (independent yes/no per concept).

Hierarchy. A concept's score never exceeds its ancestors': each node takes the maximum of its own score and
its descendants' (applied upward, deepest level first). An ancestor then means "this concept or a narrower
one", and guide terms (no prompts of their own) score their best descendant. The enricher suggests only the
concepts whose score is their own, not one inherited from below: the most specific evidence, never a chain of
broader concepts repeating it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from enrich.ingest.errors import InputError
from enrich.vocab.tree import LabelTree

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from enrich.embeddings.cache import EmbeddingCache
    from enrich.models.encoders import TextEncoder

TEMPLATES_FILE = Path(__file__).resolve().parent / "prompts.yaml"
LABEL = "{label}"
Activation = Literal["softmax", "sigmoid"]
#: Templates: facet id (or "default") → language → templates.
Templates = Mapping[str, Mapping[str, Sequence[str]]]


# -- templates and prompts -------------------------------------------------------------------------------


def _check_templates(data: Any, source: str) -> dict[str, dict[str, tuple[str, ...]]]:
    if not isinstance(data, Mapping) or not isinstance(data.get("facets", {}), Mapping):
        raise InputError(source, "expected `default:` and `facets:` mappings of language → list of templates")
    sections = {"default": data.get("default") or {}, **dict(data.get("facets") or {})}
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for section, languages in sections.items():
        if not isinstance(languages, Mapping):
            raise InputError(source, f"{section}: expected a mapping of language → list of templates")
        for language, templates in languages.items():
            if not isinstance(templates, list) or not all(isinstance(t, str) for t in templates):
                raise InputError(source, f"{section}.{language}: expected a list of template strings")
            for template in templates:
                if template.count(LABEL) != 1:
                    raise InputError(source, f"{section}.{language}: {template!r} must hold {LABEL} exactly once")
            out.setdefault(str(section), {})[str(language).lower()] = tuple(templates)
    return out


@cache
def load_templates(path: Path = TEMPLATES_FILE) -> dict[str, dict[str, tuple[str, ...]]]:
    """Templates from a YAML file (default: the bundled ``prompts.yaml``), checked."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(str(path), f"cannot read the prompt templates: {exc}") from None
    return _check_templates(data, str(path))


def templates_for(templates: Templates, facet_id: str, language: str) -> tuple[str, ...]:
    """The facet's templates for a language, else the default ones for it, else the bare label."""
    primary = language.lower().split("-")[0]
    for section in (facet_id, "default"):
        found = templates.get(section, {}).get(primary)
        if found:
            return tuple(found)
    return (LABEL,)


@dataclass(frozen=True, slots=True)
class Prompt:
    concept: str
    language: str
    text: str


def concept_prompts(
    tree: LabelTree, facet_id: str, languages: Sequence[str], templates: Templates
) -> dict[str, list[Prompt]]:
    """Prompts of every selectable concept that has a preferred label in a wanted language (tree order)."""
    wanted = {language.lower().split("-")[0] for language in languages}
    out: dict[str, list[Prompt]] = {}
    for iri in _tree_order(tree):
        node = tree.nodes[iri]
        if not node.selectable:
            continue
        prompts: dict[str, Prompt] = {}
        for language, label in sorted(node.pref_labels.items()):
            tag = language or "en"  # an untagged label is taken for English (the AAT's default)
            if tag.lower().split("-")[0] not in wanted or not label.strip():
                continue
            for template in templates_for(templates, facet_id, tag):
                text = template.replace(LABEL, label.strip())
                prompts.setdefault(text, Prompt(iri, tag, text))
        if prompts:
            out[iri] = list(prompts.values())
    return out


def _tree_order(tree: LabelTree) -> list[str]:
    """Every node, roots first and depth first (a stable order for matrices)."""
    order: list[str] = []
    for root in tree.roots:
        order.append(root)
        order.extend(tree.descendants(root))
    return order


# -- prompt sets -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptSet:
    """A facet's prompts embedded by one card: ``concepts[i]`` has ``concept_vectors[i]`` (unit rows) and the
    prompts whose ``owners`` entry is ``i``."""

    card_hash: str
    concepts: list[str]
    prompts: list[Prompt]
    owners: npt.NDArray[np.int64]
    prompt_vectors: npt.NDArray[np.float32]
    concept_vectors: npt.NDArray[np.float32]

    def best_prompt(self, concept_row: int, vector: npt.NDArray[np.float32]) -> tuple[Prompt, float]:
        """The concept's prompt closest to a record vector, with its cosine (for evidence)."""
        import numpy as np

        rows = np.flatnonzero(self.owners == concept_row)
        cosines = self.prompt_vectors[rows] @ vector
        best = int(np.argmax(cosines))
        return self.prompts[int(rows[best])], float(cosines[best])


_SETS: dict[tuple[str, str], PromptSet] = {}
_SETS_LOCK = threading.Lock()


def prompt_set(
    encoder: TextEncoder,
    tree: LabelTree,
    facet_id: str,
    languages: Sequence[str] = ("en",),
    templates: Templates | None = None,
    cache: EmbeddingCache | None = None,
) -> PromptSet:
    """The facet's concepts with their prompt vectors; prompts are embedded once per (card, prompt text)."""
    import numpy as np

    from enrich.embeddings.cache import content_hash

    by_concept = concept_prompts(tree, facet_id, languages, templates or load_templates())
    if not by_concept:
        raise InputError(facet_id, f"no concept of the facet has a preferred label in {', '.join(languages)}")
    spec_hash = encoder.spec.hash
    prompts = [prompt for group in by_concept.values() for prompt in group]
    # The vocabulary snapshot, facet and templates all show in the prompts themselves.
    key = hashlib.sha256(json.dumps([(p.concept, p.text) for p in prompts]).encode("utf-8")).hexdigest()
    with _SETS_LOCK:
        held = _SETS.get((spec_hash, key))
        if held is not None:
            return held
        texts = list(dict.fromkeys(prompt.text for prompt in prompts))
        hashes = {text: content_hash(text) for text in texts}
        known = cache.get_many(spec_hash, list(hashes.values())) if cache is not None else {}
        missing = [text for text in texts if hashes[text] not in known]
        if missing:
            computed = encoder.encode_texts(missing)
            if cache is not None:
                cache.put_many(spec_hash, [hashes[text] for text in missing], computed)
                # Read back as stored (float16), so the scores are the same whether this process or another
                # (an earlier run, a Ray worker beside it) embedded the prompts.
                known.update(cache.get_many(spec_hash, [hashes[text] for text in missing]))
            else:
                known.update({hashes[text]: computed[i] for i, text in enumerate(missing)})
        concepts = list(by_concept)
        row_of = {iri: row for row, iri in enumerate(concepts)}
        owners = np.array([row_of[prompt.concept] for prompt in prompts], dtype=np.int64)
        vectors = np.stack([known[hashes[prompt.text]] for prompt in prompts]).astype(np.float32)
        means = np.zeros((len(concepts), vectors.shape[1]), dtype=np.float32)
        np.add.at(means, owners, vectors)
        means /= np.linalg.norm(means, axis=1, keepdims=True)
        made = PromptSet(spec_hash, concepts, prompts, owners, vectors, means)
        _SETS[(spec_hash, key)] = made
        return made


def forget_prompt_sets() -> None:
    """Drop the prompt sets this process holds (tests; a process whose vocabularies changed)."""
    with _SETS_LOCK:
        _SETS.clear()


# -- scores ----------------------------------------------------------------------------------------------


def raw_scores(
    vectors: npt.ArrayLike,
    prompts: PromptSet,
    activation: Activation = "softmax",
    scale: float = 100.0,
    bias: float = 0.0,
) -> npt.NDArray[np.float32]:
    """(records, concepts of the prompt set): softmax over the facet or sigmoid, of ``scale · cosine + bias``."""
    import numpy as np

    rows = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    logits = scale * (rows @ prompts.concept_vectors.T) + bias
    if activation == "softmax":
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)
    if activation == "sigmoid":
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float32)
    raise InputError("activation", f"must be softmax or sigmoid, not {activation!r}")


def consistent(
    tree: LabelTree, concepts: Sequence[str], scores: npt.NDArray[np.float32]
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """Scores over every node of the tree (tree order), each node at least as high as any descendant.

    ``scores`` holds a column per entry of ``concepts``; nodes without one start at 0.
    """
    import numpy as np

    nodes = _tree_order(tree)
    column = {iri: i for i, iri in enumerate(nodes)}
    out = np.zeros((len(nodes), scores.shape[0]), dtype=np.float32)  # node-major: one row per node
    for i, iri in enumerate(concepts):
        out[column[iri]] = scores[:, i]
    by_depth: dict[int, tuple[list[int], list[int]]] = {}
    for iri in nodes:
        parent = tree.nodes[iri].parent
        if parent is not None:
            children, parents = by_depth.setdefault(tree.nodes[iri].depth, ([], []))
            children.append(column[iri])
            parents.append(column[parent])
    for depth in sorted(by_depth, reverse=True):  # deepest first: a max climbs all the way up
        children, parents = by_depth[depth]
        np.maximum.at(out, np.array(parents), out[np.array(children)])
    return nodes, np.ascontiguousarray(out.T)


def zero_shot_matrix(
    encoder: TextEncoder,
    tree: LabelTree,
    vectors: npt.ArrayLike,
    facet_id: str,
    languages: Sequence[str] = ("en",),
    templates: Templates | None = None,
    activation: Activation = "softmax",
    scale: float = 100.0,
    bias: float = 0.0,
    cache: EmbeddingCache | None = None,
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """Zero-shot scores as a feature: (concept IRIs of the facet tree, (records, concepts) matrix), hierarchy
    consistent. ``vectors`` are the records' unit vectors under the encoder's card (image or text)."""
    prompts = prompt_set(encoder, tree, facet_id, languages, templates, cache)
    return consistent(tree, prompts.concepts, raw_scores(vectors, prompts, activation, scale, bias))


def zero_shot_scores(
    encoder: TextEncoder,
    tree: LabelTree,
    vectors: Mapping[str, npt.ArrayLike],
    facet_id: str,
    **options: Any,
) -> dict[str, dict[str, float]]:
    """Per record id, concept IRI → score (every node of the facet tree; see :func:`zero_shot_matrix`)."""
    import numpy as np

    if not vectors:
        return {}
    ids = list(vectors)
    matrix = np.stack([np.asarray(vectors[rid], dtype=np.float32) for rid in ids])
    concepts, scores = zero_shot_matrix(encoder, tree, matrix, facet_id, **options)
    return {rid: dict(zip(concepts, map(float, scores[i]), strict=True)) for i, rid in enumerate(ids)}
