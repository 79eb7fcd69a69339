"""A wake word detector for unit tests: a handler decides per chunk."""

from __future__ import annotations

from collections.abc import Callable

from assistant.audio import AudioChunk
from assistant.wake.base import Detection

__all__ = ["FakeWakeWord"]


class FakeWakeWord:
    def __init__(self, handler: Callable[[AudioChunk], bool], name: str = "fake") -> None:
        self.name = name
        self._handler = handler

    async def process(self, chunk: AudioChunk, *, strict: bool = False) -> Detection | None:
        return Detection(self.name, chunk.end_ms, 1.0) if self._handler(chunk) else None

    def reset(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
