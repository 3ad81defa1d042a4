"""Stateless resumption tokens: the original arguments plus a keyset position, signed with HMAC.

A token is ``base64url(JSON) "." base64url(HMAC-SHA256)``. Nothing is kept on the server, so a token
outlives restarts; it stays valid for :data:`TOKEN_LIFETIME` (the ``expirationDate`` we announce).

The key is ``settings.oai_token_secret`` when set. Otherwise it is derived from the base IRI and the store
location, which are stable across restarts of one deployment (a per-process random key would break the
24 h validity); set ``ENRICH_OAI_TOKEN_SECRET`` to make tokens unforgeable by someone who knows both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from enrich.settings import Settings

TOKEN_LIFETIME = timedelta(hours=24)


class BadToken(ValueError):
    """The token is malformed, tampered with, expired or used with another verb."""


@dataclass(frozen=True)
class ListPosition:
    """Where a list request stands: its arguments, the last (datestamp, record id) sent, counts, and the
    snapshot of the records it lists (``listings``; a cache, rebuilt where it is missing)."""

    verb: str
    prefix: str
    start: str | None
    end: str | None
    set_spec: str | None
    after_stamp: str
    after_id: str
    cursor: int
    total: int
    expires: int
    listing: str = ""


def token_key(settings: Settings) -> bytes:
    secret = settings.oai_token_secret
    if secret:
        return hashlib.sha256(f"oai-token-secret:{secret}".encode()).digest()
    base = settings.base_iri
    store = settings.store
    return hashlib.sha256(f"oai-token:{base}\n{store}".encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())


def expiry(now: datetime | None = None) -> int:
    return int(((now or datetime.now(UTC)) + TOKEN_LIFETIME).timestamp())


def encode(position: ListPosition, key: bytes) -> str:
    body = _b64(json.dumps(asdict(position), separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{body}.{_signature(key, body)}"


def decode(token: str, key: bytes, verb: str, now: datetime | None = None) -> ListPosition:
    body, _, signature = token.partition(".")
    if not body or not hmac.compare_digest(signature, _signature(key, body)):
        raise BadToken("the resumption token is not one this repository issued")
    try:
        fields: dict[str, Any] = json.loads(_unb64(body))
        position = ListPosition(**fields)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadToken("the resumption token cannot be read") from exc
    if position.verb != verb:
        raise BadToken(f"the resumption token belongs to {position.verb}, not {verb}")
    if position.expires < (now or datetime.now(UTC)).timestamp():
        raise BadToken("the resumption token has expired")
    return position
