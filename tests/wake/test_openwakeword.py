"""openWakeWord's two stages: a strong score wakes at once; a faint one wakes only when the
speech recognizer also hears the wake phrase, checked once the score has peaked, once per
rise, and never while the assistant speaks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest

from assistant.audio import BYTES_PER_CHUNK, MS_PER_CHUNK, AudioChunk
from assistant.errors import SpeechToTextError
from assistant.stt.whisper import WhisperSpeechToText
from assistant.wake import Detection, wake_phrase
from assistant.wake.openwakeword import OpenWakeWordDetector
from tests.conftest import AWAIT_LIMIT
from tests.speech import espeak, noise, session


class Recognizer:
    """A stand-in second opinion: the support it gives, and the audio it was asked about."""

    def __init__(self, support: float) -> None:
        self.support = support
        self.asked: list[tuple[int, str]] = []

    async def __call__(self, audio: bytes, phrase: str) -> float:
        self.asked.append((len(audio), phrase))
        return self.support


def scripted(scores: list[float], recognizer: Recognizer | None, *, strict: bool = False
             ) -> list[Detection | None]:
    detector = OpenWakeWordDetector(verify=recognizer)
    feed: Iterator[float] = iter(scores)
    detector._best = lambda _audio: next(feed)  # type: ignore[method-assign]

    async def go() -> list[Detection | None]:
        found = []
        for index in range(len(scores)):
            chunk = AudioChunk(bytes(BYTES_PER_CHUNK), timestamp_ms=index * MS_PER_CHUNK)
            found.append(await asyncio.wait_for(detector.process(chunk, strict=strict),
                                                AWAIT_LIMIT))
        await detector.aclose()
        return found

    return asyncio.run(go())


def test_the_phrase_comes_from_a_packaged_models_name() -> None:
    assert wake_phrase("hey_jarvis") == "Hey Jarvis."
    assert wake_phrase("okay_nabu") == "Okay Nabu."


def test_a_strong_score_wakes_without_asking_the_recognizer() -> None:
    recognizer = Recognizer(-1.0)
    found = scripted([0.0, 0.3, 0.8, 0.2, 0.0], recognizer)
    assert [d is not None for d in found] == [False, False, True, False, False]
    assert recognizer.asked == []


def test_a_faint_score_is_checked_once_after_its_peak() -> None:
    recognizer = Recognizer(-2.0)
    found = scripted([0.0, 0.12, 0.3, 0.25, 0.05, 0.0], recognizer)
    assert [d is not None for d in found] == [False, False, False, True, False, False]
    detection = found[3]
    assert detection is not None and detection.probability == 0.3
    assert len(recognizer.asked) == 1 and recognizer.asked[0][1] == "Hey Jarvis."
    assert recognizer.asked[0][0] == 4 * BYTES_PER_CHUNK  # the audio up to the check


def test_a_faint_score_the_recognizer_does_not_support_does_not_wake() -> None:
    recognizer = Recognizer(-7.0)
    found = scripted([0.0, 0.2, 0.4, 0.3, 0.35, 0.2, 0.0, 0.15, 0.05], recognizer)
    assert not any(found)
    # one check for the first rise (not again on its wobble), one for the second
    assert len(recognizer.asked) == 2


def test_while_speaking_only_the_strict_threshold_counts() -> None:
    recognizer = Recognizer(-1.0)
    found = scripted([0.0, 0.4, 0.1, 0.0, 0.95, 0.0], recognizer, strict=True)
    assert [d is not None for d in found] == [False, False, False, False, True, False]
    assert recognizer.asked == []


def test_a_failing_recognizer_is_no_wake_and_no_crash() -> None:
    class Broken(Recognizer):
        async def __call__(self, audio: bytes, phrase: str) -> float:
            raise SpeechToTextError("stt-timeout", "too slow")

    assert not any(scripted([0.0, 0.3, 0.0], Broken(0.0)))


def _chunks(audio: np.ndarray) -> list[AudioChunk]:
    data = audio.astype("<i2").tobytes()
    return [AudioChunk(data[i:i + BYTES_PER_CHUNK], timestamp_ms=i / 32)
            for i in range(0, len(data) - BYTES_PER_CHUNK + 1, BYTES_PER_CHUNK)]


def _wakes(detector: OpenWakeWordDetector, audio: np.ndarray) -> int:
    async def go() -> int:
        found = [await asyncio.wait_for(detector.process(chunk), AWAIT_LIMIT)
                 for chunk in _chunks(audio)]
        await detector.aclose()
        return sum(d is not None for d in found)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def whisper() -> Iterator[WhisperSpeechToText]:
    stt = WhisperSpeechToText()
    yield stt
    asyncio.run(stt.aclose())


@pytest.mark.parametrize("second_opinion", [True, False])
def test_a_faint_accent_wakes_only_with_the_recognizers_second_opinion(
        whisper: WhisperSpeechToText, second_opinion: bool) -> None:
    # espeak-ng's Caribbean female voice: openWakeWord gives its "Hey Jarvis" about 0.16
    audio = session([espeak("Hey Jarvis.", "en-029+f1", 145, 58), 0.4,
                     espeak("lock the doors", "en-029+f1", 145, 58), 1.0])
    verify = whisper.phrase_support if second_opinion else None
    assert _wakes(OpenWakeWordDetector(verify=verify), audio) == int(second_opinion)


def test_other_speech_with_a_faint_score_is_not_confirmed(whisper: WhisperSpeechToText) -> None:
    verify = whisper.phrase_support
    talk = ["hey travis, are you coming", "the harvest is late this year",
            "a jar of biscuits, please", "hey, service is slow here"]
    audio = session([part for text in talk for part in (espeak(text, "en-029+f1"), 0.6)])
    detector = OpenWakeWordDetector(verify=verify, candidate_threshold=0.01)
    assert _wakes(detector, audio) == 0


def test_noise_alone_supports_no_wake_phrase(whisper: WhisperSpeechToText) -> None:
    # Whisper's decoder, given noise, drifts toward any phrase it is asked about
    hiss = (noise(2.5, "pinknoise", seed=3) // 4).astype(np.int16)
    support = asyncio.run(asyncio.wait_for(
        whisper.phrase_support(hiss.astype("<i2").tobytes(), "Hey Jarvis."), AWAIT_LIMIT))
    assert support == float("-inf")
