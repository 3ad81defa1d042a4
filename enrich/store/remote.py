"""The remote store: any SPARQL 1.1 Query + Update + Graph Store Protocol endpoint (DESIGN §3).

Answers are parsed with pyoxigraph's own parsers, so callers get exactly the terms the embedded
store gives them (``NamedNode``, ``BlankNode``, ``Literal``, ``Triple``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, TypeAlias

import httpx
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
    parse_query_results,
    serialize,
)

from enrich.settings import Settings
from enrich.store.base import QuerySyntaxError, RdfInput, Solution, Store, StoreError, Term

# SELECT/ASK answer with the first type, CONSTRUCT/DESCRIBE with the second; asking for both lets
# the answer's Content-Type tell which kind of query ran, as the embedded store's result type does.
_QUERY_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
_UPLOAD_CHUNK = 1024 * 1024
# Servers can answer with a whole stack trace; messages keep its start.
_MAX_MESSAGE = 2000

_QueryResult: TypeAlias = QuerySolutions | QueryBoolean | list[Triple]


class RemoteStore(Store):
    def __init__(
        self,
        query_url: str,
        update_url: str,
        gsp_url: str,
        timeout_s: float = 60.0,
        client: httpx.Client | None = None,
    ) -> None:
        self._query_url = query_url
        self._update_url = update_url
        self._gsp_url = gsp_url
        # A client handed in belongs to the caller (it may be shared), so close() leaves it open.
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout_s)

    @classmethod
    def from_base_url(cls, base_url: str, settings: Settings) -> RemoteStore:
        """Oxigraph server's layout under ``base_url``; explicit URLs in ``settings`` win (Fuseki…)."""
        base = base_url.rstrip("/")
        return cls(
            settings.remote_query_url or f"{base}/query",
            settings.remote_update_url or f"{base}/update",
            settings.remote_gsp_url or f"{base}/store",
            timeout_s=settings.remote_timeout_s,
        )

    @property
    def location(self) -> str:
        return self._query_url

    @property
    def query_url(self) -> str:
        return self._query_url

    @property
    def update_url(self) -> str:
        return self._update_url

    @property
    def gsp_url(self) -> str:
        return self._gsp_url

    # -- HTTP ------------------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        try:
            return self._client.request(method, url, params=params, content=content, headers=headers)
        except httpx.HTTPError as exc:
            # Connection refused, timeouts, broken uploads: the message must say which server.
            raise StoreError(f"{what} failed: {method} {url}: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _message(response: httpx.Response) -> str:
        text = response.text.strip()
        return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + " …"

    def _fail(self, response: httpx.Response, what: str) -> StoreError:
        request = response.request
        return StoreError(
            f"{what} failed: {request.method} {request.url} answered "
            f"{response.status_code} {response.reason_phrase}: {self._message(response)}"
        )

    def _sparql(self, url: str, text: str, content_type: str, what: str, accept: str | None) -> httpx.Response:
        headers = {"Content-Type": content_type}
        if accept is not None:
            headers["Accept"] = accept
        response = self._send("POST", url, what, content=text.encode("utf-8"), headers=headers)
        if response.status_code == 400:
            # SPARQL 1.1 Protocol: 400 means the request text is not valid SPARQL.
            raise QuerySyntaxError(f"{what} syntax error ({url}): {self._message(response)}")
        if not response.is_success:
            raise self._fail(response, what)
        return response

    # -- queries ---------------------------------------------------------------------------------
    def _query(self, query: str) -> _QueryResult:
        response = self._sparql(self._query_url, query, "application/sparql-query", "SPARQL", _QUERY_ACCEPT)
        media_type = _media_type(response)
        try:
            results_format = QueryResultsFormat.from_media_type(media_type)
            if results_format is not None:
                return parse_query_results(response.content, results_format)
            rdf_format = RdfFormat.from_media_type(media_type)
            if rdf_format is not None:
                return [quad.triple for quad in parse(response.content, rdf_format, lenient=True)]
        except SyntaxError as exc:
            raise StoreError(f"the answer of {self._query_url} does not parse: {exc}") from exc
        raise StoreError(f"{self._query_url} answered with an unexpected media type {media_type!r}")

    def select(self, query: str) -> list[Solution]:
        response = self._sparql(self._query_url, query, "application/sparql-query", "SPARQL", _QUERY_ACCEPT)
        media_type = _media_type(response)
        if QueryResultsFormat.from_media_type(media_type) != QueryResultsFormat.JSON:
            raise StoreError("select() needs a SELECT query")
        try:
            result = parse_query_results(response.content, QueryResultsFormat.JSON)
            if not isinstance(result, QuerySolutions):
                raise StoreError("select() needs a SELECT query")
            names = [v.value for v in result.variables]
            # The answer is parsed lazily, while iterating. Unbound variables stay out of the row, as
            # in the embedded store.
            return [{name: value for name in names if (value := solution[name]) is not None} for solution in result]
        except SyntaxError:
            # pyoxigraph's results parser checks IRIs strictly and has no lenient mode; records may
            # hold IRIs with spaces (accepted at ingest), so read such answers term by term.
            return _lenient_rows(response.content, self._query_url)

    def ask(self, query: str) -> bool:
        result = self._query(query)
        if not isinstance(result, QueryBoolean):
            raise StoreError("ask() needs an ASK query")
        return bool(result)

    def construct(self, query: str) -> list[Triple]:
        result = self._query(query)
        if not isinstance(result, list):
            raise StoreError("construct() needs a CONSTRUCT or DESCRIBE query")
        return result

    def update(self, sparql_update: str) -> None:
        self._sparql(self._update_url, sparql_update, "application/sparql-update", "SPARQL Update", None)

    # -- graphs (Graph Store Protocol) -----------------------------------------------------------
    def read_graph(self, graph: str) -> list[Triple]:
        accept = RdfFormat.N_TRIPLES.media_type
        response = self._send(
            "GET", self._gsp_url, "reading a graph", params={"graph": graph}, headers={"Accept": accept}
        )
        if response.status_code == 404:
            return []  # GSP answers 404 for a graph that holds nothing
        if not response.is_success:
            raise self._fail(response, "reading a graph")
        rdf_format = RdfFormat.from_media_type(_media_type(response)) or RdfFormat.N_TRIPLES
        try:
            # Lenient: records may hold IRIs that break RFC 3987 (spaces), accepted at ingest.
            return [quad.triple for quad in parse(response.content, rdf_format, lenient=True)]
        except SyntaxError as exc:
            raise StoreError(f"the graph {graph} from {self._gsp_url} does not parse: {exc}") from exc

    def named_graphs(self) -> list[str]:
        # Graphs holding at least one triple: servers differ on whether empty graphs exist at all.
        rows = self.select("SELECT ?g WHERE { GRAPH ?g { } FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }")
        return sorted({g.value for row in rows if isinstance(g := row.get("g"), NamedNode)})

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> None:
        # One GSP PUT is one transaction on the server (readers see the old or the new graph).
        body = serialize(triples, format=RdfFormat.N_TRIPLES) or b""
        response = self._send(
            "PUT",
            self._gsp_url,
            "replacing a graph",
            params={"graph": graph},
            content=body,
            headers={"Content-Type": RdfFormat.N_TRIPLES.media_type},
        )
        if not response.is_success:
            raise self._fail(response, "replacing a graph")

    def delete_graph(self, graph: str) -> None:
        response = self._send("DELETE", self._gsp_url, "deleting a graph", params={"graph": graph})
        if not response.is_success and response.status_code != 404:  # 404: nothing to delete
            raise self._fail(response, "deleting a graph")

    # -- writes ----------------------------------------------------------------------------------
    def bulk_load(self, data: RdfInput, format: RdfFormat, graph: str | None = None, lenient: bool = False) -> None:
        headers = {"Content-Type": format.media_type}
        params: dict[str, str] | None
        if not format.supports_datasets:
            params = {"default": ""} if graph is None else {"graph": graph}
            content = _body(data, headers)
        elif graph is None:
            params = None  # POST to the GSP URL itself: every quad goes to its own graph
            content = _body(data, headers)
        else:
            # GSP cannot say "default-graph quads into this graph"; rewrite them here, as the
            # embedded store's ``to_graph`` does.
            params = None
            content = _retarget(data, format, graph)
            headers["Content-Type"] = RdfFormat.N_QUADS.media_type
        if lenient:
            # Not part of the Graph Store Protocol: Oxigraph server's switch for IRIs that break RFC 3987
            # (sent only when asked for, so strict servers never see an unknown parameter).
            params = {**(params or {}), "lenient": "true"}
        response = self._send("POST", self._gsp_url, "bulk load", params=params, content=content, headers=headers)
        if not response.is_success:
            raise self._fail(response, "bulk load")

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(_UPLOAD_CHUNK):
        yield chunk


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        yield from _chunks(stream)


def _body(data: RdfInput, headers: dict[str, str]) -> bytes | Iterator[bytes]:
    """The request body; files are streamed, never read whole into memory."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, Path):
        try:
            # A known length avoids chunked uploads, which some servers refuse.
            headers["Content-Length"] = str(data.stat().st_size)
        except OSError as exc:
            raise StoreError(f"cannot read {data}: {exc}") from exc
        return _file_chunks(data)
    return _chunks(data)


def _retarget(data: RdfInput, format: RdfFormat, graph: str) -> bytes:
    """N-Quads with the default graph's quads moved into ``graph``.

    Built whole before sending, so a parse error fails the load before the server sees anything;
    this path (a quad file plus a target graph) is rare, the plain paths stream.
    """
    target = NamedNode(graph)
    try:
        quads = parse(path=data, format=format) if isinstance(data, Path) else parse(data, format=format)
        moved = (
            Quad(q.subject, q.predicate, q.object, target) if isinstance(q.graph_name, DefaultGraph) else q
            for q in quads
        )
        return serialize(moved, format=RdfFormat.N_QUADS) or b""
    except SyntaxError as exc:
        raise StoreError(f"bulk load failed, the data does not parse: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"bulk load failed: {exc}") from exc


def _media_type(response: httpx.Response) -> str:
    """The answer's media type without parameters (``text/turtle; charset=utf-8`` -> ``text/turtle``)."""
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


def _lenient_rows(content: bytes, url: str) -> list[Solution]:
    try:
        bindings = json.loads(content)["results"]["bindings"]
        return [{name: _lenient_term(value) for name, value in binding.items()} for binding in bindings]
    except (ValueError, KeyError, TypeError, SyntaxError) as exc:
        raise StoreError(f"the answer of {url} does not parse: {exc}") from exc


def _lenient_term(value: dict[str, Any]) -> Term:
    kind, text = value["type"], value["value"]
    if kind == "uri":
        return _lenient_iri(text)
    if kind == "bnode":
        return BlankNode(text)
    if kind in ("literal", "typed-literal"):
        if "xml:lang" in value:
            return Literal(text, language=value["xml:lang"])
        if "datatype" in value:
            return Literal(text, datatype=_lenient_iri(value["datatype"]))
        return Literal(text)
    raise ValueError(f"unsupported term type {kind!r}")


def _lenient_iri(iri: str) -> NamedNode:
    try:
        return NamedNode(iri)
    except ValueError:
        escaped = iri.replace("\\", "\\\\").replace(">", "\\u003E")
        statement = f"<{escaped}> <{_PLACEHOLDER}> <{_PLACEHOLDER}> ."
        quad = next(iter(parse(statement, RdfFormat.N_TRIPLES, lenient=True)))
        assert isinstance(quad.subject, NamedNode)
        return quad.subject


_PLACEHOLDER = "urn:x-placeholder"
