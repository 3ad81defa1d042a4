"""The ``enrich serve`` command and the serving end of ``enrich demo``: the FastAPI application under uvicorn.

``add_commands`` adds the parser; ``HANDLERS`` maps the command to its handler, called with
``(args, settings, store, graphs)`` like :mod:`enrich.jobs.commands`. Only argparse is imported at the top,
so ``enrich --help`` stays fast.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING

from enrich.command_support import Handler, add_store_argument

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from enrich.namespaces import Graphs
    from enrich.settings import Settings
    from enrich.store.base import Store

START_TIMEOUT_S = 30.0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="serve SPARQL, REST and OAI-PMH over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    add_store_argument(serve)


def _endpoints(base: str) -> str:
    return "\n".join(
        (
            f"SPARQL:   {base}/sparql",
            f"REST:     {base}/records  {base}/suggestions  {base}/vocab/facets  {base}/runs",
            f"OAI-PMH:  {base}/oai?verb=Identify  ({base}/oai?verb=ListRecords&metadataPrefix=edm)",
            f"Review:   {base}/ui/  (sign in with a reviewer token)   dashboard: {base}/ui/dashboard",
            f"API docs: {base}/docs   metrics: {base}/metrics   health: {base}/health",
        )
    )


def _check_port_free(host: str, port: int) -> int:
    """The port to serve on (a free one for 0); a plain message, not uvicorn's log line, when it is taken."""
    from enrich.ingest.errors import InputError

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"{host}:{port}", f"cannot listen there ({exc.strerror}); pick another --port") from exc
        return int(probe.getsockname()[1])


def _server(app: FastAPI, host: str, port: int, quiet: bool = False) -> uvicorn.Server:
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning" if quiet else "info", ws="none")
    return uvicorn.Server(config)


def serve(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from api.app import create_app

    port = _check_port_free(args.host, args.port)
    app = create_app(settings, store)
    print(_endpoints(f"http://{args.host}:{port}"), flush=True)
    _server(app, args.host, port).run()
    return 0


def serve_demo(settings: Settings, store: Store, host: str, port: int, check: bool = False) -> int:
    """Serve the demo store with a fresh reviewer and admin token (printed; only their hashes are kept).

    With ``check``, harvest the running endpoints once over loopback and stop: what CI runs, since a
    server that serves until interrupted cannot be a step of a script.
    """
    from api.app import create_app
    from api.auth import make_token

    port = _check_port_free(host, port)
    reviewer, reviewer_entry = make_token("reviewer")
    admin, admin_entry = make_token("admin")
    settings = settings.model_copy(update={"api_tokens": [*settings.api_tokens, reviewer_entry, admin_entry]})
    base = f"http://{host}:{port}"
    print(f"\nserving the demo store at {base}\n{_endpoints(base)}", flush=True)
    print(f"reviewer token: {reviewer}\nadmin token:    {admin}", flush=True)
    print("(send them as 'Authorization: Bearer TOKEN'; they last as long as this process)", flush=True)
    server = _server(create_app(settings, store), host, port, quiet=check)
    if not check:
        server.run()
        return 0
    thread = threading.Thread(target=server.run, name="uvicorn-demo", daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        return _harvest_once(base, reviewer)
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_S)


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the demo server did not start")
        time.sleep(0.05)


def _harvest_once(base: str, reviewer_token: str) -> int:
    """One pass over every interface a harvester or reviewer uses; prints what it saw, 1 on any failure."""
    import httpx
    from lxml import etree

    oai = "{http://www.openarchives.org/OAI/2.0/}"
    failures: list[str] = []
    with httpx.Client(base_url=base, timeout=60.0) as client:
        health = client.get("/health")
        print(f"check: /health {health.status_code} {health.text}")
        if health.status_code != 200:
            failures.append("/health")
        count = client.get(
            "/sparql",
            params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
            headers={"Accept": "application/sparql-results+json"},
        )
        if count.status_code == 200:
            print(f"check: SPARQL quads {count.json()['results']['bindings'][0]['n']['value']}")
        else:
            failures.append(f"/sparql {count.status_code}")
        harvested, params = 0, {"verb": "ListRecords", "metadataPrefix": "edm"}
        while True:
            page = client.get("/oai", params=params)
            root = etree.fromstring(page.content)
            if page.status_code != 200 or root.find(f"{oai}error") is not None:
                failures.append(f"/oai ListRecords: {page.text[:200]}")
                break
            harvested += len(root.findall(f"{oai}ListRecords/{oai}record"))
            token = root.findtext(f"{oai}ListRecords/{oai}resumptionToken")
            if not token:
                break
            params = {"verb": "ListRecords", "resumptionToken": token}
        print(f"check: OAI-PMH ListRecords (edm) harvested {harvested} records")
        pending = client.get(
            "/suggestions",
            params={"status": "pending", "limit": 5},
            headers={"Authorization": f"Bearer {reviewer_token}"},
        )
        print(f"check: /suggestions?status=pending {pending.status_code}")
        if pending.status_code != 200:
            failures.append(f"/suggestions {pending.status_code}")
    for failure in failures:
        print(f"check failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


#: Top-level command name → handler, for enrich.cli's COMMANDS.
HANDLERS: dict[str, Handler] = {"serve": serve}
