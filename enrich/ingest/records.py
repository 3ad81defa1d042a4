"""Splits a document's triples into EDM records.

A record is an ``edm:ProvidedCHO`` together with what describes it: the ``ore:Aggregation``\\s and
``ore:Proxy``\\s that point at it (``edm:aggregatedCHO``, ``ore:proxyFor``) and everything reachable
from those nodes that the input describes (web resources, agents, places, concepts, blank nodes).
A contextual entity shared by several records is copied into each, so every record graph stands alone.

Triples travel as N-Triples lines written by Oxigraph's serializer (one space between terms, `` .`` at
the end): the store's bulk loader, the checksum and the record grouping all work on that text, which is
several times cheaper in Python than touching pyoxigraph term objects triple by triple.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from enrich.namespaces import EDM, ORE, RDF_TYPE

_TYPE = f"<{RDF_TYPE}>"
_PROVIDED_CHO = f"<{EDM}ProvidedCHO>"
# Links from a record's satellite nodes (aggregations, proxies) to its CHO.
_LINKS_TO_CHO = frozenset({f"<{EDM}aggregatedCHO>", f"<{ORE}proxyFor>"})
_BLANK_LABEL = re.compile(r"_:[A-Za-z0-9_\-.]+")
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def record_id(cho_iri: str) -> str:
    """A stable, URL-safe record id: a readable tail of the CHO IRI plus a hash of the whole IRI."""
    tail = re.split(r"[/#:?=]", cho_iri.rstrip("/#"))[-1]
    slug = _UNSAFE_ID_CHARS.sub("-", tail).strip("-.")[:40] or "record"
    digest = hashlib.sha256(cho_iri.encode("utf-8")).hexdigest()[:12]
    return f"{slug}-{digest}"


def split_line(line: str) -> tuple[str, str, str]:
    """Subject, predicate and object text of one N-Triples line (`` .`` stripped)."""
    end_subject = line.index("> ") + 1 if line[0] == "<" else line.index(" ")
    end_predicate = line.index("> ", end_subject + 1) + 1
    return line[:end_subject], line[end_subject + 1 : end_predicate], line[end_predicate + 1 : -2]


def as_n_quads(lines: Iterable[str], graph: str) -> str:
    """N-Triples lines as N-Quads text in ``graph``."""
    # N-Triples escapes newlines inside literals, so " .\n" only ever ends a statement.
    return ("\n".join(lines) + "\n").replace(" .\n", f" <{graph}> .\n")


def checksum(lines: Iterable[str]) -> str:
    """SHA-256 of the record's sorted N-Triples, blank node labels masked (parsers relabel them)."""
    canonical = sorted(_BLANK_LABEL.sub("_:", line) if "_:" in line else line for line in lines)
    return hashlib.sha256("\n".join(canonical).encode("utf-8")).hexdigest()


@dataclass
class Record:
    """One record: its CHO IRI and its triples as N-Triples lines."""

    cho: str
    lines: list[str]
    source: str
    checksum: str = field(init=False)

    def __post_init__(self) -> None:
        self.checksum = checksum(self.lines)

    @cached_property
    def id(self) -> str:
        return record_id(self.cho)

    def n_quads(self, graph: str) -> str:
        return as_n_quads(self.lines, graph)


class RecordNotSplittable(ValueError):
    """A document's records cannot be told apart (blank-node CHO, or parts too far apart to stream)."""


class RecordSplitter:
    """Groups N-Triples lines by subject and cuts them into records, in windows to bound memory.

    Documents under ``window`` triples are split exactly. Larger ones are streamed: at each window
    boundary the records complete so far are emitted and the record still being read is carried
    over. That relies on a record's parts being written together, as EDM exporters do; a part that
    arrives after its record was emitted is reported as an error, never silently mis-assigned.
    """

    def __init__(self, source: str, window: int = 250_000) -> None:
        self.source = source
        self.window = window
        # subject -> insertion-ordered set of lines: documents repeat shared entities (a concept
        # described in every record) and a record must carry each triple once.
        self._by_subject: dict[str, dict[str, None]] = {}
        self._context: dict[str, dict[str, None]] = {}
        self._pending = 0
        self._last_subject: str | None = None
        self._emitted_chos: set[int] = set()
        self.orphans: list[str] = []

    def feed(self, lines: Iterable[str]) -> Iterator[Record]:
        by_subject = self._by_subject
        pending, window = self._pending, self.window
        subject = self._last_subject
        for line in lines:
            if not line or line[0] not in "<_":  # blank lines; RDF-star quoted triples are not EDM
                continue
            subject = line[: line.index("> ") + 1] if line[0] == "<" else line[: line.index(" ")]
            bucket = by_subject.get(subject)
            if bucket is None:
                by_subject[subject] = {line: None}
            else:
                bucket[line] = None
            pending += 1
            if pending >= window:
                self._last_subject = subject
                yield from self._flush(final=False)
                by_subject, pending, window = self._by_subject, self._pending, self.window
        self._pending, self._last_subject = pending, subject

    def finish(self) -> Iterator[Record]:
        yield from self._flush(final=True)

    def _parse_buffer(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Split each buffered line once: CHOs with their satellites, and each subject's node objects."""
        typed: dict[str, list[str]] = {}
        pointers: list[tuple[str, str]] = []
        links: dict[str, list[str]] = {}
        for subject, lines in (*self._context.items(), *self._by_subject.items()):
            targets = []
            for line in lines:
                if '"' in line:  # a literal object (IRIs cannot hold a raw quote): no link to follow
                    continue
                # The object is the last term: an IRI "<...>" (which may hold spaces when parsed
                # leniently, never " <") or a blank node label (never a space).
                obj = line[line.rindex(" <") + 1 : -2] if line[-3] == ">" else line[line.rindex(" ", 0, -2) + 1 : -2]
                targets.append(obj)
                if obj == _PROVIDED_CHO:
                    if split_line(line)[1] == _TYPE:
                        typed.setdefault(subject, [])
                elif ("aggregatedCHO> " in line or "proxyFor> " in line) and split_line(line)[1] in _LINKS_TO_CHO:
                    pointers.append((subject, obj))
            links[subject] = targets
        chos = typed
        for satellite, cho in pointers:
            # A node that is itself a ProvidedCHO is no satellite of another one (real records reuse
            # the CHO's IRI for Europeana's own aggregation, pointing elsewhere).
            if satellite not in typed:
                chos.setdefault(cho, []).append(satellite)
        return chos, links

    def _flush(self, final: bool) -> Iterator[Record]:
        by_subject, context = self._by_subject, self._context
        chos, links = self._parse_buffer()
        # Context nodes were emitted already; only CHOs with something new in this window count.
        chos = {cho: sats for cho, sats in chos.items() if cho in by_subject or any(s in by_subject for s in sats)}
        owned = {satellite for satellites in chos.values() for satellite in satellites} | set(chos)

        carried: set[str] = set()
        if not final and self._last_subject is not None:
            carried = self._members_of_current(chos, owned, links)

        assigned: set[str] = set()
        for cho, satellites in chos.items():
            if cho[0] != "<":
                raise RecordNotSplittable(
                    f"{self.source}: an edm:ProvidedCHO is a blank node; EDM records need an IRI (rdf:about)"
                )
            members = self._closure(cho, satellites, owned, links)
            if not final and members & carried:
                continue
            if final and len(chos) == 1 and not self._emitted_chos:
                # A document holding one record: everything in it belongs to that record, including
                # web resources nothing links to (EDM files list all of a record's resources).
                members |= by_subject.keys()
            key = hash(cho)
            if key in self._emitted_chos:
                raise RecordNotSplittable(
                    f"{self.source}: parts of record {cho} appear after the record was already read "
                    "(more than a window apart); split the file per record or keep each record's elements together"
                )
            self._emitted_chos.add(key)
            assigned |= members
            lines = [line for m in members for line in (by_subject.get(m) or context.get(m) or ())]
            yield Record(cho[1:-1], lines, self.source)

        if final:
            self.orphans.extend(line for s, ls in by_subject.items() if s not in assigned for line in ls)
            self._by_subject, self._context = {}, {}
        else:
            self._by_subject = {s: ls for s, ls in by_subject.items() if s not in assigned}
            # Contextual entities described in this window stay visible for one more window, for
            # later records that share them without repeating their description.
            self._context = {s: by_subject[s] for s in assigned if s not in owned and s in by_subject}
        self._pending = sum(len(ls) for ls in self._by_subject.values())
        if self._pending >= self.window:
            # The carried-over part alone fills a window: grow it rather than loop without progress.
            self.window *= 2

    def _members_of_current(self, chos: dict[str, list[str]], owned: set[str], links: dict[str, list[str]]) -> set[str]:
        last = self._last_subject
        for cho, satellites in chos.items():
            members = self._closure(cho, satellites, owned, links)
            if last in members:
                return members
        return {last} if last is not None else set()

    @staticmethod
    def _closure(cho: str, satellites: list[str], owned: set[str], links: dict[str, list[str]]) -> set[str]:
        members = {cho, *satellites}
        frontier = list(members)
        while frontier:
            for target in links.get(frontier.pop(), ()):
                if target not in members and target in links and target not in owned:
                    members.add(target)
                    frontier.append(target)
        return members
