"""The ``enrich models list|show`` commands: arguments here, dispatch in :mod:`enrich.cli`.

Importing this module loads no model library; ``show --load`` loads the model (and says clearly why it cannot).
Handlers take ``(args, settings, store, graphs)`` like every command module; these use no store.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from enrich.command_support import Handler

if TYPE_CHECKING:
    from enrich.namespaces import Graphs
    from enrich.settings import Settings
    from enrich.store.base import Store


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = commands.add_parser("models", help="model cards: list the bundled ones, show one")
    actions = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="the bundled model cards: name, kind, source, dimension, hash")
    show = actions.add_parser("show", help="one card (bundled name or YAML path), its hash and cached vectors")
    show.add_argument("card", metavar="NAME|PATH")
    show.add_argument("--load", action="store_true", help="also load the model and report its dimension")
    show.add_argument("--json", action="store_true", help="as JSON")


def models_list(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from enrich.models.cards import bundled_specs, load_spec

    for name in bundled_specs():
        spec = load_spec(name)
        print(f"{spec.name}\t{spec.kind}\t{spec.source}\t{spec.dim or '-'}\t{spec.hash}")
    return 0


def models_show(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from enrich.embeddings import cache_for
    from enrich.models.cards import load_spec

    spec = load_spec(args.card)
    data = {**spec.as_json(), "hash": spec.hash, "cache": cache_for(settings).stats(spec.hash)}
    if args.load:
        from enrich.models.encoders import load_text_encoder

        data["loaded_dim"] = load_text_encoder(spec).dim
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    for key, value in data.items():
        shown = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict) else value
        print(f"{key}:\t{shown if shown is not None else '-'}")
    return 0


def models(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    return MODELS_ACTIONS[args.models_command](args, settings, store, graphs)


MODELS_ACTIONS: dict[str, Handler] = {"list": models_list, "show": models_show}
#: Top-level command name → handler, for enrich.cli's COMMANDS.
HANDLERS: dict[str, Handler] = {"models": models}
