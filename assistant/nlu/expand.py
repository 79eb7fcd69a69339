"""Sample sentences from templates: training data for the classifier, prompts for speech."""

from __future__ import annotations

import random
from collections.abc import Mapping

from assistant.dispatch.catalog import ArgSpec
from assistant.nlu.templates import Alternative, Sequence, SlotRef, TemplateSentence, Word
from assistant.skill_api import SlotKind

__all__ = ["SentenceSampler", "canonical_sentence"]

SAMPLE_TEXT = ("the airport", "main street", "jazz", "the station", "coldplay",
               "the office", "oil leak on the pump", "belt replaced")
DANGLING = frozenset({"the", "a", "an", "my", "to", "for", "on", "at", "of", "with"})
"""Words a sentence does not end on when they are optional and what followed them was left
out ("pause [the] [<media>]"); a template's own last word stays ("turn the ac on")."""
SAMPLE_DURATIONS = ("5 minutes", "30 seconds", "1 hour", "2.5 minutes", "an hour and a half")


class SentenceSampler:
    """Random expansions of one tool's templates (alternatives, optionals, slot values)."""

    def __init__(self, specs: Mapping[str, ArgSpec], rng: random.Random) -> None:
        self.specs = specs
        self.rng = rng

    def slot(self, spec: ArgSpec) -> str:
        if spec.values and (spec.kind != SlotKind.NUMBER or self.rng.random() < 0.3):
            return self.rng.choice(sorted(spec.values))
        if spec.kind == SlotKind.NUMBER:
            low = int(spec.minimum if spec.minimum is not None else 0)
            high = int(spec.maximum if spec.maximum is not None else 100)
            return str(self.rng.randint(low, high))
        if spec.kind == SlotKind.DURATION:
            return self.rng.choice(SAMPLE_DURATIONS)
        return self.rng.choice(SAMPLE_TEXT)

    def words(self, node: Sequence | Alternative | Word | SlotRef) -> list[str]:
        if isinstance(node, Word):
            return [node.text]
        if isinstance(node, SlotRef):
            return [self.slot(self.specs[node.name])]
        if isinstance(node, Sequence):
            return [w for item in node.items for w in self.words(item)]
        if node.optional and self.rng.random() < 0.5:
            return []
        return self.words(self.option(node))

    def option(self, node: Alternative) -> Sequence:
        return self.rng.choice(node.options)

    def sentence(self, template: TemplateSentence) -> str:
        return " ".join(self.words(template.expression))


def canonical_sentence(template: TemplateSentence, specs: Mapping[str, ArgSpec]) -> str:
    """The plainest reading: first alternatives, short optional words kept ("the") unless
    nothing follows them, optional slots left out, a typical value (a free-text argument's
    first declared example, else its label). A word said twice in a row ("driver seat
    [seat]") is said once."""

    def value(node: SlotRef) -> list[str]:
        spec = specs[node.name]
        if spec.kind == SlotKind.NUMBER and spec.minimum is not None \
                and spec.maximum is not None:
            return [str(int((spec.minimum + spec.maximum) // 2))]
        if spec.kind == SlotKind.DURATION:
            return ["5 minutes"]
        if spec.kind == SlotKind.TEXT:
            return [(spec.examples or (spec.label,))[0]]
        spoken = [name for name in spec.values if not any(c.isdigit() for c in name)]
        return [(spoken or list(spec.values) or [node.name])[0]]

    def words(node: Sequence | Alternative | Word | SlotRef, optional: bool = False
              ) -> list[tuple[str, bool]]:
        """The words, each with whether it came from an optional part."""
        if isinstance(node, Word):
            return [(word, optional) for word in node.text.split()]
        if isinstance(node, SlotRef):
            return [(word, optional) for text in value(node) for word in text.split()]
        if isinstance(node, Sequence):
            return [w for item in node.items for w in words(item, optional)]
        first = node.options[0]
        if node.optional and not (len(first.items) <= 2
                                  and all(isinstance(i, Word) for i in first.items)):
            return []
        return words(first, optional or node.optional)

    said: list[tuple[str, bool]] = []
    for word, optional in words(template.expression):
        if not said or said[-1][0].lower() != word.lower():
            said.append((word, optional))
    # "pause [the] [<media>]": an optional word left with nothing after it
    while len(said) > 1 and said[-1][1] and said[-1][0].lower() in DANGLING:
        said.pop()
    return " ".join(word for word, _ in said)
