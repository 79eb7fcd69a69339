"""Voice activity and endpointing: when a command starts, when it ended, when nobody spoke.

pymicro-vad scores 10 ms frames; the :class:`Endpointer` turns scores into events: speech
started, speech ended (after ``end_silence_ms`` of silence), too long (``max_speech_ms``),
or no speech at all within ``no_speech_timeout_ms``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from assistant.audio import SAMPLE_RATE, AudioChunk

__all__ = ["Endpoint", "EndpointKind", "Endpointer", "FakeVoiceActivity", "MicroVadActivity",
           "VoiceActivity"]

FRAME_BYTES = SAMPLE_RATE // 100 * 2
"""10 ms of 16-bit audio."""


class VoiceActivity(Protocol):
    """Speech probability (0-1) of each 10 ms frame of a chunk."""

    async def frames(self, chunk: AudioChunk) -> list[float]: ...

    def reset(self) -> None: ...

    async def aclose(self) -> None: ...


class MicroVadActivity:
    def __init__(self) -> None:
        from pymicro_vad import MicroVad

        self._vad = MicroVad()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="vad")

    async def frames(self, chunk: AudioChunk) -> list[float]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._score, chunk.audio)

    def _score(self, audio: bytes) -> list[float]:
        return [float(self._vad.process_10ms(audio[i:i + FRAME_BYTES]))
                for i in range(0, len(audio) - FRAME_BYTES + 1, FRAME_BYTES)]

    def reset(self) -> None:
        self._vad.reset()

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)


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


class EndpointKind(StrEnum):
    SPEECH_STARTED = "speech_started"
    SPEECH_ENDED = "speech_ended"
    TOO_LONG = "too_long"
    NO_SPEECH = "no_speech"


@dataclass(frozen=True)
class Endpoint:
    kind: EndpointKind
    timestamp_ms: float
    audio: bytes = b""
    speech_end_ms: float = 0.0
    """Stream time of the last voiced frame (for latency from the real end of speech)."""


@dataclass(frozen=True)
class EndpointSettings:
    threshold: float = 0.5
    """Frame probability (0-1) counted as speech."""
    end_silence_ms: float = 300.0
    """Silence (ms) that ends a command."""
    min_speech_ms: float = 120.0
    """Voiced time (ms) before a sound counts as the start of a command."""
    max_speech_ms: float = 8000.0
    """Longest command (ms); longer is cut and used as it is."""
    no_speech_timeout_ms: float = 5000.0
    """Time (ms) to wait for a command to begin."""
    pre_roll_ms: float = 800.0
    """Audio (ms) kept from before speech began, so first syllables are not lost."""


class Endpointer:
    """Collects one command's audio between ``start`` and the endpoint it reports."""

    def __init__(self, settings: EndpointSettings | None = None) -> None:
        self.settings = settings or EndpointSettings()
        self._active = False
        self._started_ms = 0.0
        self._timeout_ms = self.settings.no_speech_timeout_ms
        self._in_speech = False
        self._voiced_ms = 0.0
        self._silence_ms = 0.0
        self._speech_begin_ms = 0.0
        self._last_voiced_ms = 0.0
        self._audio = bytearray()
        self._pre_roll: list[bytes] = []

    @property
    def active(self) -> bool:
        return self._active

    def start(self, now_ms: float, *, timeout_ms: float | None = None) -> None:
        self._active = True
        self._started_ms = now_ms
        self._timeout_ms = timeout_ms if timeout_ms is not None else \
            self.settings.no_speech_timeout_ms
        self._in_speech = False
        self._voiced_ms = self._silence_ms = 0.0
        self._audio = bytearray()
        self._pre_roll = []

    def stop(self) -> None:
        self._active = False

    def feed(self, chunk: AudioChunk, probabilities: list[float]) -> Endpoint | None:
        if not self._active:
            return None
        s = self.settings
        frame_ms = 10.0
        result: Endpoint | None = None
        for index, probability in enumerate(probabilities):
            t = chunk.timestamp_ms + index * frame_ms
            voiced = probability >= s.threshold
            if not self._in_speech:
                self._voiced_ms = self._voiced_ms + frame_ms if voiced else 0.0
                if self._voiced_ms >= s.min_speech_ms:
                    self._in_speech = True
                    self._speech_begin_ms = t - self._voiced_ms
                    self._silence_ms = 0.0
                    result = Endpoint(EndpointKind.SPEECH_STARTED, t)
                elif t - self._started_ms >= self._timeout_ms:
                    self._active = False
                    return Endpoint(EndpointKind.NO_SPEECH, t)
            else:
                if voiced:
                    self._silence_ms = 0.0
                    self._last_voiced_ms = t + frame_ms
                else:
                    self._silence_ms += frame_ms
                if self._silence_ms >= s.end_silence_ms:
                    self._audio += chunk.audio[: (index + 1) * FRAME_BYTES]
                    self._active = False
                    return Endpoint(EndpointKind.SPEECH_ENDED, t + frame_ms, bytes(self._audio),
                                    self._last_voiced_ms)
                if t + frame_ms - self._speech_begin_ms >= s.max_speech_ms:
                    self._audio += chunk.audio[: (index + 1) * FRAME_BYTES]
                    self._active = False
                    return Endpoint(EndpointKind.TOO_LONG, t + frame_ms, bytes(self._audio),
                                    t + frame_ms)
        if self._in_speech:
            if not self._audio:
                self._audio += b"".join(self._pre_roll)
            self._audio += chunk.audio
        else:
            keep = max(1, int(s.pre_roll_ms // max(chunk.duration_ms, 1.0)))
            self._pre_roll = [*self._pre_roll, chunk.audio][-keep:]
        return result
