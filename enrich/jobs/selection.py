"""Which records a run covers, read from the registry in keyset-paged batches of record ids.

Records are taken in id order; a batch is "the next ``size`` live record ids after the last one done",
so a run killed after any batch resumes from its checkpoint (the last id done) by asking for the ids
after it. Records ingested while a run goes on are picked up by its next resume, if they sort after the
checkpoint, or by the next run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from enrich.ingest.errors import InputError
from enrich.ingest.journal import string_literal
from enrich.namespaces import ENR, XSD, Graphs
from enrich.store.base import Store, text

SelectionKind = Literal["all", "dataset", "records", "since"]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_IDS_PER_QUERY = 5000


@dataclass(frozen=True, slots=True)
class Selection:
    """All records, one dataset, a list of record ids, or the records changed since a moment (UTC)."""

    kind: SelectionKind = "all"
    dataset: str | None = None
    record_ids: tuple[str, ...] = ()
    since: str | None = None  # xsd:dateTime lexical form, UTC

    @classmethod
    def all(cls) -> Selection:
        return cls()

    @classmethod
    def of_dataset(cls, name: str) -> Selection:
        return cls("dataset", dataset=name)

    @classmethod
    def of_records(cls, record_ids: Sequence[str]) -> Selection:
        return cls("records", record_ids=tuple(sorted(set(record_ids))))

    @classmethod
    def from_file(cls, path: Path) -> Selection:
        """Record ids (or ProvidedCHO IRIs), one a line; blank lines and ``#`` comments are skipped."""
        from enrich.records_admin import resolve_record_id

        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(str(path), f"cannot read the record list: {exc}") from exc
        ids = [resolve_record_id(line.strip()) for line in lines if line.strip() and not line.startswith("#")]
        if not ids:
            raise InputError(str(path), "no record id in the file")
        return cls.of_records(ids)

    @classmethod
    def changed_since(cls, moment: str) -> Selection:
        """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 date-time (with an offset, or taken as UTC)."""
        value = moment.strip()
        try:
            parsed = datetime.fromisoformat(value + "T00:00:00" if _DATE.match(value) else value)
        except ValueError as exc:
            raise InputError(moment, "not a date (YYYY-MM-DD) or ISO 8601 date-time") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        stamp = parsed.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
        return cls("since", since=stamp)

    def describe(self) -> str:
        """What ``enr:recordSelection`` says, and what the definition hash covers."""
        if self.kind == "dataset":
            return f"dataset {self.dataset}"
        if self.kind == "records":
            return f"{len(self.record_ids)} record id(s): {' '.join(self.record_ids[:5])}" + (
                " …" if len(self.record_ids) > 5 else ""
            )
        if self.kind == "since":
            return f"changed since {self.since}"
        return "all records"

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "dataset": self.dataset, "records": list(self.record_ids), "since": self.since}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Selection:
        kind = str(data.get("kind", "all"))
        if kind == "dataset":
            return cls.of_dataset(str(data["dataset"]))
        if kind == "records":
            records = data.get("records") or []
            assert isinstance(records, list)
            return cls.of_records([str(r) for r in records])
        if kind == "since":
            return cls("since", since=str(data["since"]))
        return cls.all()

    # -- reading the registry ------------------------------------------------------------------------

    def _conditions(self) -> str:
        if self.kind == "dataset":
            return f"?r <{ENR}dataset> {string_literal(self.dataset or '')} ."
        if self.kind == "since":
            return f'?r <{ENR}datestamp> ?stamp . FILTER (?stamp >= "{self.since}"^^<{XSD}dateTime>)'
        return ""

    def remaining(self, store: Store, graphs: Graphs, after: str | None) -> list[str]:
        """The live (not deleted) record ids after ``after``, in id order.

        Oxigraph sorts IRIs slowly (a dictionary look-up per comparison: ``ORDER BY … LIMIT 500`` costs
        0.2 s a page over 5,000 records), so the registry is scanned once, unsorted, and the ids are
        sorted here: one scan per run (or resume) instead of one sort per page.
        """
        prefix = graphs.record_node("")
        after_filter = f"FILTER (STR(?r) > {string_literal(prefix + after)})" if after is not None else ""
        chunks = [""]
        if self.kind == "records":
            wanted = [rid for rid in self.record_ids if after is None or rid > after]
            chunks = [
                "VALUES ?r { "
                + " ".join(f"<{graphs.record_node(rid)}>" for rid in wanted[i : i + _IDS_PER_QUERY])
                + " }"
                for i in range(0, len(wanted), _IDS_PER_QUERY)
            ]
        found: list[str] = []
        for values in chunks:
            rows = store.select(
                f"SELECT ?r WHERE {{ {values} GRAPH <{graphs.system}> {{ ?r <{ENR}cho> ?cho . {self._conditions()} "
                f"FILTER NOT EXISTS {{ ?r <{ENR}deleted> true }} }} {after_filter} }}"
            )
            found += [text(row["r"]).removeprefix(prefix) for row in rows]
        return sorted(set(found))

    def pages(self, store: Store, graphs: Graphs, after: str | None, size: int) -> Iterator[list[str]]:
        """Batches of ``size`` record ids after ``after``, in id order (keyset: a checkpoint is the last id)."""
        ids = self.remaining(store, graphs, after)
        for start in range(0, len(ids), size):
            yield ids[start : start + size]
