"""What the words of an utterance say for and against a tool, learned from the skills' own
sentences; the guard on every guess (the classifier's, the language model's).

A guess is a call no template declared, so the words themselves must support it:

* **Command words.** The content words said (not function words) must together belong to
  this tool and to few others: "temperature" fits two tools, "start" six and "machine" six,
  but "start" and "machine" together fit one. Words every tool shares ("set", "the") say
  nothing.
* **No foreign word.** No content word that belongs to other tools' sentences and not to
  this one: "lathe 22 temperature" mixes two skills and is no request.
* **Two words that mean something.** Two words that are not function words, or one and a
  value of the tool's arguments ("the ac can go off now": "ac" and "off"). A single word
  that is no template ("plant", "route", "it cool") is a guess, never a command: short
  commands are declared as templates ("warmer", "mute").
* **No negation.** "don't open the window" is no guess at opening it.
* **A stop word for a stop.** An immediate tool acts at once with no confirmation, so a
  guess is one only when a stop word was said ("halt the mixer", not "press packer").
* **The direction of a change from the words.** A signed argument (a temperature change)
  takes its sign from words that only the tool's increasing or only its decreasing
  sentences use ("down", "cooler"), or from a spoken sign ("minus two"); with neither, or
  both, the guess is refused.

Function words (pronouns, prepositions, light verbs) come from ``data/function_words.txt``;
everything else is derived from the loaded skills, so a third-party skill gets the same
guard without declaring anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from assistant.dispatch.catalog import ArgSpec, Catalog
from assistant.nlu.normalize import Normalized, numbers_to_digits, sanitize
from assistant.nlu.templates import (
    Alternative,
    Sequence,
    SlotRef,
    TemplateSentence,
    Word,
    word_texts,
)
from assistant.skill_api import SlotKind

__all__ = ["DISTINCTIVE_TOOLS", "STOP_WORDS", "Evidence", "function_words", "says_stop",
           "stems"]

STOP_WORDS = frozenset({"stop", "halt", "abort", "kill", "freeze", "shut"})
"""Words that may mean "stop now": the only way a guess can be an immediate tool, and an
utterance with one is never sent to the language model. Not "emergency": the emergency
room is a place to drive to, and "emergency stop" says "stop"."""
DISTINCTIVE_TOOLS = 3
"""Words whose sentences leave at most this many tools say which tool is meant."""
_EXPLICIT_SIGN = frozenset({"minus", "negative"})
_NEGATIONS = frozenset({"don't", "dont", "never", "not", "didn't", "doesn't", "won't",
                        "shouldn't", "mustn't"})


def stems(word: str) -> Iterable[str]:
    """The word, then what it may be inflected from ("stopping" -> "stop", "locks" ->
    "lock"): how a word the sentences do not use is still recognized as one they do."""
    yield word
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            yield stem
            if len(stem) >= 4 and stem[-1] == stem[-2]:
                yield stem[:-1]  # "stopped" -> "stopp" -> "stop"
            if suffix in ("ing", "ed"):
                yield stem + "e"  # "freezing" is not "freeze": see says_stop


def says_stop(utterance: Normalized) -> bool:
    """A stop word was said, in any form ("stop", "stopping", "halted")."""
    return any(stem in STOP_WORDS for word in utterance.spoken.split()
               for stem in _inflections(word))


def _inflections(word: str) -> Iterable[str]:
    # "freezing" and "frozen" are about the cold, not about stopping.
    return (word,) if word.startswith(("freez", "froz")) else stems(word)


@cache
def _word_lists() -> tuple[frozenset[str], frozenset[str]]:
    text = files("assistant.nlu").joinpath("data/function_words.txt").read_text(
        encoding="utf-8")
    closed, light = text.split("# light verbs", 1)

    def words(part: str) -> frozenset[str]:
        return frozenset(word for line in part.splitlines() if not line.startswith("#")
                         for word in line.split())

    return words(closed), words(light)


def function_words() -> frozenset[str]:
    """Words that say little about which tool is meant: English closed-class words and
    light verbs ("make", "get", "going")."""
    closed, light = _word_lists()
    return closed | light


def light_verbs() -> frozenset[str]:
    """The light verbs among :func:`function_words`: never against a tool, but they may help
    tell tools apart."""
    return _word_lists()[1]


def _literal_words(node: Sequence | Alternative | Word | SlotRef) -> Iterable[str]:
    for text in word_texts(node):
        yield from numbers_to_digits(sanitize(text)).split()


def _value_words(spec: ArgSpec) -> Iterable[str]:
    for form in spec.values:
        yield from (w for w in form.split() if not _is_number(w))


DURATION_WORDS = ("second", "seconds", "minute", "minutes", "hour", "hours")


def _argument_words(spec: ArgSpec) -> Iterable[str]:
    """What an argument is called: its name, label and unit ("level", "fan speed",
    "percent"), and for a duration its units. A paraphrase names the argument where the
    templates only hold its slot ("volume level 10"): those words are the tool's too."""
    yield from spec.name.split("_")
    yield from spec.label.split()
    yield from spec.unit.split()
    if spec.kind == SlotKind.DURATION:
        yield from DURATION_WORDS


def _is_number(word: str) -> bool:
    return word.replace(".", "", 1).isdigit()


class Evidence:
    """Which tools each word belongs to, and which words raise or lower each signed
    argument."""

    def __init__(self, sentences: Iterable[TemplateSentence], catalog: Catalog,
                 ignored: frozenset[str] | None = None) -> None:
        self.catalog = catalog
        self.ignored = function_words() if ignored is None else ignored
        self._light = light_verbs() & self.ignored
        tools_of: dict[str, set[str]] = defaultdict(set)
        polarity: dict[tuple[str, str], dict[int, set[str]]] = defaultdict(
            lambda: {1: set(), -1: set()})
        for sentence in sentences:
            specs = catalog.specs[sentence.tool]
            literal = [w for w in _literal_words(sentence.expression) if not _is_number(w)]
            said = {w for name in sentence.slots for w in _value_words(specs[name])}
            for word in (*literal, *said):
                tools_of[word].add(sentence.tool)
            for name, sign in _signs(sentence, specs).items():
                polarity[(sentence.tool, name)][sign].update(literal)
        for tool, specs in catalog.specs.items():
            for word in (w for spec in specs.values() for w in _argument_words(spec)):
                tools_of[word].add(tool)
        self._tools_of = {word: frozenset(tools) for word, tools in tools_of.items()}
        self._value_words = {tool: frozenset(w for spec in specs.values()
                                             for w in _value_words(spec))
                             for tool, specs in catalog.specs.items()}
        self._numeric = frozenset(tool for tool, specs in catalog.specs.items() if any(
            spec.kind in (SlotKind.NUMBER, SlotKind.DURATION) for spec in specs.values()))
        self._direction = {
            key: {1: frozenset(words[1] - words[-1]), -1: frozenset(words[-1] - words[1])}
            for key, words in polarity.items()}

    def tools_of(self, word: str) -> frozenset[str]:
        """The tools whose sentences (or argument values) use ``word``, or a form it may be
        inflected from."""
        for stem in stems(word):
            tools = self._tools_of.get(stem)
            if tools is not None:
                return tools
        return frozenset()

    def foreign(self, tool: str, word: str) -> bool:
        """``word`` belongs to other tools' sentences and not to ``tool``'s."""
        tools = self.tools_of(word)
        return bool(tools) and tool not in tools and word not in self.ignored

    def objection(self, tool: str, utterance: Normalized, *, immediate: bool) -> str | None:
        """Why the words do not support a guessed call of ``tool``, or None."""
        words = utterance.digits.split()
        if _NEGATIONS & set(words) or "do not" in utterance.digits:
            return "a negation: the words may say not to"
        values = self._value_words[tool]
        said = {w for w in words if w not in self.ignored or w in values
                or (_is_number(w) and tool in self._numeric)}
        if len(said) < 2:
            return "one word that says what to do, where a request takes two"
        if immediate and not says_stop(utterance):
            return "an immediate tool without a stop word"
        content = [w for w in words if self.tools_of(w) and w not in self.ignored]
        foreign = [w for w in content if self.foreign(tool, w)]
        if foreign:
            return f"words of other tools: {', '.join(foreign)}"
        content += [w for w in words if w in self._light and tool in self.tools_of(w)]
        together = frozenset.intersection(*map(self.tools_of, content)) if content else None
        if together is None or len(together) > DISTINCTIVE_TOOLS:
            return f"no words that ask for {tool} rather than other tools"
        return None

    def direction(self, tool: str, argument: str, utterance: Normalized) -> int | None:
        """+1 or -1 when the words say which way ``argument`` changes; None when they say
        neither or both."""
        words = utterance.digits.split()
        signs = self._direction.get((tool, argument))
        if signs is None or not _EXPLICIT_SIGN.isdisjoint(words):
            return None
        forms = {stem for word in words for stem in stems(word)}
        up, down = not signs[1].isdisjoint(forms), not signs[-1].isdisjoint(forms)
        if up == down:
            return None
        return 1 if up else -1

    def signed(self, tool: str) -> list[str]:
        """The arguments of ``tool`` whose sign is a direction (their range crosses zero)."""
        return [name for name, spec in self.catalog.specs[tool].items() if _signed(spec)]

    def orient(self, tool: str, arguments: Mapping[str, Any],
               utterance: Normalized) -> dict[str, Any] | None:
        """``arguments`` with each signed value's sign taken from the words; None when the
        words do not say it. A spoken sign ("minus two") stands as heard."""
        oriented = dict(arguments)
        spoken_sign = not _EXPLICIT_SIGN.isdisjoint(utterance.digits.split())
        for name in self.signed(tool):
            value = oriented.get(name)
            if not isinstance(value, int | float) or value == 0 or spoken_sign:
                continue
            sign = self.direction(tool, name, utterance)
            if sign is None:
                return None
            oriented[name] = sign * abs(value)
        return oriented


def _signed(spec: ArgSpec) -> bool:
    return spec.minimum is not None and spec.minimum < 0 < (spec.maximum or 0)


def _signs(sentence: TemplateSentence, specs: Mapping[str, ArgSpec]) -> dict[str, int]:
    """Which way each signed argument goes in this sentence: fixed by its phrasing, negated,
    or as said (positive)."""
    signs: dict[str, int] = {}
    for name, spec in specs.items():
        if not _signed(spec):
            continue
        fixed = sentence.fixed.get(name)
        if isinstance(fixed, int | float) and fixed != 0:
            signs[name] = 1 if fixed > 0 else -1
        elif name in sentence.slots:
            signs[name] = -1 if name in sentence.negate else 1
    return signs
