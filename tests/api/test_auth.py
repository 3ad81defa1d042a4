"""Token hashes, the make-token helper, and ``enrich serve``'s parser."""

from __future__ import annotations

import argparse

import pytest

from api.auth import Identity, identify, main, make_token, role_of
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


def test_tokens_may_carry_a_name() -> None:
    named, named_entry = make_token("reviewer", "rita@museum.example")
    plain, plain_entry = make_token("reviewer")
    salt = plain_entry.split(":")[1]
    entries = [named_entry, plain_entry, f"{named_entry[:-3]}has space"]
    assert named_entry.endswith(":rita@museum.example")
    assert identify(named, entries) == Identity("reviewer", "rita@museum.example")
    assert identify(plain, entries) == Identity("reviewer", f"token-{salt}")  # stable while the entry is
    assert role_of(named, entries) == "reviewer" and identify("guess", entries) is None
    assert identify(named, [f"{named_entry[:-3]}has space"]) is None  # a malformed name grants nothing
    with pytest.raises(ValueError, match="token name"):
        make_token("reader", "two words")


def test_make_token_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["make-token", "reviewer"]) == 0
    lines = capsys.readouterr().out.splitlines()
    token = lines[0].removeprefix("token: ")
    entry = lines[1].removeprefix("api_tokens entry: ")
    assert role_of(token, [entry]) == "reviewer"
    assert lines[2].startswith("ENRICH_API_TOKENS=")

    assert main(["make-token", "admin", "--name", "ada"]) == 0
    lines = capsys.readouterr().out.splitlines()
    token = lines[0].removeprefix("token: ")
    assert identify(token, [lines[1].removeprefix("api_tokens entry: ")]) == Identity("admin", "ada")
    with pytest.raises(SystemExit):
        main(["make-token", "admin", "--name", "a:b"])
    assert "token name" in capsys.readouterr().err


def test_serve_command_parser() -> None:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--port", "8123", "--store", ":memory:"])
    assert (args.host, args.port, args.store) == ("127.0.0.1", 8123, ":memory:")
    assert set(HANDLERS) == {"serve"}
