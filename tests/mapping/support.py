"""Helpers for the CIDOC-CRM mapping tests: example documents, parsing, and the fields a mapping must keep."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

import pyoxigraph
import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple
from rdflib.compare import isomorphic

from enrich.mapping import crm

DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PAINTING = DATA / "painting.linked-art.jsonld"
TWO_OBJECTS = DATA / "two-objects.crm.ttl"
OLD_NAMESPACE = DATA / "old-namespace.crm.rdf"
EDM_RECORD = DATA / "record.edm.ttl"
PAINTING_IRI = "https://collection.example.org/object/1937-23"
BELL_IRI = "https://museum.example.net/object/B-1204"
MODEL_IRI = "https://museum.example.net/object/T-88"
TUREEN_IRI = "https://archive.example.org/item/KG-1912-77"
CC0 = "http://creativecommons.org/publicdomain/zero/1.0/"
OPTIONS = crm.CrmOptions(provider="Example Aggregator", rights=CC0)
FORMATS = {".jsonld": RdfFormat.JSON_LD, ".ttl": RdfFormat.TURTLE, ".rdf": RdfFormat.RDF_XML, ".xml": RdfFormat.RDF_XML}


def read(path: Path) -> list[Triple]:
    """A document's triples as ingest parses CIDOC-CRM input (Linked Art's context resolved offline)."""
    return crm.parse(path.read_bytes(), FORMATS[path.suffix], base_iri="http://base.example/", lenient=True)


def triples_of(lines: Iterable[str]) -> list[Triple]:
    return [quad.triple for quad in pyoxigraph.parse("\n".join(lines), RdfFormat.N_TRIPLES)]


def converted(path: Path, options: crm.CrmOptions = OPTIONS) -> dict[str, crm.CrmObject]:
    return {obj.iri: obj for obj in crm.convert(read(path), options)}


def same_graph(first: Iterable[Triple], second: Iterable[Triple]) -> bool:
    """Whether two sets of triples are the same graph, blank nodes matched by structure."""

    def graph(triples: Iterable[Triple]) -> rdflib.Graph:
        text = pyoxigraph.serialize(list(triples), format=RdfFormat.N_TRIPLES) or b""
        return rdflib.Graph().parse(data=text.decode("utf-8"), format="nt")

    return isomorphic(graph(first), graph(second))


@cache
def aat_languages() -> dict[str, str]:
    """Linked Art's language list: AAT concept IRI -> language tag (as both .rq files hold it)."""
    text = resources.files("cromulent").joinpath("data/vocab_instances.json").read_text(encoding="utf-8")
    return {
        f"http://vocab.getty.edu/aat/{entry['id']}": entry["code"]
        for entry in json.loads(text).values()
        if entry.get("parent") == "Language" and entry.get("code")
    }


def _value(term: object) -> object:
    """A term as a comparable value: an IRI as itself, a literal as (text, language), blank nodes as None."""
    if isinstance(term, NamedNode):
        return term.value
    if isinstance(term, Literal):
        return (term.value, term.language or "")
    assert isinstance(term, BlankNode)
    return None


def _select(triples: Iterable[Triple], query: str) -> list[dict[str, object]]:
    store = pyoxigraph.Store()
    store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in triples)
    result = store.query(query)
    assert isinstance(result, pyoxigraph.QuerySolutions)
    names = [v.value for v in result.variables]
    return [{name: _value(row[name]) for name in names if row[name] is not None} for row in result]


EDM_PREFIXES = """
PREFIX dc: <http://purl.org/dc/elements/1.1/> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX edm: <http://www.europeana.eu/schemas/edm/> PREFIX ore: <http://www.openarchives.org/ore/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


def edm_fields(triples: Iterable[Triple], cho: str) -> dict[str, set[object]]:
    """What the EDM <-> CRM mappings carry, read from an EDM record: each field as a set of plain values.

    Entities (agents, places, concepts, time-spans) count by IRI and by label, blank ones by label only;
    dates by their year, since a year becomes xsd:dateTime bounds in CIDOC-CRM.
    """
    triples = list(triples)
    fields: dict[str, set[object]] = {}
    plain = {
        "title": "dc:title",
        "alternative": "dcterms:alternative",
        "identifier": "dc:identifier",
        "description": "dc:description",
        "type": "dc:type",
        "medium": "dcterms:medium",
        "creator": "dc:creator",
        "spatial": "dcterms:spatial",
        "created": "dcterms:created",
    }
    for name, path in plain.items():
        rows = _select(
            triples,
            f"{EDM_PREFIXES} SELECT ?value ?label WHERE {{ <{cho}> (^ore:proxyFor)?/{path} ?value "
            "OPTIONAL { ?value skos:prefLabel ?label } }",
        )
        fields[name] = {row["value"] for row in rows if row.get("value") is not None} | {
            row["label"] for row in rows if "label" in row
        }
    for name in ("dataProvider", "rights", "isShownBy", "isShownAt"):
        rows = _select(
            triples,
            f"{EDM_PREFIXES} SELECT ?value WHERE {{ ?aggregation edm:aggregatedCHO <{cho}> ; edm:{name} ?value }}",
        )
        fields[name] = {row["value"] for row in rows}
    rows = _select(
        triples,
        f"{EDM_PREFIXES} SELECT ?begin ?end WHERE {{ <{cho}> (^ore:proxyFor)?/dcterms:created ?span . "
        "OPTIONAL { ?span edm:begin ?begin } OPTIONAL { ?span edm:end ?end } }",
    )
    fields["years"] = {
        (str(row["begin"][0])[:4] if "begin" in row else None, str(row["end"][0])[:4] if "end" in row else None)
        for row in rows
        if "begin" in row or "end" in row
    }
    return fields


CRM_PREFIXES = """
PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
_PRODUCTION = "(crm:P108i_was_produced_by|^crm:P108_has_produced)/crm:P9_consists_of*"


def crm_fields(triples: Iterable[Triple], obj: str) -> dict[str, set[object]]:
    """What the mappings carry, read from CIDOC-CRM: types, materials, titles (text, language), identifiers,
    creators (IRI or name), places, time-span bounds (as written) and their years."""
    triples = list(triples)
    languages = aat_languages()

    def texts(path: str, classes: str) -> set[object]:
        rows = _select(
            triples,
            f"{CRM_PREFIXES} SELECT ?content ?language WHERE {{ <{obj}> {path} ?node . ?node a ?class . "
            f"VALUES ?class {{ {classes} }} "
            "?node crm:P190_has_symbolic_content|rdfs:label ?content "
            "OPTIONAL { ?node crm:P72_has_language ?language } }",
        )
        values: set[object] = set()
        for row in rows:
            text, tag = row["content"]
            values.add((text, tag or languages.get(str(row.get("language")), "")))
        return values

    def entities(path: str) -> set[object]:
        rows = _select(
            triples,
            f"{CRM_PREFIXES} SELECT ?node ?name WHERE {{ <{obj}> {path} ?node . "
            "OPTIONAL { ?node ((crm:P1_is_identified_by|crm:P131_is_identified_by)/"
            "(crm:P190_has_symbolic_content|rdfs:label))|rdfs:label ?name } }",
        )
        return {row["node"] for row in rows if row.get("node") is not None} | {
            row["name"][0] for row in rows if "name" in row
        }

    bounds = _select(
        triples,
        f"{CRM_PREFIXES} SELECT ?begin ?end WHERE {{ <{obj}> {_PRODUCTION}/crm:P4_has_time-span ?span . "
        "OPTIONAL { ?span crm:P82a_begin_of_the_begin|crm:P79_beginning_is_qualified_by ?begin } "
        "OPTIONAL { ?span crm:P82b_end_of_the_end|crm:P80_end_is_qualified_by ?end } }",
    )
    return {
        "titles": texts(
            "crm:P1_is_identified_by|crm:P102_has_title",
            "crm:E33_E41_Linguistic_Appellation crm:E41_Appellation crm:E35_Title",
        ),
        "identifiers": {text for text, _ in texts("crm:P1_is_identified_by", "crm:E42_Identifier")},
        "types": entities("crm:P2_has_type"),
        "materials": entities("crm:P45_consists_of"),
        "creators": entities(f"{_PRODUCTION}/crm:P14_carried_out_by"),
        "places": entities(f"{_PRODUCTION}/crm:P7_took_place_at"),
        "bounds": {(row.get("begin"), row.get("end")) for row in bounds},
        "years": {
            (str(row["begin"][0])[:4] if "begin" in row else None, str(row["end"][0])[:4] if "end" in row else None)
            for row in bounds
        },
    }
