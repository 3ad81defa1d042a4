"""Our vocabulary file declares every term the code writes, and parses as Turtle."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph

from enrich.namespaces import ENR, RDF_TYPE
from enrich.resources import ontology_file

CODE = Path(__file__).resolve().parents[1] / "enrich"


def _declared() -> set[str]:
    triples = pyoxigraph.parse(path=str(ontology_file("enrich.ttl")), format=pyoxigraph.RdfFormat.TURTLE)
    return {
        t.subject.value.removeprefix(ENR)
        for t in triples
        if t.predicate.value == RDF_TYPE
        and isinstance(t.subject, pyoxigraph.NamedNode)
        and t.subject.value.startswith(ENR)
    }


def _used() -> set[str]:
    used: set[str] = set()
    for path in CODE.rglob("*.py"):
        used |= set(re.findall(r"\{ENR\}([A-Za-z]+)", path.read_text(encoding="utf-8")))
    return used


def test_every_term_the_code_uses_is_declared() -> None:
    used = _used()
    assert {"checksum", "datestamp", "deleted", "IngestTransaction"} <= used
    assert used - _declared() == set()


def test_every_declared_term_has_a_label() -> None:
    labelled = {
        t.subject.value.removeprefix(ENR)
        for t in pyoxigraph.parse(path=str(ontology_file("enrich.ttl")), format=pyoxigraph.RdfFormat.TURTLE)
        if t.predicate.value.endswith("#label")
    }
    assert _declared() - labelled == set()
