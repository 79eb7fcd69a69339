"""Always listening: a stop said while the assistant is still thinking pre-empts the turn,
on fakes fed at a microphone's pace (the reader, the turns task and the stop spotter run
on the wall clock, as live).

Chunk bytes say what they are (as in test_pipeline): 1 = the wake word, k >= 2 = speech
of the k-th utterance, 0 = silence.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.audio import BYTES_PER_CHUNK, MS_PER_CHUNK, AudioChunk
from assistant.audio.wavfile import WavFileSink
from assistant.events import Event
from assistant.nlu.classifier import IntentClassifier
from assistant.skill_api import ToolResult
from assistant.stt import FakeSpeechToText, Transcript
from assistant.tts import FakeTextToSpeech
from assistant.vad import FakeVoiceActivity
from assistant.wake import FakeWakeWord
from assistant.wiring import Engines, VoiceSession, build_voice_pipeline
from tests.conftest import AWAIT_LIMIT
from tests.test_pipeline import WAKE, _utterance, script

STOP_WITHIN_MS = 300.0


class PacedSource:
    """Each chunk once it would have arrived from a microphone; notes the wall-clock time
    each chunk ended."""

    def __init__(self, marks: list[int]) -> None:
        self.marks = marks
        self.began = 0.0

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        self.began = time.perf_counter()
        for index, mark in enumerate(self.marks):
            end_s = (index + 1) * MS_PER_CHUNK / 1000
            await asyncio.sleep(max(0.0, self.began + end_s - time.perf_counter()))
            yield AudioChunk(bytes([mark]) * BYTES_PER_CHUNK, index * MS_PER_CHUNK)

    async def aclose(self) -> None:
        return None


class SlowRecognizer(FakeSpeechToText):
    """Transcribing a command takes ``seconds`` (the spotter's guess is quick)."""

    def __init__(self, texts: list[str], seconds: float) -> None:
        super().__init__(lambda audio: _utterance(texts, audio))
        self.seconds = seconds

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
        await asyncio.sleep(self.seconds)
        return await super().transcribe(audio, partial=partial)


class SlowVoice(FakeTextToSpeech):
    """A reply's first audio comes ``seconds`` after it is asked for (synthesis)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(lambda text: bytes(32 * 10 * len(text)))
        self.seconds = seconds

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        await asyncio.sleep(self.seconds)
        async for chunk in super().synthesize(text):
            yield chunk


def _paced(texts: list[str], marks: list[int], classifier: IntentClassifier, tmp_path: Path,
           stt: Any, *, tts: Any = None) -> tuple[VoiceSession, list[tuple[float, Event]],
                                                  PacedSource]:
    timed: list[tuple[float, Event]] = []
    source = PacedSource(marks)
    engines = Engines(
        wake=FakeWakeWord(lambda chunk: chunk.audio[0] == WAKE),
        vad=FakeVoiceActivity(lambda chunk: 1.0 if chunk.audio[0] >= 2 else 0.0),
        stt=stt, tts=tts or FakeTextToSpeech(lambda text: bytes(32 * 10 * len(text))))
    session = build_voice_pipeline(
        source=source, sink=WavFileSink(None),
        emit=lambda event: timed.append((time.perf_counter(), event)),
        audit_path=tmp_path / "audit.jsonl", engines=engines, classifier=classifier,
        paced=True)
    return session, timed, source


def _end_of(marks: list[int], mark: int) -> float:
    """Wall-clock seconds after the start at which utterance ``mark`` ends."""
    return (max(i for i, m in enumerate(marks) if m == mark) + 1) * MS_PER_CHUNK / 1000


async def _run(session: VoiceSession) -> None:
    """The session at a microphone's pace, and then at most ``AWAIT_LIMIT``."""
    source = session.pipeline.source
    assert isinstance(source, PacedSource)
    try:
        await asyncio.wait_for(session.pipeline.run(),
                               len(source.marks) * MS_PER_CHUNK / 1000 + AWAIT_LIMIT)
    finally:
        await session.aclose()


async def test_a_stop_while_a_command_is_transcribed_cancels_it_and_acts_at_once(
        classifier: IntentClassifier, tmp_path: Path) -> None:
    texts = ["set the temperature to 21 degrees", "emergency stop"]
    marks = script(("wake", 1), ("say", 2), ("quiet", 5), ("say", 3, 8), ("quiet", 30))
    session, timed, source = _paced(texts, marks, classifier, tmp_path,
                                    SlowRecognizer(texts, seconds=2.5))
    await _run(session)
    events = [e.to_json() for _, e in timed]
    actions = [e for e in events if e["event"] == "action"]
    assert [a["tool"] for a in actions] == ["emergency_stop"]
    interrupted = [e for e in events if e["event"] == "interrupted"]
    assert len(interrupted) == 1 and "emergency stop" in interrupted[0]["reason"]
    acted_at = next(w for w, e in timed if e.to_json()["event"] == "action") - source.began
    assert (acted_at - _end_of(marks, 3)) * 1000 <= STOP_WITHIN_MS
    assert not any(e["event"] == "intent" and e["tool"] == "set_temperature" for e in events)
    records = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert not any('"set_temperature"' in r and '"executing"' in r for r in records)


async def test_an_action_already_executing_runs_to_its_result_before_the_stop(
        classifier: IntentClassifier, tmp_path: Path) -> None:
    texts = ["set the temperature to 21 degrees", "emergency stop"]
    marks = script(("wake", 1), ("say", 2), ("quiet", 5), ("say", 3, 8), ("quiet", 30))
    session, timed, _ = _paced(texts, marks, classifier, tmp_path,
                               SlowRecognizer(texts, seconds=0.0))
    catalog = session.assistant.dispatcher.catalog
    slow = catalog.tools["set_temperature"]

    async def slowly(arguments: BaseModel) -> ToolResult:
        await asyncio.sleep(1.5)  # the climate controller takes its time to answer
        return await slow.handler(arguments)

    catalog.tools["set_temperature"] = dataclasses.replace(slow, handler=slowly)
    await _run(session)
    events = [e.to_json() for _, e in timed]
    actions = [(a["tool"], a["ok"]) for a in events if a["event"] == "action"]
    assert actions == [("set_temperature", True), ("emergency_stop", True)]
    # the stop was said while the slow action ran, and waited for its result
    stop_said = [e["t_ms"] for e in events if e["event"] == "speech_end"][1]
    assert stop_said < next(e["t_ms"] for e in events if e["event"] == "action")
    assert not any(e["event"] == "interrupted" for e in events)
    kinds = [r for r in (tmp_path / "audit.jsonl").read_text().splitlines()
             if '"set_temperature"' in r]
    assert any('"result"' in r for r in kinds)


async def test_talk_that_is_no_stop_while_thinking_is_left_alone(
        classifier: IntentClassifier, tmp_path: Path) -> None:
    texts = ["set the temperature to 21 degrees", "what a lovely day it is"]
    marks = script(("wake", 1), ("say", 2), ("quiet", 5), ("say", 3, 8), ("quiet", 30))
    session, timed, _ = _paced(texts, marks, classifier, tmp_path,
                               SlowRecognizer(texts, seconds=1.0))
    await _run(session)
    events = [e.to_json() for _, e in timed]
    assert [(a["tool"], a["arguments"]) for a in events if a["event"] == "action"] == [
        ("set_temperature", {"celsius": 21, "zone": "all"})]
    assert not any(e["event"] == "interrupted" for e in events)


class WholeOnly(SlowRecognizer):
    """Hears an utterance only from all of its audio; a part of it is a fragment."""

    def __init__(self, texts: list[str], marks: list[int], seconds: float) -> None:
        super().__init__(texts, seconds)
        self.lengths = {m: marks.count(m) * BYTES_PER_CHUNK for m in set(marks) if m >= 2}

    async def spot(self, audio: bytes) -> Transcript:
        heard = await super().spot(audio)
        mark = audio[len(audio) // 2]
        whole = audio.count(bytes([mark])) >= 0.9 * self.lengths.get(mark, 0)
        return heard if whole else Transcript("see stop")


async def test_a_stop_begun_after_a_turn_and_before_its_reply_plays_is_not_lost(
        classifier: IntentClassifier, tmp_path: Path) -> None:
    """The turn ends before "emergency stop" begins, and its reply starts to play only
    while the stop is being said (synthesis takes time): the stop is heard whole."""
    texts = ["what a lovely day it is", "emergency stop"]
    marks = script(("wake", 1), ("say", 2), ("quiet", 5), ("say", 3, 10), ("quiet", 30))
    session, timed, _ = _paced(texts, marks, classifier, tmp_path,
                               WholeOnly(texts, marks, seconds=0.05), tts=SlowVoice(0.6))
    await _run(session)
    events = [e.to_json() for _, e in timed]
    assert [a["tool"] for a in events if a["event"] == "action"] == ["emergency_stop"]


async def test_the_command_after_the_wake_word_is_the_turns_not_the_spotters(
        classifier: IntentClassifier, tmp_path: Path) -> None:
    """"Hey Jarvis, emergency stop" while nothing is in flight is one stop, not two."""
    texts = ["emergency stop"]
    marks = script(("wake", 1), ("say", 2), ("quiet", 30))
    session, timed, _ = _paced(texts, marks, classifier, tmp_path,
                               SlowRecognizer(texts, seconds=0.3))
    await _run(session)
    events = [e.to_json() for _, e in timed]
    assert [a["tool"] for a in events if a["event"] == "action"] == ["emergency_stop"]
    assert not any(e["event"] == "interrupted" for e in events)


async def test_a_stop_while_a_yes_is_transcribed_cancels_the_confirmation_for_good(
        classifier: IntentClassifier, tmp_path: Path) -> None:
    """"Start press one" → "Are you sure?" → "yes" (slow to transcribe) → "emergency stop":
    the stop runs, the confirmation is cancelled, and what is said next without the wake
    word is not taken as an answer."""
    texts = ["start press one", "yes", "emergency stop", "start press one"]
    marks = script(("wake", 1), ("say", 2), ("quiet", 40), ("say", 3, 5), ("quiet", 3),
                   ("say", 4, 8), ("quiet", 10), ("say", 5), ("quiet", 30))

    class SlowYes(SlowRecognizer):
        async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
            if _utterance(texts, audio) == "yes":
                await asyncio.sleep(2.0)
            return await FakeSpeechToText.transcribe(self, audio, partial=partial)

    session, timed, _ = _paced(texts, marks, classifier, tmp_path, SlowYes(texts, 0.0))
    await _run(session)
    events = [e.to_json() for _, e in timed]
    assert [a["tool"] for a in events if a["event"] == "action"] == ["emergency_stop"]
    assert [e["tool"] for e in events if e["event"] == "cancelled"] == ["start_machine"]
    stopped = next(i for i, e in enumerate(events) if e["event"] == "action")
    assert not any(e["event"] == "intent" and e["tool"] == "start_machine"
                   for e in events[stopped:])


async def test_the_wake_word_and_a_stop_while_a_turn_is_in_flight_stop_once(
        classifier: IntentClassifier, tmp_path: Path) -> None:
    texts = ["set the temperature to 21 degrees", "emergency stop"]
    marks = script(("wake", 1), ("say", 2), ("quiet", 5), ("wake", 1), ("say", 3, 8),
                   ("quiet", 40))
    session, timed, _ = _paced(texts, marks, classifier, tmp_path,
                               SlowRecognizer(texts, seconds=1.5))
    await _run(session)
    events = [e.to_json() for _, e in timed]
    assert [a["tool"] for a in events if a["event"] == "action"] == ["emergency_stop"]
    assert len([e for e in events if e["event"] == "interrupted"]) == 1


async def test_a_stop_said_in_the_same_breath_as_the_command_still_acts(
        classifier: IntentClassifier, tmp_path: Path) -> None:
    """"Lock the doors ... emergency stop!" with only a short gap: the turn has taken the
    command at its pause, and the stop that follows in the same utterance is heard."""
    texts = ["lock the doors", "emergency stop"]
    marks = script(("wake", 1), ("say", 2), ("quiet", 2), ("say", 3, 8), ("quiet", 40))
    session, timed, _ = _paced(texts, marks, classifier, tmp_path,
                               SlowRecognizer(texts, seconds=1.5))
    await _run(session)
    events = [e.to_json() for _, e in timed]
    assert [a["tool"] for a in events if a["event"] == "action"] == ["emergency_stop"]
