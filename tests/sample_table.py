"""The expected verdict of shapes/edm.ttl on each real Europeana sample in shared/data/edm/samples.

``EXPECTED[file name] = (accepted, reason)``. The reason says in one line why, judged by the EDM flavour
the file is written in (external, or internal with the descriptive fields on ore:Proxy nodes) and the
manifest's XSD and Schematron columns. "parsed leniently" marks the files that pyoxigraph's strict RDF/XML
parser refuses (relative rdf:about IRIs with no base, IRIs with spaces) and that are read with
``lenient=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

SAMPLES_DIR: Final = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "edm" / "samples"

EXPECTED: Final[dict[str, tuple[bool, str]]] = {
    "metis-framework__metis-enrichment_metis-enrichment-client__enrichment_sample_enrichment_success.rdf": (
        True,
        "accepted: valid internal EDM (VIDEO), description and type on the provider proxy; "
        "parsed leniently: relative rdf:about IRIs",
    ),
    "metis-framework__metis-enrichment_metis-enrichment-client__sample_1.rdf": (
        True,
        "accepted: valid internal EDM (IMAGE) whose proxy has the object's own IRI, so the fields sit on the "
        "object; parsed leniently: relative IRIs and an aggregation IRI with a space",
    ),
    "metis-framework__metis-enrichment_metis-enrichment-client__sample_2.rdf": (
        True,
        "accepted: valid internal EDM (TEXT with dc:language); object, proxy and Europeana aggregation share "
        "one IRI; parsed leniently: relative rdf:about IRIs",
    ),
    "metis-framework__metis-enrichment_metis-enrichment-client__sample_completeness.rdf": (
        True,
        "accepted: valid internal EDM (IMAGE), fields on the provider proxy; the manifest's two internal "
        "Schematron failures are about Europeana's own proxy (no title, an edm:type), which the rules do not "
        "ask of it; parsed leniently: a file IRI with spaces",
    ),
    "metis-framework__metis-indexing__europeana_record_to_sample_index_rdf.xml": (
        True,
        "accepted: valid internal EDM (TEXT), title and language on the provider proxy; "
        "parsed leniently: relative rdf:about IRIs",
    ),
    "metis-framework__metis-media-service____files_rdf_with_oembed_sample_II.xml": (
        True,
        "accepted: internal EDM (VIDEO), fields on the provider proxy; the one internal Schematron failure "
        "is Europeana's own proxy without a title; parsed leniently: relative rdf:about IRIs",
    ),
    "metis-framework__metis-repository_metis-repository-rest__record-test.xml": (
        True,
        "accepted: valid external EDM (VIDEO); parsed leniently: relative rdf:about IRIs (#nhwSbs6)",
    ),
    "metis-framework__metis-transformation_metis-transformation-service__europeana_record_edm_external_sorted.xml": (
        True,
        "accepted: valid external EDM (3D); parsed leniently: relative IRIs and IRIs with a leading space",
    ),
    "metis-framework__metis-transformation_metis-transformation-service__europeana_record_edm_external_unsorted.xml": (
        True,
        "accepted: only Europeana's XSD complains — element order, which RDF does not carry; "
        "parsed leniently: relative IRIs and IRIs with a leading space",
    ),
    "metis-framework__metis-transformation_metis-transformation-service__europeana_record_edm_internal.xml": (
        True,
        "accepted: valid internal EDM (3D), fields on the provider proxy; "
        "parsed leniently: relative IRIs and IRIs with a leading space",
    ),
    "metis-framework__metis-validation_metis-validation-service__Item_35834473.xml": (
        False,
        "rejected: no dc:title or dc:description on the object (the description is commented out), as "
        "Europeana's Schematron finds though the XSD passes; parsed leniently: relative IRIs, spaces in IRIs",
    ),
    "metis-framework__metis-validation_metis-validation-service__Item_35834473_wrong.xml": (
        False,
        "rejected: no edm:ProvidedCHO, the aggregated object is described only by an ore:Proxy (both XSD "
        "flavours fail too); parsed leniently: relative rdf:about IRIs",
    ),
    "metis-framework__metis-validation_metis-validation-service__Item_schematron_invalid.xml": (
        False,
        "rejected: no edm:dataProvider on the aggregation, and its edm:aggregatedCHO is not the object's "
        "IRI; parsed leniently: relative rdf:about IRIs",
    ),
    "metis-sandbox__record_debias_debias-text-record.xml": (
        True,
        "accepted: valid internal EDM (TEXT), title and language on the provider proxy; "
        "parsed leniently: relative rdf:about IRIs",
    ),
    "metis-sandbox__record_record-missing-id.xml": (
        False,
        "rejected: the object is typed edm:ProvidedCHOI (a typo), so the aggregation's object is not an "
        "edm:ProvidedCHO in the record (both XSD flavours fail too)",
    ),
    "metis-sandbox__record_transform_record-input.xml": (True, "accepted: valid external EDM (TEXT)"),
    "metis-sandbox__record_valid-record.xml": (True, "accepted: valid external EDM (TEXT)"),
    "metis-sandbox__zip_Record1.xml": (
        True,
        "accepted: valid external EDM (TEXT), the same record as valid-record.xml laid out differently",
    ),
    "metis-sandbox__zip_Record2.xml": (
        True,
        "accepted: valid external EDM (TEXT), a title and no description",
    ),
}
