"""Label normalisation and the label index: free text → candidate concepts, in any language.

Matching is done on keys, not on the labels as written: case-folded, accents removed (Latin script
only: Hangul syllables survive the round trip), punctuation as spaces, and for English the last word
in the singular, so "Oil paints", "oil-paint" and "OIL PAINT" meet. AAT qualifiers in parentheses
("painting (image-making)") give a second, weaker key without them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from enrich.vocab.tree import LabelTree

LabelKind = Literal["pref", "alt"]
#: How a candidate was reached, best first: the label itself, its singular, or the label without its
#: parenthesised qualifier.
MatchKind = Literal["exact", "singular", "unqualified"]
_MATCH_ORDER: dict[MatchKind, int] = {"exact": 0, "singular": 1, "unqualified": 2}

_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")
_NOT_WORD = re.compile(r"[^\w]+")
# English plural endings, most specific first. Irregular and Latin plurals common in collections.
_IRREGULAR = {
    "men": "man",
    "women": "woman",
    "children": "child",
    "feet": "foot",
    "teeth": "tooth",
    "mice": "mouse",
    "geese": "goose",
    "media": "medium",
    "data": "datum",
    "knives": "knife",
    "leaves": "leaf",
    "halves": "half",
    "shelves": "shelf",
    "wolves": "wolf",
    "calves": "calf",
}
_INVARIANT_ENDINGS = ("ss", "us", "is", "ics", "ous", "series", "species")


def fold(text: str) -> str:
    """Case-fold, drop accents (decomposition, no combining marks, recomposition), punctuation to spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = _NOT_WORD.sub(" ", unicodedata.normalize("NFC", stripped).casefold())
    return " ".join(words.replace("_", " ").split())


def singular_forms(word: str) -> list[str]:
    """Possible English singulars of one folded word, by rule (good enough for thesaurus labels);
    empty when the word does not look plural. "-ses" is ambiguous (vases, canvases), so both."""
    if word in _IRREGULAR:
        return [_IRREGULAR[word]]
    if len(word) <= 3 or not word.isascii() or word.endswith(_INVARIANT_ENDINGS):
        return []
    if word.endswith("ies") and len(word) > 4:
        return [word[:-3] + "y"]
    if word.endswith(("ches", "shes", "xes", "sses", "zzes")):
        return [word[:-2]]
    if word.endswith("ses"):
        return [word[:-1], word[:-2]]
    if word.endswith("s"):
        return [word[:-1]]
    return []


def singular(word: str) -> str:
    """The most likely English singular of one folded word (the word itself when not plural)."""
    forms = singular_forms(word)
    return forms[0] if forms else word


def _singular_keys(folded: str) -> list[str]:
    words = folded.split(" ")
    return [" ".join([*words[:-1], form]) for form in singular_forms(words[-1])]


def label_keys(label: str, language: str | None) -> list[tuple[str, MatchKind]]:
    """The index keys of one label, strongest first, without repeats."""
    keys: list[tuple[str, MatchKind]] = []
    base = fold(label)
    if not base:
        return keys
    keys.append((base, "exact"))
    english = language is None or language == "" or language.lower().startswith("en")
    if english:
        keys += [(key, "singular") for key in _singular_keys(base)]
    unqualified = _QUALIFIER.sub("", label)
    if unqualified and unqualified != label:
        for key, kind in label_keys(unqualified, language):
            keys.append((key, "unqualified" if kind == "exact" else kind))
    seen: set[str] = set()
    return [(key, kind) for key, kind in keys if not (key in seen or seen.add(key))]  # type: ignore[func-returns-value]


def query_keys(text: str) -> list[str]:
    """Keys to look a piece of free text up under: as written, then with the last word made singular."""
    base = fold(text)
    if not base:
        return []
    return [base, *_singular_keys(base)]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One concept a piece of text may mean, with how it was reached."""

    concept: str
    label: str
    language: str | None
    label_kind: LabelKind
    match: MatchKind

    @property
    def rank(self) -> tuple[int, int]:
        """Sort key: exact matches before derived ones, preferred labels before alternative ones."""
        return (_MATCH_ORDER[self.match], 0 if self.label_kind == "pref" else 1)


class LabelIndex:
    """Folded label keys → candidate concepts. Guide terms and other structural nodes are never indexed,
    so they are never offered as a value."""

    def __init__(self) -> None:
        self._by_key: dict[str, list[Candidate]] = {}
        self._max_words = 1

    def add(self, concept: str, label: str, language: str | None, kind: LabelKind) -> None:
        for key, match in label_keys(label, language):
            # A query's singular meets a label's plural at the label's singular key, so the kind of
            # match comes from the label side only.
            bucket = self._by_key.setdefault(key, [])
            candidate = Candidate(concept, label, language, kind, match)
            if candidate not in bucket:
                bucket.append(candidate)
            self._max_words = max(self._max_words, key.count(" ") + 1)

    @classmethod
    def from_tree(cls, tree: LabelTree, concepts: Iterable[str] | None = None) -> LabelIndex:
        index = cls()
        for node in tree.nodes.values() if concepts is None else (tree.nodes[c] for c in concepts):
            if not node.selectable:
                continue
            for language, label in node.pref_labels.items():
                index.add(node.iri, label, language or None, "pref")
            for language, label in node.alt_labels:
                index.add(node.iri, label, language or None, "alt")
        return index

    def __len__(self) -> int:
        return len(self._by_key)

    @property
    def max_words(self) -> int:
        """Words in the longest key, the widest window phrase spotting needs to try."""
        return self._max_words

    def lookup(self, text: str) -> list[Candidate]:
        """Every concept the text may name, best matches first (one entry per concept)."""
        found: dict[str, Candidate] = {}
        for key in query_keys(text):
            for candidate in self._by_key.get(key, ()):
                best = found.get(candidate.concept)
                if best is None or candidate.rank < best.rank:
                    found[candidate.concept] = candidate
        return sorted(found.values(), key=lambda c: (c.rank, c.concept))

    def has_key(self, key: str) -> bool:
        return key in self._by_key

    def lookup_key(self, key: str) -> list[Candidate]:
        """Candidates under an already folded key (phrase spotting folds once and slides a window)."""
        return list(self._by_key.get(key, ()))
