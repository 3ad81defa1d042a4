"""The ``enrich vocab …`` actions (argument parsing lives in :mod:`enrich.cli`)."""

from __future__ import annotations

import argparse

from enrich.command_support import Handler
from enrich.ingest.errors import InputError
from enrich.namespaces import Graphs
from enrich.settings import Settings
from enrich.store.base import Store
from enrich.vocab import aat_json, loader
from enrich.vocab.facets import facet_roots, facet_tree, get_facet, load_facets
from enrich.vocab.skos import Vocabulary


def load(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    vocabulary: Vocabulary
    if args.getty_subtree:
        from enrich.vocab.getty import GETTY_ENDPOINT, fetch_subtree

        endpoint = args.endpoint or GETTY_ENDPOINT
        vocabulary = fetch_subtree(args.getty_subtree, endpoint, max_concepts=args.max_concepts)
        source = f"{endpoint} subtree {args.getty_subtree}"
    elif args.bundled:
        path = loader.bundled_vocabulary(args.bundled)
        vocabulary, source = loader.read_file(path), f"bundled:{args.bundled}"
        args.name = args.name or args.bundled
    elif args.hierarchy_json:
        try:
            vocabulary = aat_json.load_json(args.file)
        except (aat_json.HierarchyFormatError, OSError) as exc:
            raise InputError(str(args.file), str(exc)) from exc
        source = str(args.file)
    else:
        vocabulary = loader.read_file(args.file, args.format, settings.max_input_bytes)
        source = str(args.file)
    name = args.name or loader.default_name(vocabulary)
    print(loader.load(store, graphs, vocabulary, name, source, replace=args.replace).summary())
    return 0


def list_(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    found = loader.list_vocabularies(store, graphs)
    if not found:
        print("no vocabularies loaded (try: enrich vocab load --bundled aat-starter)")
    for info in found:
        state = f"from {info.source}\tloaded {info.loaded}" if info.source else "INCOMPLETE (a load was cut off)"
        print(f"{info.name}\t{info.concepts} concepts\t<{info.scheme}>\t{state}")
    return 0


def tree(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    facet = get_facet(load_facets(), args.facet)
    trees = loader.read_trees(store, graphs)
    forest = facet_tree(facet, trees)
    if not forest.nodes:
        loaded = ", ".join(trees) or "none"
        raise InputError(
            args.facet,
            f"no root of this facet is in the loaded vocabularies ({loaded}); "
            f"roots: {', '.join(facet.roots + facet.root_labels)}",
        )
    languages = (args.lang,) if args.lang else facet.languages
    print(f"{facet.label()} → <{facet.target_property}>: {len(forest)} concepts")
    print(forest.render(max_depth=args.depth, languages=languages))
    return 0


def find(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    trees = loader.read_trees(store, graphs)
    if args.facet:
        facet = get_facet(load_facets(), args.facet)
        trees = {name: t.subtree(facet_roots(facet, t)) for name, t in trees.items()}
    hits = 0
    for name, label_tree in sorted(trees.items()):
        for candidate in label_tree.find(args.label):
            hits += 1
            language = f"@{candidate.language}" if candidate.language else ""
            print(
                f"{name}\t<{candidate.concept}>\t{candidate.label}{language} ({candidate.label_kind}, "
                f"{candidate.match})\t{label_tree.format_path(candidate.concept, (args.lang,))}"
            )
    if not hits:
        print(f"no concept matches {args.label!r}")
        return 6
    return 0


ACTIONS: dict[str, Handler] = {
    "load": load,
    "list": list_,
    "tree": tree,
    "find": find,
}
