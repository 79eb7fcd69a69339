"""The speech output Protocol, sentence splitting, and a fake for unit tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from assistant.audio import AudioChunk

__all__ = ["FakeTextToSpeech", "TextToSpeech", "sentences"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    """Sentences to synthesize one by one, so the first is heard while the rest is made."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


class TextToSpeech(Protocol):
    """Text in; 16 kHz chunks out, sentence by sentence, timestamps from 0."""

    def synthesize(self, text: str) -> AsyncIterator[AudioChunk]: ...

    async def aclose(self) -> None: ...


class FakeTextToSpeech:
    def __init__(self, handler: Callable[[str], bytes]) -> None:
        self._handler = handler

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        offset = 0.0
        for sentence in sentences(text):
            chunk = AudioChunk(self._handler(sentence), offset)
            offset = chunk.end_ms
            yield chunk

    async def aclose(self) -> None:
        return None
