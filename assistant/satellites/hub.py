"""The hub: ``assistant serve`` with ``[satellites.<name>]`` connects to each satellite the
way Home Assistant does, and runs a voice pipeline on the audio it streams.

Per satellite, per connection: ``run-satellite``, then ``describe``; a ``ping`` every few
seconds (a satellite that has answered one and then stops answering is reconnected); the
satellite's ``run-pipeline`` says whether the hub listens for the wake word (``wake``) or
the satellite heard it itself (``asr``). Back go ``detection``, ``voice-stopped``,
``transcript``, ``synthesize`` and the reply's audio. A dropped connection is retried with
back-off; what was half heard is dropped with it (the pipeline is cancelled: no action from
partial audio) and a confirmation it was asking for is cancelled.

The engines are the brain's, loaded once; each satellite has its own wake word detector
(its stream's state), voice activity, dialogue (an answer belongs to the satellite that was
asked) and dispatcher (the satellite, area and zone in the audit log and as the skills'
context).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

from wyoming.asr import Transcript as WyomingTranscript
from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart
from wyoming.client import AsyncClient, AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.tts import Synthesize
from wyoming.vad import VoiceStopped
from wyoming.wake import Detection

from assistant.audio import SAMPLE_RATE, AudioChunk
from assistant.config import AssistantConfig, SatelliteConfig
from assistant.dispatch.dispatcher import Dispatcher
from assistant.dispatch.speaker import SpeakerContext
from assistant.events import (
    ErrorEvent,
    EventSink,
    ReplyEvent,
    SpeechEndEvent,
    TranscriptEvent,
    TurnEvents,
    WakeEvent,
)
from assistant.events import (
    Event as AssistantEvent,
)
from assistant.pipeline import PipelineSettings, StreamClock, VoicePipeline
from assistant.satellites.sharing import (
    FairScheduler,
    FairSpeechToText,
    SatelliteDialogue,
    SatelliteWake,
    UtteranceArbiter,
)
from assistant.satellites.streams import QueueSource, Rechunker, WyomingSink
from assistant.vad import Endpointer, MicroVadActivity
from assistant.wiring import Assistant, Engines, Notices

__all__ = ["Hub", "describe_satellite"]

_LOG = logging.getLogger("assistant.hub")
PING_S = 5.0
NOTICE_POLL_S = 0.5
STREAM_GAP_S = 1.0
"""A satellite that sent audio this recently is streaming: no quiet chunk in between."""
PONG_TIMEOUT_S = 15.0
BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)
"""Waits between attempts to reach a satellite: the last repeats (shorter than the
watchdog's stall time, since every attempt is progress)."""


@dataclass
class Hub:
    """Every configured satellite, served by one brain."""

    config: AssistantConfig
    assistant: Assistant
    engines: Engines
    emit: Callable[[str], EventSink]
    """Where a satellite's events go (its name given): the journal, a test's list."""
    arbiter: UtteranceArbiter
    scheduler: FairScheduler

    @classmethod
    def of(cls, config: AssistantConfig, assistant: Assistant, engines: Engines,
           emit: Callable[[str], EventSink]) -> Hub:
        parallel = getattr(engines.stt, "parallel", 1)
        return cls(config, assistant, engines, emit, UtteranceArbiter(),
                   FairScheduler(capacity=parallel))

    async def run(self) -> None:
        """Serve every satellite until cancelled."""
        links = [SatelliteLink(name, section, self)
                 for name, section in self.config.satellites.items()]
        self.links = links
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(link.run(), name=f"satellite-{link.name}") for link in links]
        tasks.append(loop.create_task(self._announce(), name="satellite-notices"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    links: list[SatelliteLink] = field(default_factory=list)
    """Filled by ``run``: one per configured satellite."""
    progress: int = 0
    """Work done on the loop for the satellites (events read, pings sent, connection
    attempts): what the watchdog watches. A blocked loop stops it; idle satellites that
    hear no wake word do not, because the pings go on."""

    async def _announce(self) -> None:
        """What the skills say unprompted (a timer rang) is said on every satellite
        connected: nobody knows which room is listening."""
        while True:
            await asyncio.sleep(NOTICE_POLL_S)
            texts = self.assistant.notices.drain()
            for link in self.links:
                if link.connection is not None:
                    link.connection.announce(texts)


class SatelliteLink:
    """One configured satellite: connect, serve, reconnect."""

    def __init__(self, name: str, section: SatelliteConfig, hub: Hub) -> None:
        self.name = name
        self.section = section
        self.hub = hub
        self.connected = asyncio.Event()
        self.connections = 0
        self.connection: Connection | None = None

    async def run(self) -> None:
        attempt = 0
        while True:
            self.hub.progress += 1
            try:
                async with _client(self.section.uri) as client:
                    attempt = 0
                    self.connections += 1
                    _LOG.info("satellite connected", extra={"satellite": self.name})
                    self.connection = Connection(self, client)
                    try:
                        await self.connection.serve()
                    finally:
                        self.connection = None
                _LOG.warning("satellite disconnected", extra={"satellite": self.name})
            except (OSError, ConnectionError, asyncio.IncompleteReadError) as err:
                _LOG.warning("satellite %s unreachable: %s", self.name, err,
                             extra={"satellite": self.name, "code": "satellite-unreachable"})
            except Exception:  # a fault in one satellite's connection never ends the hub
                _LOG.exception("satellite %s: connection failed", self.name,
                               extra={"satellite": self.name, "code": "satellite-failed"})
            finally:
                self.connected.clear()
            await asyncio.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
            attempt += 1


async def describe_satellite(uri: str, timeout_s: float = 3.0) -> str:
    """What the satellite at ``uri`` says it is (``assistant doctor``)."""
    async with _client(uri) as client:
        await client.write_event(Describe().event())
        while True:
            event = await asyncio.wait_for(client.read_event(), timeout_s)
            if event is None:
                raise ConnectionError("closed the connection")
            if Info.is_type(event.type):
                satellite = Info.from_event(event).satellite
                if satellite is None:
                    return "answers, but is no satellite (no satellite in its info)"
                return f"{satellite.name}, area {satellite.area or '-'}"


def _client(uri: str) -> AsyncClient:
    parsed = urlparse(uri)
    if parsed.scheme == "tcp" and parsed.hostname and parsed.port:
        return AsyncTcpClient(parsed.hostname, parsed.port)
    return AsyncClient.from_uri(uri)


class Connection:
    """One connection to a satellite, with its own pipeline."""

    def __init__(self, link: SatelliteLink, client: AsyncClient) -> None:
        self.link, self.client = link, client
        hub = link.hub
        core = hub.assistant
        self.speaker = SpeakerContext(link.name, link.section.area, link.section.zone)
        self._outgoing: asyncio.Queue[Event | None] = asyncio.Queue()
        self._rechunker: Rechunker | None = None
        self._emit = hub.emit(link.name)
        self._pong_at: float | None = None
        self._heard_at = 0.0
        clock = StreamClock()
        events = TurnEvents(self._translate)
        dispatcher = Dispatcher(core.dispatcher.catalog, core.audit, events, clock.ms,
                                speaker=self.speaker)
        self.dialogue = SatelliteDialogue(
            core.understanding, dispatcher, events, now_ms=clock.ms, clock=clock.seconds,
            confirm_seconds=hub.config.skills.confirm_seconds, speaker=self.speaker,
            arbiter=hub.arbiter, satellite=link.name, area=link.section.area,
            on_duplicate=self._duplicate)
        assert hub.engines.new_wake is not None
        self.wake = SatelliteWake(hub.engines.new_wake(), link.name)
        self.source = QueueSource()
        self.notices = Notices()
        self.pipeline = VoicePipeline(
            source=self.source, sink=WyomingSink(self._send), wake=self.wake,
            vad=MicroVadActivity(),
            stt=FairSpeechToText(hub.engines.stt, hub.scheduler, link.name,
                                 judge=core.understanding),
            tts=hub.engines.tts, dialogue=self.dialogue, clock=clock, emit=events,
            endpointer=Endpointer(hub.config.voice_activity),
            settings=PipelineSettings(paced=True), transcripts=core.understanding,
            notices=self.notices)

    def announce(self, texts: list[str]) -> None:
        """Say ``texts`` between turns (after a reply still playing). A satellite that
        listens for its own wake word sends no audio while idle, so quiet chunks move the
        pipeline on until it has said them; never in the middle of a stream."""
        for text in texts:
            self.notices.put(text)
        streaming = time.monotonic() - self._heard_at < STREAM_GAP_S
        if self.notices.pending and not streaming:
            self.source.put([self._quiet_chunk()])

    def _quiet_chunk(self) -> AudioChunk:
        if self._rechunker is None:  # no audio yet: 16 kHz mono until audio-start says
            return self._stream(SAMPLE_RATE, 1).silence()
        return self._rechunker.silence()

    def _stream(self, rate: int, channels: int) -> Rechunker:
        """The satellite's stream in this format; its time began with its first event."""
        if self._rechunker is None:
            self._rechunker = Rechunker(rate, channels)
        self._rechunker.expect(rate, channels)
        return self._rechunker

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        name = self.link.name
        await self._send(RunSatellite().event())
        await self._send(Describe().event())
        tasks = [loop.create_task(self._read(), name=f"satellite-{name}-reader"),
                 loop.create_task(self.pipeline.run(), name=f"satellite-{name}-pipeline"),
                 loop.create_task(self._write(), name=f"satellite-{name}-writer"),
                 loop.create_task(self._ping(), name=f"satellite-{name}-ping")]
        self.link.connected.set()
        try:
            # the connection ends with the first of them: closed, failed, or silent
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:  # partial audio is dropped with the pipeline: no action
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            await self.dialogue.end()
            await self.wake.aclose()
        for task, result in zip(tasks, results, strict=True):
            if task in done and isinstance(result, Exception):
                raise result

    async def _read(self) -> None:
        while (event := await self.client.read_event()) is not None:
            self.link.hub.progress += 1
            if WyomingChunk.is_type(event.type):
                chunk = WyomingChunk.from_event(event)
                if chunk.width != 2:
                    _LOG.error("satellite %s streams %d-bit audio; it must send 16-bit",
                               self.link.name, chunk.width * 8)
                    return
                self._heard_at = time.monotonic()
                self.source.put(self._stream(chunk.rate, chunk.channels).feed(chunk.audio))
            elif AudioStart.is_type(event.type):
                start = AudioStart.from_event(event)
                self._stream(start.rate, start.channels)
            elif RunPipeline.is_type(event.type):
                run = RunPipeline.from_event(event)
                if run.start_stage == PipelineStage.ASR:  # its own wake word was heard
                    self.wake.trigger()
                    self.source.put([self._quiet_chunk()])
            elif Pong.is_type(event.type):
                self._pong_at = time.monotonic()
            elif Info.is_type(event.type):
                info = Info.from_event(event)
                _LOG.info("satellite described", extra={
                    "satellite": self.link.name,
                    "program": info.satellite.name if info.satellite else ""})
            elif Error.is_type(event.type):
                _LOG.warning("satellite %s: %s", self.link.name, Error.from_event(event).text)

    async def _ping(self) -> None:
        while True:
            self.link.hub.progress += 1
            await self._send(Ping().event())
            await asyncio.sleep(PING_S)
            if self._pong_at is not None and time.monotonic() - self._pong_at > PONG_TIMEOUT_S:
                _LOG.warning("satellite %s stopped answering pings", self.link.name)
                await self.client.disconnect()
                return

    async def _send(self, event: Event) -> None:
        self._outgoing.put_nowait(event)

    async def _write(self) -> None:
        while (event := await self._outgoing.get()) is not None:
            await self.client.write_event(event)

    def _duplicate(self) -> None:
        """Another satellite of this area acted on these words: nothing is said here (the
        transcript sent already took the satellite back to its wake word)."""
        _LOG.info("duplicate utterance: acted on by another satellite",
                  extra={"satellite": self.link.name})

    def _translate(self, event: AssistantEvent) -> None:
        """Log the event with its satellite and tell the satellite what it needs to know."""
        self._emit(event)
        outgoing = _WYOMING_OF.get(type(event))
        if outgoing is not None:
            self._outgoing.put_nowait(outgoing(event))


_WYOMING_OF: dict[type[AssistantEvent], Callable[[AssistantEvent], Event]] = {
    WakeEvent: lambda e: Detection(name=getattr(e, "name", None)).event(),
    SpeechEndEvent: lambda _e: VoiceStopped().event(),
    TranscriptEvent: lambda e: WyomingTranscript(text=getattr(e, "text", "")).event(),
    ReplyEvent: lambda e: Synthesize(text=getattr(e, "text", "")).event(),
    ErrorEvent: lambda e: Error(text=getattr(e, "message", ""),
                                code=getattr(e, "code", None)).event(),
}
