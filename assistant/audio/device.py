"""Microphone and speaker through sounddevice (PortAudio, Debian's libportaudio2).

The device is chosen by name (a case-insensitive part of it) or index. A missing device is
an error that lists the available ones. A microphone that goes away is reopened with a
capped backoff; the stream of chunks simply pauses meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np

from assistant.audio.base import (
    BYTES_PER_CHUNK,
    SAMPLE_RATE,
    SAMPLES_PER_CHUNK,
    AudioChunk,
    samples_to_ms,
)
from assistant.audio.convert import StreamResampler
from assistant.errors import AudioError

__all__ = ["MicrophoneSource", "SpeakerSink", "find_device", "list_devices"]

_LOGGER = logging.getLogger(__name__)
_BACKOFF_START_S = 0.5
_BACKOFF_MAX_S = 10.0


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as err:  # PortAudio missing
        raise AudioError("audio-portaudio-missing",
                         "PortAudio is not installed; run 'apt-get install libportaudio2'") from err
    return sounddevice


def list_devices(kind: str) -> list[tuple[int, str, int]]:
    """(index, name, default sample rate) of every input or output device."""
    channels_key = "max_input_channels" if kind == "input" else "max_output_channels"
    devices = _sounddevice().query_devices()
    return [(index, str(d["name"]), int(d["default_samplerate"]))
            for index, d in enumerate(devices) if d[channels_key] > 0]


def find_device(wanted: str | int | None, kind: str) -> tuple[int | None, int]:
    """The device index (None for the system default) and its sample rate."""
    devices = list_devices(kind)
    if wanted is None or wanted == "":
        if not devices:
            raise AudioError(f"audio-{kind}-missing", f"no {kind} device found; "
                             "plug one in or check that this user is in the 'audio' group")
        default = _sounddevice().query_devices(kind=kind)
        return None, int(default["default_samplerate"])
    for index, name, rate in devices:
        if (isinstance(wanted, int) and wanted == index) or \
                (isinstance(wanted, str) and wanted.isdigit() and int(wanted) == index) or \
                (isinstance(wanted, str) and wanted.lower() in name.lower()):
            return index, rate
    available = "; ".join(f"{i}: {n}" for i, n, _ in devices) or "none"
    kind_name = "microphone" if kind == "input" else "speaker"
    raise AudioError(f"audio-{kind}-missing",
                     f"{kind_name} {wanted!r} not found; available: {available}")


class MicrophoneSource:
    """Live input, converted to 16 kHz mono chunks; reopened with backoff if it fails."""

    def __init__(self, device: str | int | None = None, *,
                 sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        self.device = device
        self._sleep = sleep
        self._closed = False
        self._samples = 0

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        """A named microphone missing at start is an error at once (it lists the devices);
        one that fails later is reopened with a capped backoff."""
        backoff = _BACKOFF_START_S
        first_attempt = True
        while not self._closed:
            try:
                async for chunk in self._open_and_read():
                    backoff = _BACKOFF_START_S
                    yield chunk
            except AudioError as err:
                if first_attempt and self.device is not None and err.code.endswith("-missing"):
                    raise
                _LOGGER.warning("microphone failed (%s); reopening in %.1f s", err, backoff)
            first_attempt = False
            if not self._closed:
                await self._sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX_S)

    async def _open_and_read(self) -> AsyncIterator[AudioChunk]:
        sd = _sounddevice()
        index, rate = find_device(self.device, "input")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=200)
        blocksize = rate * SAMPLES_PER_CHUNK // SAMPLE_RATE
        resample = StreamResampler(rate)
        pending = bytearray()

        def callback(data: Any, _frames: int, _time: Any, status: Any) -> None:
            if status:
                _LOGGER.debug("input status: %s", status)
            loop.call_soon_threadsafe(_offer, queue, bytes(data))

        def finished() -> None:
            loop.call_soon_threadsafe(_offer, queue, None)

        try:
            stream = sd.RawInputStream(device=index, samplerate=rate, channels=1, dtype="int16",
                                       blocksize=blocksize, callback=callback,
                                       finished_callback=finished)
            stream.start()
        except Exception as err:  # PortAudioError and friends, at the boundary
            raise AudioError("audio-input-failed", f"cannot open microphone: {err}") from err
        try:
            while not self._closed:
                data = await queue.get()
                if data is None:
                    raise AudioError("audio-input-failed", "the microphone stream ended")
                pending += resample(np.frombuffer(data, dtype="<i2")).tobytes()
                while len(pending) >= BYTES_PER_CHUNK:
                    chunk = AudioChunk(bytes(pending[:BYTES_PER_CHUNK]),
                                       samples_to_ms(self._samples))
                    del pending[:BYTES_PER_CHUNK]
                    self._samples += SAMPLES_PER_CHUNK
                    yield chunk
        finally:
            stream.abort()
            stream.close()

    async def aclose(self) -> None:
        self._closed = True


def _offer(queue: asyncio.Queue[bytes | None], data: bytes | None) -> None:
    if queue.full():  # the loop fell behind: drop the oldest audio, never block PortAudio
        queue.get_nowait()
    queue.put_nowait(data)


class SpeakerSink:
    """Plays 16 kHz chunks on an output device; ``stop`` cuts playback at once."""

    def __init__(self, device: str | int | None = None) -> None:
        self.device = device
        self._stream: Any = None
        self._lock = asyncio.Lock()
        self._playing_until = 0.0

    @property
    def playing(self) -> bool:
        return asyncio.get_running_loop().time() < self._playing_until

    async def play(self, chunk: AudioChunk) -> None:
        async with self._lock:
            if self._stream is None:
                sd = _sounddevice()
                index, _ = find_device(self.device, "output")
                self._stream = sd.RawOutputStream(device=index, samplerate=SAMPLE_RATE,
                                                  channels=1, dtype="int16")
                self._stream.start()
            now = asyncio.get_running_loop().time()
            self._playing_until = max(now, self._playing_until) + chunk.duration_ms / 1000
            await asyncio.to_thread(self._stream.write, chunk.audio)

    def set_time(self, now_ms: float) -> None:
        return None

    async def stop(self) -> None:
        self._playing_until = 0.0
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.abort()
            stream.close()

    async def aclose(self) -> None:
        await self.stop()
