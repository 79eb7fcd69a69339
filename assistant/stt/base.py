"""The speech-to-text Protocol, a fake for unit tests, and the skills' vocabulary."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

__all__ = ["FakeSpeechToText", "SpeechToText", "vocabulary_prompt"]


class SpeechToText(Protocol):
    """16 kHz mono 16-bit audio of one command in, its text out."""

    name: str

    async def transcribe(self, audio: bytes) -> str: ...

    async def aclose(self) -> None: ...


class FakeSpeechToText:
    def __init__(self, handler: Callable[[bytes], str], name: str = "fake") -> None:
        self.name = name
        self._handler = handler

    async def transcribe(self, audio: bytes) -> str:
        return self._handler(audio)

    async def aclose(self) -> None:
        return None


def vocabulary_prompt(words: Iterable[str], limit: int = 60) -> str:
    """A short prompt of the skills' own words, to bias a recognizer's spelling."""
    unique = list(dict.fromkeys(w for w in words if w and not w.isdigit()))
    return ", ".join(unique[:limit]) + "."
