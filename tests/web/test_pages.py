"""The reviewer's pages over HTTP, without a browser: where sign-in may send a visitor, form handling,
language choice, missing records, security headers, the evidence route; what the record page reads
(images told apart by IPTC source type); the UI string catalogues."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.web import i18n
from api.web.record_view import IPTC_SOURCE_TYPE, evidence, read_record
from enrich.embeddings.images import IMAGE_PREDICATES
from enrich.namespaces import EDM
from tests.api.test_vocab_api import GRAPHS
from tests.web.site import CELADON, STILL_LIFE, TOKENS, TRAINED_ALGORITHMIC_MEDIA, Site, serve_site

WEB = Path(i18n.__file__).parent


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with serve_site("pages", browser=False) as served:
        yield served


@pytest.fixture
def reviewer(site: Site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url) as client:
        answer = client.post("/ui/login", data={"token": TOKENS["reviewer"][0]})
        assert answer.status_code == 303
        yield client


@pytest.mark.parametrize(
    ("wanted", "sent_to"),
    [
        ("/ui/records/x-000000000000", "/ui/records/x-000000000000"),
        ("/ui/queue?facet=materials", "/ui/queue?facet=materials"),
        ("//evil.example/ui/queue", "/ui/queue"),
        ("https://evil.example/ui/queue", "/ui/queue"),
        ("/ui/\\evil.example", "/ui/queue"),
        ("/api/elsewhere", "/ui/queue"),
    ],
)
def test_sign_in_only_leads_back_into_the_ui(site: Site, wanted: str, sent_to: str) -> None:
    with httpx.Client(base_url=site.url) as client:
        answer = client.post("/ui/login", data={"token": TOKENS["reader"][0], "next": wanted})
        assert answer.status_code == 303 and answer.headers["location"] == sent_to


def test_forms_are_checked(site: Site, reviewer: httpx.Client) -> None:
    assert reviewer.get("/ui").headers["location"] == "/ui/queue"
    wrong = reviewer.post("/ui/login", content=b"{}", headers={"Content-Type": "application/json"})
    assert wrong.status_code == 415 and "x-www-form-urlencoded" in wrong.json()["detail"]
    huge = reviewer.post("/ui/login", data={"token": "x" * 20_000})
    assert huge.status_code == 413
    unknown = reviewer.post("/ui/preferences", data={"ui_lang": "tlh", "next": "/ui/queue"})
    assert unknown.status_code == 422 and "'tlh'" in unknown.json()["detail"]
    chosen = reviewer.post("/ui/preferences", data={"ui_lang": "ko", "label_lang": "nl", "next": "/ui/queue"})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/ui/queue"
    assert reviewer.cookies[i18n.UI_LANGUAGE_COOKIE] == "ko" and reviewer.cookies[i18n.LABEL_LANGUAGE_COOKIE] == "nl"
    page = reviewer.get("/ui/queue")
    assert '<html lang="ko">' in page.text and "검토 대기열" in page.text


def test_pages_carry_security_headers_and_missing_records_are_404(reviewer: httpx.Client) -> None:
    page = reviewer.get(f"/ui/records/{STILL_LIFE}")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    missing = reviewer.get("/ui/records/nothing-000000000000")
    assert missing.status_code == 404 and "There is no record nothing-000000000000" in missing.text
    assert reviewer.get("/ui/api/records/nothing-000000000000/evidence").status_code == 404


def test_the_browser_language_is_the_default(site: Site) -> None:
    with httpx.Client(base_url=site.url, headers={"Accept-Language": "fr;q=0.9, ko;q=0.8, en;q=0.5"}) as client:
        assert '<html lang="ko">' in client.get("/ui/login").text
    with httpx.Client(base_url=site.url, headers={"Accept-Language": "de, en;q=0.1"}) as client:
        assert '<html lang="en">' in client.get("/ui/login").text


def test_evidence_names_spans_enrichers_and_models(site: Site, reviewer: httpx.Client) -> None:
    answer = reviewer.get(f"/ui/api/records/{STILL_LIFE}/evidence").json()
    assert answer["record"] == STILL_LIFE
    assert answer["suggestions"] == {
        sid: item.as_dict() for sid, item in evidence(site.store, GRAPHS, STILL_LIFE).items()
    }
    translation = answer["suggestions"][site.translation]
    assert translation["enrichers"] == ["translate"] and translation["models"] == ["nllb-200-distilled-600M test-rev"]
    lexical = [item for sid, item in answer["suggestions"].items() if sid != site.translation]
    assert lexical and all(item["enrichers"] == ["lexical"] and item["evidence"] for item in lexical)
    assert any('span "grapes"' in text for item in lexical for text in item["evidence"])


def test_a_generated_resource_never_passes_for_the_objects_own_image(site: Site) -> None:
    record = read_record(site.store, GRAPHS, CELADON, ("en",))
    assert record is not None
    assert [(image.role, image.generated) for image in record.images] == [("generated", True)]
    # Even linked from the aggregation as a view of the object, it is shown as generated.
    aggregation = "https://data.example.org/city-gallery/aggregation/p-0047"
    fake = "https://data.heritage-enrich.example/generated/p-0047.png"
    site.store.update(
        f"INSERT DATA {{ GRAPH <{GRAPHS.record(STILL_LIFE)}> {{ <{aggregation}> <{EDM}hasView> <{fake}> . "
        f"<{fake}> <{IPTC_SOURCE_TYPE}> <{TRAINED_ALGORITHMIC_MEDIA}> }} }}"
    )
    try:
        still_life = read_record(site.store, GRAPHS, STILL_LIFE, ("nl",))
        assert still_life is not None
        assert still_life.title == "Stilleven met druiven en een zilveren kan"  # in the label language
        shown = [(image.url, image.role) for image in still_life.images]
        assert shown == [("https://collection.example.org/city-gallery/p-0047.jpg", "isShownBy"), (fake, "generated")]
        assert EDM + "hasView" in IMAGE_PREDICATES
    finally:
        site.store.update(
            f"DELETE DATA {{ GRAPH <{GRAPHS.record(STILL_LIFE)}> {{ <{aggregation}> <{EDM}hasView> <{fake}> . "
            f"<{fake}> <{IPTC_SOURCE_TYPE}> <{TRAINED_ALGORITHMIC_MEDIA}> }} }}"
        )


def test_catalogues_hold_every_string_the_pages_use() -> None:
    english = i18n.catalogue("en")
    for language in i18n.ui_languages():
        own = json.loads((i18n.MESSAGES / f"{language}.json").read_text("utf-8"))
        assert set(own) == set(english), language  # no string falls back to English unnoticed
        for key, value in own.items():
            placeholders = set(re.findall(r"\{(\w+)\}", english[key]))
            assert set(re.findall(r"\{(\w+)\}", value)) == placeholders, (language, key)
    used: set[str] = set()
    for path in [*WEB.glob("*.py"), *(WEB / "static").glob("*.js")]:
        used |= set(re.findall(r"""\bt\(\s*["']([\w.:-]+)["']""", path.read_text("utf-8")))
        used |= set(re.findall(r"""\.text\(\s*["']([\w.:-]+)["']""", path.read_text("utf-8")))
    assert used and used <= set(english), used - set(english)
