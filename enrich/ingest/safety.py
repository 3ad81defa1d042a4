"""Defences for untrusted input: no DTDs (so no entity expansion or external fetches), size limits.

RDF/XML records never need a DTD. Refusing any document that declares one closes both the
"billion laughs" expansion and external-entity fetches before a parser ever sees the bytes.
"""

from __future__ import annotations

import io
import re
from typing import Protocol

from enrich.ingest.errors import InputError

# How far into a document the root element may start; prologs longer than this are refused as hostile.
MAX_PROLOG_BYTES = 64 * 1024
_XML_DECLARATION = re.compile(rb"<\?xml[^>]*\?>", re.S)
_PROCESSING_INSTRUCTION = re.compile(rb"<\?.*?\?>", re.S)
_COMMENT = re.compile(rb"<!--.*?-->", re.S)


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
    while len(head) < MAX_PROLOG_BYTES:
        chunk = raw.read(4096)
        if not chunk:
            break
        head += chunk
        if _root_element_start(head) is not None:
            break
    check_xml_prolog(head, name)
    return head


def _root_element_start(head: bytes) -> int | None:
    stripped = _COMMENT.sub(b"", _PROCESSING_INSTRUCTION.sub(b"", head))
    match = re.search(rb"<[A-Za-z_]", stripped)
    return None if match is None else match.start()


def check_xml_prolog(head: bytes, name: str) -> None:
    """Refuse a document type declaration, entity declarations or an oversized prolog."""
    without_comments = _COMMENT.sub(b"", _XML_DECLARATION.sub(b"", head))
    if b"<!DOCTYPE" in without_comments or b"<!ENTITY" in without_comments:
        raise InputError(
            name,
            "XML document type declarations (DOCTYPE/ENTITY) are not accepted: entity expansion and "
            "external entities are disabled for safety, and EDM records never need them",
        )
    if _root_element_start(head) is None and len(head) >= MAX_PROLOG_BYTES:
        raise InputError(name, f"no XML root element within the first {MAX_PROLOG_BYTES:,} bytes")
