"""Tier 1: the template matcher.

Each template sentence is compiled once into a regular expression over normalized words
(every word followed by one space). Templates with a free-text slot are matched on the
words as spoken; the others on the digits form. When nothing matches, words the templates
do not know are replaced by the nearest known word (speech engines misspell:
"temprature", "whats") and the match is tried again; free text is still taken as spoken.

A sentence said without its required values ("set the temperature", "start the machine")
is matched too, by a second reading of each template in which a required slot may be
unsaid or said as its kind ("the machine"), with the little words that lead into it ("to")
then optional. Such a match lacks the argument, and the dialogue asks for it; it is tried
only when no template matched the sentence whole.

When templates of two tools match equally well, a skill's ``priority:`` decides; at equal
priority the match carries the other tools' readings as ``rivals`` and no single call is
made of it (the dialogue asks which). A block's ``requires:`` words must be said for its
sentences to match at all.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from assistant.dispatch.catalog import ArgSpec, Catalog
from assistant.nlu.evidence import function_words
from assistant.nlu.normalize import (
    Normalized,
    filler_ends,
    normalize,
    numbers_to_digits,
    sanitize,
)
from assistant.nlu.slots import find_value, parse_value, slot_pattern
from assistant.nlu.templates import (
    Alternative,
    Sequence,
    SlotRef,
    TemplateSentence,
    Word,
    leaves,
    word_texts,
)
from assistant.skill_api import SlotKind

__all__ = ["FUZZY_CUTOFF", "TemplateMatch", "TemplateMatcher", "requirement_met"]

FUZZY_CUTOFF = 80.0
"""rapidfuzz ratio (0-100) a misheard word needs to be read as a known word."""
_FUZZY_MIN_LENGTH = 3
_SHORT_WORD = 4
_SHORT_WORD_CUTOFF = 85.0


@dataclass(frozen=True)
class TemplateMatch:
    """A template that matched, the arguments it yielded, and how sure the match is."""

    tool: str
    arguments: dict[str, Any]
    source: str
    literal_chars: int
    fuzzy: bool
    unknown_name: bool = False
    """A configured name was said that does not exist ("press 9")."""
    said: frozenset[str] = frozenset()
    """Arguments taken from the words (the others were fixed by the template)."""
    name_in_frame: bool = False
    """The unknown name sits between words of the template ("turn on the {kitchen}
    lights"): the rest of the sentence is the tool's, so the name is what is wrong."""
    priority: int = 0
    """The priority of the template's skill (its ``priority:``)."""
    rivals: tuple[TemplateMatch, ...] = ()
    """Other tools' templates matching exactly as well, at the same priority: the words
    do not say which tool is meant."""

    @property
    def ambiguous(self) -> bool:
        return bool(self.rivals)


@dataclass(frozen=True)
class _Compiled:
    sentence: TemplateSentence
    regex: re.Pattern[str]
    groups: tuple[tuple[str, ArgSpec], ...]
    free_text: bool


class _Builder:
    """A template's regex; with ``unsaid``, its reading with required values left out."""

    def __init__(self, specs: Mapping[str, ArgSpec], spoken: bool, *,
                 unsaid: bool = False) -> None:
        self.specs = specs
        self.spoken = spoken
        self.unsaid = unsaid
        self.groups: list[tuple[str, ArgSpec]] = []

    def word(self, text: str) -> str:
        words = sanitize(text)
        if not self.spoken:
            words = numbers_to_digits(words)
        return "".join(re.escape(w) + " " for w in words.split())

    def build(self, node: Sequence | Alternative | Word | SlotRef) -> str:
        if isinstance(node, Word):
            return self.word(node.text)
        if isinstance(node, SlotRef):
            return self.slot(node)
        if isinstance(node, Sequence):
            parts: list[str] = []
            items = list(node.items)
            while items:
                item = items.pop(0)
                following = items[0] if items else None
                if isinstance(following, SlotRef) and self._leads_in(item, following):
                    items.pop(0)
                    parts.append(self.slot(following, lead=self.build(item)))
                else:
                    parts.append(self.build(item))
            return "".join(parts)
        body = "|".join(self.build(option) for option in node.options)
        return f"(?:{body})" + ("?" if node.optional else "")

    def slot(self, node: SlotRef, lead: str = "") -> str:
        """A slot's capture after its ``lead`` words; in the unsaid reading a required one
        may also be left out, or said as its kind ("the machine"), the lead then optional."""
        group = f"g{len(self.groups)}"
        spec = self.specs[node.name]
        self.groups.append((group, spec))
        captured = f"{lead}(?P<{group}>{slot_pattern(spec)})"
        if not (self.unsaid and spec.required):
            return captured
        kind = self.word(spec.label)
        optional_lead = f"(?:{lead})?" if lead else ""
        return f"(?:{captured}|{optional_lead}(?:(?:(?:{_KIND_LEADS}) )?{kind})?)"

    def _leads_in(self, item: Sequence | Alternative | Word | SlotRef, slot: SlotRef) -> bool:
        """In the unsaid reading, ``item`` is little words ("to", "at") before a required
        slot, said only with its value."""
        if not (self.unsaid and self.specs[slot.name].required):
            return False
        words = set(_vocabulary(item))
        return bool(words) and not _slots_in(item) and words <= function_words()


def _slots_in(node: Sequence | Alternative | Word | SlotRef) -> bool:
    return any(isinstance(leaf, SlotRef) for leaf in leaves(node))


def _vocabulary(expression: Sequence | Alternative | Word | SlotRef) -> Iterable[str]:
    for text in word_texts(expression):
        words = sanitize(text)
        yield from words.split()
        yield from numbers_to_digits(words).split()


class TemplateMatcher:
    """Matches normalized utterances against every compiled template sentence."""

    def __init__(self, sentences: Iterable[TemplateSentence], catalog: Catalog) -> None:
        self._compiled: list[_Compiled] = []
        self._unsaid: list[_Compiled] = []
        vocabulary: set[str] = set()
        for sentence in sentences:
            vocabulary.update(_vocabulary(sentence.expression))
            vocabulary.update(w for words in sentence.requires for w in words.split())
            specs = catalog.specs[sentence.tool]
            free_text = any(specs[s].kind == SlotKind.TEXT for s in sentence.slots)
            self._compiled.append(_compile(sentence, specs, free_text, unsaid=False))
            if any(specs[name].required for name in sentence.slots):
                self._unsaid.append(_compile(sentence, specs, free_text, unsaid=True))
        for specs in catalog.specs.values():
            for spec in specs.values():
                for name in spec.values:
                    vocabulary.update(name.split())
        self.vocabulary = frozenset(w for w in vocabulary if not w.isdigit())
        self._choices = sorted(w for w in self.vocabulary if len(w) >= _FUZZY_MIN_LENGTH)
        self._unapostrophized = {w.replace("'", ""): w for w in self.vocabulary if "'" in w}
        self._corrections: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._compiled)

    def match(self, utterance: Normalized) -> TemplateMatch | None:
        """The most specific template matching the utterance, or None; a sentence said
        whole before one said without its required values, which takes a word beyond
        little ones ("on" alone is no "<machine> on"). At equal specificity the higher
        priority wins; other tools left level with it are its ``rivals``."""
        found = self.candidates(utterance)
        if not found:
            return None
        best = found[0]
        if best.unknown_name:
            return best
        rivals: dict[str, TemplateMatch] = {}
        for other in found[1:]:
            if _rank(other) == _rank(best) and other.priority == best.priority \
                    and other.tool != best.tool:
                rivals.setdefault(other.tool, other)
        return dataclasses.replace(best, rivals=tuple(rivals.values())) if rivals else best

    def candidates(self, utterance: Normalized) -> list[TemplateMatch]:
        """Every template matching the utterance at the stage :meth:`match` decides on
        (said whole, else without its required values; as said, else with misheard words
        put right), best first: the most specific, then the highest priority."""
        if utterance.empty:
            return []
        whole = self._stage(self._compiled, utterance)
        if whole or set(utterance.digits.split()) <= function_words():
            return whole
        return self._stage(self._unsaid, utterance)

    def renamings(self, utterance: Normalized, most: int = 12) -> list[str]:
        """A sentence that matches a template but for one name that names nothing here
        ("power down the lane"), with each configured name in its place ("power down the
        lathe", "power down the welder", ...): what a recognizer may have misheard."""
        found: dict[str, None] = {}
        for compiled in self._compiled:
            text = utterance.spoken if compiled.free_text else utterance.digits
            matched = compiled.regex.fullmatch(text + " ")
            if matched is None:
                continue
            unnamed = [(group, spec) for group, spec in compiled.groups
                       if spec.kind == SlotKind.CONFIGURED and matched.span(group)[0] >= 0
                       and matched.group(group).strip() not in spec.values]
            if len(unnamed) != 1 or find_value(unnamed[0][1], text):
                continue
            group, spec = unnamed[0]
            start, end = matched.span(group)
            names = {str(ident): name for name, ident in reversed(list(spec.values.items()))}
            for name in names.values():
                found[f"{text[:start]}{name} {text[end:]}".strip()] = None
        return list(found)[:most]

    def is_sentence(self, text: str) -> bool:
        """A template matches ``text`` as it is said (not after correcting misheard words)."""
        matched = self.match(normalize(text))
        return matched is not None and not matched.fuzzy and not matched.unknown_name

    def whole(self, utterance: Normalized) -> list[TemplateMatch]:
        """The templates matching the utterance said whole (every value said), best first."""
        return [] if utterance.empty else self._stage(self._compiled, utterance)

    def _stage(self, compiled: list[_Compiled], utterance: Normalized) -> list[TemplateMatch]:
        exact = self._all(compiled, utterance.spoken, utterance.digits, None, None)
        if exact and not exact[0].unknown_name:
            return exact
        spoken = self.correct(utterance.spoken)
        digits = self.correct(utterance.digits)
        if spoken == utterance.spoken and digits == utterance.digits:
            return exact
        corrected = self._all(compiled, spoken, digits, utterance.spoken, utterance.digits)
        if not corrected or (corrected[0].unknown_name and exact):
            return exact
        return corrected

    def _all(
        self, templates: list[_Compiled], spoken: str, digits: str,
        original_spoken: str | None, original_digits: str | None
    ) -> list[TemplateMatch]:
        """Every match, best first; at a tie, in template order."""
        found: list[TemplateMatch] = []
        for compiled in templates:
            text = spoken if compiled.free_text else digits
            if not requirement_met(compiled.sentence, text):
                continue
            original = original_spoken if compiled.free_text else original_digits
            matched = compiled.regex.fullmatch(text + " ")
            if matched is None:
                continue
            candidate = self._arguments(compiled, matched, original)
            if candidate is not None:
                found.append(candidate)
        return sorted(found, key=lambda m: (_rank(m), m.priority), reverse=True)

    @staticmethod
    def _arguments(
        compiled: _Compiled, found: re.Match[str], original: str | None
    ) -> TemplateMatch | None:
        sentence = compiled.sentence
        arguments: dict[str, Any] = dict(sentence.fixed)
        captured_chars = 0
        unknown_name = False
        in_frame = False
        said: set[str] = set()
        for group, spec in compiled.groups:
            span = found.span(group)
            if span[0] < 0:
                continue
            words = found.group(group)
            if spec.kind == SlotKind.CONFIGURED and words.strip() not in spec.values:
                if _only_a_kind(spec, words):
                    captured_chars += len(words)
                    continue  # "start the press": which one is asked, not refused
                framed = span[0] > 0 and span[1] < len(found.string) \
                    and not set(words.split()) <= function_words()  # "shut it all down"
                if not (framed or _names_a_kind(spec, words)) or find_value(spec, found.string):
                    return None  # no name of that kind, or a real one said beside it
                captured_chars += len(words)
                unknown_name = True
                in_frame = in_frame or framed
            if spec.kind == SlotKind.TEXT:
                captured_chars += len(words)
                if original is not None:
                    words = _same_words(found.string, original, span)
            value = parse_value(spec, words)
            if value is None:
                return None
            if spec.name in sentence.negate and isinstance(value, int | float):
                value = -value
            arguments[spec.name] = value
            said.add(spec.name)
        return TemplateMatch(
            tool=sentence.tool,
            arguments=arguments,
            source=sentence.source,
            literal_chars=len(found.string) - captured_chars,
            fuzzy=original is not None,
            unknown_name=unknown_name,
            said=frozenset(said),
            name_in_frame=in_frame,
            priority=sentence.priority,
        )

    def correct(self, text: str) -> str:
        return " ".join(self._correct_word(word) for word in text.split())

    def _correct_word(self, word: str) -> str:
        if word in self.vocabulary or word.replace(".", "").isdigit():
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        corrected = self._unapostrophized.get(word, word)
        if corrected == word and len(word) >= _FUZZY_MIN_LENGTH:
            cutoff = _SHORT_WORD_CUTOFF if len(word) <= _SHORT_WORD else FUZZY_CUTOFF
            best = process.extractOne(word, self._choices, scorer=fuzz.ratio,
                                      score_cutoff=cutoff)
            if best is not None:
                corrected = best[0]
        if len(self._corrections) < 10_000:
            self._corrections[word] = corrected
        return corrected


def requirement_met(sentence: TemplateSentence, text: str) -> bool:
    """Whether ``text`` (normalized words) says one of the sentence's ``requires:`` words,
    or it requires none."""
    if not sentence.requires:
        return True
    padded = f" {text.strip()} "
    return any(f" {' '.join(sanitize(word).split())} " in padded
               for word in sentence.requires)


_KIND_LEADS = "a|an|the|any|some|this|that|my|our"
"""Words before a thing's kind that still leave which one unsaid ("stop this machine": the
speaker's station says which, else the assistant asks)."""


def _kinds(spec: ArgSpec) -> set[str]:
    return {w for ident in set(map(str, spec.values.values()))
            for w in ident.split("_") if not w.isdigit()}


def _names_a_kind(spec: ArgSpec, words: str) -> bool:
    """ "press 9" names a press that does not exist; "washing machine" names nothing here."""
    kinds = _kinds(spec)
    return any(w in kinds for w in words.split())


def _only_a_kind(spec: ArgSpec, words: str) -> bool:
    """ "press" or "the conveyor" says the kind of thing, not which one."""
    said = [w for w in words.split() if w not in _KIND_LEADS.split("|")]
    return bool(said) and set(said) <= _kinds(spec) | set(spec.label.split())


def _compile(sentence: TemplateSentence, specs: Mapping[str, ArgSpec], free_text: bool, *,
             unsaid: bool) -> _Compiled:
    builder = _Builder(specs, spoken=free_text, unsaid=unsaid)
    pattern = builder.build(_without_filler(sentence.expression))
    return _Compiled(sentence, re.compile(pattern), tuple(builder.groups), free_text)


def _without_filler(expression: Sequence) -> Sequence:
    """The sentence without the plain words at its ends that normalization strips from
    what is said ("it's like an oven in here" is heard as "it's like an oven")."""
    items = list(expression.items)
    sizes = [len(sanitize(item.text).split()) if isinstance(item, Word) else -1
             for item in items]
    head = _plain_run(items, sizes)
    tail = _plain_run(items[::-1], sizes[::-1])
    head_words = [w for item in items[:head] if isinstance(item, Word)
                  for w in sanitize(item.text).split()]
    tail_words = [w for item in items[len(items) - tail:] if isinstance(item, Word)
                  for w in sanitize(item.text).split()]
    drop_head = _items_for(sizes, filler_ends(head_words)[0])
    drop_tail = _items_for(sizes[::-1], filler_ends(tail_words)[1])
    if drop_head + drop_tail >= len(items):
        return expression
    return Sequence(tuple(items[drop_head:len(items) - drop_tail]))


def _plain_run(items: list[Word | SlotRef | Alternative], sizes: list[int]) -> int:
    run = 0
    while run < len(items) and sizes[run] >= 0:
        run += 1
    return run


def _items_for(sizes: list[int], words: int) -> int:
    """How many items from the start hold exactly ``words`` words (0 if no whole number)."""
    total = 0
    for count, size in enumerate(sizes):
        if total == words:
            return count
        if size < 0:
            return 0
        total += size
    return len(sizes) if total == words else 0


def _rank(match: TemplateMatch) -> tuple[bool, int]:
    return (not match.unknown_name, match.literal_chars)


def _same_words(corrected: str, original: str, span: tuple[int, int]) -> str:
    """The original words at the positions of a span of the corrected text."""
    first = corrected[: span[0]].count(" ")
    last = corrected[: span[1]].count(" ")
    return " ".join(original.split()[first:last])
