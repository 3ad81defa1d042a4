"""Similarity over model embeddings (DESIGN §6): vector indexes per model card, ``enrich similar`` and
``/similar``, and zero-shot facet scores from CLIP text prompts (the ``zero-shot`` enricher).

Importing this package loads nothing: the modules import numpy, the models and the store when used.
"""

from __future__ import annotations

#: The most records one similarity query returns.
MAX_K = 1000
