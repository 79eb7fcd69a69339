"""Training data generated from the installed skills themselves.

Every template is expanded many times (alternatives, optional words, slot values drawn from
the skills' lists, configured names and aliases included); the skills' example phrasings
weigh more. The "no tool" class holds the requests nobody serves, word salad of the
skills' own words, and near misses: the skills' nouns in sentences that ask for nothing
("my brother's car has a driver window too"). Numbers need no spoken forms here: speech
and text are normalized to digits before any tier sees them.

Examples are deduplicated (a text two labels claim is dropped), split into train and dev by
a hash of the text (stable when skills are added), and written as JSON lines so they can
be read (``assistant train --out``).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.dispatch.catalog import Catalog
from assistant.nlu.classifier import (
    NO_TOOL,
    default_negatives,
    label_of,
    salad_negatives,
    tool_of,
)
from assistant.nlu.expand import SentenceSampler
from assistant.nlu.matcher import TemplateMatcher
from assistant.nlu.normalize import normalize
from assistant.nlu.templates import TemplateSentence
from assistant.skill_api import SlotKind

__all__ = ["NEAR_MISS_FRAMES", "Example", "TrainingData", "build_training_data"]

NEAR_MISS_FRAMES = (
    "my brother's car has {} too",
    "i read an article about {}",
    "do you remember {} from last year",
    "the manual talks about {}",
    "we talked about {} at lunch",
    "{} was in the news",
    "i wonder who invented {}",
    "is {} expensive to repair",
    "how do you spell {}",
    "my old job had {}",
    "who bought {}",
    "who is in charge of {} this week",
    "when was {} installed",
    "why is {} painted yellow",
    "where did we get {}",
    "who cleaned {} yesterday",
    "how old is {}",
    "what colour is {}",
    "who usually works with {}",
    "tell my boss about {} later",
)
"""Sentences that mention a skill's thing and ask for nothing: remarks, and questions the
skills do not answer (who, when, why)."""


@dataclass(frozen=True)
class Example:
    """One utterance (digits form) and its label: a classifier label or ``NO_TOOL``."""

    text: str
    label: str
    source: str

    @property
    def tool(self) -> str | None:
        return tool_of(self.label)


@dataclass(frozen=True)
class TrainingData:
    train: tuple[Example, ...]
    dev: tuple[Example, ...]

    @property
    def labels(self) -> list[str]:
        return sorted({e.label for e in (*self.train, *self.dev)})

    def digest(self) -> str:
        """sha256 of the data as written: what a trained model records it learned from."""
        digest = hashlib.sha256()
        for part, examples in (("train", self.train), ("dev", self.dev)):
            for example in examples:
                digest.update(f"{part}\t{example.label}\t{example.text}\n".encode())
        return digest.hexdigest()

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for part, examples in (("train", self.train), ("dev", self.dev)):
            with (folder / f"{part}.jsonl").open("w", encoding="utf-8") as out:
                for example in examples:
                    out.write(json.dumps({"text": example.text, "label": example.label,
                                          "tool": example.tool, "source": example.source})
                              + "\n")


def build_training_data(
    sentences: Sequence[TemplateSentence],
    catalog: Catalog,
    *,
    samples_per_sentence: int = 12,
    example_weight: int = 3,
    dev_share: float = 0.1,
    seed: int = 16,
) -> TrainingData:
    """The examples for the installed skills; deterministic for the same skills."""
    matcher = TemplateMatcher(sentences, catalog)
    claimed: dict[str, set[str]] = {}
    weight: dict[str, int] = {}
    source: dict[str, str] = {}

    def add(text: str, label: str, origin: str, times: int = 1) -> None:
        digits = normalize(text).digits
        if not digits:
            return
        claimed.setdefault(digits, set()).add(label)
        weight[digits] = max(weight.get(digits, 0), times)
        source.setdefault(digits, origin)

    for sentence in sentences:
        rng = random.Random(f"{seed}|{sentence.tool}|{sentence.text}")
        sampler = SentenceSampler(catalog.specs[sentence.tool], rng)
        label = label_of(sentence)
        for _ in range(samples_per_sentence):
            add(sampler.sentence(sentence), label, sentence.source,
                example_weight if sentence.example else 1)
    for text in default_negatives():
        add(text, NO_TOOL, "out_of_domain.txt", 2)
    for text in salad_negatives(matcher.vocabulary, matcher.is_sentence, seed=seed):
        add(text, NO_TOOL, "word salad")
    for text in _near_misses(catalog, random.Random(seed)):
        if matcher.match(normalize(text)) is None:
            add(text, NO_TOOL, "near miss")
    train: list[Example] = []
    dev: list[Example] = []
    for text, labels in claimed.items():
        if len(labels) != 1:
            continue  # two labels claim these words: no lesson either way
        example = Example(text, next(iter(labels)), source[text])
        if _bucket(text) < dev_share:
            dev.append(example)
        else:
            train += [example] * weight[text]
    return TrainingData(tuple(train), tuple(dev))


def _near_misses(catalog: Catalog, rng: random.Random) -> Iterable[str]:
    """Each named thing of the skills (list values, argument labels) in a frame that asks
    for nothing."""
    things: set[str] = set()
    for specs in catalog.specs.values():
        for spec in specs.values():
            if spec.kind in {SlotKind.NUMBER, SlotKind.DURATION, SlotKind.TEXT}:
                things.add(f"the {spec.label}")
            things.update(name for name in spec.values if not any(c.isdigit() for c in name))
    for thing in sorted(things):
        for frame in rng.sample(NEAR_MISS_FRAMES, 3):
            yield frame.format(thing)


def _bucket(text: str) -> float:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
