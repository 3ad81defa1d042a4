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
from collections import OrderedDict
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
    over. Contextual entities (agents, concepts, places) stay available to later records, up to
    ``context_lines`` lines, least recently used first out. This relies on a record's own parts being
    written together, as EDM exporters do. Whatever breaks that is an error, never a silently
    incomplete record: a statement about an emitted record's object, aggregation or proxy, or a link
    to a contextual entity that was described too far back to be kept.
    """

    def __init__(self, source: str, window: int = 100_000, context_lines: int | None = None) -> None:
        self.source = source
        self.window = window
        self.context_lines = context_lines or max(window, 100_000)
        # subject -> insertion-ordered set of lines: documents repeat shared entities (a concept
        # described in every record) and a record must carry each triple once.
        self._by_subject: dict[str, dict[str, None]] = {}
        # Contextual entities of emitted records: subject -> (lines, node objects), oldest use first.
        # (An OrderedDict: dropping its oldest entry is O(1), where a dict's first item gets slower
        # to find as entries are deleted from its front.)
        self._context: OrderedDict[str, tuple[dict[str, None], list[str]]] = OrderedDict()
        self._context_size = 0
        self._pending = 0
        self._last_subject: str | None = None
        # Hashes (small ints, not strings, to keep million-record files light) of the objects,
        # aggregations and proxies already emitted, and of contextual entities dropped from the context.
        self._emitted: set[int] = set()
        self._evicted: set[int] = set()
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
        for subject, lines in self._by_subject.items():
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

    def _late(self, subject: str) -> RecordNotSplittable:
        return RecordNotSplittable(
            f"{self.source}: statements about {subject} appear after its record was already read (more than "
            "a window apart); split the file per record or keep each record's elements together"
        )

    def _flush(self, final: bool) -> Iterator[Record]:
        by_subject, context = self._by_subject, self._context
        if self._emitted:
            for subject in by_subject:
                if hash(subject) in self._emitted:
                    raise self._late(subject)
        chos, links = self._parse_buffer()
        owned = {satellite for satellites in chos.values() for satellite in satellites} | set(chos)

        # The record still being read waits for the next window. Only its own object, aggregations and
        # proxies hold others back: shared entities it links to pass on through the context.
        carried: set[str] = set()
        if not final and self._last_subject is not None:
            carried = self._members_of_current(chos, owned, links) & owned

        assigned: set[str] = set()
        for cho, satellites in chos.items():
            if cho[0] != "<":
                raise RecordNotSplittable(
                    f"{self.source}: an edm:ProvidedCHO is a blank node; EDM records need an IRI (rdf:about)"
                )
            if hash(cho) in self._emitted:
                raise self._late(cho)
            members = self._closure(cho, satellites, owned, links)
            # Before the end, an object that no aggregation or proxy points at yet waits too: its
            # aggregation may follow (files often list web resources between the two).
            if not final and (not satellites or members & carried):
                continue
            if final and len(chos) == 1 and not self._emitted:
                # A document holding one record: everything in it belongs to that record, including
                # web resources nothing links to (EDM files list all of a record's resources).
                members |= by_subject.keys()
            assigned |= members
            lines: list[str] = []
            for member in members:
                own = by_subject.get(member)
                if own is not None:
                    lines.extend(own)
                else:
                    context.move_to_end(member)  # most recently used
                    lines.extend(context[member][0])
            yield Record(cho[1:-1], lines, self.source)
        self._emitted.update(hash(node) for node in owned & assigned)

        if final:
            self.orphans.extend(line for s, ls in by_subject.items() if s not in assigned for line in ls)
            self._by_subject, self._context = {}, OrderedDict()
        else:
            self._by_subject = {s: ls for s, ls in by_subject.items() if s not in assigned}
            for subject in assigned - owned:
                if subject in by_subject:
                    self._keep_in_context(subject, by_subject[subject], links[subject])
        self._pending = sum(len(ls) for ls in self._by_subject.values())
        if self._pending >= self.window:
            # The carried-over part alone fills a window: grow it rather than loop without progress.
            self.window *= 2

    def _keep_in_context(self, subject: str, lines: dict[str, None], targets: list[str]) -> None:
        previous = self._context.pop(subject, None)
        if previous is not None:
            self._context_size -= len(previous[0])
            lines = previous[0] | lines
        self._context[subject] = (lines, targets)
        self._context_size += len(lines)
        while self._context_size > self.context_lines:
            oldest, (old_lines, _) = self._context.popitem(last=False)
            self._context_size -= len(old_lines)
            self._evicted.add(hash(oldest))

    def _members_of_current(self, chos: dict[str, list[str]], owned: set[str], links: dict[str, list[str]]) -> set[str]:
        last = self._last_subject
        for cho, satellites in chos.items():
            members = self._closure(cho, satellites, owned, links)
            if last in members:
                return members
        return {last} if last is not None else set()

    def _closure(self, cho: str, satellites: list[str], owned: set[str], links: dict[str, list[str]]) -> set[str]:
        context = self._context
        members = {cho, *satellites}
        frontier = list(members)
        while frontier:
            node = frontier.pop()
            targets = links.get(node)
            if targets is None:
                shared = context.get(node)
                targets = shared[1] if shared is not None else []
            for target in targets:
                if target in members or target in owned:
                    continue
                if target in links or target in context:
                    members.add(target)
                    frontier.append(target)
                elif self._evicted and hash(target) in self._evicted:
                    raise RecordNotSplittable(
                        f"{self.source}: record {cho} links to {target}, described too far back in the file to "
                        f"keep while streaming (over {self.context_lines:,} lines of shared entities); describe "
                        "it again near the record, or split the file"
                    )
        return members
