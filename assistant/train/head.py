"""The specialized head: a linear layer over a model's hidden states.

Multinomial logistic regression (scikit-learn) on standardized features: every label of the
skills and "no tool" get a probability. Trained in seconds on the generated data, so it can
be trained again whenever the skills change. Inference is a matrix product in numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from assistant.nlu.classifier import NO_TOOL, tool_of

__all__ = ["HeadGuess", "IntentHead"]

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class HeadGuess:
    """The head's best label and its probability, and the probability of "no tool"."""

    label: str
    probability: float
    no_tool: float

    @property
    def tool(self) -> str | None:
        return tool_of(self.label)


@dataclass(frozen=True)
class IntentHead:
    labels: tuple[str, ...]
    mean: Matrix
    scale: Matrix
    coef: Matrix
    intercept: Matrix

    @classmethod
    def train(cls, vectors: Matrix, labels: Sequence[str], *, strength: float = 1.0,
              iterations: int = 400) -> IntentHead:
        """Fit on ``vectors`` (one row per example); ``strength``: inverse regularization."""
        from sklearn.linear_model import LogisticRegression

        mean = vectors.mean(axis=0)
        scale = vectors.std(axis=0) + 1e-6
        model = LogisticRegression(C=strength, max_iter=iterations)
        model.fit((vectors - mean) / scale, list(labels))
        return cls(tuple(str(label) for label in model.classes_),
                   mean.astype(np.float32), scale.astype(np.float32),
                   model.coef_.astype(np.float32), model.intercept_.astype(np.float32))

    def probabilities(self, vector: Matrix) -> npt.NDArray[np.float64]:
        logits = self.coef.astype(np.float64) @ ((vector - self.mean) / self.scale) \
            + self.intercept
        logits -= logits.max()
        exp = np.exp(logits)
        result: npt.NDArray[np.float64] = exp / exp.sum()
        return result

    def guess(self, vector: Matrix) -> HeadGuess:
        probabilities = self.probabilities(vector)
        best = int(probabilities.argmax())
        none = self.labels.index(NO_TOOL) if NO_TOOL in self.labels else -1
        return HeadGuess(self.labels[best], float(probabilities[best]),
                         float(probabilities[none]) if none >= 0 else 0.0)
