"""Sentences of two tools that match the same words, found the way a user would find them:
each template is expanded into sentences (:func:`assistant.nlu.lint.expansions`) and each
is given to the real matcher.

A sentence of tool A is an overlap when the matcher

- finds a template of another tool B exactly as good, at the same priority: the
  understanding does not pick one, it asks which (``TIE``; an error across skills);
- gives it to B, whose template says more of the words (``TAKEN``);
- gives it to B because B's skill has the higher ``priority:`` (``PRIORITY``, resolved),
  or because A's block ``requires:`` a word the sentence does not say (``REQUIRES``,
  resolved), or because only one of the two tools allows the values said (``VALUES``,
  resolved: "heat the rear to 28" is no seat heater level).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from assistant.dispatch.catalog import Catalog
from assistant.nlu.lint import Problem, Severity, expansions
from assistant.nlu.matcher import TemplateMatch, TemplateMatcher, requirement_met
from assistant.nlu.normalize import normalize, sanitize
from assistant.nlu.templates import TemplateSentence, word_texts

__all__ = ["EXAMPLES_KEPT", "Overlap", "OverlapKind", "find_overlaps"]

EXAMPLES_KEPT = 3
"""Example sentences reported per overlap."""
_ENUMERATED = 48
_SAMPLED = 24


class OverlapKind(StrEnum):
    TIE = "tie"
    TAKEN = "taken"
    PRIORITY = "priority"
    REQUIRES = "requires"
    VALUES = "values"


@dataclass(frozen=True)
class Example:
    text: str
    source: str
    """Where the sentence said comes from (tool A's template)."""
    other_source: str
    """The template of the other tool that matched it."""


@dataclass
class Overlap:
    """Sentences of ``tool`` (skill ``skill``) that the matcher also fits to ``other``."""

    kind: OverlapKind
    skill: str
    tool: str
    other_skill: str
    other_tool: str
    examples: list[Example] = field(default_factory=list)
    said: set[str] = field(default_factory=set)
    """Every sentence found with it."""

    @property
    def count(self) -> int:
        return len(self.said)

    @property
    def resolved(self) -> bool:
        return self.kind in (OverlapKind.PRIORITY, OverlapKind.REQUIRES, OverlapKind.VALUES)

    @property
    def across_skills(self) -> bool:
        return self.skill != self.other_skill

    @property
    def severity(self) -> Severity:
        if self.resolved:
            return Severity.NOTE
        if self.kind == OverlapKind.TIE and self.across_skills:
            return Severity.ERROR
        return Severity.WARNING

    def line(self, example: Example) -> str:
        """ "turn on the lights": vehicle.set_headlights (file:line) vs shop.set (file:line)"""
        return (f"{example.text!r}: {self.skill}.{self.tool} ({example.source}) vs "
                f"{self.other_skill}.{self.other_tool} ({example.other_source})")

    def to_json(self) -> dict[str, object]:
        return {"kind": str(self.kind), "severity": str(self.severity),
                "skill": self.skill, "tool": self.tool, "other_skill": self.other_skill,
                "other_tool": self.other_tool, "sentences": self.count,
                "examples": [{"text": e.text, "source": e.source,
                              "other_source": e.other_source} for e in self.examples]}


def find_overlaps(sentences: Sequence[TemplateSentence], catalog: Catalog,
                  owners: Mapping[str, str], *, skill: str | None = None,
                  matcher: TemplateMatcher | None = None) -> list[Overlap]:
    """Every overlap among ``sentences`` (all loaded skills'; with ``skill``, only those
    that involve it), the sentences each was found with."""
    matcher = matcher or TemplateMatcher(sentences, catalog)
    found: dict[tuple[OverlapKind, str, str], Overlap] = {}
    for sentence in sentences:
        for text in expansions(sentence, catalog.specs[sentence.tool],
                               enumerated=_ENUMERATED, sampled=_SAMPLED):
            judged = _judge(sentence, text, matcher, catalog)
            if judged is None:
                continue
            kind, other = judged
            first, second = sentence.tool, other.tool
            if skill is not None and skill not in (owners[first], owners[second]):
                continue
            if kind == OverlapKind.PRIORITY and other.priority > sentence.priority:
                first, second = second, first  # the winner first
            elif kind == OverlapKind.TIE:  # one entry for both directions, the skill's first
                first, second = sorted((first, second),
                                       key=lambda tool: (owners[tool] != skill, tool))
            overlap = found.setdefault((kind, first, second), Overlap(
                kind, owners[first], first, owners[second], second))
            if text in overlap.said:
                continue
            overlap.said.add(text)
            if len(overlap.examples) < EXAMPLES_KEPT:
                mine, theirs = sentence.source, other.source
                if first != sentence.tool:
                    mine, theirs = theirs, mine
                overlap.examples.append(Example(text, mine, theirs))
    return sorted(found.values(), key=lambda o: (o.severity != Severity.ERROR,
                                                 o.resolved, o.skill, o.tool, o.other_tool))


def _judge(sentence: TemplateSentence, text: str, matcher: TemplateMatcher, catalog: Catalog
           ) -> tuple[OverlapKind, TemplateMatch] | None:
    utterance = normalize(text)
    candidates = matcher.candidates(utterance)
    if not candidates or candidates[0].unknown_name:
        return None
    best = candidates[0]
    if not requirement_met(sentence, utterance.digits) \
            and not requirement_met(sentence, utterance.spoken):
        return (OverlapKind.REQUIRES, best) if best.tool != sentence.tool else None
    top = [c for c in candidates if (not c.unknown_name, c.literal_chars)
           == (not best.unknown_name, best.literal_chars)]
    mine = [c for c in top if c.tool == sentence.tool]
    others = [c for c in top if c.tool != sentence.tool]
    if not others:
        return None
    if not mine:
        if any(c.tool == sentence.tool for c in candidates):
            return OverlapKind.TAKEN, others[0]
        return None  # its own template does not take it as sampled: nothing to compare
    higher = [c for c in others if c.priority > mine[0].priority]
    if higher:
        return OverlapKind.PRIORITY, higher[0]
    level = [c for c in others if c.priority == mine[0].priority]
    if level:
        allowed = [catalog.check(c.tool, c.arguments).error is None for c in (mine[0], level[0])]
        if allowed[0] != allowed[1]:
            return OverlapKind.VALUES, level[0]
        return OverlapKind.TIE, level[0]
    return OverlapKind.PRIORITY, others[0]


def overlap_problems(overlaps: Iterable[Overlap], sentences: Sequence[TemplateSentence]
                     ) -> list[Problem]:
    """Each overlap as a finding of ``skills check``, with the fix suggested."""
    problems: list[Problem] = []
    for overlap in overlaps:
        examples = "; ".join(overlap.line(e) for e in overlap.examples)
        message = f"{_what(overlap)} ({overlap.count} sentences), e.g. {examples}"
        fix = _fix(overlap, sentences)
        if fix:
            message += f". Fix: {fix}"
        problems.append(Problem(overlap.severity, overlap.skill, overlap.tool, message,
                                overlap.examples[0].source if overlap.examples else ""))
    return problems


def _what(overlap: Overlap) -> str:
    other = f"{overlap.other_skill}.{overlap.other_tool}"
    if overlap.kind == OverlapKind.TIE:
        return f"the same words fit {overlap.skill}.{overlap.tool} and {other} equally: " \
               f"the assistant asks which one is meant"
    if overlap.kind == OverlapKind.TAKEN:
        return f"sentences of {overlap.skill}.{overlap.tool} go to {other}, whose template " \
               f"says more of the words"
    if overlap.kind == OverlapKind.PRIORITY:
        return f"resolved by priority: words {overlap.skill}.{overlap.tool} and {other} " \
               f"match equally go to {overlap.tool}, whose skill's priority is higher"
    if overlap.kind == OverlapKind.VALUES:
        return f"resolved by values: the words fit {overlap.skill}.{overlap.tool} and " \
               f"{other} equally, but only one of them allows the values said"
    return f"resolved by requires: sentences of {overlap.skill}.{overlap.tool} without " \
           f"its required words go to {other}"


def _fix(overlap: Overlap, sentences: Sequence[TemplateSentence]) -> str:
    if overlap.resolved:
        return ""
    words = distinctive_words(overlap.tool, overlap.other_tool, sentences)
    requires = f"'requires: [{', '.join(words)}]'" if words else "'requires: [<word>]'"
    if overlap.kind == OverlapKind.TAKEN:
        return (f"if {overlap.tool} is meant, make its sentence say more, or add "
                f"'requires:' to the block of {overlap.other_tool} "
                f"({overlap.examples[0].other_source if overlap.examples else ''})")
    if overlap.across_skills:
        return (f"give {overlap.skill} or {overlap.other_skill} a higher top-level "
                f"'priority:' in its templates, or add {requires} to the block of "
                f"{overlap.tool} ({overlap.examples[0].source if overlap.examples else ''})")
    return f"reword one of the two sentences, or add {requires} to the block of {overlap.tool}"


def distinctive_words(tool: str, other: str, sentences: Sequence[TemplateSentence],
                      most: int = 3) -> list[str]:
    """The words ``tool``'s sentences use most that ``other``'s never do."""
    def words(name: str) -> Counter[str]:
        return Counter(w for s in sentences if s.tool == name
                       for text in word_texts(s.expression) for w in sanitize(text).split())

    theirs = set(words(other))
    mine = words(tool)
    return [w for w, _ in mine.most_common() if w not in theirs and len(w) > 2][:most]
