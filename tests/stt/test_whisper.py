"""The Whisper adapter on the packaged tiny.en model: windows, hypotheses, the time budget."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest

from assistant.stt.whisper import FULL_WINDOW_FRAMES, WhisperSpeechToText
from tests.conftest import AWAIT_LIMIT
from tests.speech import piper


@pytest.fixture(scope="module")
def spoken() -> bytes:
    return piper("Lock the doors.").astype("<i2").tobytes()


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[WhisperSpeechToText, list[int]]]:
    stt = WhisperSpeechToText(window_s=15, accept=lambda text: False)
    used: list[int] = []
    real = stt.hypotheses_of

    def spy(audio: bytes, window_frames: int | None = None) -> list[str]:
        used.append(window_frames or stt.window_frames)
        return real(audio, window_frames)

    monkeypatch.setattr(stt, "hypotheses_of", spy)
    yield stt, used
    asyncio.run(stt.aclose())


def test_a_final_transcription_not_understood_is_retried_on_the_full_window(
        windows: tuple[WhisperSpeechToText, list[int]], spoken: bytes) -> None:
    stt, used = windows
    text = asyncio.run(asyncio.wait_for(stt.transcribe(spoken), AWAIT_LIMIT))
    assert used == [1500, FULL_WINDOW_FRAMES]
    assert "doors" in text.lower()


def test_a_transcription_at_a_pause_stays_quick(
        windows: tuple[WhisperSpeechToText, list[int]], spoken: bytes) -> None:
    stt, used = windows
    asyncio.run(asyncio.wait_for(stt.transcribe(spoken, partial=True), AWAIT_LIMIT))
    assert used == [1500]


def test_too_little_audio_is_no_text() -> None:
    stt = WhisperSpeechToText()
    assert asyncio.run(stt.transcribe(np.zeros(800, "<i2").tobytes())) == ""
    asyncio.run(stt.aclose())
