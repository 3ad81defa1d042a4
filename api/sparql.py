"""SPARQL 1.1 Protocol endpoint at ``/sparql`` (queries for readers, updates for admins).

- Query by GET (``query=``), POST form (``query=``) or POST direct (``application/sparql-query``); update by
  POST form (``update=``) or POST direct (``application/sparql-update``), admin token only.
- ``default-graph-uri`` / ``named-graph-uri`` go to the store's own dataset options: pyoxigraph's
  ``default_graph``/``named_graphs`` for the embedded store, the same protocol parameters for a remote one.
  Naming either replaces the whole dataset, as the Protocol says (naming only default graphs leaves no named
  graphs). ``using-graph-uri`` / ``using-named-graph-uri`` do the same for an update's WHERE clauses (like
  USING / USING NAMED; 400 with an update that has USING or WITH itself): written into the update for the
  embedded store, passed on to a remote one.
- Results by content negotiation (``Accept`` with q-values; 406 when nothing offered fits): SELECT/ASK as
  SPARQL JSON, XML, CSV, TSV; CONSTRUCT/DESCRIBE as Turtle, N-Triples, RDF/XML, JSON-LD. pyoxigraph writes
  the solutions (no Python work per row): as TSV, whose lines the row cap counts while they stream, then
  converted to the negotiated format.
- No query: the service description (``sd:`` vocabulary), negotiated like a graph.
- Limits from the settings: ``sparql_timeout_s`` (503 when passed) and ``sparql_max_rows`` (413 when the
  answer would have more rows or triples). Store work runs in a worker thread; the embedded store's results
  are lazy, so the worker checks the clock as they are written and stops; a query that blocks before its
  first row (an aggregate over a huge join) is answered 503 on time while its thread finishes in the
  background.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
import httpx
from fastapi import APIRouter, HTTPException, Request, Response
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Triple,
    parse,
    parse_query_results,
    serialize,
)

from api.auth import check_role
from api.sparql_update import check_remote_answer, graph_nodes, run_update
from enrich.settings import Settings
from enrich.store.base import QuerySyntaxError, Store, StoreError
from enrich.store.embedded import EmbeddedStore
from enrich.store.remote import RemoteStore

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)
router = APIRouter(tags=["sparql"])

T = TypeVar("T")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_REMOTE_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
# The worker stops itself at the deadline; this outer margin only catches a query stuck before its first row.
_GRACE_S = 1.0

#: Offered media types in order of preference (the first is the default for ``*/*`` or no Accept).
RESULTS_TYPES: list[tuple[str, QueryResultsFormat]] = [
    ("application/sparql-results+json", QueryResultsFormat.JSON),
    ("application/json", QueryResultsFormat.JSON),
    ("application/sparql-results+xml", QueryResultsFormat.XML),
    ("application/xml", QueryResultsFormat.XML),
    ("text/xml", QueryResultsFormat.XML),
    ("text/csv", QueryResultsFormat.CSV),
    ("text/tab-separated-values", QueryResultsFormat.TSV),
]
GRAPH_TYPES: list[tuple[str, RdfFormat]] = [
    ("text/turtle", RdfFormat.TURTLE),
    ("application/turtle", RdfFormat.TURTLE),
    ("application/x-turtle", RdfFormat.TURTLE),
    ("application/n-triples", RdfFormat.N_TRIPLES),
    ("application/rdf+xml", RdfFormat.RDF_XML),
    ("application/xml", RdfFormat.RDF_XML),
    ("application/ld+json", RdfFormat.JSON_LD),
    ("application/x-json+ld", RdfFormat.JSON_LD),
]


class QueryTimeout(Exception):
    pass


class TooManyRows(Exception):
    pass


# -- content negotiation ----------------------------------------------------------------------------
def _accept_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    return ranges


def negotiate(accept: str | None, offers: list[tuple[str, T]]) -> T | None:
    """The offer the Accept header ranks highest (the most specific matching range sets each offer's q)."""
    if not accept or not accept.strip():
        return offers[0][1]
    ranges = _accept_ranges(accept)
    best: tuple[float, T] | None = None
    for media, offer in offers:
        major = media.split("/")[0]
        matched: tuple[int, float] | None = None
        for accepted, q in ranges:
            specificity = 3 if accepted == media else 2 if accepted == f"{major}/*" else 1 if accepted == "*/*" else 0
            if specificity and (matched is None or specificity > matched[0]):
                matched = (specificity, q)
        if matched is not None and matched[1] > 0 and (best is None or matched[1] > best[0]):
            best = (matched[1], offer)
    return None if best is None else best[1]


def _not_acceptable(offers: list[tuple[str, Any]]) -> HTTPException:
    return HTTPException(406, f"no acceptable representation; this answer can be {', '.join(m for m, _ in offers)}")


# -- execution (in a worker thread) ------------------------------------------------------------------
@dataclass
class QueryJob:
    query: str
    accept: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    timeout_s: float = 30.0
    max_rows: int = 100_000
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.timeout_s

    @property
    def timeout_message(self) -> str:
        return f"query exceeded the time limit of {self.timeout_s:g} s"

    def check(self, rows: int) -> None:
        """Stop (raise) past the row cap or the deadline."""
        if rows > self.max_rows:
            raise TooManyRows(f"result larger than {self.max_rows} rows; add a LIMIT or narrow the query")
        if time.monotonic() > self.deadline:
            raise QueryTimeout

    def checked(self, items: Iterable[T]) -> Iterator[T]:
        """The items, stopping at the row cap or the deadline."""
        for count, item in enumerate(items, 1):
            self.check(count)
            yield item


_Result = QuerySolutions | QueryBoolean | QueryTriples | list[Triple]


def _embedded_result(store: EmbeddedStore, job: QueryJob) -> _Result:
    dataset: dict[str, Any] = {}
    if job.default_graphs or job.named_graphs:
        dataset = {
            "default_graph": graph_nodes("default-graph-uri", job.default_graphs),
            "named_graphs": graph_nodes("named-graph-uri", job.named_graphs),
        }
    try:
        result: _Result = store.oxigraph.query(job.query, **dataset)
    except SyntaxError as exc:
        raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from exc
    except ValueError as exc:  # a graph IRI that does not parse
        raise QuerySyntaxError(str(exc)) from exc
    return result


def _remote_result(store: RemoteStore, client: httpx.Client, job: QueryJob) -> _Result:
    params = httpx.QueryParams(
        tuple(("default-graph-uri", g) for g in job.default_graphs)
        + tuple(("named-graph-uri", g) for g in job.named_graphs)
    )
    try:
        # Streamed, so a long answer stops at the deadline and closing the connection stops the server too.
        with client.stream(
            "POST",
            store.query_url,
            params=params,
            content=job.query.encode("utf-8"),
            headers={"Content-Type": "application/sparql-query", "Accept": _REMOTE_ACCEPT},
            timeout=max(0.1, job.deadline - time.monotonic()),
        ) as response:
            chunks = []
            for chunk in response.iter_bytes():
                if time.monotonic() > job.deadline:
                    raise QueryTimeout
                chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise QueryTimeout from exc
    except httpx.HTTPError as exc:
        raise StoreError(f"SPARQL server {store.query_url} failed: {type(exc).__name__}: {exc}") from exc
    content = b"".join(chunks)
    check_remote_answer(store.query_url, response, content)
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type == "application/n-triples":
            return [quad.triple for quad in parse(content, RdfFormat.N_TRIPLES)]
        results_format = QueryResultsFormat.from_media_type(media_type)
        if results_format is None:
            raise StoreError(f"SPARQL server {store.query_url} answered with media type {media_type!r}")
        return parse_query_results(content, results_format)
    except SyntaxError as exc:
        raise StoreError(f"the answer of {store.query_url} does not parse: {exc}") from exc


def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        found: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            found["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            found["datatype"] = term.datatype.value
        return found
    if isinstance(term, Triple):
        parts = {"subject": term.subject, "predicate": term.predicate, "object": term.object}
        return {"type": "triple", "value": {k: _json_term(v) for k, v in parts.items()}}
    raise StoreError(f"unexpected term {term!r}")


def _written(body: bytes | None) -> bytes:
    """pyoxigraph's writers return the bytes when given no output file."""
    if body is None:
        raise StoreError("a serialiser wrote nothing")
    return body


def _json_body(solutions: QuerySolutions, job: QueryJob) -> bytes:
    """SPARQL JSON built term by term: slow, but it carries IRIs that pyoxigraph's result parsers refuse."""
    names = [v.value for v in solutions.variables]
    bindings = [
        {name: _json_term(value) for name in names if (value := solution[name]) is not None}
        for solution in job.checked(solutions)
    ]
    return json.dumps(
        {"head": {"vars": names}, "results": {"bindings": bindings}}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


class _LimitedTsvOutput(io.BytesIO):
    """The file pyoxigraph writes TSV results into; it stops the writing at the row cap or the deadline.

    SPARQL TSV has one line per solution after the header (line breaks inside terms are escaped), so
    counting newlines counts rows as they stream, with no Python work per row. pyoxigraph calls ``write``
    every few kilobytes and passes on what it raises.
    """

    def __init__(self, job: QueryJob) -> None:
        super().__init__()
        self._job = job
        self._lines = 0

    def write(self, buffer: ReadableBuffer, /) -> int:
        chunk = bytes(buffer)
        self._lines += chunk.count(b"\n")
        self._job.check(self._lines - 1)
        return super().write(chunk)


def _solutions_body(
    store: Store, solutions: QuerySolutions, job: QueryJob, results_format: QueryResultsFormat
) -> bytes:
    output = _LimitedTsvOutput(job)
    solutions.serialize(output, QueryResultsFormat.TSV)
    tsv = output.getvalue()
    if results_format == QueryResultsFormat.TSV:
        return tsv
    try:
        return _written(parse_query_results(tsv, QueryResultsFormat.TSV).serialize(format=results_format))
    except SyntaxError as exc:
        # IRIs that ingest accepted leniently (spaces…) are written but not read back by pyoxigraph. JSON
        # carries them when built term by term, from a second evaluation (the first one was consumed).
        if results_format != QueryResultsFormat.JSON or not isinstance(store, EmbeddedStore):
            raise StoreError(f"the results cannot be written as {results_format.name}: {exc}") from exc
        again = _embedded_result(store, job)
        if not isinstance(again, QuerySolutions):
            raise StoreError("the query gave another kind of result when evaluated again") from exc
        return _json_body(again, job)


def run_query(store: Store, client: httpx.Client | None, job: QueryJob) -> tuple[bytes, str]:
    """Evaluate ``job`` and serialise its answer as negotiated: (body, media type)."""
    if isinstance(store, EmbeddedStore):
        result = _embedded_result(store, job)
    elif isinstance(store, RemoteStore) and client is not None:
        result = _remote_result(store, client, job)
    else:
        raise StoreError(f"the SPARQL endpoint cannot query a {type(store).__name__}")
    try:
        if isinstance(result, QuerySolutions | QueryBoolean):
            results_format = negotiate(job.accept, RESULTS_TYPES)
            if results_format is None:
                raise _not_acceptable(RESULTS_TYPES)
            if isinstance(result, QueryBoolean):
                body = _written(result.serialize(format=results_format))
            else:
                body = _solutions_body(store, result, job, results_format)
            return body, results_format.media_type
        rdf_format = negotiate(job.accept, GRAPH_TYPES)
        if rdf_format is None:
            raise _not_acceptable(GRAPH_TYPES)
        return _written(serialize(list(job.checked(result)), format=rdf_format)), rdf_format.media_type
    except StoreError:
        raise
    except (OSError, RuntimeError, SyntaxError) as exc:
        # pyoxigraph evaluates (and parses a remote answer) lazily: errors come while writing the results.
        raise StoreError(f"query failed: {exc}") from exc


@dataclass
class Answer:
    status: int
    body: bytes = b""
    media_type: str = ""
    detail: str = ""


def answer_query(store: Store, client: httpx.Client | None, job: QueryJob) -> Answer:
    """``run_query``, with every failure turned into an answer here, in the worker thread.

    pyoxigraph's lazy results must be dropped on the thread that made them; an exception's traceback
    would carry them (in its frames) to the event loop, so none leaves this function.
    """
    try:
        body, media_type = run_query(store, client, job)
    except HTTPException as exc:
        return Answer(exc.status_code, detail=str(exc.detail))
    except QueryTimeout:
        return Answer(503, detail=job.timeout_message)
    except TooManyRows as exc:
        return Answer(413, detail=str(exc))
    except QuerySyntaxError as exc:
        return Answer(400, detail=str(exc))
    except StoreError as exc:
        return Answer(500, detail=str(exc))
    except Exception:
        log.exception("SPARQL query failed: %s", job.query[:500])
        return Answer(500, detail="internal server error")
    return Answer(200, body, media_type)


# -- service description ----------------------------------------------------------------------------
_SD = "http://www.w3.org/ns/sparql-service-description#"
_FORMATS = "http://www.w3.org/ns/formats/"
_RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "RDF_XML",
    "JSON-LD",
)


def service_description(endpoint: str) -> list[Triple]:
    service, dataset, default_graph = BlankNode("service"), BlankNode("dataset"), BlankNode("defaultGraph")
    a = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

    def sd(name: str) -> NamedNode:
        return NamedNode(_SD + name)

    triples = [
        Triple(service, a, sd("Service")),
        Triple(service, sd("endpoint"), NamedNode(endpoint)),
        Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        Triple(service, sd("supportedLanguage"), sd("SPARQL11Update")),
        Triple(service, sd("defaultEntailmentRegime"), NamedNode("http://www.w3.org/ns/entailment/Simple")),
        Triple(service, sd("defaultDataset"), dataset),
        Triple(dataset, a, sd("Dataset")),
        Triple(dataset, sd("defaultGraph"), default_graph),
        Triple(default_graph, a, sd("Graph")),
    ]
    triples += [Triple(service, sd("resultFormat"), NamedNode(_FORMATS + name)) for name in _RESULT_FORMATS]
    return triples


# -- the route --------------------------------------------------------------------------------------
async def _protocol_params(request: Request) -> list[tuple[str, str]]:
    """The request's parameters; a direct POST body becomes ``query`` or ``update``."""
    params = list(request.query_params.multi_items())
    if request.method != "POST":
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        body = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, "the request body is not UTF-8") from exc
    if content_type == "application/x-www-form-urlencoded":
        return params + parse_qsl(body, keep_blank_values=True)
    if content_type == "application/sparql-query":
        return [*params, ("query", body)]
    if content_type == "application/sparql-update":
        return [*params, ("update", body)]
    raise HTTPException(
        415,
        "POST needs application/x-www-form-urlencoded, application/sparql-query or application/sparql-update",
    )


def _values(params: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in params if key == name]


_SUMMARY = "SPARQL 1.1 Protocol: query (reader), update (admin), service description (no query)"


@router.get("/sparql", summary=_SUMMARY, response_class=Response, operation_id="sparql_get")
@router.post("/sparql", summary=_SUMMARY, response_class=Response, operation_id="sparql_post")
async def sparql(request: Request) -> Response:
    params = await _protocol_params(request)
    queries, updates = _values(params, "query"), _values(params, "update")
    if len(queries) + len(updates) > 1:
        raise HTTPException(400, "give exactly one query or one update")
    store: Store = request.app.state.store
    if updates:
        if request.method != "POST":
            raise HTTPException(400, "updates need POST")
        check_role(request, "admin")
        try:
            await anyio.to_thread.run_sync(
                run_update,
                store,
                getattr(request.app.state, "sparql_http", None),
                updates[0],
                _values(params, "using-graph-uri"),
                _values(params, "using-named-graph-uri"),
                request.app.state.settings.remote_timeout_s,
            )
        except QuerySyntaxError as exc:
            raise HTTPException(400, str(exc)) from exc
        except StoreError as exc:
            raise HTTPException(500, str(exc)) from exc
        return Response(status_code=204)
    check_role(request, "reader")
    accept = request.headers.get("accept")
    if not queries:
        rdf_format = negotiate(accept, GRAPH_TYPES)
        if rdf_format is None:
            raise _not_acceptable(GRAPH_TYPES)
        endpoint = str(request.url.replace(query=None, fragment=None))
        body = serialize(service_description(endpoint), format=rdf_format)
        return Response(_written(body), media_type=rdf_format.media_type)
    settings: Settings = request.app.state.settings
    job = QueryJob(
        query=queries[0],
        accept=accept,
        default_graphs=_values(params, "default-graph-uri"),
        named_graphs=_values(params, "named-graph-uri"),
        timeout_s=settings.sparql_timeout_s,
        max_rows=settings.sparql_max_rows,
    )
    client: httpx.Client | None = getattr(request.app.state, "sparql_http", None)
    try:
        with anyio.fail_after(settings.sparql_timeout_s + _GRACE_S):
            answer = await anyio.to_thread.run_sync(answer_query, store, client, job, abandon_on_cancel=True)
    except TimeoutError as exc:
        raise HTTPException(503, job.timeout_message) from exc
    if answer.status != 200:
        raise HTTPException(answer.status, answer.detail)
    return Response(answer.body, media_type=answer.media_type)
