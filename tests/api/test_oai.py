"""OAI-PMH 2.0 at /oai against a real uvicorn: every verb, every error we can raise, XSD-valid responses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from enrich.namespaces import EDM
from enrich.records_admin import delete_records, list_records
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from enrich.store.remote import RemoteStore
from tests.api.oai_support import (
    GRAPHS,
    NS,
    RDF_NS,
    error_code,
    fetch,
    harvest_pages,
    ingest_synthetic,
    make_app,
    serve,
    set_datestamp,
    validate,
)
from tests.ingest.support import make_settings

RECORDS = 25
PAGE = 10
HOST = "data.heritage-enrich.example"


@pytest.fixture(scope="module")
def harvest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str], Path]]:
    """25 records, datestamps one per day in January 2024 (the 25th deleted), served with pages of 10."""
    tmp = tmp_path_factory.mktemp("oai")
    store = EmbeddedStore(None)
    ingest_synthetic(store, tmp, RECORDS)
    ids = [rid for rid, _, _, _ in list_records(store, GRAPHS, limit=RECORDS)]
    delete_records(store, GRAPHS, [ids[-1]])
    for day, rid in enumerate(ids, start=1):
        set_datestamp(store, rid, f"2024-01-{day:02d}T12:00:00Z")
    with serve(make_app(store, page_size=PAGE)) as url:
        yield url, ids, tmp


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as http:
        yield http


def _get(client: httpx.Client, harvest: tuple[str, list[str], Path], **params: str) -> etree._Element:
    url, _, tmp = harvest
    return fetch(client, url, tmp / "xsd", **params)


def _identifiers(root: etree._Element) -> list[str]:
    return [str(e.text) for e in root.iterfind(".//oai:header/oai:identifier", NS)]


def _harvest_all(client: httpx.Client, harvest: tuple[str, list[str], Path], **params: str) -> list[etree._Element]:
    url, _, tmp = harvest
    return harvest_pages(client, url, tmp / "xsd", **params)


def test_identify(client: httpx.Client, harvest: tuple[str, list[str], Path]) -> None:
    root = _get(client, harvest, verb="Identify")
    assert root.findtext("oai:Identify/oai:earliestDatestamp", namespaces=NS) == "2024-01-01T12:00:00Z"
    assert root.findtext("oai:Identify/oai:deletedRecord", namespaces=NS) == "persistent"
    assert root.findtext("oai:Identify/oai:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert root.find("oai:request", NS).get("verb") == "Identify"  # type: ignore[union-attr]


def test_post_is_answered_like_get(client: httpx.Client, harvest: tuple[str, list[str], Path]) -> None:
    url, _, tmp = harvest
    response = client.post(url, data={"verb": "ListMetadataFormats"})
    root = validate(response.content, tmp / "xsd")
    prefixes = [e.text for e in root.iterfind(".//oai:metadataPrefix", NS)]
    assert prefixes == ["oai_dc", "edm", "edm-suggestions"]


def test_list_metadata_formats_for_a_record(client: httpx.Client, harvest: tuple[str, list[str], Path]) -> None:
    _, ids, _ = harvest
    root = _get(client, harvest, verb="ListMetadataFormats", identifier=f"oai:{HOST}:{ids[0]}")
    assert len(root.findall(".//oai:metadataFormat", NS)) == 3
    root = _get(client, harvest, verb="ListMetadataFormats", identifier=f"oai:{HOST}:nope-000000000000")
    assert error_code(root) == "idDoesNotExist"


def test_list_sets_and_set_specs_agree(client: httpx.Client, harvest: tuple[str, list[str], Path]) -> None:
    root = _get(client, harvest, verb="ListSets")
    specs = {str(e.text) for e in root.iterfind(".//oai:setSpec", NS)}
    assert {"dataset:synthetic", "provider:synthetic-aggregator-a", "review:accepted", "review:pending"} <= specs
    headers = [
        h
        for page in _harvest_all(client, harvest, verb="ListIdentifiers", metadataPrefix="oai_dc")
        for h in page.iterfind(".//oai:header", NS)
    ]
    used = {str(e.text) for h in headers for e in h.iterfind("oai:setSpec", NS)}
    assert used <= specs and "dataset:synthetic" in used
    one_provider = _harvest_all(
        client, harvest, verb="ListIdentifiers", metadataPrefix="oai_dc", set="provider:synthetic-aggregator-a"
    )
    found = [i for page in one_provider for i in _identifiers(page)]
    expected = [
        h for h in headers if "provider:synthetic-aggregator-a" in {e.text for e in h.iterfind("oai:setSpec", NS)}
    ]
    assert len(found) == len(expected) > 0
    root = _get(client, harvest, verb="ListIdentifiers", metadataPrefix="oai_dc", set="review:accepted")
    assert error_code(root) == "noRecordsMatch"


def test_list_records_pages_with_tokens(client: httpx.Client, harvest: tuple[str, list[str], Path]) -> None:
    _, ids, _ = harvest
    pages = _harvest_all(client, harvest, verb="ListRecords", metadataPrefix="oai_dc")
    assert len(pages) == 3
    tokens = [page.find("oai:ListRecords/oai:resumptionToken", NS) for page in pages]
    assert [t.get("cursor") for t in tokens if t is not None] == ["0", "10", "20"]
    assert {t.get("completeListSize") for t in tokens if t is not None} == {str(RECORDS)}
    assert tokens[-1] is not None and not tokens[-1].text
    found = [i for page in pages for i in _identifiers(page)]
    assert found == [f"oai:{HOST}:{rid}" for rid in ids]
    first = pages[0].find(".//oai:record", NS)
    assert first is not None and first.findtext(".//dc:title", namespaces=NS, default="").startswith("Object number")
    deleted = pages[-1].findall(".//oai:record", NS)[-1]
    assert deleted.find("oai:header", NS).get("status") == "deleted"  # type: ignore[union-attr]
    assert deleted.find("oai:metadata", NS) is None


def test_single_page_has_no_token(client: httpx.Client, harvest: tuple[str, list[str], Path]) -> None:
    root = _get(client, harvest, verb="ListIdentifiers", metadataPrefix="edm", until="2024-01-05")
    assert len(_identifiers(root)) == 5
    assert root.find(".//oai:resumptionToken", NS) is None


def test_from_until_inclusive_in_both_granularities(client: httpx.Client, harvest: tuple[str, list[str], Path]) -> None:
    _, ids, _ = harvest
    by_day = _get(
        client,
        harvest,
        verb="ListIdentifiers",
        metadataPrefix="oai_dc",
        **{"from": "2024-01-03", "until": "2024-01-05"},
    )
    assert _identifiers(by_day) == [f"oai:{HOST}:{rid}" for rid in ids[2:5]]
    by_second = _get(
        client,
        harvest,
        verb="ListIdentifiers",
        metadataPrefix="oai_dc",
        **{"from": "2024-01-03T12:00:00Z", "until": "2024-01-05T12:00:00Z"},
    )
    assert _identifiers(by_second) == _identifiers(by_day)
    mixed = _get(
        client,
        harvest,
        verb="ListIdentifiers",
        metadataPrefix="oai_dc",
        **{"from": "2024-01-03", "until": "2024-01-05T12:00:00Z"},
    )
    assert error_code(mixed) == "badArgument"
    empty = _get(client, harvest, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2030-01-01"})
    assert error_code(empty) == "noRecordsMatch"


def test_get_record_edm_and_deleted(client: httpx.Client, harvest: tuple[str, list[str], Path]) -> None:
    _, ids, _ = harvest
    root = _get(client, harvest, verb="GetRecord", identifier=f"oai:{HOST}:{ids[0]}", metadataPrefix="edm")
    rdf = root.find(".//oai:metadata/rdf:RDF", NS)
    assert rdf is not None  # and valid against EDM.xsd: fetch() validated it with the envelope
    cho = rdf.find("{http://www.europeana.eu/schemas/edm/}ProvidedCHO")
    assert cho is not None and cho.get(f"{{{RDF_NS}}}about") == "http://data.example.org/synthetic/cho/0"
    gone = _get(client, harvest, verb="GetRecord", identifier=f"oai:{HOST}:{ids[-1]}", metadataPrefix="oai_dc")
    assert gone.find(".//oai:header", NS).get("status") == "deleted"  # type: ignore[union-attr]


def test_tampered_and_foreign_tokens(client: httpx.Client, harvest: tuple[str, list[str], Path]) -> None:
    first = _get(client, harvest, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = str(first.findtext(".//oai:resumptionToken", namespaces=NS))
    body, _, signature = token.partition(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature
    for bad in (tampered, "garbage", token + "x"):
        assert error_code(_get(client, harvest, verb="ListIdentifiers", resumptionToken=bad)) == "badResumptionToken"
    # A ListIdentifiers token is not one for ListRecords.
    assert error_code(_get(client, harvest, verb="ListRecords", resumptionToken=token)) == "badResumptionToken"
    assert error_code(_get(client, harvest, verb="ListSets", resumptionToken=token)) == "badResumptionToken"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Frobnicate"}, "badVerb"),
        ({"verb": "Identify", "extra": "1"}, "badArgument"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2024-02-30"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "not a set"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:elsewhere:x"}, "idDoesNotExist"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "provider:nobody"}, "noRecordsMatch"),
    ],
)
def test_errors(client: httpx.Client, harvest: tuple[str, list[str], Path], params: dict[str, str], code: str) -> None:
    root = _get(client, harvest, **params)
    assert error_code(root) == code
    request = root.find("oai:request", NS)
    assert request is not None
    if code in ("badVerb", "badArgument"):
        assert len(request.attrib) == 0
    else:
        assert request.get("verb") == params["verb"]


def test_repeated_arguments(client: httpx.Client, harvest: tuple[str, list[str], Path]) -> None:
    url, _, tmp = harvest
    for query in ("verb=Identify&verb=Identify", "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=edm"):
        root = validate(client.get(f"{url}?{query}").content, tmp / "xsd")
        expected = "badVerb" if query.count("verb=") == 2 else "badArgument"
        assert error_code(root) == expected


def test_record_changed_during_harvest_is_not_lost(tmp_path: Path) -> None:
    store = EmbeddedStore(None)
    ingest_synthetic(store, tmp_path, 12)
    ids = [rid for rid, _, _, _ in list_records(store, GRAPHS, limit=12)]
    for day, rid in enumerate(ids, start=1):
        set_datestamp(store, rid, f"2024-02-{day:02d}T00:00:00Z")
    with serve(make_app(store, page_size=5)) as url, httpx.Client(timeout=30) as http:
        seen: list[str] = []
        root = fetch(http, url, tmp_path / "xsd", verb="ListIdentifiers", metadataPrefix="oai_dc")
        seen += _identifiers(root)
        # A record already harvested changes, and one not yet harvested changes: both come (again) later.
        set_datestamp(store, ids[0], "2024-03-01T00:00:00Z")
        set_datestamp(store, ids[7], "2024-03-02T00:00:00Z")
        while token := root.findtext(".//oai:resumptionToken", namespaces=NS):
            root = fetch(http, url, tmp_path / "xsd", verb="ListIdentifiers", resumptionToken=token)
            seen += _identifiers(root)
    assert {f"oai:{HOST}:{rid}" for rid in ids} == set(seen)
    assert seen.count(f"oai:{HOST}:{ids[7]}") == 1


def test_tokens_survive_a_restart_with_the_same_settings(tmp_path: Path) -> None:
    store = EmbeddedStore(None)
    ingest_synthetic(store, tmp_path, 4)
    with serve(make_app(store, page_size=2)) as url, httpx.Client(timeout=30) as http:
        root = fetch(http, url, tmp_path / "xsd", verb="ListIdentifiers", metadataPrefix="oai_dc")
        token = str(root.findtext(".//oai:resumptionToken", namespaces=NS))
    with serve(make_app(store, page_size=2)) as url, httpx.Client(timeout=30) as http:
        again = fetch(http, url, tmp_path / "xsd", verb="ListIdentifiers", resumptionToken=token)
        assert len(_identifiers(again)) == 2
    with serve(make_app(store, page_size=2, secret="other")) as url, httpx.Client(timeout=30) as http:
        other = fetch(http, url, tmp_path / "xsd", verb="ListIdentifiers", resumptionToken=token)
        assert error_code(other) == "badResumptionToken"


def test_sickle_harvests_everything(harvest: tuple[str, list[str], Path]) -> None:
    sickle = pytest.importorskip("sickle")
    url, ids, _ = harvest
    harvester = sickle.Sickle(url)
    records = list(harvester.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    assert [r.header.identifier for r in records] == [f"oai:{HOST}:{rid}" for rid in ids]
    assert records[-1].header.deleted
    assert records[0].metadata["title"][0].startswith("Object number")


def test_records_added_or_deleted_during_a_harvest(tmp_path: Path) -> None:
    """A harvest lists the records registered when it began (OAI-PMH 2.0, 3.5: records changed meanwhile
    may or may not come): one deleted meanwhile comes as deleted, one added meanwhile with the next
    incremental harvest."""
    store = EmbeddedStore(None)
    ingest_synthetic(store, tmp_path, 6)
    ids = [rid for rid, _, _, _ in list_records(store, GRAPHS, limit=6)]
    for day, rid in enumerate(ids, start=1):
        set_datestamp(store, rid, f"2024-04-{day:02d}T00:00:00Z")
    with serve(make_app(store, page_size=3)) as url, httpx.Client(timeout=30) as http:
        root = fetch(http, url, tmp_path / "xsd", verb="ListRecords", metadataPrefix="oai_dc")
        seen = _identifiers(root)
        delete_records(store, GRAPHS, [ids[4]])
        ingest_synthetic(store, tmp_path, 1, start=100)
        token = str(root.findtext(".//oai:resumptionToken", namespaces=NS))
        rest = fetch(http, url, tmp_path / "xsd", verb="ListRecords", resumptionToken=token)
        seen += _identifiers(rest)
        assert seen == [f"oai:{HOST}:{rid}" for rid in ids]
        gone = rest.findall(".//oai:record", NS)[1]
        assert gone.find("oai:header", NS).get("status") == "deleted"  # type: ignore[union-attr]
        # The next incremental harvest, from the datestamp of the change, brings both.
        later = fetch(
            http, url, tmp_path / "xsd", verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2025-01-01"}
        )
        added = [rid for rid, _, _, _ in list_records(store, GRAPHS, limit=10) if rid not in ids]
        assert sorted(_identifiers(later)) == sorted(f"oai:{HOST}:{rid}" for rid in [ids[4], *added])


def test_a_harvest_of_a_remote_store(oxigraph_server: str, tmp_path: Path) -> None:
    """The same protocol over Oxigraph server: record graphs read a page at a time through SPARQL."""
    with RemoteStore.from_base_url(oxigraph_server, make_settings()) as store:
        store.update("DROP ALL")
        ingest_synthetic(store, tmp_path, 7)
        pages = _remote_pages(store, tmp_path)
    records = [r for page in pages for r in page.iterfind(".//oai:record", NS)]
    assert len(records) == 7 and len(pages) == 3
    for record in records:
        assert record.find(f"oai:metadata/rdf:RDF/{{{EDM}}}ProvidedCHO", NS) is not None
        specs = {e.text for e in record.iterfind("oai:header/oai:setSpec", NS)}
        assert "dataset:synthetic" in specs and not specs & {"review:accepted", "review:pending"}


def _remote_pages(store: Store, tmp_path: Path) -> list[etree._Element]:
    with serve(make_app(store, page_size=3)) as url, httpx.Client(timeout=30) as http:
        pending = fetch(http, url, tmp_path / "xsd", verb="ListRecords", metadataPrefix="edm", set="review:pending")
        assert error_code(pending) == "noRecordsMatch"
        return harvest_pages(http, url, tmp_path / "xsd", verb="ListRecords", metadataPrefix="edm")


def test_the_harvest_benchmark_runs(tmp_path: Path) -> None:
    from tests.benchmarks import bench_oai

    results = bench_oai.run(tmp_path, 150, 100)
    assert results["harvest"]["records"] == results["baseline"]["records"] == 150
    assert results["harvest"]["pages"] == 2
    assert results["ratio"] > 0 and results["rss_mib"]["peak"] > 0
    assert "harvest records/s" in bench_oai.render(results)
