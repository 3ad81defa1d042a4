"""Hostile, oversized and malformed input is refused with a precise InputError, and the store stays as it was.

Every case runs on a store that already holds an ingested record, and (where the input gets that far)
after a valid new record in the same run, so "unchanged" means the earlier record is intact and the new
one was rolled back.
"""

from __future__ import annotations

import io
import socket
import tarfile
import zipfile
from pathlib import Path

import pytest

from enrich.ingest import InputError
from enrich.settings import Settings
from enrich.store.base import Store
from tests.ingest.support import (
    GRAPHS,
    Snapshot,
    cho,
    ingest,
    journal_is_clean,
    make_settings,
    ntriples_record,
    record_graph,
    record_text,
    snapshot,
    write_record,
)

RDF_XML_BODY = """<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:edm="http://www.europeana.eu/schemas/edm/">
  <edm:ProvidedCHO rdf:about="http://example.org/cho/hostile">
    <dc:title>{title}</dc:title>
  </edm:ProvidedCHO>
</rdf:RDF>
"""
# Six levels of ten: a million "lol"s if a parser expanded it (the classic goes to nine levels).
LAUGHS = '<!ENTITY lol "lol">\n' + "".join(
    f'<!ENTITY lol{i} "{("&lol" + ("" if i == 1 else str(i - 1)) + ";") * 10}">\n' for i in range(1, 7)
)
BILLION_LAUGHS = f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n{LAUGHS}]>\n' + RDF_XML_BODY.format(title="&lol6;")
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n  <!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n'
    + RDF_XML_BODY.format(title="&x;")
)
DOCTYPE_AFTER_COMMENT = (
    '<?xml version="1.0"?>\n<!-- exported by a friendly tool -->\n'
    f"<!DOCTYPE rdf:RDF [\n{LAUGHS}]>\n" + RDF_XML_BODY.format(title="&lol6;")
)
DTD_REFUSAL = (
    "XML document type declarations (DOCTYPE/ENTITY) are not accepted: entity expansion and external entities "
    "are disabled for safety"
)


@pytest.fixture
def before(store: Store, tmp_path: Path) -> Snapshot:
    """The store after one ordinary ingest of record 1."""
    ingest(store, [write_record(tmp_path / "earlier", "record-1.ttl", n=1)])
    state = snapshot(store)
    assert state.graphs == (record_graph(cho(1)), GRAPHS.system)
    assert state.triples > 16
    return state


def new_record(tmp_path: Path) -> Path:
    """A valid record the same run reads first (written in its own batch before the bad input is reached)."""
    return write_record(tmp_path / "run", "a-record-2.nt", "ntriples", n=2)


def refuse(store: Store, inputs: list[Path], settings: Settings | None = None) -> InputError:
    settings = settings or make_settings(ingest_batch_records=1)
    with pytest.raises(InputError) as caught:
        ingest(store, inputs, settings=settings, report_path=inputs[-1].parent / "report.json")
    return caught.value


def assert_unchanged(store: Store, before: Snapshot) -> None:
    after = snapshot(store)
    assert after.triples == before.triples
    assert after.graphs == before.graphs
    assert after == before
    assert not store.graph_exists(record_graph(cho(2)))
    assert journal_is_clean(store)


@pytest.mark.parametrize(
    ("case", "text"),
    [("billion-laughs", BILLION_LAUGHS), ("xxe", XXE), ("doctype-after-comment", DOCTYPE_AFTER_COMMENT)],
)
def test_dtd_is_refused(store: Store, before: Snapshot, tmp_path: Path, case: str, text: str) -> None:
    hostile = tmp_path / "run" / f"{case}.rdf"
    hostile.parent.mkdir(parents=True, exist_ok=True)
    hostile.write_text(text, encoding="utf-8")

    error = refuse(store, [new_record(tmp_path), hostile])
    assert error.source == str(hostile)
    assert error.line is None
    assert str(error).startswith(f"{hostile}: {DTD_REFUSAL}")
    assert "DOCTYPE" in str(error) and "entit" in str(error)
    assert_unchanged(store, before)
    assert not store.ask('ASK { GRAPH ?g { ?s ?p ?o FILTER(CONTAINS(STR(?o), "lol") || CONTAINS(STR(?o), "root:")) } }')


def test_doctype_named_only_inside_a_comment_is_no_dtd(store: Store, before: Snapshot, tmp_path: Path) -> None:
    path = tmp_path / "commented.rdf"
    text = record_rdf_xml_with_prolog("<!-- no <!DOCTYPE here, and no <!ENTITY either -->\n")
    path.write_text(text, encoding="utf-8")
    report = ingest(store, [path])
    assert (report.records, report.new) == (1, 1)
    assert store.graph_exists(record_graph(cho(3)))


def record_rdf_xml_with_prolog(prolog: str) -> str:
    declaration, rest = record_text("rdfxml", 3).split("\n", 1)
    return f"{declaration}\n{prolog}{rest}"


@pytest.mark.parametrize("opener", ["<!-- see <a href='x'> for the export notes ", "<?exporter <b>option "])
def test_doctype_after_a_long_comment_with_markup_is_refused(
    store: Store, before: Snapshot, tmp_path: Path, opener: str
) -> None:
    closer = " -->" if opener.startswith("<!--") else " ?>"
    filler = "x" * 6000  # the comment outgrows the first 4 KiB read
    text = f'<?xml version="1.0"?>\n{opener}{filler}{closer}\n<!DOCTYPE rdf:RDF [\n{LAUGHS}]>\n' + RDF_XML_BODY.format(
        title="&lol3;"
    )
    hostile = tmp_path / "run" / "hidden.rdf"
    hostile.parent.mkdir(parents=True, exist_ok=True)
    hostile.write_text(text, encoding="utf-8")
    error = refuse(store, [hostile])
    assert str(error).startswith(f"{hostile}: {DTD_REFUSAL}")
    assert_unchanged(store, before)


@pytest.mark.parametrize(("fmt", "name"), [("turtle", "big.ttl"), ("rdfxml", "big.rdf"), ("jsonld", "big.jsonld")])
def test_input_over_max_input_bytes_is_refused(
    store: Store, before: Snapshot, tmp_path: Path, fmt: str, name: str
) -> None:
    big = write_record(tmp_path / "run", name, fmt, n=4, title="A long title " * 300)
    size = big.stat().st_size
    first = new_record(tmp_path)
    assert first.stat().st_size < size - 1
    settings = make_settings(max_input_bytes=size - 1, ingest_batch_records=1)
    error = refuse(store, [first, big], settings)
    assert error.source == str(big)
    assert str(error) == f"{big}: input is larger than the limit of {size - 1:,} bytes"
    assert_unchanged(store, before)


def test_input_of_exactly_max_input_bytes_is_read(store: Store, before: Snapshot, tmp_path: Path) -> None:
    path = write_record(tmp_path / "run", "fits.ttl", n=4)
    report = ingest(store, [path], settings=make_settings(max_input_bytes=path.stat().st_size))
    assert report.new == 1


def test_archive_member_over_max_input_bytes_is_refused(store: Store, before: Snapshot, tmp_path: Path) -> None:
    member = ntriples_record(5).encode("utf-8")
    archive = tmp_path / "run" / "members.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("ok.nt", ntriples_record(2))
        zipped.writestr("zz-big.nt", member + b"# padding\n" * 10)
    limit = len(member)
    error = refuse(store, [archive], make_settings(max_input_bytes=limit, ingest_batch_records=1))
    assert error.source == f"{archive}!zz-big.nt"
    assert "input is larger than the limit" in str(error)
    assert_unchanged(store, before)


def _members(declared: int) -> list[tuple[str, bytes]]:
    """Two records whose sizes add up to ``declared``: the second one padded with blank lines."""
    first, second = ntriples_record(2).encode(), ntriples_record(5).encode()
    return [("a.nt", first), ("b.nt", second + b"\n" * (declared - len(first) - len(second)))]


def _zip_bomb(path: Path, declared: int) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in _members(declared):
            zipped.writestr(name, data)


def _tar_bomb(path: Path, declared: int) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in _members(declared):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(("name", "build"), [("bomb.zip", _zip_bomb), ("bomb.tar.gz", _tar_bomb)])
def test_archive_expanding_over_max_archive_bytes_is_refused(
    store: Store, before: Snapshot, tmp_path: Path, name: str, build: object
) -> None:
    archive = tmp_path / "run" / name
    archive.parent.mkdir(parents=True, exist_ok=True)
    build(archive, 2_000_000)  # type: ignore[operator]
    assert archive.stat().st_size < 100_000  # it is small on disk; only its declared expansion is large
    error = refuse(store, [new_record(tmp_path), archive], make_settings(max_archive_bytes=1_999_999))
    assert error.source == str(archive)
    assert str(error) == f"{archive}: archive expands to 2,000,000 bytes, over the limit of 1,999,999"
    assert_unchanged(store, before)


def test_archive_at_max_archive_bytes_is_read(store: Store, before: Snapshot, tmp_path: Path) -> None:
    archive = tmp_path / "fits.zip"
    _zip_bomb(archive, 50_000)
    report = ingest(store, [archive], settings=make_settings(max_archive_bytes=50_000))
    assert (report.documents, report.new) == (2, 2)


@pytest.mark.parametrize(
    ("name", "bad_line", "label"),
    [
        ("bad.nt", "<http://example.org/cho/9> <http://purl.org/dc/elements/1.1/title> .\n", "N-Triples"),
        ("bad.ttl", '<http://example.org/cho/9> <http://purl.org/dc/elements/1.1/title> "a" "b" .\n', "Turtle"),
    ],
)
def test_malformed_line_is_named(
    store: Store, before: Snapshot, tmp_path: Path, name: str, bad_line: str, label: str
) -> None:
    # Two complete records (32 lines), then the bad statement on line 33, then more good data.
    text = ntriples_record(6) + ntriples_record(7) + bad_line + ntriples_record(8)
    path = tmp_path / "run" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")

    error = refuse(store, [new_record(tmp_path), path])
    assert error.source == str(path)
    assert error.line == 33
    assert str(error).startswith(f"{path}:33:")
    assert f"{label} syntax error" in str(error)
    assert_unchanged(store, before)
    assert not store.graph_exists(record_graph(cho(6)))


def test_malformed_rdf_xml_is_named(store: Store, before: Snapshot, tmp_path: Path) -> None:
    path = tmp_path / "run" / "broken.rdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = RDF_XML_BODY.format(title="unclosed").replace("</edm:ProvidedCHO>\n", "")
    path.write_text(text, encoding="utf-8")
    error = refuse(store, [new_record(tmp_path), path])
    assert error.source == str(path)
    assert str(error).startswith(f"{path}: RDF/XML syntax error: ")
    assert "</edm:ProvidedCHO>" in str(error)
    assert_unchanged(store, before)


def test_json_ld_with_remote_context_is_refused_offline(store: Store, before: Snapshot, tmp_path: Path) -> None:
    # The context's address is a socket of ours: a parser that tried to fetch it would connect here.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        path = tmp_path / "run" / "remote-context.jsonld"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'{{"@context": "http://127.0.0.1:{port}/edm-context.jsonld", "@id": "http://example.org/cho/9", '
            '"@type": "edm:ProvidedCHO", "title": "Remote"}',
            encoding="utf-8",
        )
        error = refuse(store, [new_record(tmp_path), path])
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked
    assert error.source == str(path)
    assert str(error).startswith(f"{path}: JSON-LD syntax error: ")
    assert "remote context" in str(error)
    assert_unchanged(store, before)
