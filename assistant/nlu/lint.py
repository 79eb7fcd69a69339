"""What ``assistant skills check`` finds in one skill's templates, short of an overlap with
another tool (:mod:`assistant.nlu.overlap`).

- an alternative that can never change the match: an option said twice ("(a|a)", or
  "(twenty one|21)", the same words once normalized), an optional part said just before
  or after by the sentence anyway;
- a sentence every expansion of which an earlier sentence of the same tool (same fixed
  values) already matches;
- a required argument no sentence of the tool says and no block fixes: every request then
  has to be asked for it;
- a tool with no sentences: only the classifier or the language model can reach it.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from assistant.dispatch.catalog import ArgSpec, Catalog
from assistant.nlu.expand import SentenceSampler
from assistant.nlu.matcher import TemplateMatcher
from assistant.nlu.normalize import Normalized, normalize, numbers_to_digits, sanitize
from assistant.nlu.templates import Alternative, SlotRef, TemplateSentence, Word
from assistant.nlu.templates import Sequence as Words

__all__ = ["Problem", "Severity", "expansions", "lint_skill"]

ENUMERATED = 48
"""Expansions of a template taken in full before sampling instead (``(a|b) [c]`` has 4)."""
SAMPLED = 24
"""Random expansions added to the enumerated ones, for the slot values."""


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"
    """Something found and already resolved (an overlap a priority settles)."""


@dataclass(frozen=True)
class Problem:
    """One finding of ``skills check``; ``source`` is "file:line" when there is one."""

    severity: Severity
    skill: str
    tool: str
    message: str
    source: str = ""

    def to_json(self) -> dict[str, str]:
        return {"severity": str(self.severity), "skill": self.skill, "tool": self.tool,
                "message": self.message, "source": self.source}


def expansions(sentence: TemplateSentence, specs: Mapping[str, ArgSpec], *,
               enumerated: int = ENUMERATED, sampled: int = SAMPLED) -> list[str]:
    """Sentences a template says: its first ``enumerated`` expansions in order (a slot
    given a sampled value), then ``sampled`` random ones; each once. The same each run."""
    rng = random.Random(f"{sentence.source}:{sentence.text}")
    sampler = SentenceSampler(specs, rng)
    found: dict[str, None] = {}
    for words in itertools.islice(_enumerate(sentence.expression, sampler), enumerated):
        found[_once(" ".join(words))] = None
    for _ in range(sampled):
        found[_once(sampler.sentence(sentence))] = None
    return [text for text in found if text.strip()]


def _once(text: str) -> str:
    """A word said twice in a row said once ("turn on the the lights" from "[the] <lights>"
    where the rule says "the lights"): nobody says it twice."""
    said: list[str] = []
    for word in text.split():
        if not said or said[-1] != word:
            said.append(word)
    return " ".join(said)


def _enumerate(node: Words | Alternative | Word | SlotRef,
               sampler: SentenceSampler) -> Iterator[list[str]]:
    if isinstance(node, Word):
        yield [node.text]
    elif isinstance(node, SlotRef):
        yield [sampler.slot(sampler.specs[node.name])]
    elif isinstance(node, Words):
        parts = [list(itertools.islice(_enumerate(item, sampler), ENUMERATED))
                 for item in node.items]
        for combination in itertools.islice(itertools.product(*parts), ENUMERATED):
            yield [w for part in combination for w in part]
    else:
        if node.optional:
            yield []
        for option in node.options:
            yield from itertools.islice(_enumerate(option, sampler), ENUMERATED)


def lint_skill(skill: str, tools: Sequence[str], sentences: Sequence[TemplateSentence],
               catalog: Catalog) -> list[Problem]:
    """Every problem of one skill's templates (``sentences`` are that skill's)."""
    problems: list[Problem] = []
    for tool in tools:
        own = [s for s in sentences if s.tool == tool]
        if not [s for s in own if not s.example]:
            problems.append(Problem(
                Severity.WARNING, skill, tool,
                f"{tool} has no sentences: only a paraphrase guess can reach it; "
                f"add some under 'tools: {tool}:' in the templates", ""))
        problems += _unfilled(skill, tool, own, catalog.specs[tool])
        for sentence in own:
            problems += _unreachable(skill, sentence)
        problems += _covered(skill, own, catalog)
    return problems


def _unfilled(skill: str, tool: str, sentences: Sequence[TemplateSentence],
              specs: Mapping[str, ArgSpec]) -> list[Problem]:
    if not sentences:
        return []
    said = {slot for s in sentences for slot in s.slots} \
        | {name for s in sentences for name in s.fixed}
    return [Problem(Severity.WARNING, skill, tool,
                    f"{tool} needs {{{name}}} but no sentence says it and no block fixes it: "
                    f"every request is asked for it; add {{{name}}} to a sentence",
                    sentences[0].source)
            for name, spec in specs.items() if spec.required and name not in said]


def _said(node: Words | Alternative | Word | SlotRef) -> str:
    """How an option sounds once normalized ("twenty one" is "21"), slots as their names."""
    if isinstance(node, Word):
        return numbers_to_digits(sanitize(node.text))
    if isinstance(node, SlotRef):
        return f"{{{node.name}}}"
    if isinstance(node, Words):
        if all(isinstance(item, Word) for item in node.items):
            return numbers_to_digits(sanitize(" ".join(
                item.text for item in node.items if isinstance(item, Word))))
        return " ".join(p for p in (_said(item) for item in node.items) if p)
    options = "|".join(_said(option) for option in node.options)
    return f"[{options}]" if node.optional else f"({options})"


def _unreachable(skill: str, sentence: TemplateSentence) -> list[Problem]:
    problems: list[Problem] = []

    def report(message: str) -> None:
        problems.append(Problem(Severity.WARNING, skill, sentence.tool,
                                f"{sentence.text!r}: {message}", sentence.source))

    def walk(node: Words | Alternative | Word | SlotRef) -> None:
        if isinstance(node, Alternative):
            seen: set[str] = set()
            for option in node.options:
                said = _said(option)
                if said in seen:
                    report(f"the option {said!r} is there twice; remove one")
                seen.add(said)
                walk(option)
        elif isinstance(node, Words):
            items = list(node.items)
            for before, after in itertools.pairwise(items):
                for optional, neighbour in ((before, after), (after, before)):
                    if isinstance(optional, Alternative) and optional.optional \
                            and not isinstance(neighbour, Alternative) \
                            and _said(neighbour) in {_said(o) for o in optional.options}:
                        report(f"{_said(optional)} next to {_said(neighbour)!r} adds "
                               f"nothing a speaker says once; remove it")
            for item in items:
                walk(item)

    walk(sentence.expression)
    return problems


def _covered(skill: str, sentences: Sequence[TemplateSentence],
             catalog: Catalog) -> list[Problem]:
    """Sentences every expansion of which an earlier one (same fixed values) matches."""
    problems: list[Problem] = []
    plain = [s for s in sentences if not s.example]
    for index, later in enumerate(plain):
        earlier = [s for s in plain[:index] if (s.fixed, s.negate, s.requires)
                   == (later.fixed, later.negate, later.requires)]
        if not earlier:
            continue
        samples = [normalize(text) for text in expansions(later, catalog.specs[later.tool])]
        for candidate in earlier:
            alone = TemplateMatcher([candidate], catalog)
            if samples and all(_exactly(alone, sample) for sample in samples):
                problems.append(Problem(
                    Severity.WARNING, skill, later.tool,
                    f"{later.text!r} adds nothing: {candidate.text!r} "
                    f"({candidate.source}) already matches all it says; remove it",
                    later.source))
                break
    return problems


def _exactly(matcher: TemplateMatcher, sample: Normalized) -> bool:
    """The sentence matches the sample whole, as said (no misheard word put right)."""
    found = matcher.whole(sample)
    return bool(found) and not found[0].fuzzy and not found[0].unknown_name
