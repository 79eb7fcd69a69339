"""Sentences the skills understand that read nearest to a misheard one.

A recognizer that is not restricted to the skills' phrases (Whisper) still gets most of a
command right: "stop the blame" is one word away from "stop the lathe". Every template is
expanded once (alternatives, optional words, list values); a number slot becomes ``#``,
which the numbers actually heard fill. The closest expansions by characters are offered to
the recognizer, which scores them against the audio and keeps one only if the audio
supports it about as well as what it heard.

Templates with a free-text slot (a destination, a note) are left out: their words cannot be
listed, and a recognizer's own text already fills them.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import re
from collections.abc import Iterator, Mapping
from collections.abc import Sequence as Sentences
from functools import cache

from rapidfuzz import fuzz, process

from assistant.dispatch.catalog import ArgSpec
from assistant.nlu.expand import SentenceSampler
from assistant.nlu.normalize import normalize
from assistant.nlu.templates import Alternative, Sequence, SlotRef, TemplateSentence, Word
from assistant.skill_api import SlotKind

__all__ = ["NearestSentences"]

NUMBER = "#"
_NUMBER_TOKEN = re.compile(r"\d+(?:\.\d+)?")
_DURATION_UNITS = ("seconds", "minutes", "hours", "second", "minute", "hour")


class NearestSentences:
    """An index of every expansion of the skills' templates (up to ``per_template``)."""

    def __init__(self, sentences: Sentences[TemplateSentence],
                 specs: Mapping[str, Mapping[str, ArgSpec]], *, per_template: int = 1000,
                 min_similarity: float = 60.0) -> None:
        skeletons: set[str] = set()
        for template in sentences:
            if template.example:
                continue
            tool_specs = specs[template.tool]
            if _count(template.expression, tool_specs) <= per_template:
                expansions = _expand(template.expression, tool_specs)
            else:
                sampler = _SkeletonSampler(tool_specs, random.Random(template.text))
                expansions = (sampler.words(template.expression) for _ in range(per_template))
            for words in expansions:
                skeletons.add(" ".join(w for w in words if w))
        self.skeletons = sorted(skeletons)
        self.min_similarity = min_similarity

    def continues(self, text: str) -> bool:
        """Whether some command starts with ``text`` and goes on ("stop" → "stop the
        lathe")."""
        prefix = _skeleton(text) + " "
        index = bisect.bisect_left(self.skeletons, prefix)
        return index < len(self.skeletons) and self.skeletons[index].startswith(prefix)

    def nearest(self, text: str, limit: int = 5) -> list[str]:
        """Up to ``limit`` sentences nearest to ``text``, best first, with its numbers."""
        words = normalize(text).digits.split()
        numbers = [w for w in words if _NUMBER_TOKEN.fullmatch(w)]
        skeleton = " ".join(NUMBER if _NUMBER_TOKEN.fullmatch(w) else w for w in words)
        if not skeleton:
            return []
        found = process.extract(skeleton, self.skeletons, scorer=fuzz.ratio,
                                limit=limit * 4, score_cutoff=self.min_similarity)
        sentences: list[str] = []
        for candidate, _score, _index in found:
            parts = candidate.split()
            if parts.count(NUMBER) != len(numbers):
                continue
            filled = iter(numbers)
            sentences.append(" ".join(next(filled) if p == NUMBER else p for p in parts))
            if len(sentences) == limit:
                break
        return sentences


def _expand(node: Sequence | Alternative | Word | SlotRef,
            specs: Mapping[str, ArgSpec]) -> Iterator[list[str]]:
    if isinstance(node, Word):
        yield [node.text.lower()]
    elif isinstance(node, SlotRef):
        yield from ([value] for value in _slot_values(specs[node.name]))
    elif isinstance(node, Sequence):
        parts = [list(_expand(item, specs)) for item in node.items]
        for combination in itertools.product(*parts):
            yield [word for part in combination for word in part]
    else:
        if node.optional:
            yield []
        for option in node.options:
            yield from _expand(option, specs)


def _count(node: Sequence | Alternative | Word | SlotRef, specs: Mapping[str, ArgSpec]) -> int:
    if isinstance(node, Word):
        return 1
    if isinstance(node, SlotRef):
        return len(_slot_values(specs[node.name]))
    if isinstance(node, Sequence):
        return math.prod(_count(item, specs) for item in node.items)
    return sum(_count(option, specs) for option in node.options) + int(node.optional)


class _SkeletonSampler(SentenceSampler):
    """Samples skeletons ("set conveyor # to # percent"), favouring each choice's first
    wording: the plainest, and the one people say most."""

    def slot(self, spec: ArgSpec) -> str:
        values = _slot_values(spec)
        return self.rng.choice(values) if values else ""

    def option(self, node: Alternative) -> Sequence:
        return node.options[0] if self.rng.random() < 0.5 else self.rng.choice(node.options)


def _slot_values(spec: ArgSpec) -> list[str]:
    if spec.kind == SlotKind.TEXT:
        return []  # the template is left out: its product is empty
    values = sorted({_skeleton(name) for name in spec.values})
    if spec.kind == SlotKind.NUMBER:
        values.append(NUMBER)
    elif spec.kind == SlotKind.DURATION:
        values += [f"{NUMBER} {unit}" for unit in _DURATION_UNITS]
    return values


@cache
def _skeleton(phrase: str) -> str:
    words = normalize(phrase).digits.split()
    return " ".join(NUMBER if _NUMBER_TOKEN.fullmatch(w) else w for w in words)
