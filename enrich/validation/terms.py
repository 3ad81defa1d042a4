"""RDF terms as the validator handles them (pyoxigraph's own term objects) and their text forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeAlias

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from enrich.validation.vocabulary import BLANK_KIND, IRI_KIND, LITERAL_KIND

Term: TypeAlias = NamedNode | BlankNode | Literal | Triple
# A set of value nodes that keeps the record's order (a dict with None values), so that results come out in
# a stable order. Path functions may hand out the record index's own sets, hence the read-only type.
ValueSet: TypeAlias = Mapping[Term, None]

EMPTY: Final[ValueSet] = {}


# The node kind of each term class as sh:nodeKind sees it; an RDF 1.2 triple term is none of them.
TERM_TYPES: Final[Mapping[type, str]] = {NamedNode: IRI_KIND, BlankNode: BLANK_KIND, Literal: LITERAL_KIND}


def focus_text(term: Term) -> str:
    """A focus node as Violation.focus writes it: the bare IRI, ``_:id``, or N-Triples for anything else."""
    if isinstance(term, NamedNode):
        return term.value
    return str(term)


def n_triples(term: Term) -> str:
    return str(term)


def compact(iri: str, prefixes: Mapping[str, str]) -> str:
    """``prefix:local`` where a namespace in ``prefixes`` covers ``iri`` with a plain local name.

    Anything else is written in full, ``<iri>``.
    """
    best = ""
    best_prefix = ""
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(namespace) > len(best):
            local = iri[len(namespace) :]
            if local and all(ch.isalnum() or ch in "_-." for ch in local) and not local.endswith("."):
                best, best_prefix = namespace, prefix
    if best:
        return f"{best_prefix}:{iri[len(best) :]}"
    return f"<{iri}>"
