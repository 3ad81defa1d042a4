"""Enrichers by name, imported only when asked for (DESIGN §6).

The registry maps a name to ``"module:Class"``; nothing here imports an enricher's module, so the API
and the CLI start without torch or any model library. A missing optional dependency becomes a readable
error naming the enricher, not an ImportError from deep inside it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from enrich.enrichers.base import Enricher

#: name → "module:Class". Enrichers not written yet (translate, embed, classify, …) are added here
#: when they exist, so an unknown name always means "no such enricher".
ENRICHERS: dict[str, str] = {
    "classify": "enrich.classify.enricher:ClassifyEnricher",
    "dummy": "enrich.enrichers.dummy:DummyEnricher",
    "embed": "enrich.embeddings.enricher:EmbedEnricher",
    "generate": "enrich.generation.enricher:GenerateEnricher",
    "language": "enrich.language.enricher:LanguageEnricher",
    "lexical": "enrich.enrichers.lexical:LexicalEnricher",
    "translate": "enrich.translation.enricher:TranslateEnricher",
    "zero-shot": "enrich.similarity.enricher:ZeroShotEnricher",
}


class UnknownEnricher(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown enricher {name!r} (known: {', '.join(enricher_names())})")
        self.name = name


class EnricherUnavailable(RuntimeError):
    """The enricher exists but a library it needs is not installed."""


def enricher_names() -> list[str]:
    return sorted(ENRICHERS)


def enricher_class(name: str) -> type[Enricher]:
    """The class registered under ``name``, importing its module now."""
    try:
        target = ENRICHERS[name]
    except KeyError:
        raise UnknownEnricher(name) from None
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EnricherUnavailable(
            f"enricher {name!r} needs {exc.name or 'a library'} that is not installed ({exc})"
        ) from exc
    cls: type[Enricher] = getattr(module, class_name)
    return cls


def get_enricher(name: str, **config: Any) -> Enricher:
    """An enricher built from its settings (each class says which it accepts in ``from_config``)."""
    return enricher_class(name).from_config(**config)


__all__ = ["ENRICHERS", "EnricherUnavailable", "UnknownEnricher", "enricher_class", "enricher_names", "get_enricher"]
