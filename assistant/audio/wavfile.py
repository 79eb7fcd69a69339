"""WAV files as an audio source (``run --input``) and as a sink (``--output``)."""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile

from assistant.audio.base import BYTES_PER_CHUNK, SAMPLE_RATE, AudioChunk, samples_to_ms
from assistant.audio.convert import to_assistant_rate
from assistant.errors import AudioError

__all__ = ["WavFileSink", "WavFileSource", "read_wav", "write_wav"]


def read_wav(path: Path) -> npt.NDArray[np.int16]:
    """Any WAV libsndfile reads (any rate, channels, 8-32 bit, float, extensible) as
    16 kHz mono int16; a clear error for anything else."""
    try:
        exists = path.is_file()
    except (OSError, ValueError) as err:  # a name too long, a NUL byte: no such file
        raise AudioError("audio-file-unreadable", f"cannot open audio file {_shown(path)}: "
                         f"{getattr(err, 'strerror', None) or err}") from err
    if not exists:
        raise AudioError("audio-file-missing", f"audio file {_shown(path)} does not exist")
    try:
        # Read as float: libsndfile does not scale float files when asked for integers.
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as err:
        raise AudioError("audio-file-invalid",
                         f"{_shown(path)} is not a readable WAV file ({err}); convert it with "
                         f"'sox {path.name} -b 16 out.wav'") from err
    channels = data.shape[1]
    samples = np.clip(np.round(np.ascontiguousarray(data).reshape(-1) * 32768.0), -32768, 32767)
    return to_assistant_rate(samples.astype(np.int16), int(rate), channels)


def _shown(path: Path) -> str:
    """A path as said in an error: a name of any length is cut to something readable."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}...{text[-40:]} ({len(text)} characters)"


def write_wav(path: Path, samples: npt.NDArray[np.int16], rate: int = SAMPLE_RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.asarray(samples, dtype="<i2").tobytes())


class WavFileSource:
    """Reads a whole WAV file and yields chunks as fast as they are asked for, or
    (``realtime``) each once it would have arrived from a microphone."""

    def __init__(self, path: Path, *, trailing_silence_ms: int = 1500,
                 realtime: bool = False) -> None:
        self.path = path
        self.realtime = realtime
        audio = read_wav(path)
        # Silence after the file lets the last utterance end the way a pause would.
        pad = np.zeros(SAMPLE_RATE * trailing_silence_ms // 1000, dtype=np.int16)
        self._audio = np.concatenate([audio, pad]).tobytes()
        self.duration_ms = samples_to_ms(len(audio))

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        began = time.monotonic()
        for start in range(0, len(self._audio), BYTES_PER_CHUNK):
            piece = self._audio[start:start + BYTES_PER_CHUNK]
            if len(piece) < BYTES_PER_CHUNK:
                piece += bytes(BYTES_PER_CHUNK - len(piece))
            chunk = AudioChunk(piece, samples_to_ms(start // 2))
            if self.realtime:
                await asyncio.sleep(max(0.0, began + chunk.end_ms / 1000 - time.monotonic()))
            yield chunk

    async def aclose(self) -> None:
        return None


class WavFileSink:
    """Writes what is played, placed on the input's time line, to a WAV file on close.

    ``stop`` cuts the reply at the moment of the input that interrupted it, so barge-in
    on a file behaves as it would on a speaker.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._pieces: list[tuple[float, bytes]] = []
        self._cursor_ms = 0.0
        self.now_ms = 0.0

    @property
    def playing(self) -> bool:
        return self._cursor_ms > self.now_ms

    def set_time(self, now_ms: float) -> None:
        self.now_ms = now_ms

    async def play(self, chunk: AudioChunk) -> None:
        start = max(self._cursor_ms, self.now_ms)
        self._pieces.append((start, chunk.audio))
        self._cursor_ms = start + chunk.duration_ms

    async def stop(self) -> None:
        cut = self.now_ms
        kept: list[tuple[float, bytes]] = []
        for start, audio in self._pieces:
            if start >= cut:
                continue
            keep_bytes = int((cut - start) * SAMPLE_RATE / 1000) * 2
            kept.append((start, audio[:keep_bytes]))
        self._pieces = kept
        self._cursor_ms = cut

    def replies(self) -> npt.NDArray[np.int16]:
        """Everything that was (or would have been) heard, back to back."""
        if not self._pieces:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([np.frombuffer(a, dtype="<i2") for _, a in self._pieces])

    async def aclose(self) -> None:
        if self.path is not None:
            write_wav(self.path, self.replies())
