"""Bearer-token roles (reader < reviewer < admin), configured as salted hashes in ``Settings.api_tokens``.

A configured entry is ``role:salt:sha256hex`` or ``role:salt:sha256hex:name`` with ``sha256hex =
sha256(salt + token)``; the token itself is never stored. The name says who holds the token (review events
record it as the reviewer); an entry without one is named ``token-{salt}``, stable for as long as the entry is.

``require_role(role)`` is a FastAPI dependency giving the caller's role, ``require_identity(role)`` one giving
(role, name); ``check_role`` does the same for routes whose needed role depends on the request (a SPARQL
update needs admin, a query only reader).

Browser sessions (the reviewer's page, ``api/web``): signing in with a token sets :data:`SESSION_COOKIE`, an
HMAC-signed ``{salt, role, name, expiry}`` of the token's settings entry; it never holds the token. The checks
accept it where there is no ``Authorization`` header, as long as the entry is still configured (dropping an
entry ends its sessions). A state-changing request (not GET/HEAD/OPTIONS) signed in by the cookie must also
carry :data:`CSRF_HEADER`: a cross-site form cannot set it, and a cross-site script may not without CORS.

Make a token: ``python -m api.auth make-token ROLE [--name NAME]`` prints the token and its settings entry.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import sys
import time
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


class _Entry(NamedTuple):
    role: str
    salt: str
    digest: str
    name: str


def _entries(entries: Sequence[str]) -> list[_Entry]:
    """The well-formed settings entries; a malformed one grants nothing."""
    found = []
    for entry in entries:
        parts = entry.split(":")
        if len(parts) not in (3, 4) or parts[0] not in _RANK or not parts[2]:
            continue
        role, salt, expected = parts[:3]
        name = parts[3] if len(parts) == 4 else f"token-{salt}"
        if NAME.match(name):
            found.append(_Entry(role, salt, expected.lower(), name))
    return found


def _matching_entry(token: str, entries: Sequence[str]) -> _Entry | None:
    """The entry a token matches (the highest role, should several match)."""
    found: _Entry | None = None
    for entry in _entries(entries):
        if hmac.compare_digest(_digest(entry.salt, token), entry.digest) and (
            found is None or _RANK[entry.role] > _RANK[found.role]
        ):
            found = entry
    return found


def identify(token: str, entries: Sequence[str]) -> Identity | None:
    """Who a token belongs to (the highest role, should several entries match), or None for an unknown token."""
    entry = _matching_entry(token, entries)
    return None if entry is None else Identity(entry.role, entry.name)


def role_of(token: str, entries: Sequence[str]) -> str | None:
    """The role a token grants, or None for an unknown token."""
    identity = identify(token, entries)
    return None if identity is None else identity.role


# -- browser sessions ----------------------------------------------------------------------------------
SESSION_COOKIE = "enrich_session"
#: How long a sign-in lasts (a working day); signing in again starts a new one.
SESSION_LIFETIME_S = 12 * 3600
#: The header a cookie-authenticated state-changing request must carry (any value).
CSRF_HEADER = "X-Requested-With"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_key(settings: Settings) -> bytes:
    """The key that signs session cookies: from ``session_secret`` when set (one secret per deployment, shared
    by its workers), else derived from the base IRI, the store and the configured token entries. The entries
    hold hashes nobody outside the deployment sees, and changing them ends every session, as revoking a token
    should."""
    if settings.session_secret:
        return hashlib.sha256(f"ui-session-secret:{settings.session_secret}".encode()).digest()
    material = "\n".join([settings.base_iri, settings.store, *sorted(settings.api_tokens)])
    return hashlib.sha256(f"ui-session:{material}".encode()).digest()


def _session_signature(settings: Settings, body: str) -> bytes:
    # Bytes, so that a cookie value with any characters in it compares without error (and in constant time).
    return hmac.new(session_key(settings), body.encode("utf-8"), hashlib.sha256).hexdigest().encode("ascii")


def make_session(token: str, settings: Settings, now: float | None = None) -> tuple[str, Identity] | None:
    """A session cookie value for a token, and who it signs in; None for an unknown token."""
    entry = _matching_entry(token, settings.api_tokens)
    if entry is None:
        return None
    expires = int((time.time() if now is None else now) + SESSION_LIFETIME_S)
    fields = {"salt": entry.salt, "role": entry.role, "name": entry.name, "expires": expires}
    data = json.dumps(fields, separators=(",", ":"), sort_keys=True).encode("utf-8")
    body = base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
    return f"{body}.{_session_signature(settings, body).decode('ascii')}", Identity(entry.role, entry.name)


def read_session(value: str, settings: Settings, now: float | None = None) -> Identity | None:
    """Who a session cookie signs in: None when it is forged, expired, or its token entry is gone."""
    body, _, signature = value.partition(".")
    if not body or not hmac.compare_digest(signature.encode("utf-8"), _session_signature(settings, body)):
        return None
    try:
        fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        salt, role, name, expires = fields["salt"], fields["role"], fields["name"], int(fields["expires"])
    except (binascii.Error, ValueError, TypeError, KeyError):
        return None
    if expires < (time.time() if now is None else now):
        return None
    if not any((e.salt, e.role, e.name) == (salt, role, name) for e in _entries(settings.api_tokens)):
        return None
    return Identity(role, name)


def session_identity(request: Request) -> Identity | None:
    """Who the request's session cookie signs in, if anyone."""
    value = request.cookies.get(SESSION_COOKIE)
    return None if value is None else read_session(value, request.app.state.settings)


# -- checks ----------------------------------------------------------------------------------------------
def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def _granted(identity: Identity, needed: Role, held_by: str) -> Identity:
    if _RANK[identity.role] < _RANK[needed]:
        raise HTTPException(status_code=403, detail=f"this needs the {needed} role; the {held_by} has {identity.role}")
    return identity


def check_identity(request: Request, needed: Role) -> Identity:
    """The caller (``ANONYMOUS_IDENTITY`` for an allowed anonymous read); raises 401 (no or unknown token)
    or 403 (too weak a role, or a cookie-authenticated change without :data:`CSRF_HEADER`)."""
    settings: Settings = request.app.state.settings
    header = request.headers.get("authorization")
    if header is None:
        anonymous = needed == "reader" and settings.anonymous_read
        session = session_identity(request)
        if session is not None and request.method not in _SAFE_METHODS and not request.headers.get(CSRF_HEADER):
            if anonymous:
                return ANONYMOUS_IDENTITY
            raise HTTPException(
                status_code=403,
                detail=f"a change made with the session cookie must carry the {CSRF_HEADER} header "
                "(it protects against cross-site requests)",
            )
        if session is not None:
            return _granted(session, needed, "session")
        if anonymous:
            return ANONYMOUS_IDENTITY
        if SESSION_COOKIE in request.cookies:
            raise _unauthorized("the session has expired or is no longer valid: sign in again")
        raise _unauthorized(f"this needs a bearer token with the {needed} role")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("expected 'Authorization: Bearer TOKEN'")
    identity = identify(token.strip(), settings.api_tokens)
    if identity is None:
        raise _unauthorized("unknown token")
    return _granted(identity, needed, "token")


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
