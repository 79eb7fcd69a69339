"""Prompt echoes: a decoder prompted with the skills' sentences can put one of them on
noise or on other people talking. What counts as an echo of the prompt, kept apart from
the decoding."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

__all__ = ["ECHO_LIKENESS", "NAMES_IN_A_ROW", "PromptEcho", "plain"]

_NUMBER = re.compile(r"\d+")
ECHO_LIKENESS = 85.0
"""How near (rapidfuzz ratio) a sentence must be to a prompt sentence to count as its echo:
"Unlock all of the cars." (89) for "Unlock all of the doors.", "Find me a nearest fuel."
(86). A number the prompt sentence lacks makes it no echo. Real commands this near get the
unprompted check too ("State of the press one.", 88, "Acknowledge the lathe alarm.", 87, on
the tuning part) and pass it; a stop is never held by it."""
NAMES_IN_A_ROW = 3
"""A sentence with this many of a prompt list's names in its order ("Turn on the press one,
lathe, welder, packer.") is the list heard back, not a command."""


class PromptEcho:
    """The prompt's sentences and name runs, and whether a text is one of them heard back."""

    def __init__(self, prompt: str) -> None:
        self._sentences = _sentences(prompt)
        self._name_runs = _name_runs(prompt)

    def echoes(self, text: str) -> bool:
        """Whether every sentence of ``text`` is a prompt sentence, or nearly ("Unlock all
        of the door."), or a run of a prompt list's names: an echo can come once or twice
        ("What's the current fuel level. What's the current...")."""
        sentences = _sentences(text)
        return bool(sentences) and all(self._echoes_sentence(s) for s in sentences)

    def _echoes_sentence(self, sentence: str) -> bool:
        if any(run in f" {sentence} " for run in self._name_runs):
            return True
        nearest = process.extractOne(sentence, self._sentences, scorer=fuzz.ratio)
        if nearest is None or nearest[1] < ECHO_LIKENESS:
            return False
        # a number the prompt sentence does not have came from the audio ("Set the
        # temperature to 21 degrees."): an echo copies the prompt's own
        return set(_NUMBER.findall(sentence)) <= set(_NUMBER.findall(nearest[0]))


def plain(text: str) -> str:
    """Lower case, letters, digits and single spaces: how texts are compared."""
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c == " ").split())


def _sentences(text: str) -> list[str]:
    """The plain sentences of a text, as the prompt is compared with what was heard."""
    return [plain(part) for part in re.split(r"[.?!]", text) if plain(part)]


def _name_runs(prompt: str) -> list[str]:
    """Every ``NAMES_IN_A_ROW`` names in a row of the prompt's lists ("Machines: press one,
    press two, lathe."), as plain text padded with spaces."""
    runs = []
    for names in re.findall(r"\w[\w ]*: ([^.:]+)\.", prompt):
        said = [plain(name) for name in names.split(",")]
        runs += [f" {' '.join(said[i:i + NAMES_IN_A_ROW])} "
                 for i in range(len(said) - NAMES_IN_A_ROW + 1)]
    return runs


