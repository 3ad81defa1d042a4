"""Server-rendered pages without a template engine: HTML files under ``templates/`` with ``$name``
placeholders (:class:`string.Template`), filled with text escaped here. Every page is the one shell,
``base.html``: header with navigation, language choice and account, a ``<main>``, the UI strings of the
page's language and the page's data as JSON for its script.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from fastapi.responses import HTMLResponse

from api.auth import Identity
from api.web.i18n import LABEL_LANGUAGES, catalogue, message, ui_languages

TEMPLATES = Path(__file__).parent / "templates"
#: Pages and their scripts come from this origin only; images may come from the providers' servers.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' https: http: data:; script-src 'self'; style-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


@cache
def template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text("utf-8"))


def fill(name: str, **values: object) -> str:
    """A template with every placeholder given: markup as it is, so escape text before passing it."""
    return template(name).substitute({key: str(value) for key, value in values.items()})


def json_for_script(data: object) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` or ``<!--`` can form)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


@dataclass(frozen=True)
class Viewer:
    """Who is looking (None on the sign-in page), in which UI language, with labels in which language."""

    identity: Identity | None
    ui: str
    labels: str

    def text(self, key: str, /, **values: object) -> str:
        """A UI string (plain text)."""
        return message(self.ui, key, **values)

    def t(self, key: str, /, **values: object) -> str:
        """A UI string, escaped for HTML."""
        return escape(self.text(key, **values))

    @property
    def can_review(self) -> bool:
        return self.identity is not None and self.identity.role in ("reviewer", "admin")


def options(choices: dict[str, str], chosen: str, languages: bool = False) -> str:
    """``<option>``s (value → shown text); ``languages``: the values are language tags the texts are in."""
    out = []
    for value, label in choices.items():
        lang = f' lang="{escape(value)}"' if languages and value else ""
        selected = " selected" if value == chosen else ""
        out.append(f'<option value="{escape(value)}"{lang}{selected}>{escape(label)}</option>')
    return "".join(out)


def header(viewer: Viewer, current: str, here: str) -> str:
    """The site header: navigation (``current`` is marked), language choice, account."""
    ui_names = {lang: message(lang, "language.name") for lang in ui_languages()}
    preferences = fill(
        "preferences.html",
        next=escape(here),
        legend=viewer.t("prefs.legend"),
        ui_label=viewer.t("prefs.ui_language"),
        ui_options=options(ui_names, viewer.ui, languages=True),
        labels_label=viewer.t("prefs.label_language"),
        label_options=options(LABEL_LANGUAGES, viewer.labels, languages=True),
        apply=viewer.t("prefs.apply"),
    )
    if viewer.identity is None:
        navigation = account = ""
    else:
        links = [("queue", "/ui/queue", "nav.queue"), ("dashboard", "/ui/dashboard", "nav.dashboard")]
        marked = ' aria-current="page"'
        items = "".join(
            f'<li><a href="{href}"{marked if name == current else ""}>{viewer.t(key)}</a></li>'
            for name, href, key in links
        )
        navigation = f'<nav class="site-nav" aria-label="{viewer.t("nav.label")}"><ul>{items}</ul></nav>'
        account = fill(
            "account.html",
            signed_in=viewer.t("nav.signed_in", name=viewer.identity.name, role=viewer.identity.role),
            sign_out=viewer.t("nav.sign_out"),
        )
    return fill(
        "header.html",
        home=viewer.t("app.name"),
        navigation=navigation,
        preferences=preferences,
        account=account,
    )


def page(
    viewer: Viewer,
    *,
    title: str,
    main: str,
    current: str = "",
    here: str = "/ui/queue",
    script: str | None = None,
    data: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A whole page: ``main`` (markup) inside the shell; ``script`` names a module under /ui/static."""
    scripts = "" if script is None else f'<script type="module" src="/ui/static/{escape(script)}"></script>'
    body = fill(
        "base.html",
        lang=escape(viewer.ui),
        title=escape(f"{title} · {message(viewer.ui, 'app.name')}"),
        scripts=scripts,
        skip=viewer.t("nav.skip"),
        header=header(viewer, current, here),
        main=main,
        messages=json_for_script(catalogue(viewer.ui)),
        page_data=json_for_script(
            {"ui": viewer.ui, "labels": viewer.labels, "canReview": viewer.can_review, **(data or {})}
        ),
    )
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)
