"""The baseline ``enrich evaluate`` puts beside the heads: TF-IDF over the records' text fields (built as the
``embed`` enricher builds a record's text) and one logistic regression per concept (one-vs-rest), trained
on the same training records in the same command.

Its probabilities get the same hierarchy treatment as the heads' (min over the path), so both are ranked
and thresholded under the same rule.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from enrich.classify.hierarchy import path_minimum
from enrich.embeddings.texts import DEFAULT_TEXT_FIELDS, RecordText
from enrich.enrichers.base import read_record_views
from enrich.namespaces import Graphs
from enrich.store.base import Store
from enrich.vocab.tree import LabelTree


def default_text_fields(targets: Collection[str]) -> tuple[str, ...]:
    """The ``embed`` enricher's default text fields without the facets' target properties: a record's
    concepts there are what the heads predict, so their labels must not be part of the input."""
    return tuple(field for field in DEFAULT_TEXT_FIELDS if field not in set(targets))


def record_texts(
    store: Store,
    graphs: Graphs,
    record_ids: Sequence[str],
    fields: Sequence[str],
    trees: Mapping[str, LabelTree] | None = None,
) -> list[str]:
    """Per record (in the order asked), the text the ``embed`` enricher would build from ``fields``."""
    builder = RecordText(fields, trees=trees)
    views = {view.record_id: view for view in read_record_views(store, graphs, record_ids, builder.fields)}
    return [builder(views[rid]) if rid in views else "" for rid in record_ids]


class TfidfBaseline:
    """TF-IDF (word uni- and bigrams, sublinear tf) + per-concept logistic regression (balanced classes)."""

    def __init__(self, parents: Sequence[int], max_features: int = 50_000, c: float = 4.0) -> None:
        self.parents = tuple(parents)
        self.max_features = max_features
        self.c = c
        self._vectorizer: object | None = None
        self._models: list[object | float] = []

    def fit(self, texts: Sequence[str], targets: np.ndarray, mask: np.ndarray) -> TfidfBaseline:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, max_features=self.max_features, min_df=1, strip_accents="unicode"
        )
        matrix = vectorizer.fit_transform(list(texts))
        self._vectorizer = vectorizer
        self._models = []
        for column in range(targets.shape[1]):
            known = mask[:, column] > 0.5
            y = targets[known, column] > 0.5
            if y.all() or not y.any():  # one class only: a constant is all a model could learn
                self._models.append(float(y.mean()) if y.size else 0.0)
                continue
            model = LogisticRegression(C=self.c, class_weight="balanced", solver="liblinear", max_iter=1000)
            model.fit(matrix[known], y)
            self._models.append(model)
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Tree-consistent probabilities (records x concepts)."""
        if self._vectorizer is None:
            raise RuntimeError("fit the baseline first")
        matrix = self._vectorizer.transform(list(texts))  # type: ignore[attr-defined]
        out = np.zeros((len(texts), len(self._models)), dtype=np.float32)
        for column, model in enumerate(self._models):
            if isinstance(model, float):
                out[:, column] = model
            else:
                out[:, column] = model.predict_proba(matrix)[:, 1]  # type: ignore[attr-defined]
        return path_minimum(out, self.parents)


def fit_predict(
    train_texts: Sequence[str],
    targets: np.ndarray,
    mask: np.ndarray,
    parents: Sequence[int],
    test_texts: Mapping[str, Sequence[str]],
) -> dict[str, np.ndarray]:
    """Train on one part, score several (name → texts)."""
    baseline = TfidfBaseline(parents).fit(train_texts, targets, mask)
    return {name: baseline.predict(texts) for name, texts in test_texts.items()}
