"""REST: ``/vocab`` — the facets, their label trees (optionally with one record's suggestions on the
nodes: the EUFCC "annotation assistant" view) and a label search for reviewers' corrections.

Trees are built from the store's vocabulary graphs, which takes seconds on a full thesaurus (``read_trees``
≈ 1.8 s for 23k concepts), so they are cached per application (:class:`VocabularyCache` on
``app.state.vocab_cache``) and rebuilt when the loaded vocabularies change. Routes are plain ``def``: FastAPI
runs them in its thread pool, off the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request

from api.auth import require_role
from enrich.ingest.registry import lookup
from enrich.namespaces import Graphs
from enrich.records_admin import resolve_record_id
from enrich.review import SuggestionRow, list_suggestions
from enrich.store.base import Store
from enrich.vocab.facets import Facet, facet_tree, load_facets
from enrich.vocab.labels import LabelIndex
from enrich.vocab.loader import list_vocabularies, read_trees
from enrich.vocab.tree import LabelTree, Node

router = APIRouter(prefix="/vocab", tags=["vocab"], dependencies=[Depends(require_role("reader"))])

#: A BCP 47 language tag, loosely (``en``, ``ko-Hani``, ``zh-Latn-pinyin``).
LANGUAGE_TAG = r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$"
#: More suggestions than one record ever has in one facet; the tree view shows them all.
_MAX_RECORD_SUGGESTIONS = 10_000

Lang = Annotated[
    str | None, Query(pattern=LANGUAGE_TAG, description="label language (falls back to English, then any)")
]


# -- the cache ------------------------------------------------------------------------------------------
@dataclass
class LoadedVocabularies:
    """The store's vocabularies as trees, for one snapshot; facet trees and label indexes are built on
    first use (under the cache's lock, so two requests never build the same one)."""

    snapshot: tuple[tuple[Any, ...], ...]
    trees: dict[str, LabelTree]
    facets: dict[str, Facet]
    _facet_trees: dict[str, LabelTree] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def facet_tree(self, facet_id: str) -> LabelTree:
        with self._lock:
            tree = self._facet_trees.get(facet_id)
            if tree is None:
                tree = self._facet_trees[facet_id] = facet_tree(self.facets[facet_id], self.trees)
            return tree

    def index(self, tree: LabelTree) -> LabelIndex:
        # LabelTree.index is a cached_property; building it under the lock keeps it built once.
        with self._lock:
            return tree.index


class VocabularyCache:
    """Trees keyed by a snapshot of the loaded vocabularies (name, load time, concept count), so a
    vocabulary loaded, replaced or dropped is picked up by the next request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: LoadedVocabularies | None = None

    def get(self, store: Store, graphs: Graphs) -> LoadedVocabularies:
        # One small query per request; the snapshot is read before the trees, so cached trees are never
        # older than their key (at worst a change in between costs one more rebuild).
        snapshot = tuple(astuple(info) for info in list_vocabularies(store, graphs))
        with self._lock:
            if self._current is None or self._current.snapshot != snapshot:
                self._current = LoadedVocabularies(snapshot, read_trees(store, graphs), load_facets())
            return self._current


_CACHE_GUARD = threading.Lock()


def vocabularies(app: FastAPI) -> LoadedVocabularies:
    """The current trees of ``app``'s store (the cache is made on first use)."""
    with _CACHE_GUARD:
        cache: VocabularyCache | None = getattr(app.state, "vocab_cache", None)
        if cache is None:
            cache = app.state.vocab_cache = VocabularyCache()
    return cache.get(app.state.store, app.state.graphs)


def _facet(loaded: LoadedVocabularies, facet_id: str) -> Facet:
    facet = loaded.facets.get(facet_id)
    if facet is None:
        raise HTTPException(404, f"unknown facet {facet_id!r} (known: {', '.join(sorted(loaded.facets))})")
    return facet


def _languages(facet: Facet | None, lang: str | None) -> tuple[str, ...]:
    """The asked language (``Node.label`` then falls back to English, then any); else the facet's order."""
    if lang is not None:
        return (lang,)
    return facet.languages if facet is not None else ("en",)


# -- /vocab/facets --------------------------------------------------------------------------------------
@router.get("/facets", summary="the facets, with the number of concepts each has in the loaded vocabularies")
def list_facets(request: Request, lang: Lang = None) -> dict[str, Any]:
    loaded = vocabularies(request.app)
    found = []
    for facet_id, facet in sorted(loaded.facets.items()):
        tree = loaded.facet_tree(facet_id)
        found.append(
            {
                "id": facet_id,
                "iri": facet.iri,
                "label": facet.label(lang or "en"),
                "labels": dict(facet.labels),
                "target_property": facet.target_property,
                "languages": list(facet.languages),
                "concepts": len(tree),
                "selectable": sum(1 for node in tree.nodes.values() if node.selectable),
            }
        )
    return {"vocabularies": sorted(loaded.trees), "facets": found}


# -- /vocab/facets/{facet}/tree -------------------------------------------------------------------------
@dataclass
class _Scores:
    """One record's suggestions in one facet, by concept."""

    record_id: str
    by_concept: dict[str, list[SuggestionRow]]
    unplaced: list[SuggestionRow]
    ranked: list[str]  # concepts in the tree, best score first


def _best(rows: Sequence[SuggestionRow]) -> float | None:
    values = [row.confidence for row in rows if row.confidence is not None]
    return max(values) if values else None


def _record_scores(store: Store, graphs: Graphs, reference: str, facet_id: str, tree: LabelTree) -> _Scores:
    record_id = resolve_record_id(reference)
    if record_id not in lookup(store, graphs, [record_id]):
        raise HTTPException(404, f"no record {reference!r}")
    rows = list_suggestions(store, graphs, facet=facet_id, record=record_id, limit=_MAX_RECORD_SUGGESTIONS)
    by_concept: dict[str, list[SuggestionRow]] = {}
    unplaced = []
    for row in rows:
        if row.value_is_iri and row.value in tree:
            by_concept.setdefault(row.value, []).append(row)
        else:
            unplaced.append(row)  # a literal, or a concept no longer in the facet's vocabulary
    ranked = sorted(by_concept, key=lambda concept: (-(_best(by_concept[concept]) or 0.0), concept))
    return _Scores(record_id, by_concept, unplaced, ranked)


def _suggestion_json(row: SuggestionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "value": row.value,
        "status": str(row.status),
        "confidence": row.confidence,
        "enrichers": list(row.enrichers),
    }


@dataclass
class _TreeView:
    tree: LabelTree
    languages: tuple[str, ...]
    all_labels: bool
    max_depth: int | None
    keep: set[str] | None = None  # pruning: only these concepts are shown
    scores: _Scores | None = None
    top: dict[str, int] = field(default_factory=dict)  # concept → rank among the top-k
    nodes: int = 0

    def node_json(self, node: Node) -> dict[str, Any]:
        data: dict[str, Any] = {"iri": node.iri, "label": node.label(self.languages)}
        if self.all_labels:
            data["labels"] = dict(node.pref_labels)
        data.update(depth=node.depth, guide=not node.selectable, notation=node.notation)
        data["child_count"] = len(node.children)
        if self.scores is not None:
            rows = self.scores.by_concept.get(node.iri, [])
            data["score"] = _best(rows)
            data["top"] = self.top.get(node.iri)
            data["suggestions"] = [_suggestion_json(row) for row in rows]
        data["children"] = []
        self.nodes += 1
        return data

    def render(self, starts: Sequence[str]) -> list[dict[str, Any]]:
        """Nested nodes below ``starts`` (iteratively: bad data can make a deep chain)."""
        out: list[dict[str, Any]] = []
        stack: list[tuple[str, int, list[dict[str, Any]]]] = [(iri, 0, out) for iri in reversed(starts)]
        while stack:
            iri, level, siblings = stack.pop()
            node = self.tree[iri]
            data = self.node_json(node)
            siblings.append(data)
            if self.max_depth is not None and level >= self.max_depth:
                continue
            children = [c for c in node.children if self.keep is None or c in self.keep]
            stack.extend((child, level + 1, data["children"]) for child in reversed(children))
        return out


@router.get(
    "/facets/{facet}/tree",
    summary="a facet's label tree, optionally with one record's suggestions and scores on the nodes",
)
def facet_tree_view(
    request: Request,
    facet: str,
    lang: Lang = None,
    root: Annotated[str | None, Query(description="start at this concept IRI instead of the facet's roots")] = None,
    depth: Annotated[int | None, Query(ge=0, description="levels below the start to include")] = None,
    record: Annotated[str | None, Query(description="record id or CHO IRI whose suggestions to attach")] = None,
    top: Annotated[int | None, Query(ge=1, le=1000, description="mark the k best-scored concepts")] = None,
    pruned: Annotated[bool, Query(description="only the branches holding the (top-k) suggested concepts")] = False,
) -> dict[str, Any]:
    if (top is not None or pruned) and record is None:
        raise HTTPException(422, "top and pruned rank a record's suggestions: give record=ID as well")
    state = request.app.state
    loaded = vocabularies(request.app)
    chosen = _facet(loaded, facet)
    tree = loaded.facet_tree(facet)
    if root is not None and root not in tree:
        raise HTTPException(422, f"root: <{root}> is not a concept of facet {facet!r}")
    view = _TreeView(tree, _languages(chosen, lang), lang is None, depth)
    answer: dict[str, Any] = {"facet": facet, "label": chosen.label(lang or "en"), "concepts": len(tree)}
    if record is not None:
        scores = _record_scores(state.store, state.graphs, record, facet, tree)
        marked = scores.ranked[:top] if top is not None else scores.ranked
        view.scores = scores
        view.top = {concept: rank for rank, concept in enumerate(marked, 1)} if top is not None else {}
        if pruned:
            view.keep = tree.ancestor_closure(marked)
        answer["record"] = scores.record_id
        answer["suggestions"] = sum(len(rows) for rows in scores.by_concept.values()) + len(scores.unplaced)
        answer["ranked"] = [
            {"iri": concept, "label": tree[concept].label(view.languages), "score": _best(scores.by_concept[concept])}
            for concept in marked
        ]
        answer["unplaced"] = [_suggestion_json(row) for row in scores.unplaced]
    starts = [root] if root is not None else tree.roots
    if view.keep is not None and root is None:
        starts = [iri for iri in starts if iri in view.keep]
    answer["roots"] = view.render(starts)
    answer["nodes"] = view.nodes
    return answer


# -- /vocab/search --------------------------------------------------------------------------------------
@router.get("/search", summary="concepts by label, in any language (case, accents and plurals folded)")
def search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=500, description="a label, as written in any language")],
    facet: Annotated[str | None, Query(description="only concepts of this facet")] = None,
    lang: Lang = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    loaded = vocabularies(request.app)
    if facet is not None and facet not in loaded.facets:
        raise HTTPException(422, f"facet: unknown facet {facet!r} (known: {', '.join(sorted(loaded.facets))})")
    chosen = loaded.facets[facet] if facet is not None else None
    scopes: Mapping[str, LabelTree] = (
        {facet: loaded.facet_tree(facet)} if facet is not None else loaded.trees  # vocabulary name → tree
    )
    languages = _languages(chosen, lang)

    def facets_of(concept: str) -> list[str]:
        return [facet_id for facet_id in sorted(loaded.facets) if concept in loaded.facet_tree(facet_id)]

    results = []
    for scope, tree in sorted(scopes.items()):
        for candidate in loaded.index(tree).lookup(q):
            path = tree.path(candidate.concept)
            results.append(
                (
                    candidate.rank,
                    candidate.concept,
                    {
                        "iri": candidate.concept,
                        "label": tree[candidate.concept].label(languages),
                        "matched": {
                            "label": candidate.label,
                            "language": candidate.language,
                            "label_kind": candidate.label_kind,
                            "match": candidate.match,
                        },
                        "path": [{"iri": step, "label": tree[step].label(languages)} for step in path],
                        "vocabulary" if facet is None else "facet": scope,
                        "facets": facets_of(candidate.concept) if facet is None else [facet],
                    },
                )
            )
    results.sort(key=lambda item: (item[0], item[1]))
    return {"q": q, "facet": facet, "count": len(results), "results": [item[2] for item in results[:limit]]}
