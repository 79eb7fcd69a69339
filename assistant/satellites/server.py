"""``assistant wyoming``: the assistant's engines as Wyoming services.

One connection at a time per client, all sharing the engines loaded once:

- ``describe`` → ``info`` naming what is offered;
- ``transcribe`` + audio → ``transcript`` (the recognizer biased to the skills);
- ``synthesize`` → ``audio-start``, ``audio-chunk``s, ``audio-stop`` (Piper);
- ``detect`` + audio → ``detection`` per wake word heard, ``not-detected`` at the end;
- ``recognize`` → ``intent`` (the tool call, its arguments as entities) or
  ``not-recognized``;
- ``transcript`` → ``handled`` or ``not-handled``: understood, dispatched with every safety
  rule, answered. A confirmation waits for its yes in the same conversation (Home
  Assistant's ``conversation_id`` in the event's context, else the connection).

A service that is not configured is refused with an ``error`` event, and so is audio that
is not 16-bit: nothing is guessed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info
from wyoming.intent import Entity, Intent, NotRecognized, Recognize
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize
from wyoming.wake import Detect, Detection, NotDetected

from assistant.audio import BYTES_PER_SAMPLE, SAMPLE_RATE
from assistant.audio.convert import to_assistant_rate
from assistant.dialogue import Dialogue
from assistant.dispatch.dispatcher import Dispatcher
from assistant.events import ActionEvent, ConfirmEvent, EventSink, IntentEvent, TurnEvents
from assistant.satellites.streams import Rechunker
from assistant.stt import SpeechToText
from assistant.tts import TextToSpeech
from assistant.wake import WakeWordDetector
from assistant.wiring import Assistant

__all__ = ["Brain", "WyomingHandler"]

_LOGGER = logging.getLogger(__name__)
_CONVERSATIONS = 64
"""Conversations whose dialogue (a pending confirmation) is kept; the oldest goes first."""


@dataclass
class Brain:
    """What every connection shares: the text core and the engines, loaded once."""

    assistant: Assistant
    stt: SpeechToText
    tts: TextToSpeech
    new_wake: Callable[[], WakeWordDetector]
    """A fresh wake word detector (one per stream: it keeps the stream's state)."""
    info: Info
    services: frozenset[str]
    emit: EventSink
    confirm_seconds: float = 8.0
    started: float = field(default_factory=time.monotonic)
    conversations: OrderedDict[str, Dialogue] = field(default_factory=OrderedDict)

    def now_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000.0

    def dialogue(self, key: str) -> Dialogue:
        """The dialogue of one conversation, made on first use."""
        if key in self.conversations:
            self.conversations.move_to_end(key)
            return self.conversations[key]
        core = self.assistant
        events = TurnEvents(self.emit)
        dispatcher = Dispatcher(core.dispatcher.catalog, core.audit, events, self.now_ms)
        dialogue = Dialogue(core.understanding, dispatcher, events, now_ms=self.now_ms,
                            confirm_seconds=self.confirm_seconds)
        self.conversations[key] = dialogue
        while len(self.conversations) > _CONVERSATIONS:
            self.conversations.popitem(last=False)
        return dialogue


class WyomingHandler(AsyncEventHandler):
    """One client's connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 brain: Brain, connection: str) -> None:
        super().__init__(reader, writer)
        self.brain = brain
        self.connection = connection
        self._mode = ""
        self._format: tuple[int, int, int] = (SAMPLE_RATE, BYTES_PER_SAMPLE, 1)
        self._audio = bytearray()
        self._wake: WakeWordDetector | None = None
        self._wake_names: list[str] | None = None
        self._rechunker: Rechunker | None = None
        self._detected = False

    async def handle_event(self, event: Event) -> bool:
        try:
            await self._handle(event)
        except Exception as err:  # a bad request never ends the server
            _LOGGER.exception("wyoming: %s failed", event.type)
            await self.write_event(Error(text=f"{event.type} failed: {err}",
                                         code="wyoming-failed").event())
        return True

    async def _handle(self, event: Event) -> None:
        kind = event.type
        if Describe.is_type(kind):
            await self.write_event(self.brain.info.event())
        elif Ping.is_type(kind):
            await self.write_event(Pong(text=Ping.from_event(event).text).event())
        elif AudioStart.is_type(kind):
            self._audio_start(AudioStart.from_event(event))
        elif AudioChunk.is_type(kind):
            await self._audio_chunk(AudioChunk.from_event(event))
        elif AudioStop.is_type(kind):
            await self._audio_stop()
        elif (service := _SERVICE_OF.get(kind)) is None:
            _LOGGER.debug("wyoming: ignored %s", kind)
        elif service not in self.brain.services:
            offered = ", ".join(sorted(self.brain.services))
            await self.write_event(Error(
                text=f"{service} is not offered here (offered: {offered}); "
                     "see [wyoming] services in the configuration",
                code="wyoming-not-offered").event())
        elif Transcribe.is_type(kind):
            self._mode, self._audio = "asr", bytearray()
        elif Detect.is_type(kind):
            await self._start_detecting(Detect.from_event(event).names)
        elif Synthesize.is_type(kind):
            await self._synthesize(Synthesize.from_event(event).text)
        elif Recognize.is_type(kind):
            await self._recognize(Recognize.from_event(event))
        else:
            await self._handle_text(Transcript.from_event(event))

    def _audio_start(self, start: AudioStart) -> None:
        self._format = (start.rate, start.width, start.channels)
        self._audio = bytearray()
        if self._mode == "wake":
            self._rechunker = Rechunker(start.rate, start.channels)

    async def _audio_chunk(self, chunk: AudioChunk) -> None:
        if chunk.width != BYTES_PER_SAMPLE:
            self._mode = ""
            await self.write_event(Error(text=f"audio must be 16-bit (width 2), not width "
                                              f"{chunk.width}", code="wyoming-audio").event())
            return
        if self._mode == "asr":
            self._format = (chunk.rate, chunk.width, chunk.channels)
            self._audio += chunk.audio
        elif self._mode == "wake" and self._wake is not None:
            if self._rechunker is None:
                self._rechunker = Rechunker(chunk.rate, chunk.channels)
            for piece in self._rechunker.feed(chunk.audio):
                detection = await self._wake.process(piece)
                if detection is not None and self._wanted(detection.name):
                    self._detected = True
                    await self.write_event(Detection(
                        name=detection.name, timestamp=int(detection.timestamp_ms)).event())

    async def _audio_stop(self) -> None:
        mode, self._mode = self._mode, ""
        if mode == "asr":
            rate, _, channels = self._format
            samples = np.frombuffer(bytes(self._audio), dtype=np.int16)
            audio = to_assistant_rate(samples, rate, channels).tobytes()
            self._audio = bytearray()
            heard = await self.brain.stt.transcribe(audio)
            await self.write_event(Transcript(text=heard.text).event())
        elif mode == "wake":
            if not self._detected:
                await self.write_event(NotDetected().event())
            if self._wake is not None:
                await self._wake.aclose()
            self._wake, self._rechunker = None, None

    async def _start_detecting(self, names: list[str] | None) -> None:
        self._mode, self._detected = "wake", False
        if self._wake is not None:
            await self._wake.aclose()
        self._wake = self.brain.new_wake()
        self._wake_names = names
        self._rechunker = None

    def _wanted(self, name: str) -> bool:
        return not self._wake_names or name in self._wake_names

    async def _synthesize(self, text: str) -> None:
        started = False
        async for chunk in self.brain.tts.synthesize(text):
            if not started:
                await self.write_event(AudioStart(rate=chunk.rate, width=BYTES_PER_SAMPLE,
                                                  channels=1).event())
                started = True
            await self.write_event(AudioChunk(rate=chunk.rate, width=BYTES_PER_SAMPLE,
                                              channels=1, audio=chunk.audio).event())
        if not started:
            await self.write_event(AudioStart(rate=SAMPLE_RATE, width=BYTES_PER_SAMPLE,
                                              channels=1).event())
        await self.write_event(AudioStop().event())

    async def _recognize(self, request: Recognize) -> None:
        understanding = self.brain.assistant.understanding
        decision = await understanding.refine(understanding.decide(request.text))
        if decision.tool is None or decision.error:
            await self.write_event(NotRecognized(
                text=decision.error or "none of the skills' tools", context=request.context
            ).event())
            return
        entities = [Entity(name=name, value=value) for name, value in decision.arguments.items()]
        context = {**(request.context or {}), "route": str(decision.route),
                   "missing": list(decision.missing),
                   "safety": str(understanding.safety(decision))}
        await self.write_event(Intent(name=decision.tool, entities=entities, text=request.text,
                                      context=context).event())

    async def _handle_text(self, transcript: Transcript) -> None:
        context = transcript.context or {}
        key = str(context.get("conversation_id") or self.connection)
        result = await self.brain.dialogue(key).hear(transcript.text)
        acted = any(isinstance(e, ActionEvent | ConfirmEvent) or (
            isinstance(e, IntentEvent) and e.tool is not None) for e in result.events)
        reply_context = {**context, "conversation_id": key}
        if acted:
            await self.write_event(Handled(text=result.reply, context=reply_context).event())
        else:
            await self.write_event(NotHandled(text=result.reply, context=reply_context).event())


_SERVICE_OF = {"transcribe": "asr", "detect": "wake", "synthesize": "tts",
               "recognize": "intent", "transcript": "handle"}
