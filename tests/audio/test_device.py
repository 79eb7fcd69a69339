from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
import pytest

from assistant.audio import BYTES_PER_CHUNK, AudioChunk, device
from assistant.audio.device import find_device, list_devices
from assistant.errors import AudioError
from tests.conftest import AWAIT_LIMIT


def test_a_missing_microphone_lists_the_available_ones() -> None:
    names = "; ".join(f"{i}: {n}" for i, n, _ in list_devices("input")) or "none"
    with pytest.raises(AudioError) as caught:
        find_device("No Such USB Microphone", "input")
    assert caught.value.code == "audio-input-missing"
    assert caught.value.message == \
        f"microphone 'No Such USB Microphone' not found; available: {names}"


def test_a_missing_speaker_is_named_as_a_speaker() -> None:
    with pytest.raises(AudioError, match="speaker 'Nowhere' not found"):
        find_device("Nowhere", "output")


class FakePortAudio:
    """sounddevice as the microphone source uses it: one 48 kHz USB microphone that is
    unplugged after ``chunks_before_unplug`` blocks and plugged back in on demand."""

    def __init__(self, chunks_before_unplug: int) -> None:
        self.plugged = True
        self.chunks_before_unplug = chunks_before_unplug
        self.opened = 0

    def query_devices(self, kind: str | None = None) -> Any:
        device = {"name": "USB Mic", "max_input_channels": 1, "max_output_channels": 0,
                  "default_samplerate": 48000}
        if kind is not None:
            return device
        return [device] if self.plugged else []

    def RawInputStream(self, *, callback: Any, finished_callback: Any, blocksize: int,
                       **_settings: Any) -> FakeStream:
        self.opened += 1
        return FakeStream(self, callback, finished_callback, blocksize)


class FakeStream:
    def __init__(self, portaudio: FakePortAudio, callback: Any, finished: Any,
                 blocksize: int) -> None:
        self._portaudio, self._callback, self._finished = portaudio, callback, finished
        self._blocksize = blocksize
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._deliver, daemon=True)
        self._thread.start()

    def _deliver(self) -> None:
        tone = (np.sin(np.arange(self._blocksize) / 7.0) * 3000).astype("<i2").tobytes()
        for _ in range(self._portaudio.chunks_before_unplug):
            self._callback(tone, self._blocksize, None, None)
        self._portaudio.plugged = False
        self._finished()

    def abort(self) -> None:
        return None

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=1)


async def test_an_unplugged_microphone_is_reopened_with_backoff_and_the_stream_goes_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    portaudio = FakePortAudio(chunks_before_unplug=5)
    monkeypatch.setattr(device, "_sounddevice", lambda: portaudio)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # still unplugged at the first retry, back at the second
            portaudio.plugged = True

    microphone = device.MicrophoneSource(None, sleep=sleep)
    chunks: list[AudioChunk] = []

    async def read() -> None:
        async for chunk in microphone.chunks():
            chunks.append(chunk)
            if len(chunks) == 8:
                await microphone.aclose()

    await asyncio.wait_for(read(), AWAIT_LIMIT)
    assert portaudio.opened == 2
    assert waits[:2] == [0.5, 1.0]
    assert all(len(chunk.audio) == BYTES_PER_CHUNK for chunk in chunks)
    assert [chunk.timestamp_ms for chunk in chunks] == [80.0 * i for i in range(8)]


async def test_a_named_microphone_missing_at_start_is_an_error_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    portaudio = FakePortAudio(chunks_before_unplug=0)
    portaudio.plugged = False
    monkeypatch.setattr(device, "_sounddevice", lambda: portaudio)
    microphone = device.MicrophoneSource("USB", sleep=lambda _s: asyncio.sleep(0))
    with pytest.raises(AudioError, match="microphone 'USB' not found; available: none"):
        await asyncio.wait_for(anext(aiter(microphone.chunks())), AWAIT_LIMIT)
