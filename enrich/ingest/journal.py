"""Write-ahead journal that makes a whole ingest all-or-nothing while data moves in fast bulk loads.

Bulk loading gives no transaction, so an ingest keeps a small journal in the system graph:

1. ``begin`` records the ingest as in progress.
2. Before each batch is bulk-loaded, one atomic update journals the ids it will touch, copies the
   previous version of every record it replaces (record graph, original graph of a record converted
   from CIDOC-CRM, registry entry) into backup graphs, and removes those previous versions.
3. ``commit`` flips the ingest to committed in one atomic update, then removes backups and journal.

``rollback`` (on an error, Ctrl-C, or at the next start after a crash) drops whatever the journal says
the ingest touched and puts the backed-up versions back, so readers end up with exactly the data that
was there before. A crash after ``commit`` leaves only clean-up to finish.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from enrich.namespaces import ENR, PROV, RDF_TYPE, XSD, Graphs
from enrich.store.base import Store, text

_IN_PROGRESS = f"<{ENR}InProgress>"
_COMMITTED = f"<{ENR}Committed>"
# Journal and rollback updates are sent in slices so that no single request grows without bound.
_IDS_PER_UPDATE = 500


def string_literal(text: str) -> str:
    if not any(ch in text for ch in '\\"\n\r'):
        return f'"{text}"'  # the common case, on the hot path of the ingest (three literals per record)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def now_literal() -> str:
    stamp = datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'"{stamp}"^^<{XSD}dateTime>'


class IngestJournal:
    def __init__(self, store: Store, graphs: Graphs, tx_id: str) -> None:
        self.store = store
        self.graphs = graphs
        self.tx_id = tx_id
        self.node = f"<{graphs.ingest_transaction(tx_id)}>"
        self._system = f"<{graphs.system}>"

    def _record_graph(self, record_id: str) -> str:
        return f"<{self.graphs.record(record_id)}>"

    def _original_graph(self, record_id: str) -> str:
        return f"<{self.graphs.original(record_id)}>"

    def _registry_node(self, record_id: str) -> str:
        return f"<{self.graphs.record_node(record_id)}>"

    def _backup(self, kind: str, record_id: str) -> str:
        return f"<{self.graphs.backup(self.tx_id)}/{kind}/{record_id}>"

    def begin(self, description: str) -> None:
        self.store.update(
            f"INSERT DATA {{ GRAPH {self._system} {{ {self.node} <{RDF_TYPE}> <{ENR}IngestTransaction> ; "
            f"<{ENR}state> {_IN_PROGRESS} ; <{PROV}startedAtTime> {now_literal()} ; "
            f"<{ENR}description> {string_literal(description)} . }} }}"
        )

    def prepare_batch(self, new_ids: Sequence[str], replaced_ids: Sequence[str]) -> None:
        """Journal a batch and move the versions it replaces into backups, in one atomic update."""
        operations = []
        journal = []
        if new_ids:
            journal.append(f"{self.node} <{ENR}touched> {string_literal(' '.join(new_ids))} .")
        if replaced_ids:
            journal.append(f"{self.node} <{ENR}replaced> {string_literal(' '.join(replaced_ids))} .")
        for record_id in replaced_ids:
            node = self._registry_node(record_id)
            operations += [
                f"COPY SILENT {self._record_graph(record_id)} TO {self._backup('record', record_id)}",
                # An EDM record has no original graph: copying a graph that does not exist copies nothing.
                f"COPY SILENT {self._original_graph(record_id)} TO {self._backup('original', record_id)}",
                f"INSERT {{ GRAPH {self._backup('registry', record_id)} {{ {node} ?p ?o }} }} "
                f"WHERE {{ GRAPH {self._system} {{ {node} ?p ?o }} }}",
                f"DROP SILENT GRAPH {self._record_graph(record_id)}",
                f"DROP SILENT GRAPH {self._original_graph(record_id)}",
                f"DELETE WHERE {{ GRAPH {self._system} {{ {node} ?p ?o }} }}",
            ]
        if not journal:
            return
        operations.insert(0, f"INSERT DATA {{ GRAPH {self._system} {{ {' '.join(journal)} }} }}")
        self.store.update(" ;\n".join(operations))

    def commit(self) -> None:
        self.store.update(
            f"DELETE WHERE {{ GRAPH {self._system} {{ {self.node} <{ENR}state> ?s }} }} ;\n"
            f"INSERT DATA {{ GRAPH {self._system} {{ {self.node} <{ENR}state> {_COMMITTED} ; "
            f"<{PROV}endedAtTime> {now_literal()} . }} }}"
        )
        self.clean_up()

    def rollback(self) -> None:
        """Undo everything the journal says this ingest touched, restoring replaced versions."""
        touched, replaced = self._journalled_ids()
        for chunk in _chunks(touched, _IDS_PER_UPDATE):
            self.store.update(" ;\n".join(op for rid in chunk for op in self._drop_ops(rid)))
        for chunk in _chunks(replaced, _IDS_PER_UPDATE):
            operations = []
            for record_id in chunk:
                operations += self._drop_ops(record_id)
                operations += [
                    f"COPY SILENT {self._backup('record', record_id)} TO {self._record_graph(record_id)}",
                    f"COPY SILENT {self._backup('original', record_id)} TO {self._original_graph(record_id)}",
                    f"ADD SILENT {self._backup('registry', record_id)} TO {self._system}",
                ]
            self.store.update(" ;\n".join(operations))
        self.clean_up(replaced)

    def _drop_ops(self, record_id: str) -> list[str]:
        node = self._registry_node(record_id)
        return [
            f"DROP SILENT GRAPH {self._record_graph(record_id)}",
            f"DROP SILENT GRAPH {self._original_graph(record_id)}",
            f"DELETE WHERE {{ GRAPH {self._system} {{ {node} ?p ?o }} }}",
        ]

    def _journalled_ids(self) -> tuple[list[str], list[str]]:
        rows = self.store.select(
            f"SELECT ?kind ?ids WHERE {{ GRAPH {self._system} {{ {self.node} ?kind ?ids "
            f"FILTER(?kind IN (<{ENR}touched>, <{ENR}replaced>)) }} }}"
        )
        touched: list[str] = []
        replaced: list[str] = []
        for row in rows:
            target = replaced if text(row["kind"]) == f"{ENR}replaced" else touched
            target.extend(text(row["ids"]).split())
        return touched, replaced

    def clean_up(self, replaced: list[str] | None = None) -> None:
        """Drop the backups and the journal; ``replaced`` saves reading the journal again."""
        if replaced is None:
            _, replaced = self._journalled_ids()
        for chunk in _chunks(replaced, _IDS_PER_UPDATE):
            self.store.update(
                " ;\n".join(
                    f"DROP SILENT GRAPH {self._backup(kind, rid)}"
                    for rid in chunk
                    for kind in ("record", "original", "registry")
                )
            )
        self.store.update(f"DELETE WHERE {{ GRAPH {self._system} {{ {self.node} ?p ?o }} }}")


def unfinished_ingests(store: Store, graphs: Graphs) -> list[tuple[str, bool]]:
    """Ingest transactions left in the journal: (transaction id, whether it had committed)."""
    prefix = graphs.ingest_transaction("")
    rows = store.select(
        f"SELECT ?tx ?state WHERE {{ GRAPH <{graphs.system}> {{ ?tx a <{ENR}IngestTransaction> ; "
        f"<{ENR}state> ?state }} }}"
    )
    return [
        (text(row["tx"]).removeprefix(prefix), text(row["state"]) == f"{ENR}Committed")
        for row in rows
        if text(row["tx"]).startswith(prefix)
    ]


def recover(store: Store, graphs: Graphs) -> list[str]:
    """Finish or undo ingests interrupted by a crash; returns what was done, one line per ingest."""
    done = []
    for tx_id, committed in unfinished_ingests(store, graphs):
        journal = IngestJournal(store, graphs, tx_id)
        if committed:
            journal.clean_up()
            done.append(f"ingest {tx_id}: committed before the interruption; finished clean-up")
        else:
            journal.rollback()
            done.append(f"ingest {tx_id}: interrupted before commit; rolled back")
    return done


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
