"""Per-collection glossaries: source terms (Korean period names, wares, motifs …) and the English term a
translation must use for them, applied the same way to every record and recorded as evidence.

A glossary is a YAML file (see ``glossaries/korean-museum.yaml``)::

    name: korean-museum
    source_language: ko
    target_language: en
    terms:
      - {source: [청자, 靑磁], target: celadon, aat: "http://vocab.getty.edu/aat/…"}

:func:`apply` finds the terms in a source text (longest first, never overlapping) and either swaps each for a
placeholder the translator copies through (then :func:`restore` puts the English term in), or writes the
English term in directly (for an instruction LLM's prompt).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from enrich.ingest.errors import InputError

BUNDLED = Path(__file__).with_name("glossaries")
#: A placeholder: brackets and ASCII letters/digits survive the vocabularies of MT models and LLMs.
PLACEHOLDER = "[T{index}]"
_PLACEHOLDER = re.compile(r"\[\s*T\s*(\d+)\s*\]")
Mode = Literal["placeholder", "replace"]


@dataclass(frozen=True, slots=True)
class Term:
    sources: tuple[str, ...]
    target: str
    aat: str | None = None
    not_followed_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Glossary:
    name: str
    source_language: str
    target_language: str
    terms: tuple[Term, ...]

    @property
    def hash(self) -> str:
        """A short hash of the terms (what a translation's model card records: another list, another output)."""
        canonical = json.dumps(
            [self.name, self.source_language, self.target_language, [_term_json(t) for t in self.terms]],
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _term_json(term: Term) -> dict[str, Any]:
    return {"sources": list(term.sources), "target": term.target, "aat": term.aat, "nfb": list(term.not_followed_by)}


@dataclass(frozen=True, slots=True)
class GlossaryMatch:
    """One term found in a text: where (character offsets in the original), what it became, and its token."""

    source: str
    target: str
    start: int
    end: int
    placeholder: str
    aat: str | None = None

    def evidence(self, glossary: Glossary) -> str:
        aat = f" ({self.aat})" if self.aat else ""
        return f"glossary {glossary.name}: {self.source} → {self.target}{aat}"


def bundled_glossaries() -> list[str]:
    return sorted(path.stem for path in BUNDLED.glob("*.yaml"))


def load_glossary(name_or_path: str | Path) -> Glossary:
    """A bundled glossary by name (``korean-museum``) or a YAML file; a malformed one raises
    :class:`InputError` naming the file and the problem."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = BUNDLED / f"{name_or_path}.yaml"
        if not path.exists():
            known = ", ".join(bundled_glossaries())
            raise InputError(str(name_or_path), f"no such glossary (bundled: {known}; or give a .yaml file)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(str(path), f"cannot read the glossary: {exc}") from None
    return parse_glossary(data, str(path))


def parse_glossary(data: Any, source: str = "glossary") -> Glossary:
    if not isinstance(data, dict):
        raise InputError(source, "a glossary is a mapping with name, source_language, target_language and terms")
    for key in ("name", "source_language", "target_language"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise InputError(source, f"{key!r} must be a non-empty string")
    entries = data.get("terms")
    if not isinstance(entries, list) or not entries:
        raise InputError(source, "'terms' must be a non-empty list")
    terms: list[Term] = []
    seen: dict[str, str] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"term {number}"
        if not isinstance(entry, dict):
            raise InputError(source, f"{where} is not a mapping with source and target")
        sources = _strings(entry.get("source"), source, f"{where}: source")
        target = entry.get("target")
        if not isinstance(target, str) or not target.strip():
            raise InputError(source, f"{where}: target must be a non-empty string")
        aat = entry.get("aat")
        if aat is not None and (not isinstance(aat, str) or not aat.startswith("http")):
            raise InputError(source, f"{where}: aat must be an IRI")
        for text in sources:
            if seen.get(text, target) != target:  # one source text, two translations: ambiguous glossary
                raise InputError(source, f"{where}: {text!r} is already translated as {seen[text]!r}")
            seen[text] = target
        not_followed = _strings(entry.get("not_followed_by", []), source, f"{where}: not_followed_by", empty=True)
        unknown = set(entry) - {"source", "target", "aat", "not_followed_by", "note"}
        if unknown:
            raise InputError(source, f"{where}: unknown keys {sorted(unknown)}")
        terms.append(Term(sources, target.strip(), aat, not_followed))
    return Glossary(
        data["name"].strip(), data["source_language"].strip(), data["target_language"].strip(), tuple(terms)
    )


def _strings(value: Any, source: str, where: str, empty: bool = False) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or (not items and not empty)
        or not all(isinstance(i, str) and i.strip() for i in items)
    ):
        raise InputError(source, f"{where} must be a string or a list of non-empty strings")
    return tuple(i.strip() for i in items)


@functools.lru_cache(maxsize=16)  # one regex per glossary, not per text
def _pattern(glossary: Glossary) -> tuple[re.Pattern[str], dict[str, Term]]:
    by_source = {text: term for term in glossary.terms for text in term.sources}
    # Longest first, so 통일신라 wins over 신라 and 청화백자 over 백자. Latin-script terms need word edges;
    # Korean and Chinese terms do not (particles attach to them: 고려의, 조선시대에).
    alternatives = []
    for text in sorted(by_source, key=lambda s: (-len(s), s)):
        escaped = re.escape(text)
        alternatives.append(rf"\b{escaped}\b" if text.isascii() else escaped)
    return re.compile("|".join(alternatives)), by_source


def apply(text: str, glossary: Glossary, mode: Mode = "placeholder") -> tuple[str, list[GlossaryMatch]]:
    """``text`` with each glossary term swapped for a placeholder (``[T0]``, ``[T1]`` …; same term, same
    placeholder) or, with ``mode="replace"``, for its English term; and the matches in text order."""
    pattern, by_source = _pattern(glossary)
    matches: list[GlossaryMatch] = []
    pieces: list[str] = []
    placeholders: dict[str, str] = {}
    position = 0
    for found in pattern.finditer(text):
        term = by_source[found.group()]
        if any(text.startswith(after, found.end()) for after in term.not_followed_by):
            continue
        token = placeholders.setdefault(term.target, PLACEHOLDER.format(index=len(placeholders)))
        matches.append(GlossaryMatch(found.group(), term.target, found.start(), found.end(), token, term.aat))
        between = text[position : found.start()]
        if matches[:-1] and not between:  # ideographs run together: keep adjacent English terms apart
            between = " "
        pieces += [between, token if mode == "placeholder" else term.target]
        position = found.end()
    pieces.append(text[position:])
    return "".join(pieces), matches


def restore(translated: str, matches: list[GlossaryMatch]) -> tuple[str, list[GlossaryMatch]]:
    """The translation with placeholders replaced by their English terms, and the matches whose placeholder
    the translator lost (their terms are missing from the output; a caller lowers confidence or adds them)."""
    targets = {int(m.placeholder[2:-1]): m.target for m in matches}
    seen: set[int] = set()

    def put(found: re.Match[str]) -> str:
        index = int(found.group(1))
        if index not in targets:
            return found.group()
        seen.add(index)
        return targets[index]

    restored = _PLACEHOLDER.sub(put, translated)
    lost = [m for m in matches if int(m.placeholder[2:-1]) not in seen]
    return restored, lost
