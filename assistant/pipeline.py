"""The voice pipeline: wake word → voice activity → speech-to-text → dialogue → speech.

One loop reads the audio source. Every engine sits behind its Protocol and does its
blocking work on a worker thread. Time is the input's stream time (``StreamClock``), so a
WAV file processed faster than real time behaves as the same audio would live: event
``t_ms`` values, the 8-second confirmation window and barge-in all follow the audio.

Stages, each with a timeout and an error code (``stt-…``, ``intent-…``, ``tts-…``):

    WAKE ─wake word─▶ LISTEN ─end of speech─▶ STT ─text─▶ INTENT ─reply─▶ TTS ─▶ WAKE
                        ▲                                                  │
                        └──── follow-up: an answer is awaited (no wake) ◀──┘

At a short pause the audio so far is transcribed; if the text core fully understands it,
the turn ends there instead of after the longer end silence (most commands are acted on
~150 ms sooner), and otherwise the text is reused if the voice does not come back. A quick
guess the recognizer is unsure of, whose call doubt could hold back, gets the recognizer's
full effort first (a second opinion); a stop heard at a pause acts on the guess.

While the assistant speaks, the wake word (at a stricter threshold, so its own voice does
not wake it) stops playback at once and listens: barge-in. Replies from anywhere (a timer
ringing) are spoken too, because every ``reply`` event is spoken.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from assistant.audio import AudioChunk, AudioSink, AudioSource
from assistant.dialogue import Dialogue
from assistant.errors import AssistantError
from assistant.events import (
    ErrorEvent,
    Event,
    EventSink,
    ReplyEvent,
    SpeechEndEvent,
    TranscriptEvent,
    WakeEvent,
)
from assistant.stt import SpeechToText, Transcript
from assistant.tts import TextToSpeech
from assistant.vad import Endpoint, Endpointer, EndpointKind, VoiceActivity
from assistant.wake import WakeWordDetector

__all__ = ["PipelineSettings", "Stage", "StreamClock", "VoicePipeline"]

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
NOT_HEARD = "Sorry, I didn't catch that."


class TranscriptCheck(Protocol):
    def fully_understands(self, text: str) -> bool: ...

    def finished(self, text: str) -> bool: ...

    def doubt_matters(self, text: str) -> bool: ...


class Stage(StrEnum):
    WAKE = "wake"
    LISTEN = "listen"
    STT = "stt"
    INTENT = "intent"
    TTS = "tts"


class StreamClock:
    """Milliseconds of input audio read so far: the pipeline's and the dialogue's clock."""

    def __init__(self) -> None:
        self.position_ms = 0.0

    def ms(self) -> float:
        return self.position_ms

    def seconds(self) -> float:
        return self.position_ms / 1000.0


@dataclass(frozen=True)
class PipelineSettings:
    intent_timeout_s: float = 5.0
    """Seconds understanding and dispatch may take before the turn is dropped."""
    tts_timeout_s: float = 10.0
    """Seconds one reply's synthesis may take."""
    question_timeout_ms: float = 6000.0
    """Milliseconds to wait for the answer to a question ("Which window?")."""
    paced: bool = False
    """True for a live microphone: speech plays while input keeps being read."""


class VoicePipeline:
    """Runs until the source ends or the task is cancelled; survives every stage error."""

    def __init__(
        self,
        *,
        source: AudioSource,
        sink: AudioSink,
        wake: WakeWordDetector,
        vad: VoiceActivity,
        stt: SpeechToText,
        tts: TextToSpeech,
        dialogue: Dialogue,
        clock: StreamClock,
        emit: EventSink,
        endpointer: Endpointer | None = None,
        settings: PipelineSettings | None = None,
        transcripts: TranscriptCheck | None = None,
    ) -> None:
        """``transcripts`` (the text core) says whether a transcript is understood and
        whether it is finished; a finished one heard at a pause ends the turn without
        waiting for the end silence."""
        self.source, self.sink = source, sink
        self.wake, self.vad, self.stt, self.tts = wake, vad, stt, tts
        self.dialogue = dialogue
        self.clock = clock
        self._emit = emit
        self.endpointer = endpointer or Endpointer()
        self.settings = settings or PipelineSettings()
        self.stage = Stage.WAKE
        self._follow_up = False
        self._speech: asyncio.Task[None] | None = None
        self._paused: tuple[int, Transcript] | None = None
        self._transcripts = transcripts
        self._replies: list[str] = []
        self.progress = 0
        """Chunks processed: the watchdog is petted from this moving, not from a timer."""

    def on_event(self, event: Event) -> None:
        """The dialogue's event sink: everything is passed on; every reply is spoken."""
        self._emit(event)
        if isinstance(event, ReplyEvent) and event.text:
            self._replies.append(event.text)

    async def run(self) -> None:
        try:
            async for chunk in self.source.chunks():
                self.clock.position_ms = chunk.end_ms
                self.sink.set_time(chunk.timestamp_ms)
                await self._step(chunk)
                self.progress += 1
            await self._finish()
        finally:
            await self._stop_speaking()

    async def _step(self, chunk: AudioChunk) -> None:
        speaking = self.sink.playing
        # Only a barge-in needs the wake word outside the wake stage: no faint ones there.
        strict = speaking or self.stage != Stage.WAKE
        detection = await self._guarded(Stage.WAKE, self.wake.process(chunk, strict=strict))
        if detection is not None and (self.stage == Stage.WAKE or speaking):
            await self._stop_speaking()
            self._emit(WakeEvent(t_ms=detection.timestamp_ms, name=detection.name))
            self._listen(detection.timestamp_ms)
            return
        if self._follow_up and not speaking and not self.endpointer.active:
            self._follow_up = False
            self._listen(chunk.timestamp_ms, follow_up=True)
        if not self.endpointer.active:
            return
        probabilities = await self._guarded(Stage.LISTEN, self.vad.frames(chunk))
        endpoint = self.endpointer.feed(chunk, probabilities or [])
        if endpoint is not None:
            await self._endpoint(endpoint)

    def _listen(self, now_ms: float, *, follow_up: bool = False) -> None:
        self.stage = Stage.LISTEN
        self.vad.reset()
        timeout: float | None = None
        if follow_up:
            deadline = self.dialogue.deadline
            timeout = (deadline * 1000 - now_ms) if deadline is not None \
                else self.settings.question_timeout_ms
        self._paused = None
        self.endpointer.start(now_ms, timeout_ms=timeout)

    async def _endpoint(self, endpoint: Endpoint) -> None:
        if endpoint.kind == EndpointKind.SPEECH_STARTED:
            return
        if endpoint.kind == EndpointKind.PAUSE:
            await self._at_pause(endpoint)
            return
        if endpoint.kind == EndpointKind.NO_SPEECH:
            self.stage = Stage.WAKE
            await self._guarded(Stage.INTENT, self.dialogue.silence())
            await self._speak_replies()
            return
        paused, self._paused = self._paused, None
        if paused is not None and paused[0] == endpoint.pause_id and (
                self._transcripts is None or self._transcripts.fully_understands(paused[1].text)):
            await self._ended(endpoint, paused[1])
        else:  # the quick guess at the pause is not enough: the recognizer's full effort
            await self._ended(endpoint)

    async def _at_pause(self, pause: Endpoint) -> None:
        """Transcribe at a pause. A whole command ends the turn now instead of after the
        end silence; anything else is kept in case the voice does not come back."""
        try:
            heard = await self.stt.transcribe(pause.audio, partial=True)
        except AssistantError as err:
            _LOGGER.warning("transcription at a pause failed (%s); waiting for the end", err)
            return
        if heard.text.strip() and self._transcripts is not None \
                and self._transcripts.finished(heard.text):
            self.endpointer.stop()
            await self._ended(pause, heard)
        elif pause.pause_id is not None:
            self._paused = (pause.pause_id, heard)

    async def _ended(self, endpoint: Endpoint, heard: Transcript | None = None) -> None:
        self._emit(SpeechEndEvent(t_ms=endpoint.timestamp_ms,
                                  speech_ms=len(endpoint.audio) / 32.0))
        self.stage = Stage.STT
        if heard is None:
            heard = await self._guarded(Stage.STT, self.stt.transcribe(endpoint.audio))
        elif heard.uncertain and (self._transcripts is None
                                  or self._transcripts.doubt_matters(heard.text)):
            # an unsure quick guess at a pause that could be held back: the recognizer's
            # full effort (a second opinion) on the same audio; the guess if that fails
            full = await self._guarded(Stage.STT, self.stt.transcribe(endpoint.audio))
            heard = full if full is not None else heard
        if heard is None:
            self._replies.append("Sorry, something went wrong while listening.")
        elif not heard.text.strip():
            self._replies.append(NOT_HEARD)
        else:
            self._emit(TranscriptEvent(t_ms=self.clock.ms(), text=heard.text))
            self.stage = Stage.INTENT
            await self._guarded(Stage.INTENT, asyncio.wait_for(
                self.dialogue.hear(heard.text, heard=heard), self.settings.intent_timeout_s))
        self.stage = Stage.WAKE
        self._follow_up = self.dialogue.awaiting
        await self._speak_replies()

    async def _speak_replies(self) -> None:
        if not self._replies:
            return
        text = " ".join(self._replies)
        self._replies = []
        self._speech = asyncio.get_running_loop().create_task(
            self._say(text), name="pipeline-speech-output")
        if not self.settings.paced:
            await self._speech

    async def _say(self, text: str) -> None:
        async def synthesize_and_play() -> None:
            async for chunk in self.tts.synthesize(text):
                await self.sink.play(chunk)

        await self._guarded(Stage.TTS, asyncio.wait_for(synthesize_and_play(),
                                                        self.settings.tts_timeout_s))

    async def _stop_speaking(self) -> None:
        task, self._speech = self._speech, None
        if task is not None and not task.done():
            task.cancel("barge-in: playback stopped")
            await asyncio.gather(task, return_exceptions=True)
        await self.sink.stop()

    async def _finish(self) -> None:
        """Input ended: a pending exchange is closed the way silence would close it."""
        self._paused = None
        if self.dialogue.awaiting:
            await self._guarded(Stage.INTENT, self.dialogue.silence())
        await self._speak_replies()
        if self._speech is not None:
            await asyncio.gather(self._speech, return_exceptions=True)

    async def _guarded(self, stage: Stage, work: Awaitable[T]) -> T | None:
        """Await a stage's work; an error is emitted and logged, and the loop goes on."""
        try:
            return await work
        except AssistantError as err:
            code, message = err.code, err.message
        except TimeoutError:
            code, message = f"{stage.value}-timeout", f"the {stage.value} stage took too long"
        _LOGGER.warning("%s failed: %s (%s)", stage.value, message, code)
        self._emit(ErrorEvent(t_ms=self.clock.ms(), code=code, message=message))
        return None
