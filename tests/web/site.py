"""A served sample collection for the browser tests: the bundled records, both bundled vocabularies, a
lexical run, plus what later enrichers will write (a translation of a title, a generated image), and
signed-in pages. The dashboard's test may use it too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page

from api.app import create_app
from api.auth import make_token
from api.web.record_view import IPTC_SOURCE_TYPE
from enrich.namespaces import DC, EDM, RDF_TYPE
from enrich.provenance import ProvenanceWriter
from enrich.store.base import Store
from enrich.store.embedded import EmbeddedStore
from enrich.suggestion import ModelCard, SuggestedValue, Suggestion
from tests.api.server import running
from tests.api.test_vocab_api import GRAPHS, sample_store
from tests.ingest.support import make_settings
from tests.web.browser import artifacts_dir, chromium, offline

#: The record most of the review happens on (a Dutch still life: materials, subjects, a period).
STILL_LIFE = "p-0047-2b67296e7701"
STILL_LIFE_CHO = "https://data.example.org/city-gallery/object/p-0047"
#: A record without any image of its own, given a generated one.
CELADON = "cer-0102-334e5bdfd7e4"
GENERATED_IMAGE = "https://data.heritage-enrich.example/generated/cer-0102.png"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
TRANSLATION = SuggestedValue("포도와 은 주전자가 있는 정물", is_iri=False, language="ko")
TOKENS = {role: make_token(role, name) for role, name in (("reviewer", "rita"), ("reader", "rob"))}  # type: ignore[arg-type]


def add_later_enrichments(store: Store) -> str:
    """A translation of the still life's title (as the translate enricher will write it) and a generated
    image for the celadon vase (a web resource marked as trained algorithmic media); the translation's id."""
    writer = ProvenanceWriter(store, GRAPHS)
    card = ModelCard("nllb-200-distilled-600M", "test-rev")
    run = writer.start_run(["translate"], [card], "test", "none")
    suggestion = Suggestion(
        STILL_LIFE,
        STILL_LIFE_CHO,
        DC + "title",
        TRANSLATION,
        "translation",
        0.87,
        "translate",
        card,
        ('dc:title@en "Still life with grapes and a silver jug" translated to ko',),
    )
    writer.write(run, [suggestion])
    store.update(
        f"INSERT DATA {{ GRAPH <{GRAPHS.suggestions(CELADON)}> {{ <{GENERATED_IMAGE}> <{RDF_TYPE}> "
        f'<{EDM}WebResource> ; <{IPTC_SOURCE_TYPE}> <{TRAINED_ALGORITHMIC_MEDIA}> ; <{DC}format> "image/png" . }} }}'
    )
    return suggestion.suggestion_id


@dataclass
class Site:
    url: str
    app: FastAPI
    store: Store
    browser: Browser | None
    artifacts: Path
    translation: str

    @contextmanager
    def context(self, **options: object) -> Iterator[BrowserContext]:
        """A fresh browser profile (no cookies) kept on the test server."""
        assert self.browser is not None, "served without a browser"
        context = self.browser.new_context(base_url=self.url, **options)  # type: ignore[arg-type]
        offline(context, self.url)
        try:
            yield context
        finally:
            context.close()

    def sign_in(self, context: BrowserContext, role: str = "reviewer", path: str = "/ui/queue") -> Page:
        page = context.new_page()
        page.goto(path)
        page.get_by_label("Access token").fill(TOKENS[role][0])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**{path}")
        return page

    def shot(self, page: Page, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@contextmanager
def serve_site(name: str, browser: bool = True) -> Iterator[Site]:
    """The site on a real uvicorn, with a headless Chromium unless ``browser`` is false."""
    store = sample_store(EmbeddedStore())
    translation = add_later_enrichments(store)
    app = create_app(make_settings(api_tokens=[entry for _, entry in TOKENS.values()]), store)
    with running(app) as url, chromium() if browser else nullcontext() as chrome:
        yield Site(url, app, store, chrome, artifacts_dir(name) if browser else Path(), translation)
