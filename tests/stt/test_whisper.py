"""The Whisper adapter on the packaged tiny.en model: windows, hypotheses, the time budget."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

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
    real = stt._decode

    def spy(audio: bytes, window_frames: int) -> Any:
        used.append(window_frames)
        return real(audio, window_frames)

    monkeypatch.setattr(stt, "_decode", spy)
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


def test_the_audio_supports_what_was_said_over_its_neighbours() -> None:
    stt = WhisperSpeechToText(window_s=15)
    decoded = stt._decode(piper("Stop the lathe.").astype("<i2").tobytes(), 1500)
    assert decoded is not None
    said, *others = stt.log_probabilities(
        decoded, ["Stop the lathe.", "Stop the welder.", "Start the lathe.", "Stop the plant."])
    assert said > max(others) + 2
    asyncio.run(stt.aclose())


@pytest.mark.parametrize(("gap", "taken"), [(2.0, True), (7.9, True), (8.5, False)])
def test_a_near_sentence_is_taken_only_within_the_margin(
        monkeypatch: pytest.MonkeyPatch, spoken: bytes, gap: float, taken: bool) -> None:
    stt = WhisperSpeechToText(window_s=15, accept=lambda text: text == "Lock the doors now.",
                              nearest=lambda text: ["lock the doors now"], nearest_margin=8.0)
    monkeypatch.setattr(stt, "log_probabilities",
                        lambda decoded, texts: [-1.0, -1.0 - gap][:len(texts)])
    text = asyncio.run(asyncio.wait_for(stt.transcribe(spoken), AWAIT_LIMIT))
    assert (text == "Lock the doors now.") is taken
    asyncio.run(stt.aclose())
