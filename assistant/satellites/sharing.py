"""One brain for many satellites: whose utterance it is, and whose turn the recognizer is.

- :class:`UtteranceArbiter`: one utterance heard by two satellites is acted on once. Two
  satellites of one area that hear the same words (nearly: two microphones) within
  ``window_s`` heard one person: the first to have it recognized acts; the other says
  nothing and goes back to listening. Satellites of different areas never hear each
  other, so two people there saying the same thing at once are both served; so are two
  different commands said at once in one area.
- :class:`FairScheduler`: transcriptions wait their turn, the satellite served least going
  first. Stops never queue: the stop spotter has a recognizer worker of its own.
- :class:`SatelliteWake`: a satellite's wake word detector, triggered by the satellite
  itself when it detects its wake word locally.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from rapidfuzz import fuzz

from assistant.audio import AudioChunk
from assistant.dialogue import Dialogue, TurnResult
from assistant.nlu.normalize import normalize
from assistant.stt import SpeechToText, Transcript, TranscriptJudge
from assistant.wake import Detection, WakeWordDetector

__all__ = ["FairScheduler", "FairSpeechToText", "SatelliteDialogue", "SatelliteWake",
           "UtteranceArbiter"]

SHORT_BYTES = int(1.5 * 16000 * 2)
"""Utterances up to 1.5 s ("stop", "emergency stop") are guessed before queueing."""
DUPLICATE_WINDOW_S = 3.0
"""The same words recognized on two satellites of one area this close together (seconds;
transcriptions take turns, so the second comes later) are one utterance heard twice."""


class UtteranceArbiter:
    def __init__(self, window_s: float = DUPLICATE_WINDOW_S, *, similarity: float = 85.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.similarity = similarity
        self._clock = clock
        self._recent: list[tuple[float, str, str, str]] = []

    def claim(self, satellite: str, area: str, text: str) -> bool:
        """True if ``satellite`` may act on ``text``: no other satellite of its area has
        acted on the same words within the window."""
        now = self._clock()
        words = " ".join(normalize(text).digits.split())
        self._recent = [r for r in self._recent if now - r[0] < self.window_s]
        for _, other, other_area, other_words in self._recent:
            if other != satellite and other_area == area and words and \
                    fuzz.ratio(words, other_words) >= self.similarity:
                return False
        self._recent.append((now, satellite, area, words))
        return True


class SatelliteWake:
    """The hub's detector for one satellite's stream."""

    def __init__(self, inner: WakeWordDetector, satellite: str) -> None:
        self.inner = inner
        self.name = inner.name
        self._satellite = satellite
        self._triggered = False
        self.local = False

    def trigger(self) -> None:
        """The satellite heard its own wake word: listen from the next chunk. From now on
        the satellite is taken to listen for its wake word itself, so the hub's detector
        rests (it is the hub's costliest work per chunk)."""
        self._triggered = True
        self.local = True

    async def process(self, chunk: AudioChunk, *, strict: bool = False) -> Detection | None:
        if self._triggered:
            self._triggered = False
            self.inner.reset()
            return Detection(self._satellite, chunk.timestamp_ms, 1.0, in_stream=False)
        if self.local:
            return None
        return await self.inner.process(chunk, strict=strict)

    def reset(self) -> None:
        self.inner.reset()

    async def aclose(self) -> None:
        await self.inner.aclose()


class FairScheduler:
    """``capacity`` transcriptions at a time; the next is the waiting satellite served
    least."""

    @property
    def busy(self) -> bool:
        """No transcription could start now without waiting."""
        return self._running >= self.capacity

    def __init__(self, capacity: int = 1) -> None:
        self.capacity = capacity
        self._running = 0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._served: Counter[str] = Counter()
        self._order = itertools.count()

    @asynccontextmanager
    async def turn(self, satellite: str) -> AsyncIterator[None]:
        if self.busy or self._waiting:
            ready = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (self._served[satellite], next(self._order), ready))
            try:
                await ready
            except asyncio.CancelledError:
                if ready.done() and not ready.cancelled():
                    self._release()  # it was handed the turn just as it was cancelled
                raise
        else:
            self._running += 1
        self._served[satellite] += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        """A turn ends: it is handed to the next waiting, or the place is freed."""
        while self._waiting:
            _, _, ready = heapq.heappop(self._waiting)
            if not ready.done():
                ready.set_result(None)
                return
        self._running -= 1


class FairSpeechToText:
    """The shared recognizer as one satellite sees it. Transcriptions wait their turn, but
    while the recognizer is busy a short utterance is first guessed on the spotter's worker
    (never queued): a stop acts on that guess at once (immediate commands jump the queue),
    and so does a guess the skills fully understand (the same rule as a guess at a pause;
    the dialogue still asks when the recognizer was unsure)."""

    def __init__(self, stt: SpeechToText, scheduler: FairScheduler, satellite: str, *,
                 judge: TranscriptJudge | None = None) -> None:
        self.name = getattr(stt, "name", "stt")
        self._stt = stt
        self._scheduler = scheduler
        self._satellite = satellite
        self._judge = judge

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
        if partial and self._scheduler.busy:
            # A guess at a pause only saves time when the recognizer is idle; queued, it
            # doubles the work for everyone. The turn then ends after the end silence.
            return Transcript("", uncertain="the recognizer is busy")
        if self._judge is not None and len(audio) <= SHORT_BYTES and self._scheduler.busy:
            guess = await self._stt.spot(audio)
            text = guess.text.strip()
            if text and (self._judge.acts_at_once(text) or self._judge.fully_understands(text)):
                return guess
        async with self._scheduler.turn(self._satellite):
            return await self._stt.transcribe(audio, partial=partial)

    async def spot(self, audio: bytes) -> Transcript:
        return await self._stt.spot(audio)

    async def aclose(self) -> None:
        return None  # shared: closed once by its owner


class SatelliteDialogue(Dialogue):
    """A satellite's dialogue: an utterance another satellite of its area has already
    acted on is heard as nothing (no reply, no events)."""

    def __init__(self, *args: Any, arbiter: UtteranceArbiter, satellite: str, area: str,
                 on_duplicate: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arbiter = arbiter
        self._satellite, self._area = satellite, area
        self._on_duplicate = on_duplicate

    async def hear(self, text: str, *, heard: Transcript | None = None,
                   said_at: float | None = None) -> TurnResult:
        if not self.awaiting and not self._arbiter.claim(self._satellite, self._area, text):
            self._on_duplicate()
            return TurnResult("")
        return await super().hear(text, heard=heard, said_at=said_at)
