"""The one shape every enricher's output takes: a proposed triple about a record, with why and how sure.

Only the provenance writer turns suggestions into RDF (DESIGN §4); enrichers return these values.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from enum import StrEnum

from enrich.namespaces import ENR

# BCP 47 in the shape RDF needs (RFC 3066 style): letters, then letter/digit subtags.
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


class Status(StrEnum):
    """Where a suggestion is in review (the IRIs are ``enr:{value}``)."""

    PENDING = "Pending"
    AUTO_ACCEPTED = "AutoAccepted"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    SUPERSEDED = "Superseded"
    RETRACTED = "Retracted"

    @property
    def iri(self) -> str:
        return ENR + self.value


@dataclass(frozen=True, slots=True)
class SuggestedValue:
    """The object of a suggested triple: an IRI (a concept), or a literal with a language tag."""

    value: str
    is_iri: bool = True
    language: str | None = None

    def __post_init__(self) -> None:
        if not self.value:
            raise ValueError("a suggested value cannot be empty")
        if self.is_iri and self.language is not None:
            raise ValueError("an IRI has no language tag")
        if self.language is not None and not _LANGUAGE_TAG.match(self.language):
            raise ValueError(f"not a language tag: {self.language!r}")

    def key(self) -> str:
        """What identifies the value in a triple (N-Triples-like, so an IRI and a literal never collide)."""
        if self.is_iri:
            return f"<{self.value}>"
        return f'"{self.value}"@{(self.language or "").lower()}'


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What produced a suggestion: enough to reproduce it (its hash goes into provenance)."""

    name: str
    version: str
    config_hash: str = ""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One proposed triple ``(subject, predicate, value)`` about the record ``record_id``."""

    record_id: str
    subject: str
    predicate: str
    value: SuggestedValue
    facet: str
    confidence: float
    enricher: str
    model: ModelCard
    evidence: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not (0.0 <= self.confidence <= 1.0) or math.isnan(self.confidence):
            raise ValueError(f"confidence must be in [0, 1], not {self.confidence!r}")
        if not self.value.is_iri and not self.value.language:
            raise ValueError("a literal suggestion needs a language tag (it says what the text is)")

    @property
    def triple_key(self) -> str:
        """Identity is the triple: the same (s, p, o) from any enricher or run is one suggestion."""
        return f"<{self.subject}> <{self.predicate}> {self.value.key()}"

    @property
    def suggestion_id(self) -> str:
        return suggestion_id(self.subject, self.predicate, self.value)


def suggestion_id(subject: str, predicate: str, value: SuggestedValue) -> str:
    """A stable id from the triple alone (hex SHA-256, shortened: 2^-96 collision odds per pair)."""
    key = f"<{subject}> <{predicate}> {value.key()}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
