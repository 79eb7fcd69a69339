"""``assistant train``: data from the skills, features from the base model, the head, the
held-out comparison, and installation only of a model that is not worse.

The recipe (measured in benchmarks/reports/train.md): the base model reads each generated
example once inside :data:`~assistant.llm.embedding.FRAME`; a multinomial logistic
regression on its last hidden state, beside the classifier's margins for the same words,
learns the skills' labels and "no tool". Measured on the held-out sets, the two together
held back 98.7 % of generated examples right where the hidden state alone got 88 %, and
made no call on an out-of-domain sentence at the head's threshold (0.9). The comparison
runs the same held-out cases through the understanding with the configured model as it is,
then with the trained head; the head is installed only when it is at least as accurate and
made no call on an out-of-domain case.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from assistant.config import LanguageModelConfig
from assistant.llm.embedding import FRAME, Embedder
from assistant.manifest import sha256_of
from assistant.nlu.specialized import SpecializedTier, head_features
from assistant.nlu.understand import Understanding
from assistant.train.artifact import (
    TrainedEntry,
    TrainedHead,
    save_entry,
    skills_fingerprint,
    trained_folder,
    write_head,
)
from assistant.train.data import TrainingData, build_training_data
from assistant.train.evaluate import Case, Score, score
from assistant.train.head import IntentHead

__all__ = ["Progress", "TrainOutcome", "TrainRecipe", "refusal_of", "train"]

RECIPE = ("last hidden state after FRAME and the classifier's margins; standardized; "
          "multinomial logistic regression")


@dataclass(frozen=True)
class TrainRecipe:
    """How much data: ``quick`` draws fewer samples per template."""

    quick: bool = False
    strength: float = 1.0

    @property
    def samples_per_sentence(self) -> int:
        return 4 if self.quick else 12


class Progress:
    """``label done/total, N s left`` on one line of ``out``, at most once a second."""

    def __init__(self, label: str, total: int, out: TextIO = sys.stderr,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.total, self.out, self.clock = label, total, out, clock
        self.started = clock()
        self._shown = 0.0

    def step(self, done: int) -> None:
        now = self.clock()
        if done < self.total and now - self._shown < 1.0:
            return
        self._shown = now
        elapsed = now - self.started
        left = elapsed / done * (self.total - done) if done else 0.0
        end = "\n" if done >= self.total else "\r"
        self.out.write(f"{self.label} {done}/{self.total}, {elapsed:.0f} s so far, "
                       f"about {left:.0f} s left{end}")
        self.out.flush()


@dataclass
class TrainOutcome:
    installed: bool
    reason: str
    path: Path | None
    data: TrainingData
    dev_accuracy: float
    baseline: Score
    trained: Score
    seconds: dict[str, float] = field(default_factory=dict)


def refusal_of(before: Score, after: Score, base: str) -> str | None:
    """Why the trained model must not replace ``base`` as it is (None: it may): it made a
    call on an out-of-domain sentence, or it is less accurate."""
    if after.tier_ood_calls:
        return (f"the trained model turned {after.tier_ood_calls} out-of-domain "
                "sentence(s) into calls")
    if after.accuracy < before.accuracy:
        return (f"held-out accuracy {after.accuracy:.1%} is below {before.accuracy:.1%} "
                f"with {base} as it is")
    return None


def _features(embedder: Embedder, texts: Sequence[str], out: TextIO) -> dict[str, Any]:
    progress = Progress(f"reading the examples with {embedder.name}:", len(texts), out)
    vectors: dict[str, Any] = {}
    for done, text in enumerate(texts, 1):
        vectors[text] = embedder.embed(text)
        progress.step(done)
    return vectors


def _file_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label) + ".gguf"


async def train(understanding: Understanding, settings: LanguageModelConfig,
                embedder: Embedder, base_sha256: str, cases: Sequence[Case], *,
                baseline: Understanding, recipe: TrainRecipe = TrainRecipe(),
                out: Path | None = None, install: bool = True,
                log: TextIO = sys.stderr) -> TrainOutcome:
    """Train a head for ``understanding``'s skills on ``embedder`` (the base model), compare
    it on ``cases`` with ``baseline`` (the same skills with the configured last tier), and
    install it if it is not worse. ``out``: where the data and a copy of the model go."""
    seconds: dict[str, float] = {}
    started = time.monotonic()
    data = build_training_data(understanding.template_sentences, understanding.catalog,
                               samples_per_sentence=recipe.samples_per_sentence)
    if out is not None:
        data.write(out / "data")
    log.write(f"training data: {len(data.train)} examples ({len(set(data.train))} distinct), "
              f"{len(data.dev)} held back, {len(data.labels)} labels\n")
    seconds["data"] = time.monotonic() - started
    # With no held-out sentences of their own, the generated examples held back stand in
    # (only the tool is compared: their arguments are the templates' own).
    cases = list(cases) or [Case(e.text, e.tool) for e in data.dev]
    started = time.monotonic()
    texts = sorted({e.text for e in (*data.train, *data.dev)})
    vectors = await asyncio.to_thread(_features, embedder, texts, log)
    seconds["features"] = time.monotonic() - started
    started = time.monotonic()
    classifier = understanding.classifier
    features = {text: head_features(vector, classifier, text)
                for text, vector in vectors.items()}
    head = await asyncio.to_thread(
        IntentHead.train, np.stack([features[e.text] for e in data.train]),
        [e.label for e in data.train], strength=recipe.strength)
    seconds["head"] = time.monotonic() - started
    dev_right = sum(head.guess(features[e.text]).label == e.label for e in data.dev)
    dev_accuracy = dev_right / len(data.dev) if data.dev else 1.0
    log.write(f"head trained in {seconds['head']:.1f} s; generated held-back examples: "
              f"{dev_right}/{len(data.dev)} = {dev_accuracy:.1%}\n")
    started = time.monotonic()
    log.write(f"comparing on {len(cases)} held-out sentences with {settings.label} as it is…\n")
    before = await score(baseline, cases)
    understanding.specialized = SpecializedTier(embedder, head, f"{settings.label} (trained)")
    after = await score(understanding, cases)
    seconds["evaluation"] = time.monotonic() - started
    fingerprint = skills_fingerprint(understanding.catalog, understanding.template_sentences)
    trained = TrainedHead(head, settings.label, base_sha256, fingerprint, data.digest(), FRAME)
    path: Path | None = None
    if out is not None:
        write_head(trained, out / _file_name(settings.label))
    refusal = refusal_of(before, after, settings.label)
    if refusal is not None:
        reason = f"not installed: {refusal}"
    elif not install:
        reason = "not installed (--no-install)"
    else:
        path = trained_folder() / _file_name(settings.label)
        write_head(trained, path)
        save_entry(TrainedEntry(
            name=settings.label, file=path.name, sha256=sha256_of(path), method="head",
            base_model=settings.label, base_sha256=base_sha256,
            skills_fingerprint=fingerprint, data_sha256=data.digest(),
            created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            evaluation={"cases": len(cases), "recipe": RECIPE, "dev_accuracy": dev_accuracy,
                        "baseline": before.summary(), "trained": after.summary()}))
        reason = (f"installed: held-out accuracy {after.accuracy:.1%} (was "
                  f"{before.accuracy:.1%}), no out-of-domain calls")
    return TrainOutcome(path is not None, reason, path, data, dev_accuracy, before, after,
                        seconds)

