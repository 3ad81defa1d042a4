"""Bearer-token roles (reader < reviewer < admin), configured as salted hashes in ``Settings.api_tokens``.

A configured entry is ``role:salt:sha256hex`` with ``sha256hex = sha256(salt + token)``; the token itself
is never stored. ``require_role(role)`` is a FastAPI dependency; ``check_role`` does the same for routes
whose needed role depends on the request (a SPARQL update needs admin, a query only reader).

Make a token: ``python -m api.auth make-token ROLE`` prints the token and its settings entry.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import secrets
import sys
from collections.abc import Callable, Sequence
from typing import Literal

from fastapi import HTTPException, Request

from enrich.settings import Settings

Role = Literal["reader", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("reader", "reviewer", "admin")
_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
ANONYMOUS = "anonymous"


def _digest(salt: str, token: str) -> str:
    return hashlib.sha256((salt + token).encode("utf-8")).hexdigest()


def make_token(role: Role) -> tuple[str, str]:
    """A new random token and its settings entry ``role:salt:sha256hex``."""
    if role not in _RANK:
        raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
    token = secrets.token_urlsafe(32)
    salt = secrets.token_hex(8)
    return token, f"{role}:{salt}:{_digest(salt, token)}"


def role_of(token: str, entries: Sequence[str]) -> str | None:
    """The role a token grants (the highest, should several entries match), or None for an unknown token."""
    found: str | None = None
    for entry in entries:
        role, _, rest = entry.partition(":")
        salt, _, expected = rest.partition(":")
        if role not in _RANK or not expected:
            continue  # a malformed entry grants nothing
        if hmac.compare_digest(_digest(salt, token), expected.lower()) and (
            found is None or _RANK[role] > _RANK[found]
        ):
            found = role
    return found


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def check_role(request: Request, needed: Role) -> str:
    """The caller's role, or ``anonymous``; raises 401 (no or unknown token) or 403 (too weak a role)."""
    settings: Settings = request.app.state.settings
    header = request.headers.get("authorization")
    if header is None:
        if needed == "reader" and settings.anonymous_read:
            return ANONYMOUS
        raise _unauthorized(f"this needs a bearer token with the {needed} role")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("expected 'Authorization: Bearer TOKEN'")
    role = role_of(token.strip(), settings.api_tokens)
    if role is None:
        raise _unauthorized("unknown token")
    if _RANK[role] < _RANK[needed]:
        raise HTTPException(status_code=403, detail=f"this needs the {needed} role; the token has {role}")
    return role


def require_role(needed: Role) -> Callable[[Request], str]:
    """A dependency granting access to ``needed`` or a higher role; it returns the caller's role."""

    def dependency(request: Request) -> str:
        return check_role(request, needed)

    return dependency


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.auth", description="API token helper")
    actions = parser.add_subparsers(dest="action", required=True)
    make = actions.add_parser("make-token", help="print a new token and the api_tokens entry holding its hash")
    make.add_argument("role", choices=ROLES)
    args = parser.parse_args(argv)
    token, entry = make_token(args.role)
    print(f"token: {token}")
    print(f"api_tokens entry: {entry}")
    print(f"ENRICH_API_TOKENS='{json.dumps([entry])}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
