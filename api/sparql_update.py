"""SPARQL updates through the endpoint, and the protocol helpers queries share with them.

``run_update`` applies the SPARQL 1.1 Protocol's ``using-graph-uri`` / ``using-named-graph-uri``: written into
the update text for the embedded store (pyoxigraph's ``Store.update`` takes no dataset), passed on to a
remote store's update URL.
"""

from __future__ import annotations

import re

import httpx
from pyoxigraph import NamedNode

from enrich.store.base import QuerySyntaxError, Store, StoreError
from enrich.store.embedded import EmbeddedStore
from enrich.store.remote import RemoteStore


def graph_nodes(parameter: str, iris: list[str]) -> list[NamedNode]:
    nodes = []
    for iri in iris:
        try:
            nodes.append(NamedNode(iri))
        except ValueError as exc:
            raise QuerySyntaxError(f"{parameter} {iri!r} is not an absolute IRI: {exc}") from exc
    return nodes


def check_remote_answer(url: str, response: httpx.Response, content: bytes) -> None:
    if response.status_code == 400:  # SPARQL 1.1 Protocol: the request text is not valid SPARQL
        raise QuerySyntaxError(content.decode("utf-8", "replace").strip()[:2000])
    if not response.is_success:
        raise StoreError(f"SPARQL server {url} answered {response.status_code}")


# -- updates (in a worker thread) -------------------------------------------------------------------
# What in SPARQL text can hold braces or keywords without being one: whitespace, comments, strings, IRIs,
# prefixed names (``ex:with``), blank nodes and variables. Keywords (``word``) and braces are what is left.
_UPDATE_TOKENS = re.compile(
    r"""
    (?P<opaque> \s+ | \#[^\n\r]*
      | "{3}(?:[^"\\]|\\.|"(?!""))*"{3} | '{3}(?:[^'\\]|\\.|'(?!''))*'{3}
      | "(?:[^"\\\n\r]|\\.)*" | '(?:[^'\\\n\r]|\\.)*'
      | <[^<>"{}|^`\\\x00-\x20]*>
      | (?:[^\W\d][\w.\-]*)?:(?:[\w.\-:%]|\\.)* | [?$]\w+ )
    | (?P<word> [^\W\d_]\w* )
    | (?P<other> . )
    """,
    re.VERBOSE | re.DOTALL,
)


def _outline(update: str) -> list[tuple[str, int, int]]:
    """The update's top-level keywords (upper case) and outermost ``{…}`` blocks (as ``{}``), with their spans."""
    outline: list[tuple[str, int, int]] = []
    depth = opened = 0
    for match in _UPDATE_TOKENS.finditer(update):
        token = match.group()
        if match.lastgroup == "word" and depth == 0:
            outline.append((token.upper(), match.start(), match.end()))
        elif match.lastgroup == "other" and token == "{":
            if depth == 0:
                opened = match.start()
            depth += 1
        elif match.lastgroup == "other" and token == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                outline.append(("{}", opened, match.end()))
    return outline


def dataset_update(update: str, using: list[str], using_named: list[str]) -> str:
    """``update`` with the protocol's ``using-graph-uri`` / ``using-named-graph-uri`` as USING / USING NAMED.

    SPARQL 1.1 Protocol §2.2.3: the parameters set the dataset of every DELETE/INSERT operation's WHERE
    clause, as USING / USING NAMED would, and are an error with an update that has USING, USING NAMED or
    WITH of its own. pyoxigraph's ``Store.update`` takes no dataset, so the clauses are written in: before
    each top-level WHERE, and ``DELETE WHERE {P}`` becomes its defined equivalent ``DELETE {P} USING … WHERE
    {P}`` (which is what Oxigraph server does with the parameters, too).
    """
    nodes = [f"USING {node}" for node in graph_nodes("using-graph-uri", using)]
    nodes += [f"USING NAMED {node}" for node in graph_nodes("using-named-graph-uri", using_named)]
    clauses = " ".join(nodes)
    outline = _outline(update)
    if any(word in ("USING", "WITH") for word, _, _ in outline):
        raise QuerySyntaxError(
            "using-graph-uri / using-named-graph-uri cannot be combined with USING, USING NAMED or WITH "
            "in the update (SPARQL 1.1 Protocol §2.2.3)"
        )
    pieces, done = [], 0
    for index, (word, start, _) in enumerate(outline):
        if word != "WHERE":
            continue
        after = outline[index + 1] if index + 1 < len(outline) else ("", 0, 0)
        if index > 0 and outline[index - 1][0] == "DELETE" and after[0] == "{}":
            pattern = update[after[1] : after[2]]
            pieces += [update[done:start], f"{pattern} {clauses} WHERE {pattern}"]
            done = after[2]
        else:
            pieces += [update[done:start], f"{clauses} "]
            done = start
    pieces.append(update[done:])
    return "".join(pieces)


def run_update(
    store: Store,
    client: httpx.Client | None,
    update: str,
    using: list[str],
    using_named: list[str],
    timeout_s: float,
) -> None:
    """Run ``update``, over the dataset the protocol parameters name, if any."""
    if not using and not using_named:
        store.update(update)
        return
    rewritten = dataset_update(update, using, using_named)  # checks the parameters for either store
    if isinstance(store, EmbeddedStore):
        store.update(rewritten)
    elif isinstance(store, RemoteStore) and client is not None:
        params = httpx.QueryParams(
            tuple(("using-graph-uri", g) for g in using) + tuple(("using-named-graph-uri", g) for g in using_named)
        )
        try:
            response = client.post(
                store.update_url,
                params=params,
                content=update.encode("utf-8"),
                headers={"Content-Type": "application/sparql-update"},
                timeout=timeout_s,
            )
        except httpx.HTTPError as exc:
            raise StoreError(f"SPARQL server {store.update_url} failed: {type(exc).__name__}: {exc}") from exc
        check_remote_answer(store.update_url, response, response.content)
    else:
        raise StoreError(f"using-graph-uri is not available with a {type(store).__name__}")
