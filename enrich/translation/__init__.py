"""Machine translation of record text (issue 7): a :class:`~enrich.translation.base.Translator` chosen by model
card (``kind: translation``; ``extra.backend``: ``seq2seq`` or ``causal-lm``), a cache of what was translated,
and the ``translate`` enricher.

Importing this package loads no model library; the backends import torch and transformers when they load.
"""

from __future__ import annotations

from pathlib import Path


def translations_root(data_dir: str | Path) -> Path:
    """Where the translation cache lives under the data directory."""
    return Path(data_dir) / "translations"


__all__ = ["translations_root"]
