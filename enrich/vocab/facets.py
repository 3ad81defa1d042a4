"""Facets as data (``mappings/facets.ttl``) and their label trees drawn from the loaded vocabularies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from pyoxigraph import Literal, NamedNode, RdfFormat

from enrich.ingest.errors import InputError
from enrich.namespaces import ENR, RDF_TYPE, RDFS, Graphs
from enrich.resources import data_dir
from enrich.store.base import Store
from enrich.vocab.labels import LabelIndex, fold
from enrich.vocab.tree import LabelTree, Node


@dataclass(frozen=True)
class Facet:
    id: str
    iri: str
    labels: Mapping[str, str]
    target_property: str
    roots: tuple[str, ...] = ()
    root_labels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)

    def label(self, language: str = "en") -> str:
        return self.labels.get(language) or self.labels.get("en") or self.id


class UnknownFacet(InputError):
    def __init__(self, facet_id: str, known: Iterable[str]) -> None:
        super().__init__(facet_id, f"unknown facet (known: {', '.join(sorted(known))})")


def facets_file() -> Path:
    return data_dir("mappings") / "facets.ttl"


def load_facets(path: Path | None = None) -> dict[str, Facet]:
    """The facets declared in a Turtle file (default: the bundled ``mappings/facets.ttl``), by id."""
    source = path or facets_file()
    try:
        triples = list(pyoxigraph.parse(path=str(source), format=RdfFormat.TURTLE))
    except (SyntaxError, OSError) as exc:
        raise InputError(str(source), f"cannot read the facets: {exc}") from exc
    by_subject: dict[str, dict[str, list[NamedNode | Literal]]] = {}
    facets_iris = []
    for triple in triples:
        if not isinstance(triple.subject, NamedNode) or not isinstance(triple.object, NamedNode | Literal):
            continue
        facts = by_subject.setdefault(triple.subject.value, {})
        facts.setdefault(triple.predicate.value, []).append(triple.object)
        if triple.predicate.value == RDF_TYPE and triple.object.value == ENR + "Facet":
            facets_iris.append(triple.subject.value)
    facets: dict[str, Facet] = {}
    for iri in facets_iris:
        facts = by_subject[iri]

        def single(predicate: str, facts: dict[str, list[NamedNode | Literal]] = facts, iri: str = iri) -> str:
            values = facts.get(ENR + predicate, [])
            if len(values) != 1:
                raise InputError(str(source), f"facet <{iri}> needs exactly one enr:{predicate}")
            return values[0].value

        facet_id = single("facetId")
        if facet_id in facets:
            raise InputError(str(source), f"facet id {facet_id!r} is declared twice")
        languages = tuple(single("labelLanguages").split()) if ENR + "labelLanguages" in facts else ("en",)
        labels = {(v.language or "en"): v.value for v in facts.get(RDFS + "label", []) if isinstance(v, Literal)}
        facets[facet_id] = Facet(
            id=facet_id,
            iri=iri,
            labels=labels,
            target_property=single("targetProperty"),
            roots=tuple(sorted(v.value for v in facts.get(ENR + "root", []))),
            root_labels=tuple(sorted(v.value for v in facts.get(ENR + "rootLabel", []))),
            languages=languages,
        )
    return facets


def get_facet(facets: Mapping[str, Facet], facet_id: str) -> Facet:
    try:
        return facets[facet_id]
    except KeyError:
        raise UnknownFacet(facet_id, facets) from None


def facet_roots(facet: Facet, tree: LabelTree) -> list[str]:
    """The facet's roots present in one vocabulary tree: named IRIs, and nodes whose preferred label is
    one of the root labels."""
    roots = [iri for iri in facet.roots if iri in tree]
    if facet.root_labels:
        wanted = {fold(label) for label in facet.root_labels}
        roots += [
            iri
            for iri, node in tree.nodes.items()
            if iri not in roots and any(fold(label) in wanted for label in node.pref_labels.values())
        ]
    return sorted(roots)


def facet_tree(facet: Facet, trees: Mapping[str, LabelTree]) -> LabelTree:
    """The facet's tree over every loaded vocabulary (a forest when several vocabularies hold roots)."""
    nodes: dict[str, Node] = {}
    for tree in trees.values():
        roots = facet_roots(facet, tree)
        if roots:
            for iri, node in tree.subtree(roots).nodes.items():
                nodes.setdefault(iri, node)
    return LabelTree(nodes)


def facet_indexes(store: Store, graphs: Graphs, facet_ids: Iterable[str]) -> dict[str, LabelIndex]:
    """Label indexes of the given facets over the vocabularies loaded in the store."""
    wanted = sorted(set(facet_ids))
    if not wanted:
        return {}
    from enrich.vocab.loader import bundled_names, read_trees

    facets = load_facets()
    trees = read_trees(store, graphs)
    indexes: dict[str, LabelIndex] = {}
    for facet_id in wanted:
        tree = facet_tree(get_facet(facets, facet_id), trees)
        if not any(node.selectable for node in tree.nodes.values()):
            raise InputError(
                facet_id,
                "no concept of this facet is in the store's vocabularies; load one first, e.g. "
                f"`enrich vocab load --bundled NAME` (bundled: {', '.join(bundled_names())})",
            )
        indexes[facet_id] = tree.index
    return indexes
