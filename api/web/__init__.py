"""The reviewer's page (issue 9): server-rendered HTML, small vanilla JS modules and one stylesheet, served
by the API itself under ``/ui`` (no separate front end, no build step).

- ``/ui/login`` (sign in with a token: a signed session cookie, see :mod:`api.auth`), ``/ui/logout``,
  ``/ui/preferences`` (UI and label language);
- ``/ui/queue``: records with pending suggestions (the script reads ``GET /review/queue``);
- ``/ui/records/{id}``: images, the provider's fields, per facet the vocabulary tree with the record's top
  suggestions, review actions with keyboard shortcuts;
- ``/ui/dashboard``: ``templates/dashboard.html`` in the page shell, with ``static/dashboard.js``;
- ``/ui/api/records/{id}/evidence``: JSON the REST API lacks (evidence, enrichers, models per suggestion);
- ``/ui/static/``: ``app.css`` (the one stylesheet) and the scripts; ``app.js`` holds what every page's
  script shares (UI strings, the API client that sends the CSRF header, the notice area, element building).

Pages without a session redirect to the sign-in page. UI strings live in ``messages/{lang}.json``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.staticfiles import StaticFiles

from api.web.account import router as account_router
from api.web.pages import router as pages_router

STATIC = Path(__file__).parent / "static"

router = APIRouter()
router.include_router(account_router)
router.include_router(pages_router)


def static_files() -> StaticFiles:
    """The stylesheet and scripts, for ``app.mount("/ui/static", …)``."""
    return StaticFiles(directory=STATIC)
