"""The pipeline's stages, follow-up listening, barge-in and error survival, on fakes.

A scripted chunk's bytes say what it is: 1 = the wake word, k >= 2 = speech of the k-th
utterance in the script, 0 = silence. The fakes read that back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from assistant.audio import BYTES_PER_CHUNK, MS_PER_CHUNK, AudioChunk
from assistant.audio.wavfile import WavFileSink
from assistant.config import AssistantConfig, VoiceActivityConfig
from assistant.errors import SpeechToTextError, TextToSpeechError
from assistant.events import Event
from assistant.nlu.classifier import IntentClassifier
from assistant.stt import FakeSpeechToText, Transcript
from assistant.tts import FakeTextToSpeech
from assistant.vad import FakeVoiceActivity
from assistant.wake import FakeWakeWord
from assistant.wiring import Engines, VoiceSession, build_voice_pipeline
from tests.conftest import AWAIT_LIMIT

WAKE, SILENCE = 1, 0


class ScriptSource:
    def __init__(self, marks: list[int]) -> None:
        self.marks = marks

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        for index, mark in enumerate(self.marks):
            yield AudioChunk(bytes([mark]) * BYTES_PER_CHUNK, index * MS_PER_CHUNK)

    async def aclose(self) -> None:
        return None


def script(*parts: tuple[str, int] | tuple[str, int, int]) -> list[int]:
    marks: list[int] = []
    for part in parts:
        if part[0] == "wake":
            marks += [WAKE]
        elif part[0] == "say":
            marks += [part[1]] * (part[2] if len(part) > 2 else 10)  # type: ignore[misc]
        else:
            marks += [SILENCE] * part[1]
    return marks


def _utterance(texts: list[str], audio: bytes) -> str:
    return texts[audio[len(audio) // 2] - 2]


def _session(
    texts: list[str], marks: list[int], classifier: IntentClassifier, tmp_path: Path,
    *, stt: Any = None, tts: Any = None, config: AssistantConfig | None = None, **configs: Any
) -> tuple[VoiceSession, list[Event], WavFileSink]:
    events: list[Event] = []
    sink = WavFileSink(None)
    engines = Engines(
        wake=FakeWakeWord(lambda chunk: chunk.audio[0] == WAKE),
        vad=FakeVoiceActivity(lambda chunk: 1.0 if chunk.audio[0] >= 2 else 0.0),
        stt=stt or FakeSpeechToText(lambda audio: _utterance(texts, audio)),
        tts=tts or FakeTextToSpeech(lambda text: bytes(32 * 10 * len(text))),  # 10 ms a letter
    )
    session = build_voice_pipeline(source=ScriptSource(marks), sink=sink, emit=events.append,
                                   audit_path=tmp_path / "audit.jsonl", engines=engines,
                                   classifier=classifier, skill_configs=configs or None,
                                   config=config)
    return session, events, sink


def _always(text: str, heard: list[int]) -> FakeSpeechToText:
    """Hears ``text`` whatever the audio; notes each audio's length in ``heard``."""

    def hear(audio: bytes) -> str:
        heard.append(len(audio))
        return text

    return FakeSpeechToText(hear)


async def _run(session: VoiceSession) -> None:
    await asyncio.wait_for(session.pipeline.run(), AWAIT_LIMIT)


def _kinds(events: list[Event]) -> list[str]:
    return [e.TYPE.value for e in events]


async def test_a_turn_goes_through_every_stage(classifier: IntentClassifier,
                                               tmp_path: Path) -> None:
    marks = script(("wake", 0), ("silence", 3), ("say", 2), ("silence", 10))
    session, events, sink = _session(["lock the doors"], marks, classifier, tmp_path)
    await _run(session)
    assert _kinds(events) == ["wake", "speech_end", "transcript", "intent", "action", "reply"]
    assert events[2].to_json()["text"] == "lock the doors"
    assert len(sink.replies()) > 0
    assert events[0].t_ms == MS_PER_CHUNK
    assert events[-1].t_ms > events[0].t_ms


async def test_speech_without_the_wake_word_is_ignored(classifier: IntentClassifier,
                                                       tmp_path: Path) -> None:
    marks = script(("silence", 3), ("say", 2), ("silence", 10))
    session, events, _ = _session(["unlock the doors"], marks, classifier, tmp_path)
    await _run(session)
    assert events == []


async def test_a_confirmation_is_answered_without_the_wake_word(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    marks = script(("wake", 0), ("say", 2), ("silence", 40), ("say", 3), ("silence", 10))
    session, events, _ = _session(["unlock the doors", "yes"], marks, classifier, tmp_path)
    await _run(session)
    assert [e for e in _kinds(events) if e in ("confirm", "action")] == ["confirm", "action"]
    assert not session.assistant.backend("vehicle").locked  # type: ignore[attr-defined]


async def test_silence_after_a_confirmation_cancels_it(classifier: IntentClassifier,
                                                       tmp_path: Path) -> None:
    marks = script(("wake", 0), ("say", 2), ("silence", 150))
    session, events, _ = _session(["unlock the doors"], marks, classifier, tmp_path)
    await _run(session)
    kinds = _kinds(events)
    assert "cancelled" in kinds
    assert "action" not in kinds
    cancelled = next(e for e in events if e.TYPE.value == "cancelled")
    confirm = next(e for e in events if e.TYPE.value == "confirm")
    assert cancelled.t_ms - confirm.t_ms >= 8000


async def test_no_speech_after_the_wake_word_goes_back_to_listening(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    marks = script(("wake", 0), ("silence", 80), ("wake", 0), ("say", 2), ("silence", 10))
    session, events, _ = _session(["lock the doors"], marks, classifier, tmp_path)
    await _run(session)
    assert _kinds(events).count("wake") == 2
    assert "action" in _kinds(events)


async def test_the_wake_word_interrupts_the_assistant_speaking(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    marks = script(("wake", 0), ("say", 2), ("silence", 5), ("wake", 0), ("say", 3),
                   ("silence", 10))
    session, events, sink = _session(["emergency stop", "stop the lathe"], marks, classifier,
                                     tmp_path)
    await _run(session)
    assert _kinds(events).count("wake") == 2
    replies = [e for e in events if e.TYPE.value == "reply"]
    first_reply_ms = 10 * len(replies[0].to_json()["text"])
    second_wake = [e for e in events if e.TYPE.value == "wake"][1]
    assert second_wake.t_ms - replies[0].t_ms < first_reply_ms  # it was still speaking
    assert len(sink.replies()) < 16 * 10 * sum(len(r.to_json()["text"]) for r in replies)
    actions = [e.to_json()["tool"] for e in events if e.TYPE.value == "action"]
    assert actions == ["emergency_stop", "stop_machine"]


async def test_a_speech_to_text_failure_is_reported_and_survived(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    def flaky(audio: bytes) -> str:
        if _utterance(["first", "second"], audio) == "first":
            raise SpeechToTextError("stt-engine-failed", "the engine crashed")
        return "lock the doors"

    marks = script(("wake", 0), ("say", 2), ("silence", 10), ("wake", 0), ("say", 3),
                   ("silence", 10))
    session, events, _ = _session([], marks, classifier, tmp_path,
                                  stt=FakeSpeechToText(flaky))
    await _run(session)
    errors = [e.to_json() for e in events if e.TYPE.value == "error"]
    assert errors[0]["code"] == "stt-engine-failed"
    assert "action" in _kinds(events)


async def test_a_speech_output_failure_is_reported_and_survived(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    def broken(text: str) -> bytes:
        raise TextToSpeechError("tts-engine-failed", "no voice")

    marks = script(("wake", 0), ("say", 2), ("silence", 10), ("wake", 0), ("say", 3),
                   ("silence", 10))
    session, events, _ = _session(["lock the doors", "unlock the doors"], marks, classifier,
                                  tmp_path, tts=FakeTextToSpeech(broken))
    await _run(session)
    assert [e.to_json()["code"] for e in events if e.TYPE.value == "error"][:1] == \
        ["tts-engine-failed"]
    assert "confirm" in _kinds(events)


@pytest.mark.parametrize("silence_chunks", [0, 3])
async def test_the_watchdog_sees_progress_per_chunk(
    classifier: IntentClassifier, tmp_path: Path, silence_chunks: int
) -> None:
    marks = script(("silence", silence_chunks + 2))
    session, _, _ = _session([], marks, classifier, tmp_path)
    await _run(session)
    assert session.pipeline.progress == len(marks)


async def test_a_whole_command_at_a_pause_is_acted_on_without_waiting_for_the_end(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    heard: list[int] = []
    marks = script(("wake", 0), ("say", 2), ("silence", 10))
    config = AssistantConfig(voice_activity=VoiceActivityConfig(pause_quiet_ms=100,
                                                                end_quiet_ms=250))
    session, events, _ = _session([], marks, classifier, tmp_path,
                                  stt=_always("lock the doors", heard), config=config)
    await _run(session)
    speech_stopped_ms = 11 * MS_PER_CHUNK
    ended = next(e for e in events if e.TYPE.value == "speech_end")
    assert speech_stopped_ms + 100 <= ended.t_ms < speech_stopped_ms + 250
    assert len(heard) == 1
    assert _kinds(events)[1:5] == ["speech_end", "transcript", "intent", "action"]


async def test_half_a_command_at_a_pause_waits_for_the_rest(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    heard: list[str] = []

    def hear(audio: bytes) -> str:
        heard.append("set the temperature to 21 degrees" if b"\x03" in audio
                     else "set the temperature to")
        return heard[-1]

    marks = script(("wake", 0), ("say", 2), ("silence", 2), ("say", 3, 4), ("silence", 10))
    session, events, _ = _session([], marks, classifier, tmp_path,
                                  stt=FakeSpeechToText(hear))
    await _run(session)
    assert heard == ["set the temperature to", "set the temperature to 21 degrees"]
    intents = [e.to_json() for e in events if e.TYPE.value == "intent"]
    assert [(i["tool"], i["arguments"]["celsius"]) for i in intents] == [("set_temperature", 21)]


async def test_a_pause_that_was_the_end_is_not_transcribed_twice(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    heard: list[int] = []
    marks = script(("wake", 0), ("say", 2), ("silence", 10))
    # understood, but "on the ... side" may follow
    session, events, _ = _session([], marks, classifier, tmp_path,
                                  stt=_always("set the temperature to 21 degrees", heard))
    await _run(session)
    assert len(heard) == 1
    assert "action" in _kinds(events)


async def test_a_guess_at_a_pause_that_is_not_understood_gets_a_full_transcription(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    calls: list[bool] = []

    class Recognizer(FakeSpeechToText):
        async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
            calls.append(partial)
            return Transcript("stop the blame" if partial else "stop the lathe")

    marks = script(("wake", 0), ("say", 2), ("silence", 10))
    session, events, _ = _session([], marks, classifier, tmp_path,
                                  stt=Recognizer(lambda audio: ""))
    await _run(session)
    assert calls == [True, False]
    assert [e.to_json()["text"] for e in events if e.TYPE.value == "transcript"] == \
        ["stop the lathe"]


def _unsure_at_a_pause(text: str, calls: list[bool], *, full_fails: bool = False
                       ) -> FakeSpeechToText:
    class Recognizer(FakeSpeechToText):
        async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
            calls.append(partial)
            if not partial and full_fails:
                raise SpeechToTextError("stt-timeout", "transcription took too long")
            return Transcript(text, uncertain="low confidence (-0.6)" if partial else "")

    return Recognizer(lambda audio: "")


async def test_a_whole_command_heard_unsure_at_a_pause_gets_a_full_transcription(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    """The quick guess at a pause has no second opinion; an unsure one is not the end."""
    calls: list[bool] = []
    marks = script(("wake", 0), ("say", 2), ("silence", 10))
    session, events, _ = _session([], marks, classifier, tmp_path,
                                  stt=_unsure_at_a_pause("lock the doors", calls))
    await _run(session)
    assert calls == [True, False]
    assert "clarify" not in _kinds(events) and "action" in _kinds(events)


async def test_a_stop_heard_unsure_at_a_pause_acts_without_waiting(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    calls: list[bool] = []
    marks = script(("wake", 0), ("say", 2), ("silence", 10))
    session, events, _ = _session([], marks, classifier, tmp_path,
                                  stt=_unsure_at_a_pause("stop the lathe", calls))
    await _run(session)
    assert calls == [True]
    actions = [e.to_json() for e in events if e.TYPE.value == "action"]
    assert [a["tool"] for a in actions] == ["stop_machine"]


async def test_an_unsure_guess_stands_when_the_full_transcription_fails(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    calls: list[bool] = []
    marks = script(("wake", 0), ("say", 2), ("silence", 10))
    session, events, _ = _session([], marks, classifier, tmp_path,
                                  stt=_unsure_at_a_pause("lock the doors", calls,
                                                         full_fails=True))
    await _run(session)
    assert calls == [True, False]
    assert "clarify" in _kinds(events)  # still unsure: read back, not lost, not acted on
    assert [e.to_json()["code"] for e in events if e.TYPE.value == "error"] == ["stt-timeout"]


async def test_a_model_that_is_not_used_is_said_once_and_the_turn_still_works(
    classifier: IntentClassifier, tmp_path: Path
) -> None:
    marks = script(("wake", 0), ("silence", 3), ("say", 2), ("silence", 10))
    events: list[Event] = []
    engines = Engines(
        wake=FakeWakeWord(lambda chunk: chunk.audio[0] == WAKE),
        vad=FakeVoiceActivity(lambda chunk: 1.0 if chunk.audio[0] >= 2 else 0.0),
        stt=FakeSpeechToText(lambda _audio: "lock the doors"),
        tts=FakeTextToSpeech(lambda text: bytes(32 * 10 * len(text))),
        language_model_problem="language model smollm2-135m not used: it is missing.",
    )
    session = build_voice_pipeline(source=ScriptSource(marks), sink=WavFileSink(None),
                                   emit=events.append, audit_path=tmp_path / "audit.jsonl",
                                   engines=engines, classifier=classifier)
    await _run(session)
    errors = [e.to_json() for e in events if e.TYPE.value == "error"]
    assert [e["code"] for e in errors] == ["slm-unavailable"]
    assert "not used" in errors[0]["message"]
    assert _kinds(events)[1:] == ["wake", "speech_end", "transcript", "intent", "action",
                                  "reply"]


async def test_a_stop_said_to_a_question_acts_by_voice(classifier: IntentClassifier,
                                                       tmp_path: Path) -> None:
    """Issue 12: by voice too, "stop all" answered "Which window?" by opening every window."""
    marks = script(("wake", 0), ("say", 2), ("silence", 40), ("say", 3), ("silence", 10))
    session, events, _ = _session(["open the window", "stop all"], marks, classifier, tmp_path)
    await _run(session)
    actions = [e.to_json() for e in events if e.TYPE.value == "action"]
    assert [a["tool"] for a in actions] == ["emergency_stop"]
    car = session.assistant.backend("vehicle")
    assert all(p == 0 for p in car.windows.values())  # type: ignore[attr-defined]
    assert session.assistant.backend("factory").latched  # type: ignore[attr-defined]
