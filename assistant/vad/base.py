"""The voice activity Protocol (speech probability per 10 ms frame) and a fake for unit
tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from assistant.audio import SAMPLE_RATE, AudioChunk

__all__ = ["FRAME_BYTES", "FakeVoiceActivity", "VoiceActivity"]

FRAME_BYTES = SAMPLE_RATE // 100 * 2
"""10 ms of 16-bit audio."""


class VoiceActivity(Protocol):
    """Speech probability (0-1) of each 10 ms frame of a chunk."""

    async def frames(self, chunk: AudioChunk) -> list[float]: ...

    def reset(self) -> None: ...

    async def aclose(self) -> None: ...


class FakeVoiceActivity:
    """For unit tests: a handler scores each chunk."""

    def __init__(self, handler: Callable[[AudioChunk], float]) -> None:
        self._handler = handler

    async def frames(self, chunk: AudioChunk) -> list[float]:
        return [self._handler(chunk)] * (len(chunk.audio) // FRAME_BYTES)

    def reset(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
