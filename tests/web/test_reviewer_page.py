"""The reviewer's page end to end: headless Chromium (Debian's, driven by Playwright) against a real uvicorn
over the bundled samples, both bundled vocabularies and a lexical run. Sign-in, the queue, a record with
its images, fields and trees, review by keyboard (approve, reject with a reason, correct in the tree,
undo), a conflict with another reviewer, roles, the Korean interface, accessibility. Every action is
checked in the store. Screenshots go to the folder printed at the start.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from api.auth import SESSION_COOKIE
from enrich import review
from enrich.namespaces import DC, DCTERMS, ENR, PROV
from enrich.store.base import text
from enrich.suggestion import Status, SuggestedValue, suggestion_id
from tests.api.test_vocab_api import GRAPHS
from tests.web.a11y import audit, tab_through
from tests.web.site import CELADON, STILL_LIFE, STILL_LIFE_CHO, TOKENS, TRANSLATION, Site, serve_site

AAT = "http://vocab.getty.edu/aat/"
KM = "https://w3id.org/heritage-enrich/vocab/korean-museum/"
PORTRAIT = "p-0101-630551773266"


def concept(predicate: str, iri: str) -> str:
    """The id of the still life's suggestion of ``iri`` for ``predicate``."""
    return suggestion_id(STILL_LIFE_CHO, predicate, SuggestedValue(iri))


GLASS = concept(DCTERMS + "medium", AAT + "300010797")
OAK = concept(DCTERMS + "medium", AAT + "300012264")
OIL = concept(DCTERMS + "medium", AAT + "300015050")
SILVER = concept(DCTERMS + "medium", AAT + "300011029")
KOREAN_SILVER = concept(DCTERMS + "medium", KM + "material/silver")
WOOD = AAT + "300011914"


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with serve_site("reviewer-page") as served:
        yield served


def ready(page: Page) -> None:
    """The record page has drawn its trees and read the evidence."""
    page.wait_for_selector("body[data-ready]")


def status(site: Site, sid: str) -> Status:
    return review.get_suggestion(site.store, GRAPHS, sid).status


def events(site: Site, sid: str) -> list[tuple[str, str, str | None]]:
    """The review events that moved a suggestion: (decision, reviewer, reason), sorted (event times have
    whole seconds, so they cannot order events of one second)."""
    node = GRAPHS.suggestion_node(sid)
    rows = site.store.select(
        f"SELECT ?d ?who ?why WHERE {{ GRAPH ?g {{ ?e <{PROV}used> <{node}> ; <{ENR}decision> ?d ; "
        f"<{ENR}reviewer> ?who OPTIONAL {{ ?e <{ENR}reason> ?why }} }} }}"
    )
    return sorted(
        (
            text(row["d"]).removeprefix(ENR),
            text(row["who"]),
            text(row["why"]).removeprefix(ENR) if row.get("why") else None,
        )
        for row in rows
    )


def enriched(site: Site, record: str) -> set[tuple[str, str, str]]:
    triples = site.store.read_graph(GRAPHS.enrichment(record))
    return {(text(t.subject), text(t.predicate), text(t.object)) for t in triples}


def suggestion(page: Page, sid: str):  # type: ignore[no-untyped-def]
    return page.locator(f'.suggestion[data-id="{sid}"]')


def focused_id(page: Page) -> str:
    found: str = page.evaluate("document.activeElement.closest('.suggestion')?.dataset.id || ''")
    return found


# -- signing in --------------------------------------------------------------------------------------------
def test_pages_need_a_session_that_never_holds_the_token(site: Site) -> None:
    with site.context() as context:
        page = context.new_page()
        page.goto(f"/ui/records/{STILL_LIFE}")
        expect(page).to_have_url(re.compile(r"/ui/login\?next=%2Fui%2Frecords%2F"))
        page.get_by_label("Access token").fill("not-a-token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("This token is not known. Check it and try again.")
        assert page.get_by_label("Access token").get_attribute("aria-invalid") == "true"
        assert not [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
        site.shot(page, "login-unknown-token")

        page.get_by_label("Access token").fill(TOKENS["reviewer"][0])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**/ui/records/{STILL_LIFE}")  # back where the visitor was going
        (cookie,) = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert TOKENS["reviewer"][0] not in cookie["value"]
        assert SESSION_COOKIE not in page.evaluate("document.cookie")  # http-only: no script reads it
        expect(page.get_by_role("banner")).to_contain_text("Signed in as rita (reviewer)")

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/ui/login?signed_out=true")
        expect(page.get_by_role("status")).to_have_text("You are signed out.")
        assert not [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
        page.goto("/ui/queue")
        expect(page).to_have_url(re.compile(r"/ui/login\?next=%2Fui%2Fqueue$"))


# -- the queue ---------------------------------------------------------------------------------------------
def test_queue_filters_sorts_and_pages(site: Site) -> None:
    pending = review.list_suggestions(site.store, GRAPHS, Status.PENDING, limit=100_000)
    with site.context(viewport={"width": 1300, "height": 900}) as context, httpx.Client(base_url=site.url) as api:
        page = site.sign_in(context)
        expected = api.get("/review/queue", params={"limit": 1000}).json()
        assert expected["total"] == len({row.record_id for row in pending})
        count = page.locator("#queue-count")
        expect(count).to_have_text(f"{expected['total']} records with pending suggestions")
        titles = page.locator("#queue-table tbody th a")
        expect(titles).to_have_count(25)
        assert titles.all_inner_texts() == [item["title"] for item in expected["items"][:25]]
        expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
        site.shot(page, "queue")

        page.get_by_role("button", name="Next page").click()
        expect(page.locator("#page-number")).to_have_text("Page 2")
        expect(titles).to_have_count(len(expected["items"][25:50]))
        assert titles.all_inner_texts() == [item["title"] for item in expected["items"][25:50]]
        page.get_by_role("button", name="Previous page").click()
        expect(page.locator("#page-number")).to_have_text("Page 1")
        assert titles.all_inner_texts()[0] == expected["items"][0]["title"]

        page.get_by_label("Facet").select_option("korean-materials")
        page.get_by_label("Lowest confidence").fill("0.9")
        page.get_by_label("Sort by").select_option("count")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url("**/ui/queue?*facet=korean-materials*")
        query = {"facet": "korean-materials", "min_confidence": 0.9, "sort": "count", "order": "desc", "limit": 1000}
        narrowed = api.get("/review/queue", params=query).json()
        assert 0 < narrowed["total"] < expected["total"]
        expect(count).to_have_text(f"{narrowed['total']} records with pending suggestions")
        assert titles.all_inner_texts() == [item["title"] for item in narrowed["items"][:25]]
        counts = [int(n) for n in page.locator("#queue-table tbody td.number").all_inner_texts()]
        assert counts == sorted(counts, reverse=True)
        expect(page.get_by_label("Facet")).to_have_value("korean-materials")  # the form keeps the filters
        site.shot(page, "queue-filtered")

        first = narrowed["items"][0]
        titles.first.click()
        page.wait_for_url(f"**/ui/records/{first['record']}")
        expect(page.get_by_role("heading", level=1)).to_have_text(first["title"])


# -- a record ----------------------------------------------------------------------------------------------
def test_record_shows_images_fields_translation_and_trees(site: Site) -> None:
    with (
        site.context(viewport={"width": 1400, "height": 1000}) as context,
        httpx.Client(base_url=site.url) as api,
    ):
        page = site.sign_in(context, path=f"/ui/records/{STILL_LIFE}")
        ready(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Still life with grapes and a silver jug")
        real = page.locator("figure.image:not(.generated)")
        expect(real).to_have_count(1)
        expect(real.get_by_role("img")).to_have_attribute("alt", "The object: Still life with grapes and a silver jug")
        expect(page.locator(".ai-label")).to_have_count(0)

        # The provider's titles as written, with their languages; the translation beside them.
        titles = page.locator(".field-row", has=page.locator("code", has_text=re.compile(r"^dc:title$")))
        expect(titles.locator("ul.values li")).to_have_text(
            ["Still life with grapes and a silver jug en", "Stilleven met druiven en een zilveren kan nl"]
        )
        translation = titles.locator(".suggestion")
        expect(translation.locator(".s-value")).to_have_text(TRANSLATION.value)
        expect(translation.locator(".s-value")).to_have_attribute("lang", "ko")
        expect(translation).to_contain_text("confidence 87%")
        expect(translation.locator(".status")).to_have_text("Pending")

        # Evidence on hover and on focus: the model, the enricher, the matched span.
        evidence = translation.locator(".evidence")
        expect(evidence).to_be_hidden()
        translation.hover()
        expect(evidence).to_be_visible()
        expect(evidence).to_contain_text("nllb-200-distilled-600M test-rev")
        expect(evidence).to_contain_text("translate")
        still_life = suggestion(page, concept(DC + "subject", AAT + "300015638"))
        still_life.focus()
        expect(still_life.locator(".evidence")).to_be_visible()
        expect(still_life.locator(".evidence mark").first).to_have_text(re.compile("still life", re.I))
        expect(still_life.locator(".evidence")).to_contain_text("lexical")

        # Each facet's tree holds the record's top suggestions, ranked as /vocab ranks them.
        for facet in ("materials", "subjects", "korean-materials"):
            tree = api.get(
                f"/vocab/facets/{facet}/tree", params={"record": STILL_LIFE, "top": 10, "pruned": "true", "lang": "en"}
            ).json()
            shown = page.locator(f'.tree[data-facet="{facet}"] .suggestion')
            expect(shown).to_have_count(len(tree["ranked"]))
            ranks = {item["label"]: f"#{rank}" for rank, item in enumerate(tree["ranked"], 1)}
            labels = shown.locator(".s-value").all_inner_texts()
            assert dict(zip(labels, shown.locator(".rank").all_inner_texts(), strict=True)) == ranks
        # Branches open and close on click.
        branch = page.locator('.tree[data-facet="korean-materials"] details').first
        oak = suggestion(page, OAK)
        page.locator('.tree[data-facet="korean-materials"] summary').first.click()
        expect(branch).not_to_have_attribute("open", "")
        expect(suggestion(page, KOREAN_SILVER)).to_be_hidden()
        page.locator('.tree[data-facet="korean-materials"] summary').first.click()
        expect(suggestion(page, KOREAN_SILVER)).to_be_visible()
        expect(oak).to_be_visible()
        site.shot(page, "record")


def test_a_generated_image_is_labelled_as_not_the_object(site: Site) -> None:
    with site.context(viewport={"width": 1300, "height": 900}) as context:
        page = site.sign_in(context, path=f"/ui/records/{CELADON}")
        ready(page)
        generated = page.locator("figure.generated")
        expect(generated).to_have_count(1)
        label = generated.locator(".ai-label")
        expect(label).to_have_text("AI-generated, not the object")
        expect(label).to_be_visible()  # visible text above the picture, not only its alt text
        expect(generated.get_by_role("img")).to_have_attribute("alt", re.compile("^AI-generated image, not the object"))
        expect(page.locator("figure.image:not(.generated)")).to_have_count(0)  # the record has no image itself
        site.shot(page, "generated-image")


# -- reviewing ---------------------------------------------------------------------------------------------
def test_review_by_keyboard_with_undo(site: Site) -> None:
    translation = site.translation
    title = (STILL_LIFE_CHO, DC + "title", TRANSLATION.value)
    with site.context(viewport={"width": 1400, "height": 1000}) as context:
        page = site.sign_in(context, path=f"/ui/records/{STILL_LIFE}")
        ready(page)
        notice = page.locator("#notice")

        page.keyboard.press("j")  # the first suggestion: the translation beside the title
        assert focused_id(page) == translation
        page.keyboard.press("j")
        assert focused_id(page) == GLASS
        page.keyboard.press("k")
        assert focused_id(page) == translation
        page.keyboard.press("a")
        expect(notice).to_have_text(f"Approved: {TRANSLATION.value}")
        assert status(site, translation) is Status.APPROVED
        assert title in enriched(site, STILL_LIFE)
        assert events(site, translation) == [("Approve", "rita", None)]

        # On to the next pending one (glass, in the materials tree); reject it with a reason, by keyboard.
        assert focused_id(page) == GLASS
        page.keyboard.press("r")
        dialog = page.get_by_role("dialog", name="Reject “glass”")
        expect(dialog).to_be_visible()
        for _ in range(3):
            page.keyboard.press("ArrowDown")  # wrong concept → too broad → too specific → not visible
        page.keyboard.press("Tab")
        expect(dialog.get_by_role("button", name="Reject")).to_be_focused()
        page.keyboard.press("Enter")
        expect(notice).to_have_text("Rejected: glass (Not visible in the object)")
        assert status(site, GLASS) is Status.REJECTED
        assert events(site, GLASS) == [("Reject", "rita", "NotVisible")]

        # Correct oak in the tree: open a branch and choose a concept, all by keyboard.
        assert focused_id(page) == OAK
        page.keyboard.press("c")
        dialog = page.get_by_role("dialog", name="Correct “oak”")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_label("Search concepts by label")).to_be_focused()
        dialog.get_by_role("button", name="Show the concepts under Materials").focus()
        page.keyboard.press("Enter")
        choose = dialog.get_by_role("button", name="Choose wood (plant material)")
        expect(choose).to_be_visible()
        choose.focus()
        page.keyboard.press("Enter")
        expect(notice).to_have_text("Corrected: oak → wood (plant material)")
        created = concept(DCTERMS + "medium", WOOD)
        assert status(site, OAK) is Status.SUPERSEDED
        assert status(site, created) is Status.APPROVED
        assert (STILL_LIFE_CHO, DCTERMS + "medium", WOOD) in enriched(site, STILL_LIFE)
        expect(suggestion(page, created).locator(".status")).to_have_text("Approved")  # the tree was read again
        expect(suggestion(page, OAK).locator(".status")).to_have_text("Corrected")
        # glass rejected, oak corrected: one more suggestion (the correction), two fewer pending
        expect(page.locator('.facet[data-facet="materials"] .facet-counts')).to_have_text("Suggestions: 5, pending: 2")
        site.shot(page, "record-reviewed")

        # Undo, last action first: each undo is a recorded Retract/Reopen.
        page.keyboard.press("u")
        expect(notice).to_have_text("Undone: oak")
        assert status(site, created) is Status.RETRACTED
        assert (STILL_LIFE_CHO, DCTERMS + "medium", WOOD) not in enriched(site, STILL_LIFE)
        page.keyboard.press("u")
        expect(notice).to_have_text("Undone: glass")
        assert status(site, GLASS) is Status.PENDING
        assert [e[0] for e in events(site, GLASS)] == ["Reject", "Reopen"]  # sorted
        page.keyboard.press("u")
        expect(notice).to_have_text(f"Undone: {TRANSLATION.value}")
        assert status(site, translation) is Status.PENDING
        assert [e[0] for e in events(site, translation)] == ["Approve", "Reopen", "Retract"]  # sorted
        assert title not in enriched(site, STILL_LIFE)
        expect(suggestion(page, translation).locator(".status")).to_have_text("Pending")
        page.keyboard.press("u")
        expect(notice).to_have_text("Nothing to undo.")

        page.keyboard.press("?")
        help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(help_dialog).to_be_visible()
        expect(help_dialog).to_contain_text("Undo the last action")
        page.keyboard.press("Escape")
        expect(help_dialog).to_be_hidden()


def test_another_reviewer_acting_first_is_a_conflict_not_an_overwrite(site: Site) -> None:
    with site.context(viewport={"width": 1400, "height": 1000}) as context:
        page = site.sign_in(context, path=f"/ui/records/{STILL_LIFE}")
        ready(page)
        silver = suggestion(page, SILVER)
        expect(silver.locator(".status")).to_have_text("Pending")
        review.reject(site.store, GRAPHS, SILVER, "someone-else", "wrong-concept")  # after the page was loaded

        silver.get_by_role("button", name="Approve silver").click()
        notice = page.locator("#notice")
        expect(notice).to_have_text(
            "Someone else has already reviewed “silver”: it is now Rejected. Your action was not applied."
        )
        expect(silver.locator(".status")).to_have_text("Rejected")  # the optimistic "Approved" rolled back
        assert status(site, SILVER) is Status.REJECTED
        assert events(site, SILVER) == [("Reject", "someone-else", "WrongConcept")]
        site.shot(page, "conflict")

        # A session that ended while the page was open: the action is refused and shown as refused.
        context.clear_cookies()
        grapes = concept(DC + "subject", AAT + "300379338")
        suggestion(page, grapes).focus()
        page.keyboard.press("a")
        expect(notice).to_have_text("Your session has ended. Sign in again.")
        expect(suggestion(page, grapes).locator(".status")).to_have_text("Pending")
        assert status(site, grapes) is Status.PENDING and events(site, grapes) == []


def test_a_reader_cannot_act(site: Site) -> None:
    with site.context(viewport={"width": 1400, "height": 1000}) as context:
        page = site.sign_in(context, role="reader", path=f"/ui/records/{STILL_LIFE}")
        ready(page)
        expect(page.locator(".role-note")).to_contain_text("reader role")
        suggestion(page, KOREAN_SILVER).focus()
        page.keyboard.press("a")
        expect(page.locator("#notice")).to_have_text(
            "You are not allowed to do this: this needs the reviewer role; the session has reader"
        )
        expect(suggestion(page, KOREAN_SILVER).locator(".status")).to_have_text("Pending")
        page.get_by_role("button", name="Approve all", exact=True).click()
        expect(page.locator("#notice")).to_contain_text("You are not allowed to do this")
        assert status(site, KOREAN_SILVER) is Status.PENDING and events(site, KOREAN_SILVER) == []
        site.shot(page, "reader-refused")


def test_approve_all_above_a_threshold_for_the_record(site: Site) -> None:
    pending = review.list_suggestions(site.store, GRAPHS, Status.PENDING, record=PORTRAIT, limit=1000)
    above = {row.id for row in pending if (row.confidence or 0) >= 0.8}
    below = {row.id for row in pending} - above
    assert above and below
    with site.context(viewport={"width": 1400, "height": 1000}) as context:
        page = site.sign_in(context, path=f"/ui/records/{PORTRAIT}")
        ready(page)
        page.get_by_label("Approve all at or above").fill("0.8")
        page.get_by_role("button", name="Approve all", exact=True).click()
        expect(page.locator("#notice")).to_have_text(f"{len(above)} suggestions approved.")
        assert {sid for sid in above | below if status(site, sid) is Status.APPROVED} == above
        for sid in above:
            expect(suggestion(page, sid).locator(".status")).to_have_text("Approved")
        page.keyboard.press("u")
        expect(page.locator("#notice")).to_have_text(f"Undone: {len(above)} approvals")
        assert {status(site, sid) for sid in above | below} == {Status.PENDING}


# -- languages ---------------------------------------------------------------------------------------------
def test_korean_interface_and_labels(site: Site) -> None:
    with site.context(viewport={"width": 1400, "height": 1000}) as context:
        page = site.sign_in(context, path=f"/ui/records/{STILL_LIFE}")
        ready(page)
        expect(suggestion(page, KOREAN_SILVER).locator(".s-value")).to_have_text("silver")
        page.get_by_label("Interface", exact=True).select_option("ko")
        page.get_by_label("Labels", exact=True).select_option("ko")
        page.get_by_role("button", name="Apply", exact=True).click()
        page.wait_for_url(f"**/ui/records/{STILL_LIFE}")
        ready(page)
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        expect(page.get_by_role("navigation")).to_contain_text("검토 대기열")
        expect(page.get_by_role("heading", name="제안", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="재질", exact=True).first).to_be_visible()
        expect(suggestion(page, KOREAN_SILVER).locator(".s-value")).to_have_text("은")  # the Korean label
        expect(suggestion(page, OAK).locator(".s-value")).to_have_text("oak")  # none in Korean: English
        expect(suggestion(page, KOREAN_SILVER).get_by_role("button", name="은 승인")).to_have_text("승인")
        site.shot(page, "record-ko")

        # The label language also picks the provider's title: Dutch, where the record has it.
        page.get_by_label("레이블", exact=True).select_option("nl")
        page.get_by_role("button", name="적용").click()
        ready(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Stilleven met druiven en een zilveren kan")
        page.goto("/ui/queue")
        expect(page.locator("#queue-count")).to_have_text(re.compile(r"^대기 중인 제안이 있는 레코드 \d+건$"))


# -- accessibility -----------------------------------------------------------------------------------------
def test_pages_pass_the_audit_and_keep_a_sensible_focus_order(site: Site) -> None:
    with site.context(viewport={"width": 1400, "height": 1000}) as context:
        page = context.new_page()
        page.goto("/ui/login")
        assert audit(page) == []
        page = site.sign_in(context)
        expect(page.locator("#queue-table tbody tr").first).to_be_visible()
        assert audit(page) == []
        page.goto(f"/ui/records/{STILL_LIFE}")
        ready(page)
        assert audit(page) == []

        trail = tab_through(page, 30)
        names = [str(step["name"]) for step in trail]
        assert names[0] == "Skip to main content"
        assert all(step["forward"] for step in trail), trail  # focus follows the reading order
        assert all(step["ring"] for step in trail), trail  # and shows where it is
        # Header, then the page: back link, images, the provider's data, the toolbar, the suggestions.
        assert names.index("Sign out") < names.index("← Back to the queue") < names.index("Approve all")
        groups = [step for step in trail if step["tag"] == "div"]
        assert len(groups) == 1  # one suggestion group in the tab order (j/k move between them)
        page.keyboard.press("Escape")

        # The skip link moves focus to the main content.
        page.goto(f"/ui/records/{STILL_LIFE}")
        ready(page)
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"

        # The dialogs are named and pass the audit open too.
        suggestion(page, OIL).get_by_role("button", name="Correct oil").click()
        dialog = page.get_by_role("dialog", name="Correct “oil”")
        expect(dialog).to_be_visible()
        page.keyboard.type("tempera")  # the search field has focus: a label search, by keyboard
        page.keyboard.press("Enter")
        expect(dialog.locator("#correct-results li")).to_have_count(1)
        expect(dialog.get_by_role("button", name="Choose tempera")).to_be_visible()
        assert audit(page) == []
        page.keyboard.press("Escape")
        if dialog.is_visible():  # Chromium's first Escape in a search field clears it
            page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(suggestion(page, OIL)).to_be_focused()  # focus goes back to the suggestion
