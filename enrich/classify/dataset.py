"""Training data from the store: per facet, which records carry which concepts.

A record is an example for a facet when its data carries concepts of the facet's tree on the facet's
target property: in the record graph (the CHO and its proxies) or in its enrichment graph (approved and
auto-accepted suggestions), both read through :func:`read_record_views`. Labels are closed under
ancestors (a record with "oil paint" is also "paint"). A rejected suggestion is an explicit negative: the
concept (and everything below it) is known to be wrong for the record, which lets a record with no
positive concept of the facet still teach the head something (its other concepts stay unknown, masked).
How records are split is :mod:`enrich.classify.splits`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from enrich.enrichers.base import read_record_views
from enrich.namespaces import ENR, Graphs
from enrich.store.base import Store, text
from enrich.vocab.facets import Facet
from enrich.vocab.tree import LabelTree

_REJECTED_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Example:
    """One record's labels for one facet: ancestor-closed positives, and rejected concepts."""

    record_id: str
    group: str
    positives: frozenset[str]
    negatives: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LabelSpace:
    """The concepts one facet head scores, in tree order (every parent before its children).

    ``parents[i]`` is the column of the nearest ancestor of concept ``i`` that is itself a column (-1 for
    none): guide terms and concepts too rare to learn are skipped, the hierarchy between the rest is kept.
    """

    facet: str
    target: str
    concepts: tuple[str, ...]
    parents: tuple[int, ...]
    labels: tuple[str, ...]
    depths: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.concepts)

    @property
    def index(self) -> dict[str, int]:
        return {iri: i for i, iri in enumerate(self.concepts)}

    def targets(self, examples: Sequence[Example], tree: LabelTree | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(targets, mask) float32 matrices (examples x concepts). A record with positives is fully known
        (closed world); a record with only rejections knows only the rejected concepts and their subtrees."""
        index = self.index
        targets = np.zeros((len(examples), len(self)), dtype=np.float32)
        mask = np.zeros_like(targets)
        for row, example in enumerate(examples):
            for iri in example.positives:
                if iri in index:
                    targets[row, index[iri]] = 1.0
            if example.positives:
                mask[row] = 1.0
            for iri in example.negatives:
                for column in self._subtree_columns(iri, tree):
                    if targets[row, column] == 0.0:
                        mask[row, column] = 1.0
        return targets, mask

    def _subtree_columns(self, iri: str, tree: LabelTree | None) -> list[int]:
        index = self.index
        found = [index[iri]] if iri in index else []
        if tree is not None and iri in tree:
            found += [index[d] for d in tree.descendants(iri) if d in index]
        return found

    def as_json(self) -> dict[str, object]:
        return {
            "facet": self.facet,
            "target": self.target,
            "concepts": list(self.concepts),
            "parents": list(self.parents),
            "labels": list(self.labels),
            "depths": list(self.depths),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> LabelSpace:
        def items(key: str) -> list[object]:
            value = data[key]
            assert isinstance(value, list)
            return value

        return cls(
            facet=str(data["facet"]),
            target=str(data["target"]),
            concepts=tuple(str(c) for c in items("concepts")),
            parents=tuple(int(str(p)) for p in items("parents")),
            labels=tuple(str(label) for label in items("labels")),
            depths=tuple(int(str(d)) for d in items("depths")),
        )


def label_space(facet: Facet, tree: LabelTree, examples: Iterable[Example], min_support: int = 1) -> LabelSpace:
    """The selectable concepts with at least ``min_support`` positive examples, in depth-first tree order."""
    support: dict[str, int] = {}
    for example in examples:
        for iri in example.positives:
            support[iri] = support.get(iri, 0) + 1
    keep = {iri for iri, n in support.items() if n >= min_support and iri in tree and tree[iri].selectable}
    ordered = [iri for root in tree.roots for iri in (root, *tree.descendants(root)) if iri in keep]
    position = {iri: i for i, iri in enumerate(ordered)}
    parents = [next((position[a] for a in tree.ancestors(iri) if a in position), -1) for iri in ordered]
    depths: list[int] = []
    for parent in parents:
        depths.append(0 if parent < 0 else depths[parent] + 1)
    labels = tuple(tree[iri].label() for iri in ordered)
    return LabelSpace(facet.id, facet.target_property, tuple(ordered), tuple(parents), labels, tuple(depths))


# -- reading the store --------------------------------------------------------------------------------


def live_record_ids(store: Store, graphs: Graphs) -> list[str]:
    from enrich.jobs.selection import Selection

    return Selection.all().remaining(store, graphs, None)


def record_groups(store: Store, graphs: Graphs, record_ids: Sequence[str]) -> dict[str, str]:
    """Per record, the collection it comes from for the outer split: its data provider, else its provider,
    else its dataset (a record with none of them is its own group ``""``)."""
    nodes = [graphs.record_node(rid) for rid in record_ids]
    prefix = graphs.record_node("")
    groups: dict[str, str] = {}
    for predicate in ("dataset", "provider", "dataProvider"):  # later ones win
        for node, objects in store.objects_of(nodes, ENR + predicate, graphs.system).items():
            groups[node.removeprefix(prefix)] = min(text(o) for o in objects)
    return {rid: groups.get(rid, "") for rid in record_ids}


def rejected_concepts(store: Store, graphs: Graphs, facet_id: str) -> dict[str, set[str]]:
    """Per record, the concepts reviewers rejected for the facet."""
    from enrich.review import list_suggestions
    from enrich.suggestion import Status

    found: dict[str, set[str]] = {}
    offset = 0
    while True:
        page = list_suggestions(
            store, graphs, status=Status.REJECTED, facet=facet_id, limit=_REJECTED_PAGE, offset=offset
        )
        for row in page:
            if row.value_is_iri:
                found.setdefault(row.record_id, set()).add(row.value)
        if len(page) < _REJECTED_PAGE:
            return found
        offset += _REJECTED_PAGE


def read_examples(
    store: Store,
    graphs: Graphs,
    facets: Mapping[str, tuple[Facet, LabelTree]],
    record_ids: Sequence[str] | None = None,
) -> dict[str, list[Example]]:
    """Per facet id, the labelled examples among the live records (or ``record_ids``), in record id order."""
    ids = list(record_ids) if record_ids is not None else live_record_ids(store, graphs)
    groups = record_groups(store, graphs, ids)
    targets = {facet.target_property for facet, _ in facets.values()}
    views = {view.record_id: view for view in read_record_views(store, graphs, ids, targets)}
    out: dict[str, list[Example]] = {}
    for facet_id, (facet, tree) in facets.items():
        rejected = rejected_concepts(store, graphs, facet_id)
        examples = []
        for rid in ids:
            view = views.get(rid)
            present = view.present(facet.target_property) if view is not None else frozenset()
            positives = frozenset(tree.ancestor_closure(iri for iri in present if iri in tree))
            negatives = frozenset(iri for iri in rejected.get(rid, ()) if iri in tree and iri not in positives)
            if positives or negatives:
                examples.append(Example(rid, groups.get(rid, ""), positives, negatives))
        out[facet_id] = examples
    return out
