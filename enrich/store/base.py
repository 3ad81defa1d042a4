"""The one store interface (DESIGN §3), implemented by the embedded and the remote store.

Terms are pyoxigraph's (``NamedNode``, ``BlankNode``, ``Literal``, ``Triple``, ``Quad``) in both
implementations, so callers and the shared test suite see identical data whichever store runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeAlias

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple

Term: TypeAlias = NamedNode | BlankNode | Literal | Triple
Solution: TypeAlias = dict[str, Term]
RdfInput: TypeAlias = bytes | str | Path | IO[bytes]


class StoreError(RuntimeError):
    """A store operation failed (the message names the operation and the store's reason)."""


class StoreNotFound(StoreError):
    """The embedded store directory does not exist (and the command does not create stores)."""


class QuerySyntaxError(StoreError, ValueError):
    """The SPARQL text does not parse; the message carries the parser's explanation."""


def text(term: Term) -> str:
    """The lexical value of an IRI, blank node or literal (RDF-star triples have none)."""
    if isinstance(term, Triple):
        raise StoreError(f"expected an IRI, blank node or literal, got the quoted triple {term}")
    return term.value


def _data_block(quads: Iterable[Quad]) -> str:
    lines = []
    for quad in quads:
        triple = f"{quad.subject} {quad.predicate} {quad.object} ."
        if isinstance(quad.graph_name, NamedNode):
            lines.append(f"GRAPH {quad.graph_name} {{ {triple} }}")
        else:
            lines.append(triple)
    return "\n".join(lines)


@dataclass
class Transaction:
    """Changes collected inside ``Store.transaction()`` and applied as one SPARQL Update request.

    Oxigraph (embedded and server) runs one update request as one transaction, so either every
    change lands or none does.
    """

    _operations: list[str] = field(default_factory=list)

    def add(self, quads: Iterable[Quad]) -> None:
        block = _data_block(quads)
        if block:
            self._operations.append(f"INSERT DATA {{\n{block}\n}}")

    def remove(self, quads: Iterable[Quad]) -> None:
        block = _data_block(quads)
        if block:
            self._operations.append(f"DELETE DATA {{\n{block}\n}}")

    def drop_graph(self, graph: str) -> None:
        self._operations.append(f"DROP SILENT GRAPH <{graph}>")

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> None:
        node = NamedNode(graph)
        self.drop_graph(graph)
        self.add(Quad(t.subject, t.predicate, t.object, node) for t in triples)

    def update(self, sparql_update: str) -> None:
        self._operations.append(sparql_update)

    def as_update(self) -> str:
        return " ;\n".join(self._operations)


class Store(ABC):
    """Operations every store offers. Graph names are IRIs given as ``str``."""

    # -- queries ---------------------------------------------------------------------------------
    @abstractmethod
    def select(self, query: str) -> list[Solution]:
        """Run a SELECT query; each solution maps variable names (without ``?``) to bound terms."""

    @abstractmethod
    def ask(self, query: str) -> bool: ...

    @abstractmethod
    def construct(self, query: str) -> list[Triple]:
        """Run a CONSTRUCT or DESCRIBE query."""

    def objects_of(self, subjects: Sequence[str], predicate: str, graph: str) -> dict[str, list[Term]]:
        """For each subject IRI, the objects of ``predicate`` in ``graph``; subjects without any are left out."""
        found: dict[str, list[Term]] = {}
        for start in range(0, len(subjects), 1000):
            values = " ".join(f"<{s}>" for s in subjects[start : start + 1000])
            rows = self.select(
                f"SELECT ?s ?o WHERE {{ GRAPH <{graph}> {{ VALUES ?s {{ {values} }} ?s <{predicate}> ?o }} }}"
            )
            for row in rows:
                found.setdefault(text(row["s"]), []).append(row["o"])
        return found

    @abstractmethod
    def update(self, sparql_update: str) -> None:
        """Run a SPARQL 1.1 Update request atomically."""

    # -- graphs ----------------------------------------------------------------------------------
    @abstractmethod
    def read_graph(self, graph: str) -> list[Triple]: ...

    @abstractmethod
    def named_graphs(self) -> list[str]: ...

    def graph_exists(self, graph: str) -> bool:
        return self.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> None:
        """Replace a named graph's content in one atomic step (readers see old or new, never half)."""
        with self.transaction() as tx:
            tx.replace_graph(graph, triples)

    def delete_graph(self, graph: str) -> None:
        self.update(f"DROP SILENT GRAPH <{graph}>")

    # -- writes ----------------------------------------------------------------------------------
    def add(self, quads: Iterable[Quad]) -> None:
        """Add quads in one transaction."""
        with self.transaction() as tx:
            tx.add(quads)

    def remove(self, quads: Iterable[Quad]) -> None:
        with self.transaction() as tx:
            tx.remove(quads)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Collect changes and apply them all at once when the block ends without an exception."""
        tx = Transaction()
        yield tx
        text = tx.as_update()
        if text:
            self.update(text)

    @abstractmethod
    def bulk_load(self, data: RdfInput, format: RdfFormat, graph: str | None = None, lenient: bool = False) -> None:
        """Load a large amount of RDF fast, without the guarantees of a transaction.

        ``graph`` names the target graph for triple formats; quad formats carry their own graphs.
        ``lenient`` accepts IRIs that break RFC 3987 (real records contain IRIs with spaces) where the
        store can; the ingest parses and checks them itself first.
        """

    # -- counts ----------------------------------------------------------------------------------
    def count_triples(self, graph: str | None = None) -> int:
        """Triples in one named graph, or quads in the whole store (all graphs) when ``graph`` is None."""
        if graph is None:
            query = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
        else:
            query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        return self._count(query)

    def count_graphs(self, prefix: str = "") -> int:
        """Named graphs whose IRI starts with ``prefix``."""
        escaped = prefix.replace("\\", "\\\\").replace('"', '\\"')
        query = (
            "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER(STRSTARTS(STR(?g), "{escaped}")) }}'
        )
        return self._count(query)

    def _count(self, query: str) -> int:
        n = self.select(query)[0]["n"]
        if not isinstance(n, Literal):  # COUNT always binds a literal; this keeps the types honest
            raise StoreError(f"a COUNT query answered {n}")
        return int(n.value)

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data lives (a directory, ``:memory:``, or an endpoint URL), for messages."""

    def close(self) -> None:  # noqa: B027 - optional hook, not every store holds resources
        """Release files or connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def quads_in(graph: str, triples: Sequence[Triple]) -> list[Quad]:
    node = NamedNode(graph)
    return [Quad(t.subject, t.predicate, t.object, node) for t in triples]
