"""Shared helpers for the ingest tests: small EDM records in every format, ingest and store inspection."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from pyoxigraph import BlankNode, Literal, NamedNode

from enrich.ingest import IngestOptions, Ingestor, IngestReport, documents
from enrich.ingest.records import record_id
from enrich.namespaces import DC, DCTERMS, EDM, ENR, ORE, RDF_TYPE, SKOS, XSD, Graphs
from enrich.settings import Settings
from enrich.store.base import Store, Term

BASE_IRI = "https://data.heritage-enrich.example/"
GRAPHS = Graphs(BASE_IRI)
#: Where relative IRIs in the input resolve to (the ingest's default base for documents).
RESOURCE_BASE = GRAPHS.base + "/resource/"
EX = "http://example.org/"
DATESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
FORMATS = ("rdfxml", "turtle", "ntriples", "nquads", "jsonld")
SUFFIX = {"rdfxml": ".rdf", "turtle": ".ttl", "ntriples": ".nt", "nquads": ".nq", "jsonld": ".jsonld"}
#: Triples in one record written by :func:`record_text`.
RECORD_TRIPLES = 16


def make_settings(**overrides: object) -> Settings:
    """Settings independent of any ENRICH_* variable in the environment (except what is overridden)."""
    values: dict[str, object] = {
        "base_iri": BASE_IRI,
        "store": ":memory:",
        "remote_query_url": None,
        "remote_update_url": None,
        "remote_gsp_url": None,
        "ingest_batch_records": 5000,
        "max_input_bytes": 2 * 1024**3,
        "max_archive_bytes": 8 * 1024**3,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def ingest(
    store: Store,
    inputs: Sequence[Path | str],
    *,
    settings: Settings | None = None,
    explicit_format: str | None = None,
    **options: object,
) -> IngestReport:
    """One real ingest run of ``inputs`` (paths, folders, archives) into ``store``."""
    settings = settings or make_settings()
    options.setdefault("progress", False)
    ingestor = Ingestor(store, settings, IngestOptions(**options))  # type: ignore[arg-type]
    docs = documents([str(item) for item in inputs], explicit_format, max_archive_bytes=settings.max_archive_bytes)
    return ingestor.run(docs)


# -- records -------------------------------------------------------------------------------------------


def cho(n: int | str) -> str:
    return f"{EX}cho/{n}"


def record_text(fmt: str, n: int | str = 1, title: str = "Bronze bell from Kraków", graph: str | None = None) -> str:
    """One valid EDM record (object, aggregation, web resource, a blank-node agent) in ``fmt``.

    Every format gives the same 16 triples; N-Quads puts them in ``graph`` (default: a provider graph name).
    """
    if fmt == "turtle":
        return _TURTLE.format(n=n, title=title)
    if fmt == "ntriples":
        return ntriples_record(n, title)
    if fmt == "nquads":
        name = graph or f"{EX}provider-dump/graph"
        lines = ntriples_record(n, title).splitlines()
        # One statement stays in the default graph: graph names, present or not, carry no meaning.
        return "\n".join(lines[:1] + [line[:-1] + f"<{name}> ." for line in lines[1:]]) + "\n"
    if fmt == "jsonld":
        return _JSONLD.replace("{n}", str(n)).replace("{title}", title)
    if fmt == "rdfxml":
        return _RDF_XML.format(n=n, title=title)
    raise ValueError(fmt)


def ntriples_record(n: int | str, title: str = "Bronze bell from Kraków", agent: str | None = None) -> str:
    """The record of :func:`record_text` as N-Triples (``agent`` labels its blank node)."""
    agent = agent or f"maker{n}"
    c, a, w = f"<{EX}cho/{n}>", f"<{EX}agg/{n}>", f"<{EX}img/{n}.jpg>"
    dc, edm, ore = DC, EDM, ORE
    lines = [
        f"{c} <{RDF_TYPE}> <{edm}ProvidedCHO> .",
        f'{c} <{dc}title> "{title}"@en .',
        f'{c} <{dc}type> "bell"@en .',
        f"{c} <{dc}creator> _:{agent} .",
        f'{c} <{DCTERMS}created> "1850"^^<{XSD}gYear> .',
        f'{c} <{edm}type> "IMAGE" .',
        f"_:{agent} <{RDF_TYPE}> <{edm}Agent> .",
        f'_:{agent} <{SKOS}prefLabel> "Unknown maker"@en .',
        f"{a} <{RDF_TYPE}> <{ore}Aggregation> .",
        f"{a} <{edm}aggregatedCHO> {c} .",
        f"{a} <{edm}isShownBy> {w} .",
        f'{a} <{edm}dataProvider> "Example Museum" .',
        f'{a} <{edm}provider> "Example Aggregator" .',
        f"{a} <{edm}rights> <http://creativecommons.org/licenses/by/4.0/> .",
        f"{w} <{RDF_TYPE}> <{edm}WebResource> .",
        f'{w} <{dc}format> "image/jpeg" .',
    ]
    return "\n".join(lines) + "\n"


_TURTLE = """@prefix dc: <http://purl.org/dc/elements/1.1/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix edm: <http://www.europeana.eu/schemas/edm/> .
@prefix ore: <http://www.openarchives.org/ore/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<http://example.org/cho/{n}> a edm:ProvidedCHO ;
    dc:title "{title}"@en ;
    dc:type "bell"@en ;
    dc:creator [ a edm:Agent ; skos:prefLabel "Unknown maker"@en ] ;
    dcterms:created "1850"^^xsd:gYear ;
    edm:type "IMAGE" .

<http://example.org/agg/{n}> a ore:Aggregation ;
    edm:aggregatedCHO <http://example.org/cho/{n}> ;
    edm:isShownBy <http://example.org/img/{n}.jpg> ;
    edm:dataProvider "Example Museum" ;
    edm:provider "Example Aggregator" ;
    edm:rights <http://creativecommons.org/licenses/by/4.0/> .

<http://example.org/img/{n}.jpg> a edm:WebResource ;
    dc:format "image/jpeg" .
"""

_RDF_XML = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
         xmlns:edm="http://www.europeana.eu/schemas/edm/" xmlns:ore="http://www.openarchives.org/ore/terms/"
         xmlns:skos="http://www.w3.org/2004/02/skos/core#">
  <edm:ProvidedCHO rdf:about="http://example.org/cho/{n}">
    <dc:title xml:lang="en">{title}</dc:title>
    <dc:type xml:lang="en">bell</dc:type>
    <dc:creator>
      <edm:Agent>
        <skos:prefLabel xml:lang="en">Unknown maker</skos:prefLabel>
      </edm:Agent>
    </dc:creator>
    <dcterms:created rdf:datatype="http://www.w3.org/2001/XMLSchema#gYear">1850</dcterms:created>
    <edm:type>IMAGE</edm:type>
  </edm:ProvidedCHO>
  <ore:Aggregation rdf:about="http://example.org/agg/{n}">
    <edm:aggregatedCHO rdf:resource="http://example.org/cho/{n}"/>
    <edm:isShownBy rdf:resource="http://example.org/img/{n}.jpg"/>
    <edm:dataProvider>Example Museum</edm:dataProvider>
    <edm:provider>Example Aggregator</edm:provider>
    <edm:rights rdf:resource="http://creativecommons.org/licenses/by/4.0/"/>
  </ore:Aggregation>
  <edm:WebResource rdf:about="http://example.org/img/{n}.jpg">
    <dc:format>image/jpeg</dc:format>
  </edm:WebResource>
</rdf:RDF>
"""

_JSONLD = """{
  "@context": {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "edm": "http://www.europeana.eu/schemas/edm/",
    "ore": "http://www.openarchives.org/ore/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#"
  },
  "@graph": [
    {
      "@id": "http://example.org/cho/{n}",
      "@type": "edm:ProvidedCHO",
      "dc:title": {"@value": "{title}", "@language": "en"},
      "dc:type": {"@value": "bell", "@language": "en"},
      "dc:creator": {"@type": "edm:Agent", "skos:prefLabel": {"@value": "Unknown maker", "@language": "en"}},
      "dcterms:created": {"@value": "1850", "@type": "xsd:gYear"},
      "edm:type": "IMAGE"
    },
    {
      "@id": "http://example.org/agg/{n}",
      "@type": "ore:Aggregation",
      "edm:aggregatedCHO": {"@id": "http://example.org/cho/{n}"},
      "edm:isShownBy": {"@id": "http://example.org/img/{n}.jpg"},
      "edm:dataProvider": "Example Museum",
      "edm:provider": "Example Aggregator",
      "edm:rights": {"@id": "http://creativecommons.org/licenses/by/4.0/"}
    },
    {"@id": "http://example.org/img/{n}.jpg", "@type": "edm:WebResource", "dc:format": "image/jpeg"}
  ]
}
"""


def write_record(folder: Path, name: str, fmt: str = "turtle", n: int | str = 1, title: str | None = None) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = record_text(fmt, n) if title is None else record_text(fmt, n, title)
    path.write_text(text, encoding="utf-8")
    return path


# -- looking at the store ------------------------------------------------------------------------------


def record_graph(cho_iri: str) -> str:
    return GRAPHS.record(record_id(cho_iri))


def record_graphs(store: Store) -> list[str]:
    return [g for g in store.named_graphs() if g.startswith(GRAPHS.record_prefix)]


def registry_entry(store: Store, record_id: str) -> dict[str, list[Term]]:
    """The registry's statements about one record: local name of the predicate (``type`` for rdf:type) → objects."""
    rows = store.select(
        f"SELECT ?p ?o WHERE {{ GRAPH <{GRAPHS.system}> {{ <{GRAPHS.record_node(record_id)}> ?p ?o }} }}"
    )
    entry: dict[str, list[Term]] = {}
    for row in rows:
        key = "type" if row["p"].value == RDF_TYPE else row["p"].value.removeprefix(ENR)
        entry.setdefault(key, []).append(row["o"])
    return entry


def registry_nodes(store: Store) -> list[str]:
    rows = store.select(f"SELECT ?r WHERE {{ GRAPH <{GRAPHS.system}> {{ ?r a <{ENR}Record> }} }}")
    return sorted(row["r"].value for row in rows)


def only(entry: dict[str, list[Term]], key: str) -> Term:
    values = entry.get(key, [])
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


def datestamp_of(store: Store, record_id: str) -> str:
    value = only(registry_entry(store, record_id), "datestamp")
    assert isinstance(value, Literal)
    assert value.datatype == NamedNode(f"{XSD}dateTime")
    assert DATESTAMP.match(value.value), value.value
    return value.value


def journal_is_clean(store: Store) -> bool:
    """No ingest transaction and no backup graph left behind."""
    transactions = store.ask(f"ASK {{ GRAPH ?g {{ ?t a <{ENR}IngestTransaction> }} }}")
    backups = [g for g in store.named_graphs() if g.startswith(GRAPHS.backup(""))]
    return not transactions and not backups


def _term(term: Term) -> str:
    return "_:b" if isinstance(term, BlankNode) else str(term)


@dataclass(frozen=True)
class Snapshot:
    triples: int
    graphs: tuple[str, ...]
    quads: tuple[tuple[str, str, str, str], ...]


def snapshot(store: Store) -> Snapshot:
    """Everything the store holds (blank node labels masked): the triple count, graph list and quads."""
    rows = store.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    quads = sorted((_term(r["g"]), _term(r["s"]), _term(r["p"]), _term(r["o"])) for r in rows)
    return Snapshot(store.count_triples(), tuple(store.named_graphs()), tuple(quads))


def masked(triples: list[pyoxigraph.Triple]) -> list[str]:
    return sorted(f"{_term(t.subject)} {t.predicate} {_term(t.object)}" for t in triples)


def wait_for_next_second() -> None:
    """Sleep until the wall clock has moved into a new second (datestamps have whole seconds)."""
    now = time.time()
    time.sleep(1.0 - (now - int(now)) + 0.05)
