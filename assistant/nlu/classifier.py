"""Tier 2: an intent classifier trained at start-up from the skills' own sentences.

Snips-style: every template is expanded into sample sentences (alternatives, optional
words and slot values drawn at random), the skills' example phrasings are added, and a
"no tool" class is trained from requests nobody serves. Each sentence is also drawn without
its required values ("set the temperature", "start the machine"), so a request that names
the tool but not the value is recognized, and the dialogue asks for it. Word and character n-gram
TF-IDF features feed a linear support vector machine (scikit-learn's LinearSVC,
one-vs-rest); its margin for the best label is the confidence. A label is a tool plus the
arguments its phrasing fixes ("i'm freezing" -> change_temperature, delta 2).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from assistant.catalog import ArgSpec, Catalog
from assistant.nlu.evidence import function_words
from assistant.nlu.expand import SentenceSampler
from assistant.nlu.normalize import normalize
from assistant.nlu.templates import TemplateSentence
from assistant.skill_api import SlotKind

__all__ = ["NO_TOOL", "Classification", "IntentClassifier", "default_negatives"]

NO_TOOL = "<none>"
_SAMPLES_PER_SENTENCE = 24
_EXAMPLE_WEIGHT = 6
_UNSAID_PER_SENTENCE = 0
_DANGLING = frozenset({"to", "at", "for", "by", "of", "on", "in", "from", "with"})
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")


@dataclass(frozen=True)
class Classification:
    """The classifier's best label, as a tool and the arguments its phrasing fixes."""

    tool: str | None
    fixed: Mapping[str, Any]
    negate: frozenset[str]
    confidence: float


def _label(sentence: TemplateSentence) -> str:
    meaning = {"fixed": dict(sentence.fixed), "negate": sorted(sentence.negate)}
    return sentence.tool + "|" + json.dumps(meaning, sort_keys=True)


def _features(text: str) -> str:
    """Numbers become one token: the model learns "to # degrees", not "to 21 degrees"."""
    return _NUMBER.sub(" 0 ", text)


class IntentClassifier:
    """Predicts a label for an utterance, with its one-vs-rest margin."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._labels: list[str] = list(pipeline.classes_)

    @classmethod
    def train(
        cls,
        sentences: Iterable[TemplateSentence],
        catalog: Catalog,
        out_of_domain: Iterable[str] | None = None,
        seed: int = 7,
    ) -> IntentClassifier:
        rng = random.Random(seed)
        texts: list[str] = []
        labels: list[str] = []
        for sentence in sentences:
            label = _label(sentence)
            sampler = SentenceSampler(catalog.specs[sentence.tool], rng)
            drawn = {sampler.sentence(sentence) for _ in range(_SAMPLES_PER_SENTENCE)}
            repeat = _EXAMPLE_WEIGHT if sentence.example else 1
            if not sentence.example and any(catalog.specs[sentence.tool][n].required
                                                for n in sentence.slots):
                unsaid = _UnsaidSampler(catalog.specs[sentence.tool], rng)
                drawn |= {unsaid.sentence(sentence) for _ in range(_UNSAID_PER_SENTENCE)}
            for text in sorted(drawn - {""}):
                texts += [_features(normalize(text).digits)] * repeat
                labels += [label] * repeat
        negatives = list(out_of_domain if out_of_domain is not None else default_negatives())
        for text in negatives:
            texts += [_features(normalize(text).digits)] * 3
            labels += [NO_TOOL] * 3
        features = FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
                                      token_pattern=r"[^ ]+")),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
                                      sublinear_tf=True, min_df=2)),
        ])
        model = Pipeline([
            ("features", features),
            ("model", LinearSVC(C=1.0)),
        ])
        model.fit(texts, labels)
        return cls(model)

    def classify(self, text: str) -> Classification:
        """The most probable label for a digits-form utterance."""
        scores = self._pipeline.decision_function([_features(text)])[0]
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
        scores = self._pipeline.decision_function([_features(text)])[0]
        best: dict[str, float] = {}
        for index in scores.argsort()[::-1]:
            tool = self._labels[int(index)].split("|", 1)[0]
            best.setdefault(tool, float(scores[index]))
        no_tool = best.pop(NO_TOOL, float("-inf"))
        return sorted(best.items(), key=lambda item: -item[1]), no_tool


class _UnsaidSampler(SentenceSampler):
    """A sentence as said without its required values: cut where the first one would be
    ("set the temperature"), or a name said as its kind ("start the machine")."""

    _CUT = "\x00"

    def slot(self, spec: ArgSpec) -> str:
        if not spec.required:
            return super().slot(spec)
        if spec.kind in (SlotKind.ENUM, SlotKind.CONFIGURED) and self.rng.random() < 0.5:
            return f"{self.rng.choice(('a', 'the'))} {spec.label}"
        return self._CUT

    def sentence(self, template: TemplateSentence) -> str:
        words = super().sentence(template).split(self._CUT)[0].split()
        while words and words[-1] in _DANGLING:
            words.pop()
        # "set the" says nothing of the tool: a fragment with no content word is no sample.
        return " ".join(words) if set(words) - function_words() else ""


def default_negatives() -> list[str]:
    text = files("assistant.nlu").joinpath("data/out_of_domain.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.startswith("#")]
