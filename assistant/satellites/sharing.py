"""One brain for many satellites: whose utterance it is, and whose turn the recognizer is.

- :class:`WakeArbiter`: one utterance heard by two satellites is acted on once. The first
  detection wins within ``window_s``; the others are told to go back to listening.
- :class:`FairScheduler`: transcriptions wait their turn, the satellite served least going
  first. Stops never queue: the stop spotter has a recognizer worker of its own.
- :class:`SatelliteWake`: a satellite's wake word detector, arbitrated, and triggered by
  the satellite itself when it detects its wake word locally.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from assistant.audio import AudioChunk
from assistant.stt import SpeechToText, Transcript
from assistant.wake import Detection, WakeWordDetector

__all__ = ["FairScheduler", "FairSpeechToText", "SatelliteWake", "WakeArbiter"]

DUPLICATE_WINDOW_S = 1.5
"""Detections on two satellites this close together are one utterance heard twice."""


class WakeArbiter:
    def __init__(self, window_s: float = DUPLICATE_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._last: tuple[str, float] | None = None

    def claim(self, satellite: str) -> bool:
        """True if ``satellite`` may act on what it just heard."""
        now = self._clock()
        if self._last is not None and self._last[0] != satellite \
                and now - self._last[1] < self.window_s:
            return False
        self._last = (satellite, now)
        return True


class SatelliteWake:
    """The hub's detector for one satellite's stream."""

    def __init__(self, inner: WakeWordDetector, arbiter: WakeArbiter, satellite: str,
                 on_lost: Callable[[], None]) -> None:
        self.inner = inner
        self.name = inner.name
        self._arbiter = arbiter
        self._satellite = satellite
        self._on_lost = on_lost
        self._triggered = False

    def trigger(self) -> bool:
        """The satellite heard its own wake word: listen from the next chunk, unless
        another satellite has this utterance."""
        if not self._arbiter.claim(self._satellite):
            self._on_lost()
            return False
        self._triggered = True
        return True

    async def process(self, chunk: AudioChunk, *, strict: bool = False) -> Detection | None:
        if self._triggered:
            self._triggered = False
            self.inner.reset()
            return Detection(self._satellite, chunk.timestamp_ms, 1.0)
        detection = await self.inner.process(chunk, strict=strict)
        if detection is not None and not self._arbiter.claim(self._satellite):
            self._on_lost()
            return None
        return detection

    def reset(self) -> None:
        self.inner.reset()

    async def aclose(self) -> None:
        await self.inner.aclose()


class FairScheduler:
    """One transcription at a time; the next is the waiting satellite served least."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._served: Counter[str] = Counter()
        self._order = itertools.count()

    @asynccontextmanager
    async def turn(self, satellite: str) -> AsyncIterator[None]:
        if self._busy or self._waiting:
            ready = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (self._served[satellite], next(self._order), ready))
            try:
                await ready
            except asyncio.CancelledError:
                if ready.done() and not ready.cancelled():
                    self._release()  # it was handed the turn just as it was cancelled
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._served[satellite] += 1
            self._release()

    def _release(self) -> None:
        while self._waiting:
            _, _, ready = heapq.heappop(self._waiting)
            if not ready.done():
                ready.set_result(None)
                return
        self._busy = False


class FairSpeechToText:
    """The shared recognizer as one satellite sees it."""

    def __init__(self, stt: SpeechToText, scheduler: FairScheduler, satellite: str) -> None:
        self.name = getattr(stt, "name", "stt")
        self._stt = stt
        self._scheduler = scheduler
        self._satellite = satellite

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
        async with self._scheduler.turn(self._satellite):
            return await self._stt.transcribe(audio, partial=partial)

    async def spot(self, audio: bytes) -> Transcript:
        return await self._stt.spot(audio)

    async def aclose(self) -> None:
        return None  # shared: closed once by its owner
