"""The instruction a causal LM translates with, unless its card gives its own in ``extra.prompt``.

The prompt is part of the card, so changing it changes the card hash and with it the cache key: a new
prompt never reuses translations made under the old one. ``{source}``, ``{target}`` and ``{text}`` are
filled in; ``{source}``/``{target}`` are language names where we know them, else the tags.
"""

from __future__ import annotations

DEFAULT_PROMPT = (
    "Translate the following {source} text from a museum catalogue record into {target}. "
    "Give a faithful rendering: keep proper names (people, places, dynasties, kilns) and period or "
    "technical terms as established {target} usage renders them, add nothing, and answer with the "
    "translation only.\n\n{text}"
)

#: Names for the languages of our collections; other tags are passed as they are.
LANGUAGE_NAMES = {
    "ko": "Korean",
    "en": "English",
    "ja": "Japanese",
    "zh": "Chinese",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
}


def language_name(tag: str) -> str:
    return LANGUAGE_NAMES.get(tag.lower().split("-")[0], tag)


def render(template: str, text: str, source: str, target: str) -> str:
    """The user message for one text (``str.replace``, so braces in the text or template stay as written)."""
    return (
        template.replace("{source}", language_name(source))
        .replace("{target}", language_name(target))
        .replace("{text}", text)
    )


__all__ = ["DEFAULT_PROMPT", "LANGUAGE_NAMES", "language_name", "render"]
