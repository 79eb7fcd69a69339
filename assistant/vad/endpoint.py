"""Endpointing: when a command starts, when it ended, when nobody spoke.

pymicro-vad scores 10 ms frames; the :class:`Endpointer` turns scores into events: speech
started, speech ended, too long (``max_speech_ms``), or no speech at all within
``no_speech_timeout_ms``.

pymicro-vad keeps saying "speech" for up to ~0.9 s after a voice stops, so the end is also
found from energy: a frame quieter than the noise floor (measured before the command) plus
a share of the command's loudness is quiet; ``end_quiet_ms`` of quiet frames end the
command. It also says "speech" 0.2-0.4 s after the voice begins (it scores a window of
recent audio), when a short "yes" or "stop" is nearly over: a frame is voiced when the
model says speech and the voice had energy within that lag, since listening began. Audio
with almost no energy is never speech.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from assistant.audio import AudioChunk
from assistant.config import VoiceActivityConfig
from assistant.vad.base import FRAME_BYTES

__all__ = ["Endpoint", "EndpointKind", "Endpointer"]
VAD_LAG_FRAMES = 40
"""How far back (10 ms frames) the voice's energy may be for the model's "speech" now:
measured here, the model calls speech 18-43 frames after the voice's onset."""
FLOOR_FRAMES = 500
"""The noise floor is measured over the last 5 s before a command (an endpointer that
listens all the time keeps no more)."""


class EndpointKind(StrEnum):
    SPEECH_STARTED = "speech_started"
    PAUSE = "pause"
    """The voice paused: the command may have ended; its audio so far comes along."""
    SPEECH_ENDED = "speech_ended"
    TOO_LONG = "too_long"
    NO_SPEECH = "no_speech"


@dataclass(frozen=True)
class Endpoint:
    kind: EndpointKind
    timestamp_ms: float
    audio: bytes = b""
    pause_id: int | None = None
    """PAUSE: its number. SPEECH_ENDED: the pause it ended in, if no voice came since."""


class Endpointer:
    """Collects one command's audio between ``start`` and the endpoint it reports."""

    def __init__(self, settings: VoiceActivityConfig | None = None) -> None:
        self.settings = settings or VoiceActivityConfig()
        self._active = False
        self._started_ms = 0.0
        self._timeout_ms = self.settings.no_speech_timeout_ms
        self._in_speech = False
        self._voiced_ms = 0.0
        self._silence_ms = 0.0
        self._speech_begin_ms = 0.0
        self._audio = bytearray()
        self._pre_roll: list[bytes] = []
        self._floor_db: deque[float] = deque(maxlen=FLOOR_FRAMES)
        self._lag_db: deque[float] = deque(maxlen=VAD_LAG_FRAMES)
        self._speech_db: list[float] = []
        self._quiet_ms = 0.0
        self._pause_id = 0
        self._in_pause = False

    @property
    def active(self) -> bool:
        return self._active

    @property
    def in_speech(self) -> bool:
        """True from the start of a command until its endpoint."""
        return self._active and self._in_speech

    def start(self, now_ms: float, *, timeout_ms: float | None = None) -> None:
        self._active = True
        self._started_ms = now_ms
        self._timeout_ms = timeout_ms if timeout_ms is not None else \
            self.settings.no_speech_timeout_ms
        self._in_speech = False
        self._voiced_ms = self._silence_ms = self._quiet_ms = 0.0
        self._audio = bytearray()
        self._pre_roll = []
        self._floor_db = deque(maxlen=FLOOR_FRAMES)
        self._lag_db = deque(maxlen=VAD_LAG_FRAMES)
        self._speech_db = []
        self._in_pause = False

    def stop(self) -> None:
        self._active = False

    def feed(self, chunk: AudioChunk, probabilities: list[float]) -> Endpoint | None:
        if not self._active:
            return None
        s = self.settings
        frame_ms = 10.0
        result: Endpoint | None = None
        levels = _frame_dbfs(chunk.audio)
        quiet_level = self._quiet_level()
        for index, probability in enumerate(probabilities):
            t = chunk.timestamp_ms + index * frame_ms
            level = levels[index] if index < len(levels) else -120.0
            self._lag_db.append(level)
            voiced = probability >= s.threshold and max(self._lag_db) >= s.floor_dbfs
            if not self._in_speech:
                self._floor_db.append(level)
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
                self._speech_db.append(level)
                quiet = level < quiet_level
                self._quiet_ms = self._quiet_ms + frame_ms if quiet else 0.0
                if voiced and not quiet:
                    self._silence_ms = 0.0
                    self._in_pause = False
                else:
                    self._silence_ms += frame_ms
                ended = self._silence_ms >= s.end_silence_ms or self._quiet_ms >= s.end_quiet_ms
                too_long = t + frame_ms - self._speech_begin_ms >= s.max_speech_ms
                if ended or too_long:
                    self._audio += chunk.audio[: (index + 1) * FRAME_BYTES]
                    self._active = False
                    kind = EndpointKind.SPEECH_ENDED if ended else EndpointKind.TOO_LONG
                    pause = self._pause_id if self._in_pause else None
                    return Endpoint(kind, t + frame_ms, self._trimmed(quiet_level), pause)
                if s.pause_quiet_ms is not None and self._quiet_ms >= s.pause_quiet_ms \
                        and not self._in_pause:
                    self._in_pause = True
                    self._pause_id += 1
                    pause_at = (index + 1) * FRAME_BYTES
                    so_far = bytes(self._audio) + chunk.audio[:pause_at]
                    result = Endpoint(EndpointKind.PAUSE, t + frame_ms,
                                      self._trimmed(quiet_level, so_far), pause_id=self._pause_id)
        if self._in_speech:
            if not self._audio:
                self._audio += b"".join(self._pre_roll)
            self._audio += chunk.audio
        else:
            keep = max(1, int(s.pre_roll_ms // max(chunk.duration_ms, 1.0)))
            self._pre_roll = [*self._pre_roll, chunk.audio][-keep:]
        return result

    def heard_so_far(self) -> bytes:
        """The command's audio until now (trimmed as at an endpoint); b"" before it began."""
        return self._trimmed(self._quiet_level()) if self.in_speech else b""

    def _trimmed(self, quiet_level: float, audio: bytes | None = None) -> bytes:
        """The command without the lead-in before its energy onset (keeping some margin):
        a recognizer invents words in leading noise."""
        audio = bytes(self._audio) if audio is None else audio
        levels = _frame_dbfs(audio)
        loud = [i for i in range(len(levels) - 2)
                if min(levels[i:i + 3]) >= quiet_level]
        margin = int(self.settings.onset_margin_ms // 10)
        start = max(0, loud[0] - margin) if loud else 0
        return audio[start * FRAME_BYTES:]

    def _quiet_level(self) -> float:
        floor = float(np.percentile(self._floor_db, 20)) if self._floor_db else -90.0
        loud = float(np.percentile(self._speech_db, 90)) if self._speech_db else floor
        # a frame too faint to be speech is quiet: over digital silence (a clean file) the
        # share alone puts "quiet" near -85 dBFS, and a voice's fading tail takes ~250 ms
        # to get there
        return max(self.settings.floor_dbfs,
                   floor + self.settings.quiet_share * max(0.0, loud - floor))


def _frame_dbfs(audio: bytes) -> list[float]:
    """Level of each 10 ms frame in dB full scale."""
    samples = np.frombuffer(audio[: len(audio) // FRAME_BYTES * FRAME_BYTES], dtype="<i2")
    if samples.size == 0:
        return []
    frames = samples.reshape(-1, FRAME_BYTES // 2).astype(np.float64)
    power = np.mean(frames * frames, axis=1)
    return [10.0 * math.log10(p / (32768.0 * 32768.0)) if p > 0 else -120.0 for p in power]
