"""A record's text for a text encoder: chosen fields, in a chosen order, in the languages the model reads.

Fields are predicate IRIs or CURIEs with the mapping files' prefixes (``dc:title``). Per field, the values in the
most preferred language present are kept, with untagged ones; a field with none of the preferred languages
keeps all its values (a Korean-only record still says something to an English model's tokenizer, and
nothing is better than silence for none). Without preferred languages every value is kept, for multilingual
models. Concepts linked by IRI are written as their label from the vocabularies loaded in the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from enrich.enrichers.base import FieldValue, RecordView
from enrich.mapping.tabular_spec import expand_curie
from enrich.namespaces import DC, DCTERMS
from enrich.vocab.tree import LabelTree

#: Titles, descriptions, subjects, types and media: what says what an object is.
DEFAULT_TEXT_FIELDS: tuple[str, ...] = (
    DC + "title",
    DCTERMS + "alternative",
    DC + "description",
    DC + "subject",
    DC + "type",
    DCTERMS + "medium",
)
#: Longer texts are cut here (encoders truncate to a few hundred tokens anyway; hashing stays cheap).
MAX_TEXT_CHARS = 2000


def expand_field(name: str) -> str:
    """``dc:title`` → the full IRI (the mapping files' prefixes); full IRIs pass through."""
    return name if "://" in name else expand_curie(name)


def _primary(language: str | None) -> str:
    return (language or "").split("-")[0].lower()


class RecordText:
    """Builds one text per record from its view."""

    def __init__(
        self,
        fields: Sequence[str] = DEFAULT_TEXT_FIELDS,
        languages: Sequence[str] | None = None,
        trees: Mapping[str, LabelTree] | None = None,
        max_chars: int = MAX_TEXT_CHARS,
    ) -> None:
        self.fields = tuple(expand_field(f) for f in fields)
        self.languages = tuple(_primary(language) for language in languages or ())
        self.trees = dict(trees or {})
        self.max_chars = max_chars

    def _label(self, iri: str) -> FieldValue | None:
        for tree in self.trees.values():
            if iri in tree:
                wanted = self.languages or ("en",)
                return FieldValue(tree[iri].label(wanted), wanted[0])
        return None

    def _pick(self, values: Sequence[FieldValue]) -> list[str]:
        literals = [value for value in values if not value.is_iri]
        literals += [label for value in values if value.is_iri and (label := self._label(value.text)) is not None]
        if self.languages:
            for language in self.languages:
                chosen = [v for v in literals if _primary(v.language) in (language, "")]
                if any(_primary(v.language) == language for v in chosen):
                    literals = chosen
                    break
        return list(dict.fromkeys(v.text.strip() for v in literals if v.text.strip()))

    def __call__(self, view: RecordView) -> str:
        parts = []
        for predicate in self.fields:
            values = self._pick(view.values.get(predicate, ()))
            if values:
                parts.append("; ".join(values))
        return ". ".join(parts)[: self.max_chars]
