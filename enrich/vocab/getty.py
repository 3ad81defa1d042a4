"""A subtree of the Getty AAT fetched live from a SPARQL endpoint (Getty's, or any holding Getty LOD).

The Getty endpoint materialises ``gvp:broaderExtended`` (all ancestors), so a subtree is one indexed
lookup instead of a property path walk; concepts are then described in pages of ``VALUES`` so no
request grows without bound. Tests point this at a local server holding the Getty sample files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pyoxigraph
from pyoxigraph import RdfFormat, Triple

from enrich.ingest.errors import InputError
from enrich.namespaces import SKOS
from enrich.store.base import StoreError
from enrich.vocab.skos import GVP, OWL, SKOSXL, Vocabulary, read_skos

GETTY_ENDPOINT = "http://vocab.getty.edu/sparql"
AAT = "http://vocab.getty.edu/aat/"
_PAGE = 200
_ID = re.compile(r"^(?:aat:|http://vocab\.getty\.edu/aat/)?(\d{6,10})$")


def concept_iri(reference: str) -> str:
    """``300264091``, ``aat:300264091`` or the full IRI → the concept IRI."""
    match = _ID.match(reference.strip())
    if match is None:
        raise InputError(reference, "not an AAT concept id (expected digits such as 300264091, or aat:ID)")
    return AAT + match.group(1)


def _client(endpoint: str, timeout: float) -> Any:  # SPARQLWrapper ships no type hints
    from SPARQLWrapper import SPARQLWrapper

    client = SPARQLWrapper(endpoint, agent="heritage-enrich vocabulary loader")
    client.setTimeout(int(timeout))
    client.setMethod("POST")
    return client


def _select_concepts(endpoint: str, root: str, timeout: float, limit: int) -> list[str]:
    from SPARQLWrapper import JSON

    client = _client(endpoint, timeout)
    client.setReturnFormat(JSON)
    client.setQuery(
        f"SELECT DISTINCT ?c WHERE {{ {{ VALUES ?c {{ <{root}> }} ?c a ?type }} "
        f"UNION {{ ?c <{GVP}broaderExtended> <{root}> }} }} ORDER BY ?c LIMIT {limit + 1}"
    )
    result = client.queryAndConvert()
    concepts = [row["c"]["value"] for row in result["results"]["bindings"] if row["c"]["type"] == "uri"]
    if len(concepts) > limit:
        raise InputError(root, f"the subtree has more than {limit:,} concepts; raise --max-concepts or load a dump")
    return concepts


def _describe(endpoint: str, concepts: list[str], timeout: float) -> bytes:
    from SPARQLWrapper import TURTLE

    values = " ".join(f"<{iri}>" for iri in concepts)
    client = _client(endpoint, timeout)
    client.setReturnFormat(TURTLE)
    # One UNION branch per kind of fact, so the result has no cross products of labels and parents.
    client.setQuery(
        f"""CONSTRUCT {{
  ?c a ?type ; <{SKOS}prefLabel> ?pref ; <{SKOS}altLabel> ?alt ; <{GVP}broaderPreferred> ?parent ;
     <{SKOS}broader> ?broader ; <{SKOS}inScheme> ?scheme ; <{SKOS}notation> ?notation ;
     <{OWL}deprecated> ?deprecated ; <{SKOSXL}prefLabel> ?xlPref ; <{SKOSXL}altLabel> ?xlAlt .
  ?xlPref <{SKOSXL}literalForm> ?xlPrefForm . ?xlAlt <{SKOSXL}literalForm> ?xlAltForm .
}} WHERE {{
  VALUES ?c {{ {values} }}
  {{ ?c a ?type }} UNION {{ ?c <{SKOS}prefLabel> ?pref }} UNION {{ ?c <{SKOS}altLabel> ?alt }}
  UNION {{ ?c <{GVP}broaderPreferred> ?parent }} UNION {{ ?c <{SKOS}broader> ?broader }}
  UNION {{ ?c <{SKOS}inScheme> ?scheme }} UNION {{ ?c <{SKOS}notation> ?notation }}
  UNION {{ ?c <{OWL}deprecated> ?deprecated }}
  UNION {{ ?c <{SKOSXL}prefLabel> ?xlPref . ?xlPref <{SKOSXL}literalForm> ?xlPrefForm }}
  UNION {{ ?c <{SKOSXL}altLabel> ?xlAlt . ?xlAlt <{SKOSXL}literalForm> ?xlAltForm }}
}}"""
    )
    data = client.queryAndConvert()
    if not isinstance(data, bytes):
        raise StoreError(f"{endpoint}: expected Turtle from a CONSTRUCT query, got {type(data).__name__}")
    return data


def fetch_subtree(
    root_id: str, endpoint: str = GETTY_ENDPOINT, timeout: float = 60.0, max_concepts: int = 50_000
) -> Vocabulary:
    """The concept ``root_id`` and everything below it, as a vocabulary ready to load."""
    from urllib.error import URLError

    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    root = concept_iri(root_id)
    try:
        concepts = _select_concepts(endpoint, root, timeout, max_concepts)
        if not concepts:
            raise InputError(root, f"not found at {endpoint}")

        def triples() -> Iterator[Triple]:
            for start in range(0, len(concepts), _PAGE):
                page = _describe(endpoint, concepts[start : start + _PAGE], timeout)
                yield from pyoxigraph.parse(page, RdfFormat.TURTLE)

        vocabulary = read_skos(triples())
    except (URLError, SPARQLWrapperException, TimeoutError, ConnectionError) as exc:
        raise StoreError(f"SPARQL endpoint {endpoint}: {exc}") from exc
    except SyntaxError as exc:
        raise StoreError(f"SPARQL endpoint {endpoint} sent unreadable Turtle: {exc}") from exc
    if vocabulary.scheme_iri is None:
        vocabulary.scheme_iri = AAT
    return vocabulary
