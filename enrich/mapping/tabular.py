"""Museum table exports (CSV) → EDM records, through a declarative per-source mapping.

Rows stream in and N-Triples stream out, into a spooled temporary file that becomes one
:class:`~enrich.ingest.sources.Document` for :class:`~enrich.ingest.pipeline.Ingestor`: each row an
``edm:ProvidedCHO``, its ``ore:Aggregation`` and the contextual entities it needs (agents, time
spans, web resources). Free text is looked up in vocabularies (``oil on canvas`` → oil paint, canvas)
through label indexes the caller builds, so this module never touches a store.

Nothing the provider wrote is dropped for being imperfect: a looked-up value keeps its text beside the
concept, and every row that needs a person's eye (no title, a date that does not parse, a phrase that
matches no concept or several) is listed in the :class:`TabularReport` with its reasons. A row that
cannot become a valid record (no id, say) is skipped *and reported*. A table that cannot be read as
the mapping says (wrong encoding, broken quoting, a row of the wrong width, limits exceeded) stops the
conversion with an :class:`~enrich.ingest.errors.InputError` naming the row, before anything is ingested.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
import time
import weakref
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from pyoxigraph import Literal, NamedNode, RdfFormat

from enrich.ingest.errors import InputError
from enrich.ingest.safety import Readable
from enrich.ingest.sources import Document
from enrich.mapping.tabular_spec import (
    Entity,
    FieldRule,
    Lookup,
    MappingError,
    TabularMapping,
    find_mapping,
    load_mapping,
    required_facets,
)
from enrich.namespaces import DC, DCTERMS, EDM, ORE, RDF_TYPE, SKOS
from enrich.vocab.labels import LabelIndex

__all__ = [
    "MappingError",
    "RowIssue",
    "TableLimits",
    "TabularMapping",
    "TabularReport",
    "convert_table",
    "find_mapping",
    "load_mapping",
    "required_facets",
]

#: Properties of the aggregation, not of the object (EDM puts them there).
_AGGREGATION_PROPERTIES = frozenset(
    EDM + name
    for name in ("isShownAt", "isShownBy", "object", "hasView", "provider", "dataProvider", "intermediateProvider")
) | {EDM + "rights", EDM + "ugc"}
#: At most one value each (EDM's XML Schema); further values become edm:hasView.
_SINGLE_LINKS = frozenset({EDM + "isShownAt", EDM + "isShownBy", EDM + "object"})
_WEB_RESOURCE_LINKS = _SINGLE_LINKS | {EDM + "hasView"}
_ISO_DATE = re.compile(r"^(-?)(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_PHRASE_EDGES = " \t.,;:"


@dataclass(frozen=True)
class TableLimits:
    """Guards against hostile or runaway tables."""

    max_bytes: int = 2 * 1024**3
    max_rows: int = 5_000_000
    #: Characters in one cell (Python's csv module refuses more than 131,072 on its own).
    max_field_chars: int = 100_000
    #: Bytes in one physical line: a file without line breaks is not read into memory whole.
    max_line_bytes: int = 4 * 1024 * 1024


@dataclass
class RowIssue:
    """A row that needs attention: data row number (1 = first after the header), the line it starts
    on, its record id and object IRI when known, and the reasons (``code: detail``)."""

    row: int
    line: int
    record_id: str | None
    cho: str | None
    reasons: list[str]
    skipped: bool = False


@dataclass
class LookupStats:
    """Phrases looked up in one facet, by outcome, with the phrases that need vocabulary work."""

    matched: int = 0
    ambiguous: int = 0
    unmatched: int = 0
    unmatched_phrases: Counter[str] = field(default_factory=Counter)
    ambiguous_phrases: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class TabularReport:
    source: str
    table: str
    rows_read: int = 0
    rows_converted: int = 0
    triples: int = 0
    seconds: float = 0.0
    issues: list[RowIssue] = field(default_factory=list)
    lookups: dict[str, LookupStats] = field(default_factory=dict)

    @property
    def rows_skipped(self) -> int:
        return sum(1 for issue in self.issues if issue.skipped)

    @property
    def rows_needing_attention(self) -> int:
        return len(self.issues)

    @property
    def reason_counts(self) -> dict[str, int]:
        """Rows per reason code, most frequent first (a row counts once per code)."""
        counts: Counter[str] = Counter()
        for issue in self.issues:
            counts.update({reason.split(": ", 1)[0] for reason in issue.reasons})
        return dict(counts.most_common())

    def summary(self) -> str:
        reasons = "; ".join(f"{code} {count:,}" for code, count in self.reason_counts.items())
        text = (
            f"{self.table}: {self.rows_read:,} row(s), {self.rows_converted:,} converted, "
            f"{self.rows_skipped:,} skipped, {self.rows_needing_attention:,} need attention"
            + (f" ({reasons})" if reasons else "")
        )
        for facet, stats in self.lookups.items():
            text += (
                f"; {facet} phrases: {stats.matched:,} matched, {stats.ambiguous:,} ambiguous, "
                f"{stats.unmatched:,} unmatched"
            )
        return text + f"; {self.seconds:.2f} s"

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "source": self.source,
            "table": self.table,
            "rows_read": self.rows_read,
            "rows_converted": self.rows_converted,
            "rows_skipped": self.rows_skipped,
            "rows_needing_attention": self.rows_needing_attention,
            "triples": self.triples,
            "seconds": round(self.seconds, 3),
            "reasons": self.reason_counts,
            "lookups": {
                facet: {
                    "matched": stats.matched,
                    "ambiguous": stats.ambiguous,
                    "unmatched": stats.unmatched,
                    "unmatched_phrases": dict(stats.unmatched_phrases.most_common()),
                    "ambiguous_phrases": stats.ambiguous_phrases,
                }
                for facet, stats in self.lookups.items()
            },
            "rows": [asdict(issue) for issue in self.issues],
        }
        return json.dumps(data, indent=2, ensure_ascii=False)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")


def convert_table(
    csv_path: Path,
    mapping: TabularMapping,
    lookups: Mapping[str, LabelIndex],
    *,
    base_iri: str | None = None,
    limits: TableLimits | None = None,
) -> tuple[Document, TabularReport]:
    """Convert a table to one N-Triples document of EDM records, and report the rows that need attention.

    ``lookups`` holds a label index for each facet of :func:`required_facets`; ``base_iri`` fills
    ``{base}`` in IRI templates (default: the service's configured base IRI). The document may hold no
    record at all when every row was skipped: check ``report.rows_converted``.
    """
    missing = sorted(required_facets(mapping) - set(lookups))
    if missing:
        raise ValueError(f"mapping {mapping.source!r} looks values up in facet(s) without a label index: {missing}")
    if base_iri is None:
        from enrich.settings import Settings

        base_iri = Settings().base_iri
    converter = _Converter(mapping, lookups, base_iri if base_iri.endswith(("/", "#")) else base_iri + "/")
    return converter.run(csv_path, limits or TableLimits())


# -- reading -----------------------------------------------------------------------------------------------
class _Undecodable(Exception):
    pass


class _Lines:
    """Physical lines of the table, decoded one by one, so an encoding error names its line."""

    def __init__(self, stream: IO[bytes], encoding: str, name: str, limits: TableLimits) -> None:
        self._stream = stream
        self._encoding = encoding
        self._name = name
        self._limits = limits
        self.number = 0
        self.bytes_read = 0

    def __iter__(self) -> Iterator[str]:
        limit = self._limits.max_line_bytes
        while raw := self._stream.readline(limit + 1):
            self.number += 1
            self.bytes_read += len(raw)
            if len(raw) > limit:
                raise InputError(self._name, f"a line longer than {limit:,} bytes", line=self.number)
            if self.bytes_read > self._limits.max_bytes:
                raise InputError(self._name, f"input is larger than the limit of {self._limits.max_bytes:,} bytes")
            try:
                text = raw.decode(self._encoding)
            except UnicodeDecodeError as exc:
                raise _Undecodable(f"byte {exc.start + 1} of the line is not {self._encoding} ({exc.reason})") from None
            yield text.removeprefix("\ufeff") if self.number == 1 else text


def _iso_date(text: str) -> tuple[int, int, int] | None:
    """``1855``, ``1855-03`` or ``1855-03-01`` (``-0206`` for 207 BCE, astronomical years) → a sort key."""
    match = _ISO_DATE.match(text)
    if match is None:
        return None
    sign, year_text, month_text, day_text = match.groups()
    year = -int(year_text) if sign else int(year_text)
    month = int(month_text) if month_text else 1
    day = int(day_text) if day_text else 1
    if not 1 <= month <= 12:
        return None
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= (_DAYS[month - 1] if month != 2 or leap else 28):
        return None
    return (year, month, day)


# -- writing -----------------------------------------------------------------------------------------------
def _literal(text: str, language: str | None = None) -> str:
    return str(Literal(text, language=language))


def _link(text: str) -> str | None:
    """``<iri>`` for an absolute http(s) IRI, else None."""
    if not text.startswith(("http://", "https://")):
        return None
    try:
        return str(NamedNode(text))
    except ValueError:
        return None


class _Record:
    """The N-Triples lines of one row's record, each once.

    The object's and the aggregation's lines come first, the entities they link to after them: the
    ingest streams large documents in windows, and an entity read before the link to it would be left
    behind if a window ended between the two.
    """

    def __init__(self, cho: str, aggregation: str) -> None:
        self.cho = cho
        self.aggregation = aggregation
        self.own: dict[str, None] = {}
        self.entities: dict[str, None] = {}
        self.properties: set[str] = set()  # on the object
        self.single_links: set[str] = set()

    def add(self, subject: str, predicate: str, obj: str) -> None:
        lines = self.own if subject in (self.cho, self.aggregation) else self.entities
        lines[f"{subject} <{predicate}> {obj} .\n"] = None

    @property
    def size(self) -> int:
        return len(self.own) + len(self.entities)

    def text(self) -> str:
        return "".join(self.own) + "".join(self.entities)

    def state(self, predicate: str, obj: str) -> None:
        """A statement about the record: on the aggregation for aggregation properties, else the object."""
        if predicate in _AGGREGATION_PROPERTIES:
            if predicate in _SINGLE_LINKS:
                if predicate in self.single_links:
                    predicate = EDM + "hasView"
                self.single_links.add(predicate)
            if predicate in _WEB_RESOURCE_LINKS:
                self.add(obj, RDF_TYPE, f"<{EDM}WebResource>")
            self.add(self.aggregation, predicate, obj)
        else:
            self.properties.add(predicate)
            self.add(self.cho, predicate, obj)

    def problems(self, edm_type: str) -> list[str]:
        """What keeps the record from passing the EDM shapes (shapes/edm.ttl), as far as rows decide it."""
        has = self.properties.__contains__
        found = []
        if not (has(DC + "title") or has(DC + "description")):
            found.append("no dc:title or dc:description")
        if not any(has(p) for p in (DC + "subject", DC + "type", DCTERMS + "spatial", DCTERMS + "temporal")):
            found.append("no dc:subject, dc:type, dcterms:spatial or dcterms:temporal")
        if edm_type == "TEXT" and not has(DC + "language"):
            found.append("edm:type TEXT without dc:language")
        if not self.single_links & {EDM + "isShownAt", EDM + "isShownBy"}:
            found.append("no edm:isShownAt or edm:isShownBy")
        return found


class _Row:
    """One data row being converted: its cleaned cells, template values and reasons for attention."""

    def __init__(self, number: int, line: int, raw: dict[str, str]) -> None:
        self.number = number
        self.line = line
        self.raw = raw
        #: Cells with runs of whitespace collapsed to one space and trimmed (what most rules want).
        self.cells = {column: " ".join(cell.split()) for column, cell in raw.items()}
        self.context: dict[str, str | None] = dict(self.cells)
        self.reasons: list[str] = []

    def cell(self, column: str, whitespace: str) -> str:
        return self.cells[column] if whitespace == "collapse" else self.raw[column].strip()

    def note(self, code: str, detail: str) -> None:
        self.reasons.append(f"{code}: {detail}")


class _Converter:
    def __init__(self, mapping: TabularMapping, lookups: Mapping[str, LabelIndex], base_iri: str) -> None:
        self.mapping = mapping
        self.lookups = lookups
        self.base_iri = base_iri
        self._resolved: dict[tuple[str, str], tuple[str, list[str]]] = {}
        self._first_row: dict[str, int] = {}
        self._edm_types = mapping.edm_type.folded_map

    def run(self, path: Path, limits: TableLimits) -> tuple[Document, TabularReport]:
        name = str(path)
        self.report = TabularReport(self.mapping.source, name)
        self.report.lookups = {facet: LookupStats() for facet in sorted(required_facets(self.mapping))}
        started = time.perf_counter()
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(name, f"cannot read the table: {exc.strerror or exc}") from None
        if size > limits.max_bytes:
            raise InputError(name, f"input is larger than the limit of {limits.max_bytes:,} bytes")
        spool = tempfile.SpooledTemporaryFile(max_size=64 * 1024**2)  # noqa: SIM115 - handed to the Document
        try:
            with path.open("rb") as stream:
                self._convert(stream, spool, name, limits)
        except BaseException:
            spool.close()
            raise
        self.report.seconds = time.perf_counter() - started
        written = spool.tell()

        def _open() -> AbstractContextManager[Readable]:
            spool.seek(0)
            return nullcontext(spool)  # kept open: the ingest may read the document twice

        label = f"{name} (as EDM by mapping {self.mapping.source})"
        document = Document(label, RdfFormat.N_TRIPLES, written, _open)
        # The spool (memory, or a temporary file past 64 MiB) lives as long as the document does.
        weakref.finalize(document, spool.close)
        return document, self.report

    def _convert(self, stream: IO[bytes], out: IO[bytes], name: str, limits: TableLimits) -> None:
        dialect = self.mapping.csv
        lines = _Lines(stream, dialect.encoding, name, limits)
        reader = csv.reader(iter(lines), delimiter=dialect.delimiter, quotechar=dialect.quotechar, strict=True)
        row_number = 0
        header: list[str] | None = None
        while True:
            start = lines.number + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except (csv.Error, _Undecodable) as exc:
                where = "the header" if header is None else f"row {row_number + 1}"
                raise InputError(name, f"{where}: {exc}", line=start) from None
            if header is None:
                header = self._header(cells, name)
                continue
            if not cells:
                continue  # a blank line
            row_number += 1
            if row_number > limits.max_rows:
                raise InputError(name, f"more than {limits.max_rows:,} rows, the limit", line=start)
            if len(cells) != len(header):
                raise InputError(
                    name, f"row {row_number} has {len(cells)} field(s) where the header has {len(header)}", line=start
                )
            for column, cell in zip(header, cells, strict=True):
                if len(cell) > limits.max_field_chars:
                    raise InputError(
                        name,
                        f"row {row_number}, column {column!r}: {len(cell):,} characters, more than the limit of "
                        f"{limits.max_field_chars:,}",
                        line=start,
                    )
            self.report.rows_read = row_number
            text = self._row(_Row(row_number, start, dict(zip(header, cells, strict=True))))
            if text:
                out.write(text.encode("utf-8"))
        if header is None:
            raise InputError(name, "the table is empty (no header row)")

    def _header(self, cells: list[str], name: str) -> list[str]:
        header = [cell.strip() for cell in cells]
        repeated = sorted({column for column in header if header.count(column) > 1})
        if repeated:
            raise InputError(name, f"the header repeats column(s) {', '.join(map(repr, repeated))}", line=1)
        missing = sorted(self.mapping.columns - set(header))
        if missing:
            raise InputError(
                name,
                f"the mapping {self.mapping.source!r} reads column(s) the table lacks: {', '.join(map(repr, missing))} "
                f"(the table has {', '.join(map(repr, header))})",
                line=1,
            )
        return header

    # -- one row ----------------------------------------------------------------------------------------
    def _row(self, row: _Row) -> str:
        """The row's record as N-Triples text ("" when the row is skipped); reasons go to the report."""
        mapping = self.mapping
        record_id = row.cells[mapping.id_column]
        if not record_id:
            return self._skip(row, None, None, "no record id", f"column {mapping.id_column!r} is empty")
        row.context.update({"base": self.base_iri, "id": record_id})
        cho = _link(mapping.iris.cho.render(row.context, encode=True) or "")
        aggregation = _link(mapping.iris.aggregation.render(row.context, encode=True) or "")
        if cho is None or aggregation is None:
            return self._skip(row, record_id, None, "invalid IRI", "the cho or aggregation template gives no valid IRI")
        # Keyed by the object's IRI: two ids that a template makes one IRI ({id|tail}) are one record too.
        first = self._first_row.setdefault(cho, row.number)
        if first != row.number:
            detail = f"{record_id!r} gives the object IRI of row {first}"
            return self._skip(row, record_id, cho[1:-1], "duplicate record id", detail)
        edm_type = self._edm_type(row)
        if edm_type is None:
            return self._skip(row, record_id, cho[1:-1], "no EDM type", self._edm_type_detail(row))

        record = _Record(cho, aggregation)
        record.add(cho, RDF_TYPE, f"<{EDM}ProvidedCHO>")
        record.add(aggregation, RDF_TYPE, f"<{ORE}Aggregation>")
        record.add(aggregation, EDM + "aggregatedCHO", cho)
        record.state(EDM + "type", _literal(edm_type))
        record.state(EDM + "dataProvider", _literal(mapping.data_provider))
        record.state(EDM + "provider", _literal(mapping.provider))
        record.state(EDM + "rights", f"<{mapping.rights}>")
        for constant in mapping.constants:
            obj = f"<{constant.iri}>" if constant.iri else _literal(constant.value or "", constant.language)
            record.state(constant.property, obj)
        for rule in mapping.fields:
            self._apply(rule, row, record)

        problems = record.problems(edm_type)
        if problems:
            return self._skip(row, record_id, cho[1:-1], "not a valid EDM record", "; ".join(problems))
        if row.reasons:
            self.report.issues.append(RowIssue(row.number, row.line, record_id, cho[1:-1], row.reasons))
        self.report.rows_converted += 1
        self.report.triples += record.size
        return record.text()

    def _skip(self, row: _Row, record_id: str | None, cho: str | None, code: str, detail: str) -> str:
        row.note(code, detail)
        self.report.issues.append(RowIssue(row.number, row.line, record_id, cho, row.reasons, skipped=True))
        return ""

    def _edm_type(self, row: _Row) -> str | None:
        rule = self.mapping.edm_type
        if rule.value is not None:
            return rule.value
        assert rule.column is not None
        return self._edm_types.get(row.cells[rule.column].casefold(), rule.default)

    def _edm_type_detail(self, row: _Row) -> str:
        column = self.mapping.edm_type.column
        return f"{column} {row.cells.get(column or '', '')!r} is not in edm_type.map and there is no default"

    def _apply(self, rule: FieldRule, row: _Row, record: _Record) -> None:
        if rule.timespan is not None:
            produced = self._timespan(rule, row, record)
        elif rule.entity is not None:
            produced = self._entities(rule, rule.entity, row, record)
        else:
            produced = False
            for value in self._values(rule, row):
                produced |= self._emit(rule, value, row, record)
        if produced:
            return
        fallback = rule.if_empty.render(row.context, encode=False) if rule.if_empty is not None else None
        if fallback:
            record.state(rule.property, _literal(fallback, rule.language))
        if rule.report_missing:
            where = f"no value in column {rule.column!r}" if rule.column else "no value"
            row.note(rule.report_missing, where + (f"; used {fallback!r}" if fallback else ""))

    def _values(self, rule: FieldRule, row: _Row) -> list[str]:
        """The rule's text values: cleaned, JSON fields picked, split, pattern-extracted, mapped."""
        if rule.combine is not None:
            parts = []
            for label, column in rule.combine.columns.items():
                value = row.cell(column, rule.whitespace)
                if value and value not in rule.null_values:
                    parts.append(rule.combine.format.render({"name": label, "value": value}, encode=False) or "")
            return [rule.combine.separator.join(parts)] if parts else []
        assert rule.column is not None
        cell = row.cell(rule.column, rule.whitespace)
        if not cell or cell in rule.null_values:
            return []
        if rule.json_cells is None and rule.split is None and rule.split_regex is None and rule.pattern is None:
            return [rule.value_map.get(cell, cell)] if not rule.report_unmapped else self._mapped([cell], rule, row)
        values = [cell]
        if rule.json_cells is not None:
            values = [_scalar(item, rule.json_cells.field) for item in self._json_items(rule, cell, row)]
        if rule.split is not None:
            values = [part for value in values for part in value.split(rule.split)]
        elif rule.split_regex is not None:
            values = [part for value in values for part in rule.split_regex.split(value)]
        if rule.pattern is not None:
            matches = (rule.pattern.search(value) for value in values)
            values = [match.group("value") or "" for match in matches if match is not None]
        cleaned = (_clean(value, rule.whitespace) for value in values)
        return self._mapped([value for value in cleaned if value and value not in rule.null_values], rule, row)

    def _mapped(self, values: list[str], rule: FieldRule, row: _Row) -> list[str]:
        kept = []
        for value in values:
            mapped = rule.value_map.get(value)
            if mapped is None and rule.value_map and rule.report_unmapped:
                row.note("unmapped value", f"{rule.column} {value!r} is not in value_map; kept as written")
            kept.append(value if mapped is None else mapped)
        return kept

    def _json_items(self, rule: FieldRule, cell: str, row: _Row) -> list[Any]:
        try:
            items = json.loads(cell)
        except ValueError as exc:
            row.note("unreadable JSON", f"column {rule.column!r}: {exc}")
            return []
        except RecursionError:
            row.note("unreadable JSON", f"column {rule.column!r} is nested too deeply")
            return []
        if isinstance(items, dict):
            return [items]
        if not isinstance(items, list):
            row.note("unreadable JSON", f"column {rule.column!r} holds no JSON list")
            return []
        return items

    def _emit(self, rule: FieldRule, value: str, row: _Row, record: _Record) -> bool:
        if rule.linked:
            text = value
            if rule.iri_template is not None:
                text = rule.iri_template.render({**row.context, "value": value}, encode=True) or ""
            link = _link(text)
            if link is None:
                row.note("invalid link", f"column {rule.column!r}: {value!r} gives no valid http(s) IRI")
                return False
            record.state(rule.property, link)
            return True
        if rule.date and _iso_date(value) is None:
            row.note("unparseable date", f"column {rule.column!r}: {value!r} is no ISO 8601 date; kept as text")
        record.state(rule.property, _literal(value, rule.language))
        if rule.lookup is not None:
            self._lookup(rule, rule.lookup, value, row, record)
        return True

    def _lookup(self, rule: FieldRule, lookup: Lookup, text: str, row: _Row, record: _Record) -> None:
        splitter = lookup.splitter
        phrases = splitter.split(text) if splitter is not None else [text]
        stats = self.report.lookups[lookup.facet]
        for phrase in (p.strip(_PHRASE_EDGES) for p in phrases):
            if not phrase:
                continue
            outcome, concepts = self._resolve(lookup, phrase)
            if outcome == "matched":
                stats.matched += 1
                record.state(lookup.property or rule.property, f"<{concepts[0]}>")
            elif outcome == "ambiguous":
                stats.ambiguous += 1
                stats.ambiguous_phrases.setdefault(phrase, concepts)
                row.note(
                    f"ambiguous {lookup.facet} phrase",
                    f"{phrase!r} ({rule.column}) may be any of {', '.join(concepts)}; kept as text only",
                )
            else:
                stats.unmatched += 1
                stats.unmatched_phrases[phrase] += 1
                row.note(f"unmatched {lookup.facet} phrase", f"{phrase!r} ({rule.column}) names no concept")

    def _resolve(self, lookup: Lookup, phrase: str) -> tuple[str, list[str]]:
        """("matched", [concept]) for one best candidate, ("ambiguous", concepts) for a tie at the best
        rank (exact before derived matches, preferred before alternative labels), else ("unmatched", [])."""
        key = (lookup.facet + "\x00" + (lookup.path_separator or ""), phrase)
        known = self._resolved.get(key)
        if known is not None:
            return known
        index = self.lookups[lookup.facet]
        steps = [phrase]
        if lookup.path_separator:
            # Most specific step first; a step the vocabulary lacks falls back to its broader one.
            steps = [step.strip() for step in reversed(phrase.split(lookup.path_separator)) if step.strip()]
        result: tuple[str, list[str]] = ("unmatched", [])
        for step in steps:
            candidates = index.lookup(step)
            if candidates:
                best = [c.concept for c in candidates if c.rank == candidates[0].rank]
                result = ("matched", best) if len(best) == 1 else ("ambiguous", best)
                break
        self._resolved[key] = result
        return result

    def _entities(self, rule: FieldRule, entity: Entity, row: _Row, record: _Record) -> bool:
        assert rule.column is not None
        cell = row.cells[rule.column]
        if not cell or cell in rule.null_values:
            return False
        produced = False
        for item in self._json_items(rule, cell, row):
            if not isinstance(item, dict):
                row.note("unreadable JSON", f"column {rule.column!r} holds a list item that is no object")
                continue
            fields = {key: _scalar(value, None) for key, value in item.items()}
            label = _clean(fields.get(entity.label, ""), "collapse")
            if not label:
                row.note("entity without label", f"column {rule.column!r}: an item has no {entity.label!r}")
                continue
            produced = True
            prop = rule.property
            if entity.role is not None:
                role = _clean(fields.get(entity.role.field, ""), "collapse")
                if role.casefold() in entity.role.folded_qualified:
                    record.state(prop, _literal(f"{role} {label}", entity.language))
                    continue
                prop = entity.role.folded_properties.get(role.casefold(), prop)
            values = {**fields, "base": self.base_iri, "id": row.context["id"]}
            iri = _link(entity.iri.render(values, encode=True) or "")
            if iri is None:
                row.note("entity without id", f"column {rule.column!r}: {label!r} gives no IRI; kept as text")
                record.state(prop, _literal(label, entity.language))
                continue
            record.state(prop, iri)
            record.add(iri, RDF_TYPE, f"<{entity.type}>")
            record.add(iri, SKOS + "prefLabel", _literal(label, entity.language))
            for predicate, source_field in entity.properties.items():
                value = _clean(fields.get(source_field, ""), "collapse")
                if value and value != label:
                    record.add(iri, predicate, _literal(value, entity.language))
        return produced

    def _timespan(self, rule: FieldRule, row: _Row, record: _Record) -> bool:
        span = rule.timespan
        assert span is not None
        dates: dict[str, tuple[str, tuple[int, int, int]]] = {}
        for edge, column in (("begin", span.begin), ("end", span.end)):
            value = row.cells[column] if column else ""
            if not value:
                continue
            parsed = _iso_date(value)
            if parsed is None:
                row.note("unparseable date", f"column {column!r}: {value!r} is no ISO 8601 date; left out")
            else:
                dates[edge] = (value, parsed)
        if not dates:
            return False
        if "begin" in dates and "end" in dates and dates["begin"][1] > dates["end"][1]:
            row.note(
                "reversed date range", f"{span.begin} {dates['begin'][0]!r} is after {span.end} {dates['end'][0]!r}"
            )
        iri = _link(span.iri.render(row.context, encode=True) or "")
        if iri is None:
            row.note("invalid link", "the time span template gives no valid IRI")
            return False
        record.state(rule.property, iri)
        record.add(iri, RDF_TYPE, f"<{EDM}TimeSpan>")
        label = row.cells[span.label] if span.label else ""
        if label:
            record.add(iri, SKOS + "prefLabel", _literal(label, span.language))
        for edge, (value, _) in dates.items():
            record.add(iri, EDM + edge, _literal(value))
        return True


def _clean(text: str, whitespace: str) -> str:
    return " ".join(text.split()) if whitespace == "collapse" else text.strip()


def _scalar(item: Any, field_name: str | None) -> str:
    """A JSON value as text: an object's field (when named), a string, a number; else ""."""
    if field_name is not None:
        item = item.get(field_name) if isinstance(item, dict) else None
    if isinstance(item, bool) or item is None or isinstance(item, dict | list):
        return ""
    return str(item)
