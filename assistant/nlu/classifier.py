"""Tier 2: an intent classifier trained at start-up from the skills' own sentences.

Snips-style: every template is expanded into sample sentences (alternatives, optional
words and slot values drawn at random), the skills' example phrasings are added, and a
"no tool" class is trained from requests nobody serves and from word salad: the skills' own
words in random order ("press packer", "lathe temperature 22"), because a bag of known
words is no request. Word and character n-gram
TF-IDF features (``features.py``, in numpy) feed a linear support vector machine
(scikit-learn's LinearSVC, one-vs-rest, trained in a child process); its margin for the
best label is the confidence. A label is a tool plus the
arguments its phrasing fixes ("i'm freezing" -> change_temperature, delta 2).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.dispatch.catalog import Catalog
from assistant.manifest import model_cache
from assistant.nlu.expand import SentenceSampler
from assistant.nlu.features import LinearModel, TfidfFeatures, fit_linear, stacked_rows
from assistant.nlu.normalize import normalize
from assistant.nlu.templates import TemplateSentence

__all__ = ["NO_TOOL", "SALAD_NEGATIVES", "Classification", "IntentClassifier",
           "default_negatives", "label_of", "salad_negatives", "salad_words", "tool_of"]

NO_TOOL = "<none>"
_SAMPLES_PER_SENTENCE = 24
_EXAMPLE_WEIGHT = 6
SALAD_NEGATIVES = 500
"""Word salad in the "no tool" class (see :func:`salad_negatives`). Measured on 25,000
fresh salads and the held-out sets (602 utterances), with every other guard in place:
salad turned into calls 0.38 % -> 0.18 %, stops from salad 2 -> 0, held-out accuracy 534 ->
530; 300 left 2 stops, 1000 cost 3 more."""
_LOGGER = logging.getLogger(__name__)
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_RECIPE = "word 1-2, char_wb 2-4 min_df 2, LinearSVC C=1"
"""Part of a trained model's key: a change here is a new model, not a stale one."""
_TRAINED: dict[str, LinearModel] = {}
"""Models already trained in this process, by their training data: the same skills give
the same model, without another child process."""


@dataclass(frozen=True)
class Classification:
    """The classifier's best label, as a tool and the arguments its phrasing fixes."""

    tool: str | None
    fixed: Mapping[str, Any]
    negate: frozenset[str]
    confidence: float


def tool_of(label: str) -> str | None:
    """The tool a label names (None: no tool)."""
    return None if label == NO_TOOL else label.split("|", 1)[0]


def label_of(sentence: TemplateSentence) -> str:
    """The label a sentence teaches: its tool and the arguments its phrasing fixes."""
    meaning = {"fixed": dict(sentence.fixed), "negate": sorted(sentence.negate)}
    return sentence.tool + "|" + json.dumps(meaning, sort_keys=True)


def _features(text: str) -> str:
    """Numbers become one token: the model learns "to # degrees", not "to 21 degrees"."""
    return _NUMBER.sub(" 0 ", text)


class IntentClassifier:
    """Predicts a label for an utterance, with its one-vs-rest margin."""

    def __init__(self, features: list[TfidfFeatures], model: LinearModel) -> None:
        self._features = features
        self._model = model
        self._labels = model.labels

    @classmethod
    def train(
        cls,
        sentences: Iterable[TemplateSentence],
        catalog: Catalog,
        out_of_domain: Iterable[str] | None = None,
        seed: int = 7,
    ) -> IntentClassifier:
        texts: list[str] = []
        labels: list[str] = []
        for sentence in sentences:
            label = label_of(sentence)
            # each template draws its own samples: adding one changes no other's
            rng = random.Random(f"{seed}|{sentence.tool}|{sentence.text}")
            sampler = SentenceSampler(catalog.specs[sentence.tool], rng)
            drawn = {sampler.sentence(sentence) for _ in range(_SAMPLES_PER_SENTENCE)}
            repeat = _EXAMPLE_WEIGHT if sentence.example else 1
            for text in sorted(drawn):
                texts += [_features(normalize(text).digits)] * repeat
                labels += [label] * repeat
        negatives = list(out_of_domain if out_of_domain is not None else default_negatives())
        for text in negatives:
            texts += [_features(normalize(text).digits)] * 3
            labels += [NO_TOOL] * 3
        features = [TfidfFeatures("word", (1, 2)).fit(texts),
                    TfidfFeatures("char_wb", (2, 4), min_df=2).fit(texts)]
        key = hashlib.sha256("\n".join([_RECIPE, *(f"{label}\t{text}" for label, text in
                                                 zip(labels, texts, strict=True))]).encode()
                             ).hexdigest()
        model = _TRAINED.get(key)
        if model is None:
            model = _TRAINED[key] = _trained(key, lambda: fit_linear(
                stacked_rows(features, texts), labels), sum(len(f.vocabulary) for f in features))
            while len(_TRAINED) > 8:
                del _TRAINED[next(iter(_TRAINED))]
        return cls(features, model)

    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    def _scores(self, text: str) -> npt.NDArray[np.float64]:
        row = stacked_rows(self._features, [_features(text)])
        return self._model.scores(row.indices, row.data)

    def margins(self, text: str) -> npt.NDArray[np.float32]:
        """Every label's one-vs-rest margin for a digits-form utterance, in
        :attr:`labels` order: lexical features for a trained head."""
        return self._scores(text).astype(np.float32)

    def classify(self, text: str) -> Classification:
        """The most probable label for a digits-form utterance."""
        scores = self._scores(text)
        best = int(scores.argmax())
        label = self._labels[best]
        confidence = float(scores[best])
        if label == NO_TOOL:
            return Classification(None, {}, frozenset(), confidence)
        tool, meaning = label.split("|", 1)
        decoded = json.loads(meaning)
        return Classification(tool, decoded["fixed"], frozenset(decoded["negate"]), confidence)

    def ranked(self, text: str) -> tuple[list[tuple[str, float]], float]:
        """Every tool with the margin of its best label, best first, and the margin of
        "no tool"."""
        scores = self._scores(text)
        best: dict[str, float] = {}
        for index in scores.argsort()[::-1]:
            tool = self._labels[int(index)].split("|", 1)[0]
            best.setdefault(tool, float(scores[index]))
        no_tool = best.pop(NO_TOOL, float("-inf"))
        return sorted(best.items(), key=lambda item: -item[1]), no_tool


def _trained(key: str, train: Callable[[], LinearModel], columns: int) -> LinearModel:
    """The model trained on this data before (the model cache keeps it: the next start
    needs no child process), else a new one, kept there if the cache can be written. A kept
    one that does not fit the features (``columns``) is damaged, and trained again."""
    path = model_cache() / "classifiers" / f"{key}.npz"
    try:
        with np.load(path) as saved:
            labels = [str(label) for label in saved["labels"]]
            coef, intercept = saved["coef"], saved["intercept"]
        if coef.shape == (len(labels), columns) and intercept.shape == (len(labels),):
            return LinearModel(labels, coef, intercept)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # none yet, or a damaged one: trained again, and the file written anew
    model = train()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a file of its own: two processes starting at once each write theirs whole
        handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".npz")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, labels=np.array(model.labels), coef=model.coef,
                     intercept=model.intercept)
        os.replace(partial, path)
    except OSError as err:
        _LOGGER.info("the classifier is not kept in %s (%s): it is trained at each start",
                     path.parent, err)
    return model


def salad_words(words: Sequence[str], rng: random.Random, longest: int = 7) -> str:
    """1 to ``longest`` of ``words`` drawn at random: word salad."""
    return " ".join(rng.choice(words) for _ in range(rng.randint(1, longest)))


def salad_negatives(words: Iterable[str], is_sentence: Callable[[str], bool],
                    count: int = SALAD_NEGATIVES, seed: int = 8) -> list[str]:
    """``count`` salads of ``words`` that are not sentences, for the "no tool" class."""
    rng = random.Random(seed)
    vocabulary = sorted(words)
    negatives: list[str] = []
    while len(negatives) < count:
        text = salad_words(vocabulary, rng)
        if not is_sentence(text):
            negatives.append(text)
    return negatives


def default_negatives() -> list[str]:
    text = files("assistant.nlu").joinpath("data/out_of_domain.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.startswith("#")]
