"""TF-IDF features in numpy, the classifier's and the language model's retrieval's.

The same features as scikit-learn's ``TfidfVectorizer`` (lower case; word n-grams of
non-space tokens, or ``char_wb`` character n-grams of each word padded with spaces; smooth
idf; sublinear tf; unit length), written here because importing scikit-learn and SciPy
costs the appliance ~95 MB of resident memory, a sixth of its budget, for a few sums.
Only the support vector machine's training needs scikit-learn, and it runs in a child
process (:func:`fit_linear`), which ends with it. ``tests/nlu/test_features.py`` checks both against
scikit-learn itself.
"""

from __future__ import annotations

import importlib
import logging
import math
import pickle
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from assistant.errors import UnderstandingError

__all__ = ["LinearModel", "SparseRows", "TfidfFeatures", "fit_linear", "stacked_rows"]

_LOGGER = logging.getLogger(__name__)
Analyzer = Literal["word", "char_wb"]
_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class SparseRows:
    """Rows of features in compressed sparse row form (SciPy's ``csr_matrix`` arrays)."""

    data: npt.NDArray[np.float64]
    indices: npt.NDArray[np.int64]
    indptr: npt.NDArray[np.int64]
    columns: int


class TfidfFeatures:
    """Fitted on documents: the n-grams seen (``min_df`` times at least) and their idf."""

    def __init__(self, analyzer: Analyzer, ngram_range: tuple[int, int], *,
                 min_df: int = 1) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.vocabulary: dict[str, int] = {}
        self.idf: npt.NDArray[np.float64] = np.zeros(0)

    def grams(self, text: str) -> list[str]:
        text = text.lower()
        low, high = self.ngram_range
        if self.analyzer == "word":
            tokens = text.split(" ")
            tokens = [token for token in tokens if token]
            return [" ".join(tokens[i:i + n]) for n in range(low, high + 1)
                    for i in range(len(tokens) - n + 1)]
        grams: list[str] = []
        for word in _WHITE_SPACES.sub(" ", text).split():
            padded = f" {word} "
            for n in range(low, high + 1):
                grams += [padded[i:i + n] for i in range(max(1, len(padded) - n + 1))]
                if len(padded) <= n:  # a short word counts once, as a whole
                    break
        return grams

    def fit(self, documents: Sequence[str]) -> TfidfFeatures:
        frequency: Counter[str] = Counter()
        for document in documents:
            frequency.update(set(self.grams(document)))
        kept = sorted(gram for gram, count in frequency.items() if count >= self.min_df)
        self.vocabulary = {gram: index for index, gram in enumerate(kept)}
        count = len(documents)
        self.idf = np.array([math.log((1 + count) / (1 + frequency[gram])) + 1
                             for gram in kept], dtype=np.float64)
        return self

    def row(self, text: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """One text's features: column indices and values, of unit length."""
        counts = Counter(index for gram in self.grams(text)
                         if (index := self.vocabulary.get(gram)) is not None)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        indices = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64,
                                           count=len(counts)))) * self.idf[indices]
        return indices, values / np.linalg.norm(values)


def stacked_rows(features: Sequence[TfidfFeatures], texts: Iterable[str]) -> SparseRows:
    """Every text's features, one feature set after the other (as a ``FeatureUnion``)."""
    offsets = np.cumsum([0, *(len(f.vocabulary) for f in features)])
    data: list[npt.NDArray[np.float64]] = []
    indices: list[npt.NDArray[np.int64]] = []
    indptr = [0]
    for text in texts:
        for offset, feature in zip(offsets, features, strict=False):
            columns, values = feature.row(text)
            indices.append(columns + offset)
            data.append(values)
        indptr.append(indptr[-1] + sum(len(v) for v in data[-len(features):]))
    return SparseRows(np.concatenate(data) if data else np.zeros(0),
                      np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
                      np.asarray(indptr, dtype=np.int64), int(offsets[-1]))


@dataclass(frozen=True)
class LinearModel:
    """One-vs-rest linear scores: ``coef @ x + intercept`` per label."""

    labels: list[str]
    coef: npt.NDArray[np.float64]
    intercept: npt.NDArray[np.float64]

    def scores(self, columns: npt.NDArray[np.int64], values: npt.NDArray[np.float64]
               ) -> npt.NDArray[np.float64]:
        return np.asarray(self.coef[:, columns] @ values + self.intercept, dtype=np.float64)


def _fit_linear_svm(rows: SparseRows, labels: list[str], c: float) -> LinearModel:
    from scipy.sparse import csr_matrix
    from sklearn.svm import LinearSVC

    matrix = csr_matrix((rows.data, rows.indices, rows.indptr),
                        shape=(len(rows.indptr) - 1, rows.columns))
    model = LinearSVC(C=c).fit(matrix, labels)
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # two labels: one score, for the second
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    return LinearModel([str(label) for label in model.classes_], coef, intercept)


def fit_linear(rows: SparseRows, labels: list[str], c: float = 1.0, *,
               timeout_s: float = 300.0) -> LinearModel:
    """A linear support vector machine (scikit-learn's ``LinearSVC``), trained in a child
    process (``python -m assistant.nlu.features``, data in and model out as pickles) so
    that scikit-learn and SciPy never load into the assistant's own. Only where no child
    process can be started at all is it trained here."""
    try:
        done = subprocess.run([sys.executable, "-m", "assistant.nlu.features"],
                              input=pickle.dumps((rows, labels, c)), capture_output=True,
                              timeout=timeout_s, check=False)
    except OSError as err:
        _LOGGER.warning("no child process for training the classifier (%s): trained here, "
                        "which keeps scikit-learn in memory", err)
        return _fit_linear_svm(rows, labels, c)
    except subprocess.TimeoutExpired as err:
        raise UnderstandingError(
            "intent-training-timeout", f"training the classifier took over {timeout_s:.0f} s; "
            "is the machine overloaded?") from err
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UnderstandingError(
            "intent-training-failed", f"training the classifier failed "
            f"(exit {done.returncode}): {said[-1] if said else 'no message'}; is scikit-learn "
            "installed, and is there memory for it?")
    model = pickle.loads(done.stdout)
    if not isinstance(model, LinearModel):
        raise UnderstandingError("intent-training-failed",
                                 "the classifier's training process gave no model")
    return model


def _child() -> None:
    # the module by its name, not as __main__: the parent unpickles its classes by name
    named = importlib.import_module("assistant.nlu.features")
    rows, labels, c = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(named._fit_linear_svm(rows, labels, c)))


if __name__ == "__main__":
    _child()
