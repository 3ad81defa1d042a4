"""The embedded store: a ``pyoxigraph.Store`` on disk (RocksDB), or in memory for tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pyoxigraph import NamedNode, QueryBoolean, QuerySolutions, QueryTriples, RdfFormat, Triple
from pyoxigraph import Store as OxStore

from enrich.store.base import QuerySyntaxError, RdfInput, Solution, Store, StoreError, Term


class EmbeddedStore(Store):
    def __init__(self, path: str | Path | None = None) -> None:
        """Open (creating if needed) the store at ``path``; ``None`` keeps everything in memory."""
        self._path = None if path is None else Path(path)
        self._closed = False
        try:
            if self._path is None:
                self._store = OxStore()
            else:
                self._path.mkdir(parents=True, exist_ok=True)
                self._store = OxStore(str(self._path))
        except OSError as exc:
            raise StoreError(f"cannot open the embedded store at {self.location}: {exc}") from exc

    @property
    def on_disk(self) -> bool:
        return self._path is not None

    @property
    def location(self) -> str:
        return ":memory:" if self._path is None else str(self._path)

    @property
    def oxigraph(self) -> OxStore:
        """The underlying pyoxigraph store, for code that needs its native speed."""
        return self._store

    def _query(self, query: str) -> QuerySolutions | QueryBoolean | QueryTriples:
        try:
            return self._store.query(query)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from exc
        except (OSError, RuntimeError) as exc:  # pyoxigraph raises RuntimeError for evaluation errors
            raise StoreError(f"query failed on {self.location}: {exc}") from exc

    def select(self, query: str) -> list[Solution]:
        result = self._query(query)
        if not isinstance(result, QuerySolutions):
            raise StoreError("select() needs a SELECT query")
        names = [v.value for v in result.variables]
        rows: list[Solution] = []
        for solution in result:
            row: Solution = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = value
            rows.append(row)
        return rows

    def ask(self, query: str) -> bool:
        result = self._query(query)
        if not isinstance(result, QueryBoolean):
            raise StoreError("ask() needs an ASK query")
        return bool(result)

    def construct(self, query: str) -> list[Triple]:
        result = self._query(query)
        if not isinstance(result, QueryTriples):
            raise StoreError("construct() needs a CONSTRUCT or DESCRIBE query")
        triples: list[Triple] = list(result)
        return triples

    def update(self, sparql_update: str) -> None:
        try:
            self._store.update(sparql_update)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"SPARQL Update syntax error: {exc}") from exc
        except (OSError, RuntimeError) as exc:  # e.g. CREATE GRAPH of an existing graph
            raise StoreError(f"update failed on {self.location}: {exc}") from exc

    def objects_of(self, subjects: Sequence[str], predicate: str, graph: str) -> dict[str, list[Term]]:
        # Direct index look-ups: several times faster than a SPARQL join over a VALUES block.
        predicate_node, graph_node = NamedNode(predicate), NamedNode(graph)
        found: dict[str, list[Term]] = {}
        for subject in subjects:
            objects = [
                q.object for q in self._store.quads_for_pattern(NamedNode(subject), predicate_node, None, graph_node)
            ]
            if objects:
                found[subject] = objects
        return found

    def read_graph(self, graph: str) -> list[Triple]:
        return [
            Triple(q.subject, q.predicate, q.object)
            for q in self._store.quads_for_pattern(None, None, None, NamedNode(graph))
        ]

    def named_graphs(self) -> list[str]:
        # Only graphs holding triples, like graph_exists/count_graphs (Oxigraph keeps emptied graphs).
        return sorted(
            g.value for g in self._store.named_graphs() if isinstance(g, NamedNode) and self.graph_exists(g.value)
        )

    def graph_exists(self, graph: str) -> bool:
        return any(True for _ in self._store.quads_for_pattern(None, None, None, NamedNode(graph)))

    def delete_graph(self, graph: str) -> None:
        node = NamedNode(graph)
        if self._store.contains_named_graph(node):
            self._store.remove_graph(node)

    def bulk_load(self, data: RdfInput, format: RdfFormat, graph: str | None = None, lenient: bool = False) -> None:
        to_graph = NamedNode(graph) if graph is not None else None
        try:
            if isinstance(data, Path):
                self._store.bulk_load(path=str(data), format=format, to_graph=to_graph, lenient=lenient)
            else:
                self._store.bulk_load(data, format=format, to_graph=to_graph, lenient=lenient)
        except SyntaxError as exc:
            raise StoreError(f"bulk load into {self.location} failed, the data does not parse: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"bulk load into {self.location} failed: {exc}") from exc

    def flush(self) -> None:
        self._store.flush()

    def close(self) -> None:
        """Flush and release the store; RocksDB's directory lock goes with the last reference."""
        if self._path is not None and not self._closed:
            self._store.flush()
        if not self._closed:
            # pyoxigraph has no close(): dropping our reference frees the database and its lock, so
            # another process (or a later EmbeddedStore) can open the directory.
            del self._store
        self._closed = True

    def __getattr__(self, name: str) -> object:
        # Only reached for attributes that are missing, i.e. the pyoxigraph store after close().
        if name == "_store":
            raise StoreError(f"the embedded store at {self.location} is closed")
        raise AttributeError(name)
