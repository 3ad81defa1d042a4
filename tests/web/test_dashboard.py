"""The dashboard in headless Chromium: the approval plot and the calibration plot drawn from /review/stats
(each bar, segment and point checked against the numbers), their tables, the facet filter, the audit, and
screenshots to look at.

The sample site of :mod:`tests.web.site`, with the dummy enricher run over it (confidences spread over
[0.05, 0.95]) and a spread of review decisions, so that every plot has something to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from api.web.i18n import UI_LANGUAGE_COOKIE
from enrich.jobs import RunDefinition, run_enrichment
from tests.api.test_review_queue import decide
from tests.api.test_vocab_api import GRAPHS
from tests.web.a11y import audit
from tests.web.site import TOKENS, Site, serve_site

STATUSES = ("Pending", "Approved", "AutoAccepted", "Rejected", "Superseded", "Retracted")
# The plots' geometry in dashboard.js (viewBox units).
BAR_WIDTH = 300
LEFT, TOP, SIDE = 70, 16, 320
#: What a table shows for a rate there is none of (app.js's percent()).
NONE = "\N{EN DASH}"


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with serve_site("dashboard") as served:
        run_enrichment(served.store, GRAPHS, RunDefinition.of(["dummy"]))
        decide(served.store)
        yield served


def stats(site: Site, **params: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TOKENS['reader'][0]}"}
    answer = httpx.get(f"{site.url}/review/stats", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def drawn(page: Page, selector: str, *attributes: str) -> list[dict[str, str | None]]:
    """The given attributes of every element the selector finds, in document order."""
    found: list[dict[str, str | None]] = page.locator(selector).evaluate_all(
        "(nodes, names) => nodes.map((node) => Object.fromEntries(names.map((n) => [n, node.getAttribute(n)])))",
        list(attributes),
    )
    return found


def check_plots(page: Page, expected: dict[str, Any]) -> None:
    groups = expected["groups"]
    bars = drawn(page, "#rates-plot rect.rate-bar", "data-facet", "data-enricher", "width")
    assert [(b["data-facet"], b["data-enricher"]) for b in bars] == [(g["facet"], g["enricher"]) for g in groups]
    for bar, group in zip(bars, groups, strict=True):
        assert float(bar["width"] or 0) == pytest.approx((group["approval_rate"] or 0) * BAR_WIDTH, abs=0.01)
    segments = drawn(page, "#rates-plot rect.count-segment", "data-facet", "data-enricher", "data-status", "data-count")
    assert [(s["data-facet"], s["data-enricher"], s["data-status"], int(s["data-count"] or 0)) for s in segments] == [
        (g["facet"], g["enricher"], status, g["counts"][status])
        for g in groups
        for status in STATUSES
        if g["counts"][status]
    ]
    calibration = expected["calibration"]
    points = drawn(page, "#calibration-plot circle.calibration-point", "data-bin", "data-count", "cx", "cy")
    filled = [(k, b) for k, b in enumerate(calibration["bins"]) if b["count"]]
    assert [(int(p["data-bin"] or -1), int(p["data-count"] or 0)) for p in points] == [
        (k, b["count"]) for k, b in filled
    ]
    for point, (_, bin_) in zip(points, filled, strict=True):
        assert float(point["cx"] or 0) == pytest.approx(LEFT + bin_["mean_confidence"] * SIDE, abs=0.01)
        assert float(point["cy"] or 0) == pytest.approx(TOP + SIDE - bin_["approval_rate"] * SIDE, abs=0.01)
    assert page.locator("#calibration-plot line.diagonal").count() == 1

    # The table alternatives hold the same numbers.
    rows = page.locator("#rates-table tbody tr")
    assert rows.count() == len(groups)
    for index, group in enumerate(groups):
        cells = rows.nth(index).locator("th, td").all_inner_texts()
        assert cells[1:9] == [group["enricher"], *(str(group["counts"][s]) for s in STATUSES), str(group["decided"])]
        rate = group["approval_rate"]
        assert cells[9] == (NONE if rate is None else f"{round(rate * 100)}%")
    bands = page.locator("#calibration-table tbody tr")
    assert bands.count() == 10
    assert [bands.nth(k).locator("td").first.inner_text() for k in range(10)] == [
        str(b["count"]) for b in calibration["bins"]
    ]
    assert f"{calibration['expected_calibration_error']:.3f}" in page.locator("#ece").inner_text()


def test_the_plots_and_tables_show_the_stats(site: Site, tmp_path: Path) -> None:
    expected = stats(site)
    assert len(expected["groups"]) >= 6 and sum(1 for b in expected["calibration"]["bins"] if b["count"]) >= 4
    with site.context(viewport={"width": 1280, "height": 900}) as context:
        page = site.sign_in(context, "reader", "/ui/dashboard")
        page.wait_for_selector("body[data-loaded='all']")
        check_plots(page, expected)
        assert audit(page) == []
        # Labelled controls, and every plot named by its heading and described by its note.
        assert page.get_by_label("Facet", exact=True).evaluate("node => node.tagName") == "SELECT"
        assert page.get_by_label("Enricher", exact=True).evaluate("node => node.tagName") == "SELECT"
        assert page.get_by_role("img", name="Approval by facet and enricher").count() == 1
        assert page.get_by_role("img", name="Calibration").count() == 1
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"dashboard screenshot: {shot}")
        site.shot(page, "dashboard")


def test_the_facet_filter_redraws_for_that_facet(site: Site, tmp_path: Path) -> None:
    expected = stats(site, facet="object-types")
    assert {g["facet"] for g in expected["groups"]} == {"object-types"}
    with site.context(viewport={"width": 1280, "height": 900}) as context:
        page = site.sign_in(context, "reviewer", "/ui/dashboard")
        page.wait_for_selector("body[data-loaded='all']")
        page.get_by_label("Facet", exact=True).select_option("object-types")
        page.wait_for_selector("body[data-loaded='facet=object-types']")
        check_plots(page, expected)
        assert page.url.endswith("/ui/dashboard?facet=object-types")
        # Opened with the filter in its address, the page shows the same.
        page.goto("/ui/dashboard?facet=object-types&enricher=dummy")
        page.wait_for_selector("body[data-loaded='facet=object-types&enricher=dummy']")
        check_plots(page, stats(site, facet="object-types", enricher="dummy"))
        assert page.get_by_label("Enricher", exact=True).input_value() == "dummy"
        shot = tmp_path / "dashboard-object-types.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"filtered dashboard screenshot: {shot}")


def test_the_korean_interface(site: Site, tmp_path: Path) -> None:
    with site.context(viewport={"width": 1280, "height": 900}) as context:
        page = site.sign_in(context, "reader", "/ui/dashboard")
        context.add_cookies([{"name": UI_LANGUAGE_COOKIE, "value": "ko", "url": site.url}])
        page.reload()
        page.wait_for_selector("body[data-loaded='all']")
        assert page.locator("h1").inner_text() == "현황판"
        assert audit(page) == []
        shot = tmp_path / "dashboard-ko.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"Korean dashboard screenshot: {shot}")
