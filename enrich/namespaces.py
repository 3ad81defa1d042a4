"""IRIs of the vocabularies we use, and of our own terms and graphs.

Our own vocabulary is documented in ``ontology/enrich.ttl``; ``ENR`` here is the one namespace constant
shared by code and Turtle.
"""

from __future__ import annotations

from typing import Final

RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS: Final = "http://www.w3.org/2000/01/rdf-schema#"
XSD: Final = "http://www.w3.org/2001/XMLSchema#"
DC: Final = "http://purl.org/dc/elements/1.1/"
DCTERMS: Final = "http://purl.org/dc/terms/"
EDM: Final = "http://www.europeana.eu/schemas/edm/"
ORE: Final = "http://www.openarchives.org/ore/terms/"
SKOS: Final = "http://www.w3.org/2004/02/skos/core#"
PROV: Final = "http://www.w3.org/ns/prov#"
SH: Final = "http://www.w3.org/ns/shacl#"
ENR: Final = "https://w3id.org/heritage-enrich/ns#"

RDF_TYPE: Final = RDF + "type"


class Graphs:
    """Builds the IRIs of the named graphs of DESIGN §3 under one configurable base IRI."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def record(self, record_id: str) -> str:
        return f"{self.base}/graph/record/{record_id}"

    def suggestions(self, record_id: str) -> str:
        return f"{self.base}/graph/suggestions/{record_id}"

    def original(self, record_id: str) -> str:
        """The source triples of a record converted from another model (CIDOC-CRM / Linked Art)."""
        return f"{self.base}/graph/original/{record_id}"

    def enrichment(self, record_id: str) -> str:
        return f"{self.base}/graph/enrichment/{record_id}"

    def vocab(self, scheme: str) -> str:
        return f"{self.base}/graph/vocab/{scheme}"

    @property
    def runs(self) -> str:
        return f"{self.base}/graph/runs"

    @property
    def system(self) -> str:
        return f"{self.base}/graph/system"

    @property
    def record_prefix(self) -> str:
        return f"{self.base}/graph/record/"

    def record_node(self, record_id: str) -> str:
        """The registry's node for a record (subject of datestamp, checksum, ...)."""
        return f"{self.base}/record/{record_id}"

    def suggestion_node(self, suggestion_id: str) -> str:
        return f"{self.base}/suggestion/{suggestion_id}"

    def run(self, run_id: str) -> str:
        """An enrichment run's prov:Activity (described in the runs graph)."""
        return f"{self.base}/run/{run_id}"

    def model_card(self, card_id: str) -> str:
        """A model card's prov:SoftwareAgent (described in the runs graph)."""
        return f"{self.base}/model/{card_id}"

    def ingest_transaction(self, tx_id: str) -> str:
        return f"{self.base}/ingest/{tx_id}"

    def backup(self, tx_id: str) -> str:
        """Where an ingest transaction keeps the previous versions of records it replaces."""
        return f"{self.base}/graph/ingest-backup/{tx_id}"
