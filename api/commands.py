"""The ``enrich serve`` command: the FastAPI application (SPARQL, OAI-PMH, …) under uvicorn.

``add_commands`` adds the parser; ``HANDLERS`` maps the command to its handler, called with
``(args, settings, store, graphs)`` like :mod:`enrich.jobs.commands`. Only argparse is imported at the top,
so ``enrich --help`` stays fast.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from enrich.command_support import Handler, add_store_argument

if TYPE_CHECKING:
    from enrich.namespaces import Graphs
    from enrich.settings import Settings
    from enrich.store.base import Store


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="serve SPARQL, REST and OAI-PMH over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    add_store_argument(serve)


def serve(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    import uvicorn

    from api.app import create_app

    app = create_app(settings, store)
    base = f"http://{args.host}:{args.port}"
    print(f"SPARQL: {base}/sparql\nOAI-PMH: {base}/oai\nhealth: {base}/health", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


#: Top-level command name → handler, for enrich.cli's COMMANDS.
HANDLERS: dict[str, Handler] = {"serve": serve}
