"""The page's languages: UI strings from one small catalogue per language (``messages/{lang}.json``), and
the language labels are shown in, each chosen by the reviewer and kept in a cookie.

Catalogue entries are plain text with ``{name}`` placeholders; the server fills them for what it renders
and the browser gets the whole catalogue of the page's language for what its scripts render.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from fastapi import Request

MESSAGES = Path(__file__).parent / "messages"
UI_LANGUAGE_COOKIE = "enrich_ui_lang"
LABEL_LANGUAGE_COOKIE = "enrich_label_lang"
DEFAULT_LANGUAGE = "en"
#: Label languages offered (the vocabularies' and samples' languages); a label missing in the chosen one
#: falls back to English, then any (``enrich.vocab.tree.Node.label``). Names are written in the language.
LABEL_LANGUAGES: dict[str, str] = {
    "en": "English",
    "ko": "한국어",
    "ko-Hani": "韓國語 (漢字)",
    "ja": "日本語",
    "zh": "中文",
    "fr": "Français",
    "de": "Deutsch",
    "nl": "Nederlands",
    "es": "Español",
    "it": "Italiano",
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def catalogue(language: str) -> dict[str, str]:
    """The UI strings of one language; English fills any key a translation lacks."""
    english: dict[str, str] = json.loads((MESSAGES / f"{DEFAULT_LANGUAGE}.json").read_text("utf-8"))
    if language == DEFAULT_LANGUAGE:
        return english
    return {**english, **json.loads((MESSAGES / f"{language}.json").read_text("utf-8"))}


@cache
def ui_languages() -> tuple[str, ...]:
    """The languages with a catalogue, English first."""
    found = sorted(path.stem for path in MESSAGES.glob("*.json"))
    return (DEFAULT_LANGUAGE, *(lang for lang in found if lang != DEFAULT_LANGUAGE))


def message(language: str, key: str, /, **values: object) -> str:
    """One UI string with its placeholders filled (unknown placeholders stay as written)."""
    text = catalogue(language).get(key, key)
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def _accepted(request: Request) -> list[str]:
    """Accept-Language's primary tags, best first (q-values honoured, ties in the header's order)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag:
            ranked.append((-weight, position, tag.split("-")[0].lower()))
    return [tag for _, _, tag in sorted(ranked)]


def ui_language(request: Request) -> str:
    """The cookie's choice, else the browser's first language we have, else English."""
    chosen = request.cookies.get(UI_LANGUAGE_COOKIE)
    if chosen is not None and chosen in ui_languages():
        return chosen
    return next((tag for tag in _accepted(request) if tag in ui_languages()), DEFAULT_LANGUAGE)


def label_language(request: Request, ui: str) -> str:
    """The cookie's choice, else the UI language."""
    chosen = request.cookies.get(LABEL_LANGUAGE_COOKIE)
    return chosen if chosen is not None and chosen in LABEL_LANGUAGES else ui
