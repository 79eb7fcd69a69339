"""The voice pipeline: wake word → voice activity → speech-to-text → dialogue → speech.

Every engine sits behind its Protocol and does its blocking work on a worker thread. Time
is the input's stream time (``StreamClock``), so a WAV file processed faster than real time
behaves as the same audio would live: event ``t_ms`` values, the 8-second confirmation
window and barge-in all follow the audio.

Paced (a microphone, or ``run --realtime``), the audio never waits::

    source ─▶ reader task: wake word, voice activity ─▶ queue ─▶ turns task ─▶ speech task
                    │  (every chunk, as it arrives)                 (one turn task at a time)
                    └▶ stop spotter ─ a stop ─▶ cancels the turn in flight (an action
                       (while a turn is in flight or a reply plays)  executing runs to its
                                                                     result first), acts

The reader takes every chunk as it arrives; the turns task works through them behind it,
and a turn (transcribing, understanding, dispatching) is a named task it holds. Unpaced (a
file as fast as the engines allow), the reader waits for each turn: processing takes no
audio time, and a run is the same on any machine.

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
import math
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from typing import TypeVar

from assistant.audio import AudioChunk, AudioSink, AudioSource
from assistant.dialogue import Dialogue, TurnResult
from assistant.errors import AssistantError
from assistant.events import (
    ErrorEvent,
    EventSink,
    InterruptedEvent,
    SpeechEndEvent,
    TranscriptEvent,
    WakeEvent,
)
from assistant.pipeline.base import (
    Notices,
    PipelineSettings,
    Stage,
    StreamClock,
    TranscriptCheck,
)
from assistant.pipeline.speaking import Speaker
from assistant.pipeline.spotter import ONSET_SLACK_MS, StopSpotter
from assistant.stt import SpeechToText, Transcript
from assistant.tts import TextToSpeech
from assistant.vad import Endpoint, Endpointer, EndpointKind, VoiceActivity
from assistant.wake import Detection, WakeWordDetector

__all__ = ["PipelineSettings", "Stage", "StreamClock", "VoicePipeline"]

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
NOT_HEARD = "Sorry, I didn't catch that."
LOST = "Sorry, something went wrong while listening."
ECHO_MS = 2000.0
"""How long after the assistant's voice was last heard playing a spotted stop in its words
is taken for the microphone hearing it."""
SPOT_PAUSE_MS = 40.0
"""Quiet (ms) after which the spotter guesses: a stop is acted on at the first short gap,
not after the command path's 100 ms; a guess that is no stop waits for the next."""


@dataclass
class _Heard:
    """One chunk with what the always-on stages found in it."""

    chunk: AudioChunk
    detection: Detection | None
    voice: list[float] | None = None
    """Voice activity per 10 ms frame; computed by the reader when paced."""


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
        notices: Notices | None = None,
    ) -> None:
        """``transcripts`` (the text core) says whether a transcript is understood, whether
        it is finished (one heard at a pause then ends the turn without waiting for the end
        silence) and whether it is a stop (the spotter acts on those). ``notices``: what
        the skills said unprompted, spoken between turns."""
        self.source, self.sink = source, sink
        self.wake, self.vad, self.stt, self.tts = wake, vad, stt, tts
        self.dialogue = dialogue
        self.clock = clock
        self._emit = emit
        self.endpointer = endpointer or Endpointer()
        self.settings = settings or PipelineSettings()
        self.stage = Stage.WAKE
        self._follow_up = False
        self.speaker = Speaker(tts, sink, timeout_s=self.settings.tts_timeout_s,
                               guard=lambda work: self._guarded(Stage.TTS, work),
                               wait=not self.settings.paced)
        self._paused: tuple[int, Transcript] | None = None
        self._transcripts = transcripts
        self._notices = notices
        self._turn: asyncio.Task[None] | None = None
        self._turns = 0
        self._heard_text = ""
        self._skip_until_ms = -1.0
        self._command = (-1.0, -1.0)
        """Where the audio of the latest command handed to a turn began and ended."""
        self._hearing: asyncio.Task[TurnResult] | None = None
        self._executions_before = 0
        """The dispatcher's actions begun before the hearing in progress."""
        self._reply_heard_ms = -math.inf
        self._dialogue_turn = asyncio.Lock()
        self.spotter: StopSpotter | None = None
        if self.settings.paced and transcripts is not None:
            self.spotter = StopSpotter(stt, transcripts.acts_at_once, self._preempt,
                                       self.endpointer.settings.model_copy(
                                           update={"pause_quiet_ms": SPOT_PAUSE_MS}))
            self.spotter.ignore = self._hearing_itself
        self.progress = 0
        """Chunks worked through: the watchdog is petted from this moving, not a timer."""

    async def run(self) -> None:
        try:
            if self.settings.paced:
                await self._run_paced()
            else:
                async for chunk in self.source.chunks():
                    await self._step(await self._read(chunk))
                await self._finish()
        finally:
            if self.spotter is not None:
                await self.spotter.aclose()
            await self.speaker.stop()
            await self.dialogue.dispatcher.settle()

    async def replace_text_core(self, dialogue: Dialogue, transcripts: TranscriptCheck | None,
                                notices: Notices | None) -> Dialogue:
        """Swap in another text core between turns (the skills were reloaded) while the
        audio, wake word, voice activity and recognizer go on: a turn in flight finishes
        on the old one first. Returns the old dialogue; an answer it still awaits would now
        reach the new one, so the caller cancels it (never carried over)."""
        while True:
            turn = self._turn
            if turn is not None and not turn.done():
                await asyncio.wait({turn})
            elif self._dialogue_turn.locked():
                async with self._dialogue_turn:
                    pass
            else:
                break
        # No await from the last check to here: no turn can begin in between.
        old, self.dialogue = self.dialogue, dialogue
        self._transcripts, self._notices = transcripts, notices
        if self.spotter is not None and transcripts is not None:
            self.spotter.is_stop = transcripts.acts_at_once
        if old.awaiting:
            self._follow_up = False
            if self.stage == Stage.LISTEN:
                self.endpointer.stop()
                self.stage = Stage.WAKE
        return old

    async def _run_paced(self) -> None:
        """The reader: every chunk as it arrives, whatever the turns task is doing."""
        queue: asyncio.Queue[_Heard | None] = asyncio.Queue()
        turns = asyncio.get_running_loop().create_task(self._take_turns(queue),
                                                       name="pipeline-turns")
        try:
            async for chunk in self.source.chunks():
                heard = await self._read(chunk)
                heard.voice = await self._guarded(Stage.LISTEN, self.vad.frames(chunk)) or []
                if heard.detection is not None:
                    if heard.detection.in_stream and self._wakes():
                        self.vad.reset()  # the wake word's tail is not the command
                    if self.spotter is not None:
                        self.spotter.restart(chunk.end_ms)
                elif self.spotter is not None:
                    self.spotter.feed(chunk, heard.voice, attentive=self._attentive(),
                                      command=self._command)
                if self.sink.playing:
                    self._reply_heard_ms = chunk.end_ms
                queue.put_nowait(heard)
                if turns.done():
                    break
            queue.put_nowait(None)
            await turns
        finally:
            if not turns.done():
                turns.cancel("the pipeline stopped")
                await asyncio.gather(turns, return_exceptions=True)

    def _wakes(self) -> bool:
        """Whether a wake word now starts a new command (a barge-in too): not one said
        while a turn is worked on or a question is listened to."""
        return self.stage == Stage.WAKE or self.sink.playing

    async def _take_turns(self, queue: asyncio.Queue[_Heard | None]) -> None:
        while (heard := await queue.get()) is not None:
            if heard.chunk.end_ms > self._skip_until_ms:  # not the audio a stop took
                await self._step(heard)
        await self._finish()

    def _attentive(self) -> bool:
        """A turn is in flight, a reply is synthesized or plays, or a stop is being run:
        the spotter listens (no wake word)."""
        return (self._turn is not None and not self._turn.done()) or (
            self.speaker.busy and self.stage == Stage.WAKE) or (
            self.spotter is not None and self.spotter.acting)

    def _hearing_itself(self, text: str) -> bool:
        return self.clock.ms() - self._reply_heard_ms < ECHO_MS and self.speaker.said(text)

    async def _read(self, chunk: AudioChunk) -> _Heard:
        self.clock.position_ms = chunk.end_ms
        self.sink.set_time(chunk.timestamp_ms)
        # Only a barge-in needs the wake word outside the wake stage: no faint ones there.
        strict = self.sink.playing or self.stage != Stage.WAKE
        detection = await self._guarded(Stage.WAKE, self.wake.process(chunk, strict=strict))
        return _Heard(chunk, detection)

    async def _step(self, heard: _Heard) -> None:
        self.progress += 1
        chunk, detection = heard.chunk, heard.detection
        speaking = self.sink.playing
        if detection is not None and self._wakes():
            await self.speaker.stop()
            self._emit(WakeEvent(t_ms=detection.timestamp_ms, name=detection.name))
            self._listen(detection.timestamp_ms)
            return
        if self._follow_up and not speaking and not self.endpointer.active:
            self._follow_up = False
            self._listen(chunk.timestamp_ms, follow_up=True)
        if not self.endpointer.active:
            if self._notices is not None and not speaking and self.stage == Stage.WAKE:
                await self.speaker.speak(self._notices.drain())
            return
        probabilities = heard.voice if heard.voice is not None else \
            await self._guarded(Stage.LISTEN, self.vad.frames(chunk))
        endpoint = self.endpointer.feed(chunk, probabilities or [])
        if endpoint is not None:
            await self._endpoint(endpoint)

    def _listen(self, now_ms: float, *, follow_up: bool = False) -> None:
        self.stage = Stage.LISTEN
        if not self.settings.paced:  # paced, the reader resets it at the wake word
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
            await self._in_turn(endpoint, self._at_pause(endpoint))
            return
        if endpoint.kind == EndpointKind.NO_SPEECH:
            self.stage = Stage.WAKE
            async with self._dialogue_turn:
                reply = await self._guarded(Stage.INTENT, self.dialogue.silence())
            await self.speaker.speak([reply] if reply else [])
            return
        paused, self._paused = self._paused, None
        if paused is not None and paused[0] == endpoint.pause_id and (
                self._transcripts is None or self._transcripts.fully_understands(paused[1].text)):
            await self._in_turn(endpoint, self._ended(endpoint, paused[1]))
        else:  # the quick guess at the pause is not enough: the recognizer's full effort
            await self._in_turn(endpoint, self._ended(endpoint))

    async def _in_turn(self, endpoint: Endpoint, work: Coroutine[None, None, None]) -> None:
        """Run a turn's work on ``endpoint``'s audio as a named task the pipeline holds (a
        stop can cancel it)."""
        self._command = (endpoint.timestamp_ms - len(endpoint.audio) / 32.0,
                         endpoint.timestamp_ms)
        self._turns += 1
        self._heard_text = ""
        turn = asyncio.get_running_loop().create_task(work, name=f"pipeline-turn-{self._turns}")
        self._turn = turn
        try:
            await asyncio.wait({turn})
        except asyncio.CancelledError:
            turn.cancel("the pipeline stopped")
            await asyncio.gather(turn, return_exceptions=True)
            raise
        if turn.cancelled():  # pre-empted by a stop, which said so and decides what follows
            self.stage = Stage.WAKE
            self.endpointer.stop()
            self._paused = None
            self._follow_up = False
            return
        turn.result()

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
        replies = []
        if heard is None:
            replies.append(LOST)
        elif not heard.text.strip():
            replies.append(NOT_HEARD)
        else:
            self._heard_text = heard.text
            self._emit(TranscriptEvent(t_ms=self.clock.ms(), text=heard.text))
            self.stage = Stage.INTENT
            result = await self._guarded(Stage.INTENT,
                                         self._understood(heard, endpoint.timestamp_ms))
            if result is not None:
                replies.append(result.reply)
        self.stage = Stage.WAKE
        self._follow_up = self.dialogue.awaiting
        await self.speaker.speak(replies)

    async def _understood(self, heard: Transcript, said_ms: float) -> TurnResult:
        """The dialogue's answer within the intent timeout; an action audited as executing
        is never cut by it: its result is waited for. ``said_ms``: where the speech ended
        (stream time)."""
        async with self._dialogue_turn:
            self._executions_before = self.dialogue.dispatcher.executions
            hearing = asyncio.get_running_loop().create_task(
                self.dialogue.hear(heard.text, heard=heard, said_at=said_ms / 1000.0),
                name="pipeline-understanding")
            self._hearing = hearing
            try:
                done, _ = await asyncio.wait({hearing}, timeout=self.settings.intent_timeout_s)
                if not done and self.dialogue.dispatcher.executing:
                    await self.dialogue.dispatcher.settle()
                    done, _ = await asyncio.wait({hearing},
                                                 timeout=self.settings.intent_timeout_s)
            finally:
                if not hearing.done():
                    hearing.cancel("understanding took too long")
                    await asyncio.gather(hearing, return_exceptions=True)
            if not done:
                raise TimeoutError
            return hearing.result()

    async def _preempt(self, endpoint: Endpoint, heard: Transcript, began_ms: float) -> None:
        """A stop heard while a turn was in flight or a reply played: the turn is cancelled
        (an action it has begun runs to its result first, reported), and the stop runs."""
        start, end = self._command
        if start - ONSET_SLACK_MS <= began_ms < end:
            return  # the command a turn has taken since: that turn acts on it
        self._skip_until_ms = max(self._skip_until_ms, endpoint.timestamp_ms)
        turn, hearing = self._turn, self._hearing
        dispatcher = self.dialogue.dispatcher
        if turn is not None and not turn.done():
            acting = hearing is not None and not hearing.done() and (
                dispatcher.executing or dispatcher.executions > self._executions_before)
            if acting:
                assert hearing is not None
                await asyncio.wait({hearing})  # its result is reported, then the stop
            else:
                # cancelled in the same step as the check: no action can begin in between
                if hearing is not None and not hearing.done():
                    hearing.cancel("a stop was heard")
                turn.cancel("a stop was heard")
                await asyncio.wait({turn})
                if turn.cancelled():
                    self._emit(InterruptedEvent(t_ms=self.clock.ms(), text=self._heard_text,
                                                reason=f"a stop was heard: {heard.text}"))
        await dispatcher.settle()  # whatever has begun runs to its result first
        if self.stage != Stage.WAKE and (turn is None or turn.done()):
            self.stage = Stage.WAKE
            self.endpointer.stop()
        await self.speaker.stop()
        self._emit(SpeechEndEvent(t_ms=endpoint.timestamp_ms,
                                  speech_ms=len(endpoint.audio) / 32.0))
        self._emit(TranscriptEvent(t_ms=self.clock.ms(), text=heard.text))
        result = await self._guarded(Stage.INTENT,
                                     self._understood(heard, endpoint.timestamp_ms))
        self._follow_up = self.dialogue.awaiting
        await self.speaker.speak([result.reply] if result is not None else [])

    async def _finish(self) -> None:
        """Input ended: a pending exchange is closed the way silence would close it."""
        self._paused = None
        if self.dialogue.awaiting:
            async with self._dialogue_turn:
                reply = await self._guarded(Stage.INTENT, self.dialogue.silence())
            await self.speaker.speak([reply] if reply else [])
        if self._notices is not None:
            await self.speaker.speak(self._notices.drain())
        await self.speaker.finish()

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

