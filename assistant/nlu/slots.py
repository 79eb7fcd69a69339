"""Typed extractors: from spoken words to an argument value, shared by every tier.

The template matcher uses :func:`slot_pattern` and :func:`parse_value` on what a slot
captured; the classifier and the dialogue's "which window?" follow-ups use
:func:`find_value` to look for a value anywhere in an utterance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assistant.dispatch.catalog import ArgSpec
from assistant.skill_api import SlotKind

__all__ = ["Found", "bare_duration", "find_value", "find_values", "parse_duration",
           "parse_value", "slot_pattern"]

_NUMBER = r"(?:(?:minus|negative) )?\d+(?:\.\d+)?"
_NUMBER_RX = re.compile(r"^(?:(minus|negative) )?(\d+(?:\.\d+)?)$")
_NUMBER_FIND = re.compile(r"(?:\b(?:minus|negative) )?(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
_UNIT_SECONDS = {
    "day": 86400, "days": 86400,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600,
    "minute": 60, "minutes": 60, "min": 60, "mins": 60,
    "second": 1, "seconds": 1, "sec": 1, "secs": 1,
}
_QUANTITY = r"(?:\d+(?:\.\d+)?|an?|half an?|a quarter of an?|quarter of an?|3 quarters of an?)"
_DURATION_PART = re.compile(
    rf"\b({_QUANTITY}) ({'|'.join(_UNIT_SECONDS)})\b( and a half| and a quarter)?"
)
_DURATION = (
    rf"(?:{_QUANTITY} (?:{'|'.join(_UNIT_SECONDS)})(?: and a half| and a quarter)? (?:and )?)+"
)
_DURATION_FIND = re.compile(rf"(?:{_QUANTITY} (?:{'|'.join(_UNIT_SECONDS)})\b"
                            r"(?: and a half| and a quarter)?(?: and | |$))+")


@dataclass(frozen=True, slots=True)
class Found:
    """A value found in an utterance and where its words were."""

    value: Any
    start: int
    end: int


def _quantity(word: str) -> float:
    if word in ("a", "an"):
        return 1.0
    if word.startswith("half"):
        return 0.5
    if word.startswith(("a quarter", "quarter")):
        return 0.25
    if word.startswith("3 quarters"):
        return 0.75
    return float(word)


def parse_duration(text: str) -> int | None:
    """Seconds in "1 hour and 30 minutes", "an hour and a half", "2.5 minutes"; else None."""
    total = 0.0
    rest = text
    found = False
    for part in _DURATION_PART.finditer(text):
        amount, unit, extra = part.groups()
        size = _UNIT_SECONDS[unit]
        total += _quantity(amount) * size
        if extra:
            total += size * (0.5 if extra.endswith("half") else 0.25)
        rest = rest.replace(part.group(0), " ", 1)
        found = True
    if not found or rest.replace("and", " ").strip():
        return None
    return round(total)


def bare_duration(spec: ArgSpec, text: str) -> int | None:
    """Seconds in a bare number answering a duration's question ("For how many seconds?"
    "2"): the number is in the slot's declared ``unit`` (seconds when it declares none);
    None for anything but one positive number, or a unit that is no time."""
    number = parse_number(text.strip())
    size = _UNIT_SECONDS.get(spec.unit or "seconds")
    if number is None or number <= 0 or size is None:
        return None
    return round(number * size)


def parse_number(text: str) -> float | None:
    matched = _NUMBER_RX.match(text)
    if matched is None:
        return None
    value = float(matched.group(2))
    return -value if matched.group(1) else value


def parse_value(spec: ArgSpec, text: str) -> Any:
    """The value of words a template slot captured, or None when they say no value."""
    text = text.strip()
    if not text:
        return None
    if text in spec.values:
        return spec.values[text]
    if spec.kind == SlotKind.NUMBER:
        number = parse_number(text)
        if number is None:
            return None
        return int(number) if number.is_integer() else number
    if spec.kind == SlotKind.DURATION:
        return parse_duration(text)
    if spec.kind in (SlotKind.TEXT, SlotKind.CONFIGURED):
        return text
    return None


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def slot_pattern(spec: ArgSpec) -> str:
    """A regex (each word followed by one space) for what this slot may capture."""
    named = _alternation(list(spec.values))
    if spec.kind == SlotKind.NUMBER:
        body = f"{_NUMBER}|{named}" if named else _NUMBER
    elif spec.kind == SlotKind.DURATION:
        body = f"{_DURATION.removesuffix(' ')}|{named}" if named else _DURATION
        return f"(?:{body}) ?"
    elif spec.kind == SlotKind.TEXT:
        return r"(?:\S+ )+?"
    elif spec.kind == SlotKind.CONFIGURED:
        # An unknown name is still captured, so the reply can say which names exist.
        return f"(?:(?:{named}) |(?:\\S+ ){{1,2}}?)" if named else r"(?:\S+ ){1,2}?"
    else:
        body = named or r"(?!)"
    return f"(?:{body}) "


@lru_cache(maxsize=512)
def _values_regex(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"(?<!\S)(?:{_alternation(list(names))})(?!\S)")


def find_value(spec: ArgSpec, text: str, taken: tuple[tuple[int, int], ...] = ()) -> Found | None:
    """The first value of this argument anywhere in ``text``, outside ``taken`` spans."""
    found = find_values(spec, text, taken)
    return found[0] if found else None


def find_values(spec: ArgSpec, text: str,
                taken: tuple[tuple[int, int], ...] = ()) -> list[Found]:
    """Every value of this argument in ``text``, outside ``taken`` spans and each other's,
    in the order they are looked for (named values, then numbers, then durations)."""
    spans = list(taken)
    found: list[Found] = []

    def keep(value: Any, start: int, end: int) -> None:
        if all(end <= s or start >= e for s, e in spans):
            spans.append((start, end))
            found.append(Found(value, start, end))

    if spec.values:
        for hit in _values_regex(tuple(spec.values)).finditer(text):
            keep(spec.values[hit.group(0)], hit.start(), hit.end())
    if spec.kind == SlotKind.NUMBER:
        for hit in _NUMBER_FIND.finditer(text):
            number = parse_number(hit.group(0))
            if number is not None:
                keep(int(number) if number.is_integer() else number, hit.start(), hit.end())
    if spec.kind == SlotKind.DURATION:
        for hit in _DURATION_FIND.finditer(text):
            seconds = parse_duration(hit.group(0).strip())
            if seconds is not None:
                keep(seconds, hit.start(), hit.end())
    return found
