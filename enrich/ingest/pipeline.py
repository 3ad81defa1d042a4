"""The ingest run: documents → records → (validation) → journalled bulk writes, all or nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import IO, Literal, cast

import pyoxigraph
from pyoxigraph import RdfFormat

from enrich.ingest import registry
from enrich.ingest.errors import InputError, ValidationFailed
from enrich.ingest.journal import IngestJournal, recover
from enrich.ingest.progress import Progress
from enrich.ingest.records import Record, RecordNotSplittable, RecordSplitter, as_n_quads, checksum
from enrich.ingest.safety import LimitedStream
from enrich.ingest.sources import Document
from enrich.ingest.writer import Batch, write_batches
from enrich.mapping import crm as crm_mapping
from enrich.mapping.crm import CrmError, CrmOptions
from enrich.mapping.linked_art import LinkedArtError
from enrich.namespaces import ENR, Graphs
from enrich.settings import Settings
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from enrich.validation import CompiledShapes, Violation

# Triples pulled from the parser per serialisation call: large enough to amortise the call, small
# enough to keep memory flat on million-record files.
_PARSE_CHUNK = 50_000
# Invalid records listed in full in an error message (all of them go to the report file).
_LISTED_INVALID = 20


@dataclass
class IngestOptions:
    validate: bool = True
    skip_invalid: bool = False
    dataset: str | None = None
    #: Base IRI for relative IRIs in the input (``rdf:about="#x"``); default ``{base_iri}resource/``.
    base_iri: str | None = None
    report_path: Path | None = None
    progress: bool | None = None
    #: What the input is: EDM, CIDOC-CRM / Linked Art (converted to EDM), or told apart per document
    #: ("auto": a document with no EDM record but with E22 Human-Made Objects is CIDOC-CRM).
    source_model: Literal["auto", "edm", "crm"] = "auto"
    #: Aggregation fields that CIDOC-CRM input does not carry (provider; data provider and rights as fallbacks).
    crm: CrmOptions = field(default_factory=CrmOptions)


@dataclass
class ConvertedRecord(Record):
    """A record converted from CIDOC-CRM: the EDM view in ``lines``, the CRM it was read from in ``original``."""

    original: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Both parts decide whether a re-ingest changes anything: CRM the EDM view leaves out counts too.
        self.checksum = checksum([*self.lines, *self.original])


@dataclass
class InvalidRecord:
    record_id: str
    cho: str
    source: str
    violations: list[Violation]

    def describe(self) -> str:
        rules = "; ".join(f"{v.path or 'record'}: {v.message} [{v.shape.rsplit('#', 1)[-1]}]" for v in self.violations)
        return f"<{self.cho}> ({self.source}): {rules}"


@dataclass
class IngestReport:
    transaction: str
    documents: int = 0
    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    #: Records converted from CIDOC-CRM / Linked Art (counted in ``records`` as well).
    converted: int = 0
    invalid: list[InvalidRecord] = field(default_factory=list)
    orphan_triples: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    report_path: str | None = None

    @property
    def written(self) -> int:
        return self.new + self.updated

    def summary(self) -> str:
        rate = self.records / self.seconds if self.seconds else 0.0
        text = (
            f"{self.documents} document(s), {self.records} record(s): {self.new} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.duplicates} repeated, {len(self.invalid)} invalid; "
            f"{self.seconds:.2f} s ({rate:,.0f} records/s)"
        )
        if self.converted:
            text += f"; {self.converted} converted from CIDOC-CRM"
        if self.report_path:
            text += f"; report: {self.report_path}"
        return text

    def to_json(self) -> str:
        data = asdict(self)
        data["invalid"] = [
            {**asdict(item), "violations": [asdict(v) for v in item.violations]} for item in self.invalid
        ]
        return json.dumps(data, indent=2, ensure_ascii=False)


class Ingestor:
    """Ingests documents into a store as one all-or-nothing transaction."""

    def __init__(self, store: Store, settings: Settings | None = None, options: IngestOptions | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        self.options = options or IngestOptions()
        self.graphs = Graphs(self.settings.base_iri)
        self.base_iri = self.options.base_iri or self.graphs.base + "/resource/"
        self.shapes = CompiledShapes.edm() if self.options.validate else None
        # Per record id hash: (index of the source in _sources, checksum hash). Integers keep a
        # million-record ingest small in memory.
        self._seen: dict[int, tuple[int, int]] = {}
        self._sources: list[str] = []
        self._across_documents = True

    def run(self, documents: Iterable[Document]) -> IngestReport:
        docs = list(documents)
        # Repeats across documents need a memory of every record read; one document needs none.
        self._across_documents = len(docs) > 1
        report_path = self.options.report_path
        if report_path is not None and not report_path.parent.is_dir():
            # Found out before anything is written, not after the commit.
            raise InputError(str(report_path), "cannot write the report there: no such directory")
        tx_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        report = IngestReport(transaction=tx_id)
        started = self._started = time.perf_counter()
        if isinstance(self.store, EmbeddedStore):
            # The embedded store is locked to this process, so any unfinished ingest is a crashed one.
            report.warnings += recover(self.store, self.graphs)
        journal = IngestJournal(self.store, self.graphs, tx_id)
        journal.begin(", ".join(d.name for d in docs)[:2000])
        progress = Progress(sum(d.size or 0 for d in docs) or None, self.options.progress)
        self._registry_empty = not self.store.ask(
            f"ASK {{ GRAPH <{self.graphs.system}> {{ ?record <{ENR}checksum> ?checksum }} }}"
        )
        try:
            write_batches(self.store, journal, self._batches(docs, report, progress))
            self._check_invalid(report)
            journal.commit()
        except BaseException:
            journal.rollback()
            raise
        finally:
            progress.close()
            report.seconds = time.perf_counter() - started
            if report.report_path is None:
                self._write_report(report)
        return report

    def _batches(self, docs: list[Document], report: IngestReport, progress: Progress) -> Iterator[Batch]:
        pending: list[Record] = []
        finished_bytes = 0
        batch_size = self.settings.ingest_batch_records
        for doc in docs:
            report.documents += 1
            for record, stream in self._document_records(doc, report):
                self.check_record(record)
                report.records += 1
                pending.append(record)
                if len(pending) >= batch_size:
                    yield from self._prepare(self._valid(pending, report), report)
                    pending = []
                progress.update(report.records, finished_bytes + stream.bytes_read)
            finished_bytes += doc.size or 0
        yield from self._prepare(self._valid(pending, report), report)

    def _valid(self, records: list[Record], report: IngestReport) -> list[Record]:
        """The records that pass the shapes; the others go to the report. Once any record failed and
        invalid ones are not skipped, the ingest will be rolled back: keep validating, write nothing."""
        if self.shapes is not None and records:
            valid = []
            for record, violations in zip(records, self.shapes.validate_many(r.lines for r in records), strict=True):
                if violations:
                    report.invalid.append(InvalidRecord(record.id, record.cho, record.source, violations))
                else:
                    valid.append(record)
            records = valid
        # Duplicates are judged among valid records only: an invalid copy is reported, never compared.
        records = [record for record in records if self._claim(record, report)]
        return [] if report.invalid and not self.options.skip_invalid else records

    def _claim(self, record: Record, report: IngestReport) -> bool:
        if not self._across_documents:
            return True  # within one document the splitter already refuses a record read twice
        """Whether the record is new to this ingest. A second, identical copy (exports often repeat a
        record in several files) is skipped with a warning; a copy with different content is an error,
        since nothing says which version is meant."""
        key = hash(record.id)
        first = self._seen.get(key)
        if first is None:
            if not self._sources or self._sources[-1] != record.source:
                self._sources.append(record.source)
            self._seen[key] = (len(self._sources) - 1, hash(record.checksum))
            return True
        source, checksum = self._sources[first[0]], first[1]
        if checksum != hash(record.checksum):
            raise InputError(
                record.source,
                f"record <{record.cho}> was already read, with different content, from {source}; "
                "ingest the two separately, in the order you mean",
            )
        report.duplicates += 1
        report.warnings.append(f"{record.source}: record <{record.cho}> repeats the identical copy in {source}")
        return False

    def _prepare(self, records: list[Record], report: IngestReport) -> Iterator[Batch]:
        """Turn records into one batch of N-Quads, leaving out those the store already holds unchanged."""
        if not records:
            return
        ids = [r.id for r in records]
        # A first load into an empty registry needs no look-ups (the common case for big loads).
        known = {} if self._registry_empty else registry.lookup(self.store, self.graphs, ids)
        new_ids: list[str] = []
        replaced_ids: list[str] = []
        parts: list[str] = []
        for record in records:
            known_checksum = known.get(record.id)
            if known_checksum == record.checksum:
                report.unchanged += 1
                continue
            if known_checksum is None:
                new_ids.append(record.id)
                report.new += 1
            else:
                replaced_ids.append(record.id)
                report.updated += 1
            parts.append(record.n_quads(self.graphs.record(record.id)))
            if isinstance(record, ConvertedRecord):
                parts.append(as_n_quads(record.original, self.graphs.original(record.id)))
            parts.append(registry.registry_n_quads(record, self.graphs, self.options.dataset))
        if parts:
            yield Batch(new_ids, replaced_ids, "".join(parts).encode("utf-8"))

    def _check_invalid(self, report: IngestReport) -> None:
        if not report.invalid or self.options.skip_invalid:
            return
        report.seconds = time.perf_counter() - self._started
        self._write_report(report)
        where = f"; the full list is in {report.report_path}" if report.report_path else ""
        listed = "\n".join(f"  - {item.describe()}" for item in report.invalid[:_LISTED_INVALID])
        more = len(report.invalid) - _LISTED_INVALID
        extra = f"\n  … and {more} more (see the report)" if more > 0 else ""
        raise ValidationFailed(
            f"{len(report.invalid)} record(s) break the EDM rules; nothing was written "
            f"(use --skip-invalid to import the valid ones){where}:\n{listed}{extra}",
            len(report.invalid),
        )

    def _write_report(self, report: IngestReport) -> None:
        """Write the JSON report where asked, or beside the user when records were invalid."""
        path = self.options.report_path
        if path is None and report.invalid:
            path = Path(f"ingest-report-{report.transaction}.json")
        if path is None:
            return
        report.report_path = str(path)
        try:
            path.write_text(report.to_json(), encoding="utf-8")
        except OSError as exc:
            # The data is already committed (or rolled back); a report we cannot write must not undo that.
            report.warnings.append(f"could not write the report to {path}: {exc}")
            report.report_path = None

    def check_record(self, record: Record) -> None:
        """Called for every record as it is read, before its batch is written. A subclass may raise an
        :class:`~enrich.ingest.errors.IngestError` to refuse it (the API's PUT refuses a body holding any
        other record), which rolls the whole ingest back. Nothing is refused here."""

    # -- parsing -----------------------------------------------------------------------------------
    def _document_records(self, doc: Document, report: IngestReport) -> Iterator[tuple[Record, LimitedStream]]:
        """Records of one document. Strict parsing first; IRIs that break RFC 3987 (spaces, say), which
        real Europeana records contain, get a second, lenient pass and a warning. In "auto" mode a
        document without EDM records (or a JSON-LD one naming a remote context, as Linked Art does) is
        read again as CIDOC-CRM."""
        model = self.options.source_model
        if model == "crm":
            yield from self._converted_records(doc, report)
            return
        emitted = 0
        for lenient in (False, True):
            splitter = RecordSplitter(doc.name)
            with doc.open(self.settings.max_input_bytes) as stream:
                try:
                    chunks = self._chunks(doc, stream, lenient)
                    records = chain((r for chunk in chunks for r in splitter.feed(chunk)), splitter.finish())
                    # Both passes read the same lines up to the strict pass's error, so the second
                    # skips the records the first already handed out.
                    for position, record in enumerate(records):
                        if position >= emitted:
                            emitted += 1
                            yield record, stream
                except _InvalidIri as exc:
                    report.warnings.append(f"{doc.name}: {exc}; IRIs kept as written")
                    continue
                except RecordNotSplittable as exc:
                    raise InputError(doc.name, str(exc)) from exc
                except InputError as exc:
                    if not (model == "auto" and not emitted and _REMOTE_CONTEXT in exc.problem):
                        raise
            if not emitted:
                if model == "auto":
                    yield from self._converted_records(doc, report, lenient)
                    return
                raise InputError(
                    doc.name, "no EDM record found (no edm:ProvidedCHO, edm:aggregatedCHO or ore:proxyFor)"
                )
            if splitter.orphans:
                report.orphan_triples += len(splitter.orphans)
                subjects = sorted({line.split(" ", 1)[0] for line in splitter.orphans})
                report.warnings.append(
                    f"{doc.name}: {len(splitter.orphans)} triple(s) about {len(subjects)} resource(s) belong to "
                    f"no record and were not imported (first: {subjects[0]})"
                )
            return

    def _converted_records(
        self, doc: Document, report: IngestReport, lenient_only: bool = False
    ) -> Iterator[tuple[Record, LimitedStream]]:
        """Records of a CIDOC-CRM / Linked Art document: one per E22 Human-Made Object, its EDM view as the
        record and its CRM triples kept beside it. ``lenient_only`` when an earlier pass needed lenient IRIs."""
        for lenient in (True,) if lenient_only else (False, True):
            with doc.open(self.settings.max_input_bytes) as stream:
                try:
                    triples = crm_mapping.parse(cast(IO[bytes], stream), doc.format, self.base_iri, lenient)
                    objects = crm_mapping.convert(triples, self.options.crm)
                except SyntaxError as exc:
                    error = _syntax_error(doc, exc, None, lenient)
                    if isinstance(error, _InvalidIri):
                        report.warnings.append(f"{doc.name}: {error}; IRIs kept as written")
                        continue
                    raise error from exc
                except LinkedArtError as exc:
                    raise InputError(doc.name, f"{doc.format.name} syntax error: {exc}", exc.line, exc.column) from exc
                except CrmError as exc:
                    raise InputError(doc.name, str(exc)) from exc
                if not objects:
                    raise InputError(
                        doc.name,
                        "no EDM record found (no edm:ProvidedCHO, edm:aggregatedCHO or ore:proxyFor) and no "
                        "CIDOC-CRM object (crm:E22_Human-Made_Object)",
                    )
                for converted in objects:
                    report.converted += 1
                    yield ConvertedRecord(converted.iri, converted.edm, doc.name, converted.crm), stream
            return

    def _chunks(self, doc: Document, stream: LimitedStream, lenient: bool) -> Iterator[list[str]]:
        """The document as N-Triples lines, a chunk at a time (a generator step per line costs too much)."""
        parser = pyoxigraph.parse(
            cast(IO[bytes], stream),
            doc.format,
            base_iri=self.base_iri,
            rename_blank_nodes=True,
            lenient=lenient,
        )
        has_graphs = doc.format in (RdfFormat.N_QUADS, RdfFormat.TRIG)
        read = 0
        while True:
            try:
                chunk = list(islice(parser, _PARSE_CHUNK))
            except SyntaxError as exc:
                raise _syntax_error(doc, exc, read, lenient) from exc
            if not chunk:
                return
            read += len(chunk)
            if has_graphs:  # records are rebuilt from triples; the input's graph names carry no meaning here
                chunk = [pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in chunk]
            text = pyoxigraph.serialize(chunk, format=RdfFormat.N_TRIPLES) or b""
            yield text.decode("utf-8").split("\n")


class _InvalidIri(Exception):
    pass


# How Oxigraph's JSON-LD parser says that a document names a remote context (Linked Art's, say).
_REMOTE_CONTEXT = "load remote contexts"


def _syntax_error(doc: Document, exc: SyntaxError, triples_read: int | None, lenient: bool) -> Exception:
    message = str(exc.msg if exc.msg else exc)
    if not lenient and ("IRI" in message or "iri" in message):
        return _InvalidIri(message)
    where = "" if exc.lineno or triples_read is None else f" (after {triples_read:,} triples)"
    return InputError(doc.name, f"{doc.format.name} syntax error: {message}{where}", exc.lineno, exc.offset)
