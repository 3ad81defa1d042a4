"""Which writing systems a text uses, by share of its letters.

Korean museum records mix Hangul with Hanja (CJK ideographs); a generic identifier sees the ideographs and
says Chinese. The share of each script is what lets :mod:`enrich.language.identify` overrule it: any real
amount of Hangul means Korean, any kana means Japanese.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

#: Script labels, most specific first (the label of a profile is one of these).
HANGUL, HANJA, MIXED, KANA, LATIN, OTHER, NONE = "hangul", "hanja", "hangul-hanja", "kana", "latin", "other", "none"

#: Below this share a script is noise (a stray character, a catalogue mark) and does not name the text.
MINOR_SHARE = 0.1

_HANGUL_RANGES = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7AF), (0xD7B0, 0xD7FF))
_HANJA_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),  # compatibility ideographs: Korean sources use them for Hanja readings (靑 is not one)
    (0x20000, 0x2FA1F),
)
_KANA_RANGES = ((0x3040, 0x309F), (0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))


def _within(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= code <= high for low, high in ranges)


@dataclass(frozen=True, slots=True)
class ScriptProfile:
    """Letter counts per script; shares are of all letters (digits, punctuation and spaces are not letters)."""

    hangul: int = 0
    hanja: int = 0
    kana: int = 0
    latin: int = 0
    other: int = 0

    @property
    def letters(self) -> int:
        return self.hangul + self.hanja + self.kana + self.latin + self.other

    def share(self, script: str) -> float:
        count = {HANGUL: self.hangul, HANJA: self.hanja, KANA: self.kana, LATIN: self.latin, OTHER: self.other}[script]
        return count / self.letters if self.letters else 0.0

    @property
    def label(self) -> str:
        """The text's script: Hangul and Hanja together (each at least :data:`MINOR_SHARE`) are ``hangul-hanja``;
        otherwise the largest share."""
        if not self.letters:
            return NONE
        if self.share(HANGUL) >= MINOR_SHARE and self.share(HANJA) >= MINOR_SHARE:
            return MIXED
        shares = {s: self.share(s) for s in (HANGUL, HANJA, KANA, LATIN, OTHER)}
        return max(shares, key=lambda s: shares[s])


def script_profile(text: str) -> ScriptProfile:
    """Count the letters of ``text`` by script."""
    counts = {HANGUL: 0, HANJA: 0, KANA: 0, LATIN: 0, OTHER: 0}
    for char in text:
        code = ord(char)
        if _within(code, _HANGUL_RANGES):
            counts[HANGUL] += 1
        elif _within(code, _HANJA_RANGES):
            counts[HANJA] += 1
        elif _within(code, _KANA_RANGES):
            counts[KANA] += 1
        elif unicodedata.category(char).startswith("L"):
            # Latin letters are named "LATIN …" (accented ones included); every other alphabet is "other".
            counts[LATIN if unicodedata.name(char, "").startswith("LATIN") else OTHER] += 1
    return ScriptProfile(counts[HANGUL], counts[HANJA], counts[KANA], counts[LATIN], counts[OTHER])
