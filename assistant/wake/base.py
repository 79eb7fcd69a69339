"""The wake word Protocol and its detection type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from assistant.audio import AudioChunk

__all__ = ["Detection", "PhraseSupport", "WakeWordDetector", "wake_phrase"]

PhraseSupport = Callable[[bytes, str], Awaitable[float]]
"""How well audio supports a phrase (mean log-probability per token): a recognizer's second
opinion on a faint wake word."""


def wake_phrase(model: str) -> str:
    """The words a packaged model's name stands for: "hey_jarvis" -> "Hey Jarvis."."""
    return " ".join(model.split("_")).title() + "."


@dataclass(frozen=True, slots=True)
class Detection:
    """A wake word heard, when (ms of stream time), and how sure the model was."""

    name: str
    timestamp_ms: float
    probability: float
    in_stream: bool = True
    """The wake word is in this audio (its tail may still sound after the detection). A
    satellite's own wake word was heard elsewhere: its stream begins after it."""


class WakeWordDetector(Protocol):
    """Feeds on audio chunks; answers a detection, at most one per refractory period."""

    name: str

    async def process(self, chunk: AudioChunk, *, strict: bool = False) -> Detection | None:
        """``strict`` asks for more certainty (while the assistant itself speaks)."""
        ...

    def reset(self) -> None: ...

    async def aclose(self) -> None: ...
