"""Token hashes, the make-token helper, and ``enrich serve``'s parser."""

from __future__ import annotations

import argparse

import pytest

from api.auth import main, make_token, role_of
from api.commands import HANDLERS, add_commands


def test_tokens_are_checked_against_salted_hashes() -> None:
    reader, reader_entry = make_token("reader")
    admin, admin_entry = make_token("admin")
    entries = [reader_entry, admin_entry, "admin:broken"]
    assert role_of(reader, entries) == "reader"
    assert role_of(admin, entries) == "admin"
    assert role_of("guess", entries) is None
    assert reader not in reader_entry  # only the hash is configured
    with pytest.raises(ValueError, match="unknown role"):
        make_token("root")  # type: ignore[arg-type]


def test_make_token_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["make-token", "reviewer"]) == 0
    lines = capsys.readouterr().out.splitlines()
    token = lines[0].removeprefix("token: ")
    entry = lines[1].removeprefix("api_tokens entry: ")
    assert role_of(token, [entry]) == "reviewer"
    assert lines[2].startswith("ENRICH_API_TOKENS=")


def test_serve_command_parser() -> None:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--port", "8123", "--store", ":memory:"])
    assert (args.host, args.port, args.store) == ("127.0.0.1", 8123, ":memory:")
    assert set(HANDLERS) == {"serve"}
