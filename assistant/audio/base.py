"""Audio constants, derived once, the chunk type, and the source and sink Protocols."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final, Protocol

__all__ = [
    "BYTES_PER_CHUNK",
    "BYTES_PER_SAMPLE",
    "MS_PER_CHUNK",
    "SAMPLES_PER_CHUNK",
    "SAMPLE_RATE",
    "AudioChunk",
    "AudioSink",
    "AudioSource",
    "NullSink",
    "samples_to_ms",
]

SAMPLE_RATE: Final = 16_000
"""Samples per second of every chunk inside the assistant."""
BYTES_PER_SAMPLE: Final = 2
MS_PER_CHUNK: Final = 80
"""openWakeWord's native step; voice activity looks at 10 ms frames inside it."""
SAMPLES_PER_CHUNK: Final = SAMPLE_RATE * MS_PER_CHUNK // 1000
BYTES_PER_CHUNK: Final = SAMPLES_PER_CHUNK * BYTES_PER_SAMPLE


def samples_to_ms(samples: int, rate: int = SAMPLE_RATE) -> float:
    return samples * 1000.0 / rate


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Signed 16-bit little-endian mono samples and where they start, in ms of stream time."""

    audio: bytes
    timestamp_ms: float
    rate: int = SAMPLE_RATE

    @property
    def duration_ms(self) -> float:
        return samples_to_ms(len(self.audio) // BYTES_PER_SAMPLE, self.rate)

    @property
    def end_ms(self) -> float:
        return self.timestamp_ms + self.duration_ms


class AudioSource(Protocol):
    """Microphone or file: 16 kHz mono chunks, in order, until closed or exhausted."""

    def chunks(self) -> AsyncIterator[AudioChunk]: ...

    async def aclose(self) -> None: ...


class AudioSink(Protocol):
    """Speaker or file. ``play`` queues audio; ``stop`` silences it at once (barge-in)."""

    async def play(self, chunk: AudioChunk) -> None: ...

    async def stop(self) -> None: ...

    @property
    def playing(self) -> bool: ...

    def set_time(self, now_ms: float) -> None:
        """The input's stream time now (a file sink places replies on that time line)."""
        ...

    async def aclose(self) -> None: ...


class NullSink:
    """Discards audio (for ``run --input`` without ``--output``)."""

    async def play(self, chunk: AudioChunk) -> None:
        return None

    async def stop(self) -> None:
        return None

    @property
    def playing(self) -> bool:
        return False

    def set_time(self, now_ms: float) -> None:
        return None

    async def aclose(self) -> None:
        return None
