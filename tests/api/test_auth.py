"""Token hashes, the make-token helper, ``enrich serve``'s parser, and browser sessions (the signed cookie
the reviewer's page signs in with, accepted in place of a bearer token; changes need the CSRF header)."""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from api.app import create_app
from api.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    SESSION_LIFETIME_S,
    Identity,
    identify,
    main,
    make_session,
    make_token,
    read_session,
    role_of,
    session_key,
)
from api.commands import HANDLERS, add_commands
from enrich.store.embedded import EmbeddedStore
from tests.api.server import running
from tests.ingest.support import make_settings


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


# -- browser sessions ------------------------------------------------------------------------------------
def test_session_cookies_are_signed_expire_and_end_with_their_token() -> None:
    token, entry = make_token("reviewer", "rita")
    _, other_entry = make_token("reader")
    settings = make_settings(api_tokens=[entry, other_entry])
    made = make_session(token, settings, now=1_000_000)
    assert made is not None
    cookie, identity = made
    assert identity == Identity("reviewer", "rita")
    assert token not in cookie and token not in base64.urlsafe_b64decode(cookie.split(".")[0] + "==").decode()
    assert read_session(cookie, settings, now=1_000_000 + 60) == identity
    assert read_session(cookie, settings, now=1_000_000 + SESSION_LIFETIME_S + 1) is None  # expired
    assert make_session("guess", settings) is None

    body, _, signature = cookie.partition(".")
    forged = base64.urlsafe_b64encode(
        json.dumps({"salt": entry.split(":")[1], "role": "admin", "name": "rita", "expires": 2_000_000}).encode()
    )
    assert read_session(f"{forged.decode().rstrip('=')}.{signature}", settings, now=1_000_000) is None
    assert read_session(f"{body}.{signature[:-2]}xx", settings, now=1_000_000) is None
    assert read_session("not a cookie", settings) is None
    assert read_session("é.ü", settings) is None
    # Dropping the token's entry ends its sessions; so does another key (a set secret).
    assert read_session(cookie, make_settings(api_tokens=[other_entry]), now=1_000_000) is None
    keyed = make_settings(api_tokens=[entry, other_entry], session_secret="s3cret")
    assert read_session(cookie, keyed, now=1_000_000) is None
    assert session_key(keyed) != session_key(settings)


@contextmanager
def _session_server(anonymous_read: bool = False) -> Iterator[tuple[str, dict[str, str]]]:
    """A real server (empty store) with a reviewer and a reader token; the second value maps role to token."""
    tokens = {"reviewer": make_token("reviewer", "rita"), "reader": make_token("reader", "rob")}
    settings = make_settings(api_tokens=[entry for _, entry in tokens.values()], anonymous_read=anonymous_read)
    with running(create_app(settings, EmbeddedStore())) as url:
        yield url, {role: token for role, (token, _) in tokens.items()}


@contextmanager
def _signed_in(url: str, token: str, **headers: str) -> Iterator[tuple[httpx.Response, httpx.Client]]:
    """A client that has posted the sign-in form (it keeps the cookie), and the answer to that."""
    with httpx.Client(base_url=url) as client:
        yield client.post("/ui/login", data={"token": token, "next": "/ui/queue"}, headers=headers), client


def test_the_session_cookie_authenticates_and_changes_need_the_csrf_header() -> None:
    with _session_server() as (url, tokens):
        with _signed_in(url, tokens["reviewer"]) as (answer, reviewer):
            assert answer.status_code == 303 and answer.headers["location"] == "/ui/queue"
            set_cookie = answer.headers["set-cookie"]
            assert set_cookie.startswith(f"{SESSION_COOKIE}=")
            assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie and "Path=/" in set_cookie
            assert "Secure" not in set_cookie  # plain http here
            assert tokens["reviewer"] not in set_cookie

            assert reviewer.get("/suggestions").status_code == 200  # reading with the cookie
            # A change: refused without the header (a cross-site form cannot send one), allowed with it
            # (404: the suggestion does not exist, so the check got as far as the store).
            refused = reviewer.post("/suggestions/abc/approve")
            assert refused.status_code == 403 and CSRF_HEADER in refused.json()["detail"]
            assert reviewer.post("/suggestions/abc/approve", headers={CSRF_HEADER: "x"}).status_code == 404
            # A bearer header, when there is one, is what counts.
            bearer = {"Authorization": f"Bearer {tokens['reader']}", CSRF_HEADER: "x"}
            assert reviewer.post("/suggestions/abc/approve", headers=bearer).status_code == 403

            logout = reviewer.post("/ui/logout")
            assert logout.status_code == 303 and f'{SESSION_COOKIE}=""' in logout.headers["set-cookie"]
            assert reviewer.get("/suggestions").status_code == 401

        with _signed_in(url, tokens["reader"]) as (_, reader):
            weak = reader.post("/suggestions/abc/approve", headers={CSRF_HEADER: "x"})
            assert weak.status_code == 403
            assert weak.json()["detail"] == "this needs the reviewer role; the session has reader"

        with httpx.Client(base_url=url, cookies={SESSION_COOKIE: "forged.cookie"}) as stranger:
            answer = stranger.get("/suggestions")
            assert answer.status_code == 401 and "sign in again" in answer.json()["detail"]
        with _signed_in(url, "not-a-token") as (answer, _):
            assert answer.status_code == 401 and SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_the_session_cookie_is_secure_over_https() -> None:
    # uvicorn believes X-Forwarded-Proto from 127.0.0.1 (a TLS-terminating proxy on the same host).
    with (
        _session_server(anonymous_read=True) as (url, tokens),
        _signed_in(url, tokens["reviewer"], **{"X-Forwarded-Proto": "https"}) as (answer, _),
    ):
        assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]
