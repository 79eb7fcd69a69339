"""Word salad: random words from the skills' own vocabulary, in random order.

What a mishearing, a noisy room or a careless user produces most: words the assistant
knows, in no order that asks for anything ("press packer", "lathe 22 temperature"); the
classifier learns from other draws of the same kind (a different seed) that such is no
request. A
draw that happens to be a sentence of some template ("stop the lathe", "play lathe
window") is a command, not salad: :meth:`WordSalad.draw` leaves it out and counts it, so
the rate of salad turned into calls measures guesses, not the skills' own sentences.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from assistant.nlu.classifier import salad_words
from assistant.nlu.understand import Decision, Understanding

__all__ = ["SaladTally", "WordSalad"]


class WordSalad:
    """Draws salad of 1 to ``longest`` words from ``understanding``'s vocabulary."""

    def __init__(self, understanding: Understanding, rng: random.Random, *,
                 longest: int = 7) -> None:
        if longest < 1:
            raise ValueError("salad needs at least one word")
        self.understanding = understanding
        self.words = sorted(understanding.matcher.vocabulary)
        self.rng = rng
        self.longest = longest

    def raw(self) -> str:
        """Words in random order, whether or not they happen to make a sentence."""
        return salad_words(self.words, self.rng, self.longest)

    def draw(self) -> str:
        """Salad that no template matches whole."""
        while True:
            text = self.raw()
            if not self.understanding.matcher.is_sentence(text):
                return text


@dataclass
class SaladTally:
    """What salad was turned into: calls (a complete call the dispatcher would run),
    questions (a call missing an argument), by tool and by route."""

    salads: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    questions: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    immediate: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, decision: Decision, *, immediate: bool) -> None:
        self.salads += 1
        if decision.tool is None or decision.error:
            return
        if decision.missing:
            self.questions[decision.tool] += 1
            return
        self.calls[decision.tool] += 1
        self.routes[str(decision.route)] += 1
        self.immediate += immediate
        if len(self.examples) < 40:
            self.examples.append(f"{decision.text!r} -> {decision.tool} "
                                 f"{decision.arguments} ({decision.route})")

    @property
    def call_rate(self) -> float:
        return sum(self.calls.values()) / self.salads if self.salads else 0.0
