"""Audio between Wyoming and the pipeline: a remote stream as an :class:`AudioSource`, a
remote speaker as an :class:`AudioSink`, and the re-chunking both need."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import numpy as np
from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart, AudioStop
from wyoming.event import Event

from assistant.audio import BYTES_PER_CHUNK, BYTES_PER_SAMPLE, AudioChunk
from assistant.audio.convert import StreamResampler

__all__ = ["QueueSource", "Rechunker", "WyomingSink"]

SPEECH_GAP_S = 0.3
"""Quiet after the last synthesized chunk that ends a reply (``audio-stop``): Piper's
sentences follow each other faster than this."""


class Rechunker:
    """Any rate and channel count in, the assistant's 80 ms chunks of 16 kHz mono out, with
    their stream time: time that passes without audio (a satellite that stopped streaming)
    counts, so a confirmation's window runs out in real time."""

    def __init__(self, rate: int, channels: int, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.channels = rate, channels
        self._resample = StreamResampler(rate)
        self._pending = bytearray()
        self._clock = clock
        self._started = clock()
        self._position_ms = 0.0

    def expect(self, rate: int, channels: int) -> None:
        """The stream's format as its ``audio-start`` says, which may come after the hub
        began the stream's time (a satellite's own wake word): the time goes on."""
        if (rate, channels) != (self.rate, self.channels):
            self.rate, self.channels = rate, channels
            self._resample = StreamResampler(rate)
            self._pending.clear()

    def feed(self, audio: bytes) -> list[AudioChunk]:
        samples = np.frombuffer(audio[: len(audio) - len(audio) % (2 * self.channels)],
                                dtype=np.int16)
        if self.channels > 1:
            samples = samples.reshape(-1, self.channels).mean(axis=1).astype(np.int16)
        self._pending += self._resample(samples).tobytes()
        now_ms = (self._clock() - self._started) * 1000.0
        chunks = []
        while len(self._pending) >= BYTES_PER_CHUNK:
            piece = bytes(self._pending[:BYTES_PER_CHUNK])
            del self._pending[:BYTES_PER_CHUNK]
            audio_ms = BYTES_PER_CHUNK / BYTES_PER_SAMPLE / 16.0
            # a gap in the stream moves time on; a burst never runs it backwards
            late = now_ms - audio_ms * (1 + len(self._pending) // BYTES_PER_CHUNK)
            self._position_ms = max(self._position_ms, late)
            chunks.append(AudioChunk(piece, self._position_ms))
            self._position_ms += audio_ms
        return chunks


    def silence(self) -> AudioChunk:
        """One quiet chunk now, before what the stream brings next: where the hub hears a
        satellite's own wake word, so that the stream's first words are all listened to."""
        audio_ms = BYTES_PER_CHUNK / BYTES_PER_SAMPLE / 16.0
        now_ms = (self._clock() - self._started) * 1000.0
        self._position_ms = max(self._position_ms, now_ms - audio_ms)
        chunk = AudioChunk(bytes(BYTES_PER_CHUNK), self._position_ms)
        self._position_ms += audio_ms
        return chunk


class QueueSource:
    """Chunks put by the connection's reader, until :meth:`close`."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[AudioChunk | None] = asyncio.Queue()

    def put(self, chunks: list[AudioChunk]) -> None:
        for chunk in chunks:
            self._queue.put_nowait(chunk)

    def close(self) -> None:
        self._queue.put_nowait(None)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        while (chunk := await self._queue.get()) is not None:
            yield chunk

    async def aclose(self) -> None:
        self.close()


class WyomingSink:
    """A satellite's speaker: ``audio-start`` before a reply's first chunk, the chunks,
    ``audio-stop`` once it ends (or at once for a barge-in). It plays for as long as the
    audio sent lasts."""

    def __init__(self, send: Callable[[Event], Awaitable[None]], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._send = send
        self._clock = clock
        self._open = False
        self._until = 0.0
        self._closer: asyncio.Task[None] | None = None

    async def play(self, chunk: AudioChunk) -> None:
        if self._closer is not None:
            self._closer.cancel()
        if not self._open:
            self._open = True
            await self._send(AudioStart(rate=chunk.rate, width=BYTES_PER_SAMPLE,
                                        channels=1).event())
        await self._send(WyomingChunk(rate=chunk.rate, width=BYTES_PER_SAMPLE, channels=1,
                                      audio=chunk.audio).event())
        now = self._clock()
        self._until = max(self._until, now) + chunk.duration_ms / 1000.0
        self._closer = asyncio.get_running_loop().create_task(self._close_later(),
                                                              name="satellite-audio-stop")

    async def _close_later(self) -> None:
        await asyncio.sleep(SPEECH_GAP_S)
        await self._stop_audio()

    async def _stop_audio(self) -> None:
        if self._open:
            self._open = False
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._send(AudioStop().event())

    async def stop(self) -> None:
        self._until = 0.0
        if self._closer is not None:
            self._closer.cancel()
        await self._stop_audio()

    @property
    def playing(self) -> bool:
        return self._clock() < self._until

    def set_time(self, now_ms: float) -> None:
        return None

    async def aclose(self) -> None:
        await self.stop()
