"""CIDOC-CRM / Linked Art through the command line: ingest options and the CRM export formats."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph

from enrich.mapping import linked_art
from tests.cli.support import enrich, ok
from tests.mapping.support import CC0, EDM_RECORD, PAINTING, PAINTING_IRI

AAT = "http://vocab.getty.edu/aat/"
CRM = "http://www.cidoc-crm.org/cidoc-crm/"


def _record_id(tmp_path: Path, cho: str) -> str:
    listing = ok("list", "--store", "s", cwd=tmp_path).stdout
    return next(line.split("\t")[0] for line in listing.splitlines() if line.split("\t")[1] == cho)


def test_linked_art_in_linked_art_out(tmp_path: Path) -> None:
    missing = enrich("ingest", PAINTING, "--store", "s", cwd=tmp_path)
    assert missing.returncode == 4 and "provider" in missing.stderr  # not invented: the record is invalid
    result = ok("ingest", PAINTING, "--provider", "Example Aggregator", "--rights", CC0, "--store", "s", cwd=tmp_path)
    assert "1 new" in result.stdout and "1 converted from CIDOC-CRM" in result.stdout
    record = _record_id(tmp_path, PAINTING_IRI)
    exported = json.loads(ok("export", record, "--format", "linked-art", "--store", "s", cwd=tmp_path).stdout)
    assert exported["id"] == PAINTING_IRI and exported["type"] == "HumanMadeObject"
    assert exported["@context"] == "https://linked.art/ns/v1/linked-art.json"
    # The export reads back (context offline) as the CRM that was ingested.
    again = list(linked_art.parse(json.dumps(exported).encode("utf-8")))
    assert any(t.object == pyoxigraph.NamedNode(AAT + "300033618") for t in again)
    crm_turtle = ok("export", record, "--format", "crm-turtle", "--store", "s", cwd=tmp_path).stdout
    subjects = {t.subject for t in pyoxigraph.parse(crm_turtle.encode("utf-8"), pyoxigraph.RdfFormat.TURTLE)}
    assert pyoxigraph.NamedNode(PAINTING_IRI) in subjects
    edm = ok("export", record, "--format", "ntriples", "--store", "s", cwd=tmp_path).stdout
    assert "http://www.europeana.eu/schemas/edm/ProvidedCHO" in edm


def test_edm_record_exported_as_crm(tmp_path: Path) -> None:
    ok("ingest", EDM_RECORD, "--source-model", "edm", "--store", "s", cwd=tmp_path)
    listing = ok("list", "--store", "s", cwd=tmp_path).stdout.splitlines()
    record = listing[0].split("\t")[0]
    crm_turtle = ok("export", record, "--format", "crm-turtle", "--store", "s", cwd=tmp_path).stdout
    triples = list(pyoxigraph.parse(crm_turtle.encode("utf-8"), pyoxigraph.RdfFormat.TURTLE))
    assert any(t.object == pyoxigraph.NamedNode(CRM + "E22_Human-Made_Object") for t in triples)


def test_bad_options_and_forced_models(tmp_path: Path) -> None:
    bad = enrich("ingest", PAINTING, "--rights", "not-an-iri", "--store", "s", cwd=tmp_path)
    assert bad.returncode == 3 and "--rights" in bad.stderr and "nothing was written" in bad.stderr
    forced = enrich("ingest", EDM_RECORD, "--source-model", "crm", "--store", "s", cwd=tmp_path)
    assert forced.returncode == 3 and "no CIDOC-CRM object" in forced.stderr
