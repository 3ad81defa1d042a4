"""Input documents from files, directories, ``.zip``/``.tar.gz`` archives and stdin.

Every document is opened as a :class:`LimitedStream`, so size limits hold whatever the source, and
RDF/XML documents have their prolog checked before a parser sees them.
"""

from __future__ import annotations

import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pyoxigraph import RdfFormat

from enrich.ingest.errors import InputError
from enrich.ingest.safety import LimitedStream, Readable, read_prolog

FORMATS_BY_SUFFIX: dict[str, RdfFormat] = {
    ".rdf": RdfFormat.RDF_XML,
    ".xml": RdfFormat.RDF_XML,
    ".owl": RdfFormat.RDF_XML,
    ".ttl": RdfFormat.TURTLE,
    ".nt": RdfFormat.N_TRIPLES,
    ".nq": RdfFormat.N_QUADS,
    ".jsonld": RdfFormat.JSON_LD,
    ".json": RdfFormat.JSON_LD,
    ".trig": RdfFormat.TRIG,
}
FORMATS_BY_NAME: dict[str, RdfFormat] = {
    "rdfxml": RdfFormat.RDF_XML,
    "xml": RdfFormat.RDF_XML,
    "turtle": RdfFormat.TURTLE,
    "ttl": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "nt": RdfFormat.N_TRIPLES,
    "nquads": RdfFormat.N_QUADS,
    "nq": RdfFormat.N_QUADS,
    "jsonld": RdfFormat.JSON_LD,
    "trig": RdfFormat.TRIG,
}
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class Document:
    """One RDF document to parse: a name for messages, its format, its size if known, and an opener."""

    name: str
    format: RdfFormat
    size: int | None
    _open: Callable[[], AbstractContextManager[Readable]]

    @contextmanager
    def open(self, limit: int) -> Iterator[LimitedStream]:
        with self._open() as raw:
            prefix = read_prolog(raw, self.name) if self.format == RdfFormat.RDF_XML else b""
            yield LimitedStream(raw, limit, self.name, prefix)


def format_for(name: str, explicit: str | None = None) -> RdfFormat | None:
    if explicit is not None:
        try:
            return FORMATS_BY_NAME[explicit.lower().replace("-", "").replace("/", "")]
        except KeyError:
            known = ", ".join(sorted(FORMATS_BY_NAME))
            raise InputError(name, f"unknown format {explicit!r} (known: {known})") from None
    lower = name.lower()
    for suffix, rdf_format in FORMATS_BY_SUFFIX.items():
        if lower.endswith(suffix):
            return rdf_format
    return None


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def documents(
    inputs: list[str], explicit_format: str | None = None, max_archive_bytes: int = 8 * 1024**3
) -> Iterator[Document]:
    """Expand command-line inputs (paths, directories, archives, ``-`` for stdin) into documents."""
    for item in inputs:
        if item == "-":
            yield _stdin_document(explicit_format, max_archive_bytes)
            continue
        path = Path(item)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if is_archive(child.name):
                    yield from _archive_documents(child, explicit_format, max_archive_bytes)
                elif format_for(child.name, explicit_format) is not None:
                    yield _file_document(child, explicit_format)
        elif path.is_file():
            if is_archive(path.name):
                yield from _archive_documents(path, explicit_format, max_archive_bytes)
            else:
                yield _file_document(path, explicit_format)
        else:
            raise InputError(item, "no such file or directory")


def _file_document(path: Path, explicit_format: str | None) -> Document:
    rdf_format = format_for(str(path), explicit_format)
    if rdf_format is None:
        raise InputError(str(path), "cannot tell the RDF format from the file name; pass --format")
    return Document(str(path), rdf_format, path.stat().st_size, lambda: path.open("rb"))


def _stdin_document(explicit_format: str | None, max_bytes: int) -> Document:
    rdf_format = format_for("<stdin>", explicit_format)
    if rdf_format is None:
        raise InputError("<stdin>", "reading from stdin needs --format (rdfxml, turtle, ntriples, nquads, jsonld)")
    # Standard input is read once into a spool, so that it can be parsed twice (a lenient second pass
    # for IRIs that break RFC 3987) like any file.
    spool: list[IO[bytes]] = []

    def _open_stdin() -> AbstractContextManager[Readable]:
        if not spool:
            copy = tempfile.SpooledTemporaryFile(max_size=64 * 1024**2)  # noqa: SIM115 - kept for re-reads
            shutil.copyfileobj(LimitedStream(sys.stdin.buffer, max_bytes, "<stdin>"), copy)
            spool.append(copy)
        spool[0].seek(0)
        return nullcontext(spool[0])  # the spool stays open for a second pass

    return Document("<stdin>", rdf_format, None, _open_stdin)


def _archive_documents(path: Path, explicit_format: str | None, max_total: int) -> Iterator[Document]:
    if path.name.lower().endswith(".zip"):
        yield from _zip_documents(path, explicit_format, max_total)
    else:
        yield from _tar_documents(path, explicit_format, max_total)


def _zip_documents(path: Path, explicit_format: str | None, max_total: int) -> Iterator[Document]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
    except zipfile.BadZipFile as exc:
        raise InputError(str(path), f"not a readable zip archive: {exc}") from exc
    declared = sum(m.file_size for m in members)
    if declared > max_total:
        raise InputError(str(path), f"archive expands to {declared:,} bytes, over the limit of {max_total:,}")
    for member in sorted(members, key=lambda m: m.filename):
        rdf_format = format_for(member.filename, explicit_format)
        if rdf_format is None:
            continue
        name = f"{path}!{member.filename}"

        def _open(member: zipfile.ZipInfo = member) -> _ClosingMember:
            archive = zipfile.ZipFile(path)
            return _ClosingMember(archive.open(member), archive)

        yield Document(name, rdf_format, member.file_size, _open)


def _tar_documents(path: Path, explicit_format: str | None, max_total: int) -> Iterator[Document]:
    try:
        with tarfile.open(path) as archive:
            members = [m for m in archive.getmembers() if m.isfile()]
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(str(path), f"not a readable tar archive: {exc}") from exc
    declared = sum(m.size for m in members)
    if declared > max_total:
        raise InputError(str(path), f"archive expands to {declared:,} bytes, over the limit of {max_total:,}")
    for member in sorted(members, key=lambda m: m.name):
        rdf_format = format_for(member.name, explicit_format)
        if rdf_format is None:
            continue
        name = f"{path}!{member.name}"

        def _open(member_name: str = member.name) -> _ClosingMember:
            archive = tarfile.open(path)  # noqa: SIM115 - closed by _ClosingMember
            extracted = archive.extractfile(member_name)
            if extracted is None:
                archive.close()
                raise InputError(f"{path}!{member_name}", "archive member is not a regular file")
            return _ClosingMember(extracted, archive)

        yield Document(name, rdf_format, member.size, _open)


class _ClosingMember:
    """A member stream that also closes its archive; usable as a context manager."""

    def __init__(self, stream: IO[bytes], archive: zipfile.ZipFile | tarfile.TarFile) -> None:
        self._stream = stream
        self._archive = archive

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def __enter__(self) -> _ClosingMember:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()
        self._archive.close()
