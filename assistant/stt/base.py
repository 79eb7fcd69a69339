"""The speech-to-text Protocol, a fake for unit tests, and the skills' vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["FakeSpeechToText", "SpeechToText"]


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
