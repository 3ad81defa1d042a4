"""The ``enrich similar`` command: arguments here, dispatch in :mod:`enrich.cli`.

Importing this module loads no model or numeric library (``enrich --help`` stays fast); the handler imports
what it uses. Handlers take ``(args, settings, store, graphs)`` and return an exit code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from enrich.command_support import Handler, add_store_argument

if TYPE_CHECKING:
    from enrich.namespaces import Graphs
    from enrich.settings import Settings
    from enrich.store.base import Store


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    similar = commands.add_parser(
        "similar",
        help="records similar to a record, an image or a text (vector search over the embed enricher's vectors)",
        description="Find the records nearest to a record (its stored vector), an image file or a text, under one "
        "model card. The card's index is built from the embedding cache on first use and rebuilt when the cache "
        "gained vectors; run the embed enricher first (enrich run --enrichers embed).",
    )
    query = similar.add_mutually_exclusive_group()
    query.add_argument("record", nargs="?", metavar="RECORD", help="a record id or ProvidedCHO IRI")
    query.add_argument("--image", type=Path, metavar="FILE", help="an image file")
    query.add_argument("--text", metavar="TEXT", help="a text (with a CLIP card, text finds images)")
    query.add_argument("--build", action="store_true", help="(re)build the card's index now and say what it holds")
    similar.add_argument("--card", metavar="NAME|PATH", help="model card (default: the CLIP card with vectors)")
    similar.add_argument(
        "--modality",
        choices=("image", "text"),
        help="which vectors to search (default: image for a CLIP card, text for a text encoder)",
    )
    similar.add_argument("--k", type=int, default=10, help="how many records (default 10)")
    similar.add_argument("--provider", help="only records of this provider (name or IRI)")
    similar.add_argument("--dataset", help="only records of this dataset")
    similar.add_argument("--facet", help="with --concept: only records carrying the concept on this facet")
    similar.add_argument("--concept", metavar="IRI", help="a concept of --facet (narrower concepts count too)")
    similar.add_argument("--exact", action="store_true", help="exact search even where the index has a graph")
    similar.add_argument("--json", action="store_true", help="print the result as JSON")
    add_store_argument(similar)


def similar(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from enrich.ingest.errors import InputError
    from enrich.similarity.filters import Filters
    from enrich.similarity.search import SimilarQuery, check_modality, find_similar, open_index, resolve_card

    if args.build:
        spec = resolve_card(settings, args.card, allow_paths=True)
        modality = check_modality(spec, args.modality)
        index = open_index(settings, spec, modality, rebuild=True)
        graph = "with an HNSW graph" if index.ann is not None else "exact search only"
        print(f"{spec.name} ({spec.hash}) {modality}: {len(index):,} records indexed, {graph}")
        return 0
    if args.image is not None:
        try:
            data = args.image.read_bytes()
        except OSError as exc:
            raise InputError(str(args.image), f"cannot read the image: {exc.strerror or exc}") from None
        query = SimilarQuery(image=data)
    elif args.text is not None:
        query = SimilarQuery(text=args.text)
    elif args.record is not None:
        query = SimilarQuery(record=args.record)
    else:
        raise InputError("similar", "give a RECORD, --image FILE, --text TEXT or --build")
    filters = Filters(args.provider, args.dataset, args.facet, args.concept)
    result = find_similar(
        store, graphs, settings, query, args.k, args.card, args.modality, filters, args.exact, allow_paths=True
    )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        return 0
    print(
        f"{result.query}: {len(result.hits)} of {result.indexed:,} {result.modality} vectors ({result.card}; "
        f"filters: {filters.describe()})"
    )
    for hit in result.hits:
        print(f"{hit.score:.4f}\t{hit.record_id}\t{hit.cho}\t{hit.title or '-'}")
    return 0


#: Top-level command name → handler, for enrich.cli's COMMANDS.
HANDLERS: dict[str, Handler] = {"similar": similar}
