"""Bearer-token roles (reader < reviewer < admin), configured as salted hashes in ``Settings.api_tokens``.

A configured entry is ``role:salt:sha256hex`` or ``role:salt:sha256hex:name`` with ``sha256hex =
sha256(salt + token)``; the token itself is never stored. The name says who holds the token (review events
record it as the reviewer); an entry without one is named ``token-{salt}``, stable for as long as the entry is.

``require_role(role)`` is a FastAPI dependency giving the caller's role, ``require_identity(role)`` one giving
(role, name); ``check_role`` does the same for routes whose needed role depends on the request (a SPARQL
update needs admin, a query only reader).

Make a token: ``python -m api.auth make-token ROLE [--name NAME]`` prints the token and its settings entry.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import secrets
import sys
from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

from fastapi import HTTPException, Request

from enrich.settings import Settings

Role = Literal["reader", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("reader", "reviewer", "admin")
_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
ANONYMOUS = "anonymous"
#: What a token holder's name may be: it goes into review events and logs as it is.
NAME = re.compile(r"^[A-Za-z0-9._@-]+$")


class Identity(NamedTuple):
    """Who is calling: a role (or ``anonymous``) and a name."""

    role: str
    name: str


ANONYMOUS_IDENTITY = Identity(ANONYMOUS, ANONYMOUS)


def _digest(salt: str, token: str) -> str:
    return hashlib.sha256((salt + token).encode("utf-8")).hexdigest()


def make_token(role: Role, name: str | None = None) -> tuple[str, str]:
    """A new random token and its settings entry ``role:salt:sha256hex`` (``…:name`` when named)."""
    if role not in _RANK:
        raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
    if name is not None and not NAME.match(name):
        raise ValueError(f"a token name is made of letters, digits and . _ @ - (got {name!r})")
    token = secrets.token_urlsafe(32)
    salt = secrets.token_hex(8)
    entry = f"{role}:{salt}:{_digest(salt, token)}"
    return token, entry if name is None else f"{entry}:{name}"


def identify(token: str, entries: Sequence[str]) -> Identity | None:
    """Who a token belongs to (the highest role, should several entries match), or None for an unknown token."""
    found: Identity | None = None
    for entry in entries:
        parts = entry.split(":")
        if len(parts) not in (3, 4) or parts[0] not in _RANK or not parts[2]:
            continue  # a malformed entry grants nothing
        role, salt, expected = parts[:3]
        name = parts[3] if len(parts) == 4 else f"token-{salt}"
        if not NAME.match(name):
            continue
        if hmac.compare_digest(_digest(salt, token), expected.lower()) and (
            found is None or _RANK[role] > _RANK[found.role]
        ):
            found = Identity(role, name)
    return found


def role_of(token: str, entries: Sequence[str]) -> str | None:
    """The role a token grants, or None for an unknown token."""
    identity = identify(token, entries)
    return None if identity is None else identity.role


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def check_identity(request: Request, needed: Role) -> Identity:
    """The caller (``ANONYMOUS_IDENTITY`` for an allowed anonymous read); raises 401 (no or unknown token)
    or 403 (too weak a role)."""
    settings: Settings = request.app.state.settings
    header = request.headers.get("authorization")
    if header is None:
        if needed == "reader" and settings.anonymous_read:
            return ANONYMOUS_IDENTITY
        raise _unauthorized(f"this needs a bearer token with the {needed} role")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("expected 'Authorization: Bearer TOKEN'")
    identity = identify(token.strip(), settings.api_tokens)
    if identity is None:
        raise _unauthorized("unknown token")
    if _RANK[identity.role] < _RANK[needed]:
        raise HTTPException(status_code=403, detail=f"this needs the {needed} role; the token has {identity.role}")
    return identity


def check_role(request: Request, needed: Role) -> str:
    """The caller's role, or ``anonymous``; raises like :func:`check_identity`."""
    return check_identity(request, needed).role


def require_role(needed: Role) -> Callable[[Request], str]:
    """A dependency granting access to ``needed`` or a higher role; it returns the caller's role."""

    def dependency(request: Request) -> str:
        return check_role(request, needed)

    return dependency


def require_identity(needed: Role) -> Callable[[Request], Identity]:
    """Like :func:`require_role`, returning who the caller is (for routes that record it)."""

    def dependency(request: Request) -> Identity:
        return check_identity(request, needed)

    return dependency


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.auth", description="API token helper")
    actions = parser.add_subparsers(dest="action", required=True)
    make = actions.add_parser("make-token", help="print a new token and the api_tokens entry holding its hash")
    make.add_argument("role", choices=ROLES)
    make.add_argument("--name", help="who holds the token (letters, digits, . _ @ -); review events record it")
    args = parser.parse_args(argv)
    try:
        token, entry = make_token(args.role, args.name)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"token: {token}")
    print(f"api_tokens entry: {entry}")
    print(f"ENRICH_API_TOKENS='{json.dumps([entry])}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
