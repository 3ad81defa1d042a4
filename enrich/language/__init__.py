"""Language identification of record literals (issue 7 item 1) and per-collection glossaries for translation.

``identify`` gives a verdict for one text, ``literal_languages`` the literals of a record whose tag is missing
or contradicted, ``glossary`` the term lists the translation enricher protects and records as evidence.
Nothing here imports torch; py3langid (numpy) is imported when the first text is identified.
"""

from __future__ import annotations

from enrich.language.identify import Identification, LiteralLanguage, identify, literal_languages, tag_contradicted
from enrich.language.scripts import ScriptProfile, script_profile

__all__ = [
    "Identification",
    "LiteralLanguage",
    "ScriptProfile",
    "identify",
    "literal_languages",
    "script_profile",
    "tag_contradicted",
]
