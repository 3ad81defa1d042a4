"""Defences for untrusted input: no DTDs (so no entity expansion or external fetches), size limits.

RDF/XML records never need a DTD. Refusing any document that declares one closes both the
"billion laughs" expansion and external-entity fetches before a parser ever sees the bytes.
"""

from __future__ import annotations

import io
from typing import Protocol

from enrich.ingest.errors import InputError

# How far into a document the root element may start; prologs longer than this are refused as hostile.
MAX_PROLOG_BYTES = 64 * 1024


class Readable(Protocol):
    """A byte stream: a file, an archive member, the stdin spool."""

    def read(self, size: int = -1, /) -> bytes: ...


class LimitedStream(io.RawIOBase):
    """Reads a binary stream, counting bytes and refusing more than ``limit``.

    ``prefix`` are bytes already taken from ``raw`` (to inspect the prolog) and given back first.
    """

    def __init__(self, raw: Readable, limit: int, name: str, prefix: bytes = b"") -> None:
        super().__init__()
        self._raw = raw
        self._limit = limit
        self._name = name
        self._prefix = prefix
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._prefix:
            count = min(len(view), len(self._prefix))
            view[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
        else:
            chunk = self._raw.read(len(view))
            count = len(chunk)
            view[:count] = chunk
        self.bytes_read += count
        if self.bytes_read > self._limit:
            raise InputError(self._name, f"input is larger than the limit of {self._limit:,} bytes")
        return count


def read_prolog(raw: Readable, name: str) -> bytes:
    """Read up to the start of the root element and refuse a DTD; returns the bytes read."""
    head = b""
    while len(head) <= MAX_PROLOG_BYTES:
        chunk = raw.read(4096)
        if not chunk:
            break
        head += chunk
        if scan_prolog(head, name) is not None:
            return head
    if scan_prolog(head, name) is None and len(head) > MAX_PROLOG_BYTES:
        raise InputError(name, f"no XML root element within the first {MAX_PROLOG_BYTES:,} bytes")
    return head


def scan_prolog(head: bytes, name: str) -> int | None:
    """Walk the prolog item by item (declaration, comments, processing instructions, white space).

    Returns where the root element starts, or None when ``head`` ends inside the prolog. A DOCTYPE
    (and so any ENTITY) is refused wherever it appears; markup inside comments and processing
    instructions is skipped as a whole, so nothing hidden there can end the scan early.
    """
    text = _decode_prolog(head)
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n\ufeff":
            position += 1
        if position >= len(text):
            return None
        if text.startswith("<!--", position):
            end = text.find("-->", position + 4)
            if end < 0:
                return None
            position = end + 3
        elif text.startswith("<?", position):
            end = text.find("?>", position + 2)
            if end < 0:
                return None
            position = end + 2
        elif text.startswith("<!", position):
            markup = text[position : position + 9]
            if len(markup) < 9:
                return None  # not enough bytes yet to tell what this is
            if markup.startswith(("<!DOCTYPE", "<!ENTITY")):
                raise InputError(
                    name,
                    "XML document type declarations (DOCTYPE/ENTITY) are not accepted: entity expansion and "
                    "external entities are disabled for safety, and EDM records never need them",
                )
            raise InputError(name, f"unexpected markup before the root element: {markup!r}")
        elif text.startswith("<", position):
            return position
        else:
            raise InputError(name, "not an XML document: text before the root element")


def _decode_prolog(head: bytes) -> str:
    """The prolog as text, whatever the encoding: a DOCTYPE in UTF-16 must not slip past a byte search."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 1 and (head[0] == 0 or head[1] == 0)):
        encoding = "utf-16-be" if head.startswith(b"\xfe\xff") or head[0] == 0 else "utf-16-le"
        usable = len(head) - len(head) % 2
        return head[:usable].decode(encoding, errors="replace")
    return head.decode("utf-8", errors="replace")
