"""Tables that cannot be read as their mapping says stop the conversion with an error naming the row,
before anything reaches the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich.ingest.errors import InputError
from enrich.mapping.tabular import TableLimits, convert_table
from enrich.store.base import text
from enrich.store.embedded import EmbeddedStore
from tests.mapping.tabular_support import BASE_IRI, base_mapping, document_triples, ingest, row, write_table

HEADER = "id,title,type,url\n"


def good_lines(count: int) -> str:
    return "".join(f"{n},Object {n},bowl,https://example.org/page/{n}\n" for n in range(1, count + 1))


def write(tmp_path: Path, data: bytes) -> Path:
    table = tmp_path / "table.csv"
    table.write_bytes(data)
    return table


def fails(tmp_path: Path, data: bytes, limits: TableLimits | None = None) -> InputError:
    """The error converting ``data`` gives; the ingest it would have fed leaves the store empty."""
    store = EmbeddedStore()
    with pytest.raises(InputError) as caught:
        document, _ = convert_table(write(tmp_path, data), base_mapping(), {}, base_iri=BASE_IRI, limits=limits)
        ingest(store, document)
    assert store.count_triples() == 0
    store.close()
    return caught.value


def test_bad_encoding_names_the_row_and_nothing_is_written(tmp_path: Path) -> None:
    data = (HEADER + good_lines(249)).encode("utf-8") + b"250,Caf\xe9 au lait,bowl,https://example.org/page/250\n"
    error = fails(tmp_path, data)
    assert error.line == 251
    assert str(error).endswith("table.csv:251: row 250: byte 8 of the line is not utf-8 (invalid continuation byte)")


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ('1,"Object" 1,bowl,https://example.org/page/1\n', "row 1: ',' expected after '\"'", 2),
        (
            '1,Object 1,bowl,https://example.org/page/1\n2,"Object 2,bowl,https://x\n',
            "row 2: unexpected end of data",
            3,
        ),
        ("1,Object 1,bowl\n", "row 1 has 3 field(s) where the header has 4", 2),
        ("1,Object 1,bowl,https://example.org/page/1,extra\n", "row 1 has 5 field(s) where the header has 4", 2),
    ],
)
def test_malformed_rows(tmp_path: Path, body: str, message: str, line: int) -> None:
    error = fails(tmp_path, (HEADER + body).encode())
    assert (error.problem, error.line) == (message, line)


def test_limits(tmp_path: Path) -> None:
    data = (HEADER + good_lines(5) + "6," + "x" * 300 + ",bowl,https://example.org/page/6\n").encode()
    error = fails(tmp_path, data, TableLimits(max_field_chars=200))
    assert (error.problem, error.line) == ("row 6, column 'title': 300 characters, more than the limit of 200", 7)
    error = fails(tmp_path, data, TableLimits(max_rows=4))
    assert (error.problem, error.line) == ("more than 4 rows, the limit", 6)
    error = fails(tmp_path, data, TableLimits(max_line_bytes=100))
    assert (error.problem, error.line) == ("a line longer than 100 bytes", 7)
    assert fails(tmp_path, data, TableLimits(max_bytes=100)).problem == "input is larger than the limit of 100 bytes"
    # Python's csv module has its own cell limit (131,072 characters) beneath ours.
    huge = (HEADER + '1,"' + "y" * 140_000 + '",bowl,https://example.org/page/1\n').encode()
    assert fails(tmp_path, huge, TableLimits(max_field_chars=10**6)).problem.startswith(
        "row 1: field larger than field limit"
    )


def test_headers(tmp_path: Path) -> None:
    assert fails(tmp_path, b"").problem == "the table is empty (no header row)"
    assert fails(tmp_path, b"id,title,title,type,url\n").problem == "the header repeats column(s) 'title'"
    error = fails(tmp_path, b"id,title,type\n1,a,b\n")
    assert error.line == 1 and error.problem.startswith(
        "the mapping 'test-museum' reads column(s) the table lacks: 'url'"
    )
    assert fails(tmp_path, b"\xff\xfei\x00d\x00\n").problem.startswith("the header: byte 1 of the line is not utf-8")
    with pytest.raises(InputError, match="cannot read the table"):
        convert_table(tmp_path / "missing.csv", base_mapping(), {})


def test_a_byte_order_mark_and_other_encodings(tmp_path: Path) -> None:
    with_bom = write(tmp_path, "\ufeff".encode() + (HEADER + good_lines(2)).encode())
    assert convert_table(with_bom, base_mapping(), {}, base_iri=BASE_IRI)[1].rows_converted == 2
    korean = [row(1, title="청자 상감운학문 매병"), row(2, title="백자 달항아리")]
    table = write_table(tmp_path / "cp949.csv", korean, encoding="cp949")
    mapping = base_mapping(csv={"encoding": "cp949"})
    document, report = convert_table(table, mapping, {}, base_iri=BASE_IRI)
    assert report.rows_converted == 2
    assert any(text(t.object) == "백자 달항아리" for t in document_triples(document))
    with pytest.raises(InputError, match=r"cp949.csv:2: row 1: byte \d+ of the line is not utf-8 "):
        convert_table(table, base_mapping(), {}, base_iri=BASE_IRI)


def test_other_delimiters_and_quotes(tmp_path: Path) -> None:
    data = b"id;title;type;url\n1;'Bowl; with lid';bowl;https://example.org/page/1\n"
    table = tmp_path / "semicolon.csv"
    table.write_bytes(data)
    document, report = convert_table(
        table, base_mapping(csv={"delimiter": ";", "quotechar": "'"}), {}, base_iri=BASE_IRI
    )
    assert report.rows_converted == 1
    assert any(text(t.object) == "Bowl; with lid" for t in document_triples(document))
