"""Turn whatever a speech engine or a keyboard produced into comparable text.

Two forms come out of :func:`normalize`:

* ``spoken``: lower case, punctuation gone, filler removed, words as said ("press one").
  Free-text captures (destinations, song names, notes) are taken from this form.
* ``digits``: the same with number words turned into digits ("press 1", "2.5 minutes").
  Everything else is matched on this form, so "twenty one" and "21" meet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from text_to_num import alpha2digit

__all__ = ["MAX_TOKENS", "Normalized", "filler_ends", "normalize", "numbers_to_digits",
           "sanitize"]

# A spoken command is a sentence; longer input is not a command and is not matched.
MAX_TOKENS = 48
MAX_CHARACTERS = 400
# Speech engines never write these; text carrying them is markup or code, not speech.
_MARKUP = re.compile(r"[{}\[\]<>`\\]|\x1b")

# A number is digits standing alone; digits glued to letters ("1e3", "e53d", "mp3") are one
# word that says no number, never a number and its neighbours.
_TOKEN = re.compile(r"\d+(?:\.\d+)?(?![^\W_])|[^\W_]+(?:'[^\W_]+)*")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_FRACTIONS = (
    (re.compile(r"\b(\d+) and a half\b"), 0.5),
    (re.compile(r"\b(\d+) and a quarter\b"), 0.25),
    (re.compile(r"\b(\d+) and 3 quarters\b"), 0.75),
)
_LEADING_FILLER = (
    "hey assistant", "hey", "hi", "ok", "okay", "so", "um", "uh", "er", "oh", "well",
    "please", "kindly", "just", "go ahead and", "i want you to", "i'd like you to",
    "could you", "can you", "would you", "will you", "could you please", "can you please",
    "would you please", "would you mind", "do you mind", "i said", "i say", "you can", "you could",
)
_TRAILING_FILLER = (
    "please", "thanks", "thank you", "for me", "now", "right now", "in here", "back here",
    "if you can", "if you could", "if you would", "immediately", "right away", "straight away",
    "at once", "asap", "um", "uh", "erm",
)
_NUMERALS = frozenset((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
    "eighty", "ninety", "hundred", "thousand"))
_LEADING = re.compile(
    r"^(?:(?:" + "|".join(sorted(map(re.escape, _LEADING_FILLER), key=len, reverse=True))
    + r")\b\s*)+"
)
_TRAILING = re.compile(
    r"(?:\s*\b(?:" + "|".join(sorted(map(re.escape, _TRAILING_FILLER), key=len, reverse=True))
    + r"))+$"
)
_ORDINAL = re.compile(
    r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)\b")
# Hesitations anywhere ("er" only at the ends: "the er" is the emergency room).
_INNER_FILLER = re.compile(r"\b(?:please|um|umm|uh|uhm|erm|hmm)\b")
_SYMBOLS = str.maketrans(
    {"%": " percent ", "°": " degrees ", "\u2019": "'", "\u2018": "'", "&": " and "})


@dataclass(frozen=True, slots=True)
class Normalized:
    """One utterance in its two comparable forms; ``too_long`` means not a command."""

    spoken: str
    digits: str
    rejected: str = ""
    """Why the text is not treated as speech ("too long", "markup"), else empty."""

    @property
    def empty(self) -> bool:
        return not self.digits


def sanitize(raw: str) -> str:
    """Lower-case words and numbers separated by single spaces; everything else dropped."""
    text = unicodedata.normalize("NFKC", raw).lower().translate(_SYMBOLS)
    text = _THOUSANDS.sub("", text)
    return " ".join(_TOKEN.findall(text))


def _strip_filler(text: str) -> str:
    stripped = _LEADING.sub("", text)
    stripped = _TRAILING.sub("", stripped)
    stripped = _INNER_FILLER.sub(" ", stripped)
    return _unrepeated(stripped.split())


def _unrepeated(words: list[str]) -> str:
    """Said twice is said once: "stop stop stop the packer", "emergency stop, emergency
    stop". A word said again right after itself counts once (not a number: "five five" may
    be a count), and so does a whole utterance said again."""
    kept = [w for i, w in enumerate(words)
            if i == 0 or w != words[i - 1] or any(c.isdigit() for c in w) or w in _NUMERALS]
    for size in range(1, len(kept) // 2 + 1):
        unit = kept[:size]
        if all(any(c.isdigit() for c in w) or w in _NUMERALS for w in unit):
            continue
        if len(kept) % size == 0 and kept == unit * (len(kept) // size):
            return " ".join(kept[:size])
    return " ".join(kept)


def filler_ends(words: list[str]) -> tuple[int, int]:
    """How many of ``words`` (sanitized) normalization drops at the start and at the end:
    a template's own "please" or "in here" is no more required than a speaker's."""
    text = " ".join(words)
    leading = len(text.split()) - len(_LEADING.sub("", text).split())
    trailing = len(text.split()) - len(_TRAILING.sub("", text).split())
    return leading, trailing


@lru_cache(maxsize=4096)
def numbers_to_digits(text: str) -> str:
    """Number words to digits, every number ("one" too) and simple fractions.

    Ordinal words stay words: text2num would turn "one second" into "1 2nd".
    """
    if not text:
        return text
    pieces = _ORDINAL.split(text)
    converted = "".join(
        piece if index % 2 else alpha2digit(piece, "en", threshold=0)
        for index, piece in enumerate(pieces))
    for pattern, fraction in _FRACTIONS:
        converted = pattern.sub(_adding(fraction), converted)
    return converted


def _adding(fraction: float) -> Callable[[re.Match[str]], str]:
    def replace(found: re.Match[str]) -> str:
        return _number(float(found.group(1)) + fraction)

    return replace


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def normalize(raw: str) -> Normalized:
    """Both forms of an utterance; empty forms for empty, overlong or markup input."""
    if len(raw) > MAX_CHARACTERS:
        return Normalized("", "", rejected="too long to be a spoken command")
    if _MARKUP.search(raw):
        return Normalized("", "", rejected="markup or code, not speech")
    text = sanitize(raw)
    if len(text.split()) > MAX_TOKENS:
        return Normalized("", "", rejected="too long to be a spoken command")
    spoken = _strip_filler(text)
    return Normalized(spoken=spoken, digits=numbers_to_digits(spoken))
