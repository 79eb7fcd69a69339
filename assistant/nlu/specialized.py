"""Tier 3, specialized: a head trained for the installed skills on a small model's hidden
states (``assistant train``).

It sees only what the templates and the classifier left undecided, and never anything that
sounds like a stop. The model reads the utterance once (no generation, no tool list in the
prompt); the head reads its last hidden state beside the classifier's margins (what the
words say, next to what the model makes of them) and names a label (a tool and what its
phrasing fixes) or "no tool". Its
guess stands only above a probability, and then exactly like the classifier's: every value
from the words, under the same evidence, a call that lacks a required argument dropped, a
stop never its to decide. The dispatcher checks the call as any other.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from assistant.errors import LanguageModelError
from assistant.llm.embedding import Embedder
from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.evidence import says_stop
from assistant.nlu.normalize import Normalized
from assistant.train.head import HeadGuess, IntentHead

if TYPE_CHECKING:
    from assistant.nlu.understand import Understanding

__all__ = ["HeadProposal", "SpecializedSettings", "SpecializedTier", "head_features"]


def head_features(vector: npt.NDArray[np.float32], classifier: IntentClassifier,
                  text: str) -> npt.NDArray[np.float32]:
    """What the head reads: the model's hidden state, then the classifier's margins."""
    return np.concatenate([vector, classifier.margins(text)])


@dataclass(frozen=True)
class SpecializedSettings:
    """``threshold``: the head's probability a label needs; ``budget_s``: longest a decision
    may take (past it: no tool)."""

    threshold: float = 0.9
    budget_s: float = 0.5


@dataclass(frozen=True)
class HeadProposal:
    tool: str
    fixed: dict[str, object]
    negate: frozenset[str]
    probability: float


class SpecializedTier:
    """The embedder (the small model, read once per utterance) and the trained head."""

    def __init__(self, embedder: Embedder, head: IntentHead, name: str,
                 settings: SpecializedSettings | None = None, *, fingerprint: str = "") -> None:
        self.embedder = embedder
        self.fingerprint = fingerprint
        """The skills it was trained for (:func:`~assistant.train.artifact.skills_fingerprint`)."""
        self.head = head
        self.name = name
        self.settings = settings or SpecializedSettings()
        self.last_call_ms: float | None = None

    def fits(self, understanding: Understanding) -> bool:
        """Whether ``understanding``'s skills are those the head was trained for."""
        from assistant.train.artifact import skills_fingerprint

        return self.fingerprint == skills_fingerprint(understanding.catalog,
                                                      understanding.template_sentences)

    async def guess(self, utterance: Normalized, classifier: IntentClassifier
                    ) -> HeadGuess | None:
        """The head's guess for the utterance, or None (a stop, out of time, failed);
        ``classifier``: the skills' own, whose margins the head reads too."""
        self.last_call_ms = None
        if says_stop(utterance) or not utterance.digits:
            return None
        started = time.monotonic()
        try:
            vector = await asyncio.wait_for(self.embedder.features(utterance.digits),
                                            self.settings.budget_s)
        except (TimeoutError, LanguageModelError):
            return None
        finally:
            self.last_call_ms = (time.monotonic() - started) * 1000.0
        return self.head.guess(head_features(vector, classifier, utterance.digits))

    async def propose(self, utterance: Normalized, classifier: IntentClassifier
                      ) -> HeadProposal | None:
        """A tool the head is sure enough of, with what its phrasing fixes; else None."""
        guess = await self.guess(utterance, classifier)
        if guess is None or guess.tool is None or guess.probability < self.settings.threshold:
            return None
        meaning = json.loads(guess.label.split("|", 1)[1])
        return HeadProposal(guess.tool, dict(meaning["fixed"]),
                            frozenset(meaning["negate"]), guess.probability)

    async def aclose(self) -> None:
        await self.embedder.aclose()
