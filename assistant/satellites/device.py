"""``assistant satellite``: a microphone and speaker for a hub, as a Wyoming server (port
10700, like wyoming-satellite), so this hub and Home Assistant can both use it.

With a wake word (the default) it listens locally and streams only from the wake word to
the hub's ``transcript``: ``run-pipeline`` from ``asr``. Without one it streams all the
time and the hub listens for the wake word: ``run-pipeline`` from ``wake``. Audio the hub
sends (``audio-start``, chunks, ``audio-stop``) is played. The newest hub connection is
the one served.
"""

from __future__ import annotations

import asyncio
import logging

from wyoming.asr import Transcript
from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, Satellite
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import PauseSatellite, RunSatellite
from wyoming.server import AsyncEventHandler

from assistant import __version__
from assistant.audio import BYTES_PER_SAMPLE, SAMPLE_RATE, AudioChunk, AudioSink, AudioSource
from assistant.wake import WakeWordDetector

__all__ = ["SatelliteDevice"]

_LOG = logging.getLogger("assistant.satellite")


class SatelliteDevice:
    def __init__(self, source: AudioSource, sink: AudioSink, wake: WakeWordDetector | None,
                 *, name: str, area: str) -> None:
        self.source, self.sink, self.wake = source, sink, wake
        self.name, self.area = name, area
        self._hub: SatelliteHandler | None = None
        self._streaming = False
        self.sent_chunks = 0

    def info(self) -> Info:
        return Info(satellite=Satellite(
            name=self.name, area=self.area or None, description="assistant satellite",
            attribution=Attribution(name="offline voice assistant (this project)", url=""),
            installed=True, version=__version__,
            active_wake_words=[self.wake.name] if self.wake is not None else None,
            max_active_wake_words=1))

    def handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                ) -> SatelliteHandler:
        return SatelliteHandler(reader, writer, self)

    async def run(self) -> None:
        """The microphone loop: until the source ends."""
        async for chunk in self.source.chunks():
            hub = self._hub
            if hub is None or not hub.running:
                continue
            if self.wake is not None and not self._streaming:
                detection = await self.wake.process(chunk)
                if detection is not None:
                    _LOG.info("wake word", extra={"satellite": self.name})
                    self._streaming = True
                    await hub.send(RunPipeline(start_stage=PipelineStage.ASR,
                                               end_stage=PipelineStage.TTS).event())
                continue
            if self._streaming:
                await hub.send(_chunk_event(chunk))
                self.sent_chunks += 1

    async def attach(self, hub: SatelliteHandler) -> None:
        """``run-satellite`` from a hub: it is the one served from now on."""
        self._hub = hub
        hub.running = True
        if self.wake is None:
            self._streaming = True
            await hub.send(RunPipeline(start_stage=PipelineStage.WAKE,
                                       end_stage=PipelineStage.TTS).event())
        else:
            self._streaming = False

    @property
    def connected(self) -> bool:
        """A hub has said ``run-satellite`` and is still connected."""
        return self._hub is not None and self._hub.running

    def serves(self, hub: SatelliteHandler) -> bool:
        return self._hub is hub

    def detach(self, hub: SatelliteHandler) -> None:
        if self._hub is hub:
            self._hub = None
            self.back_to_wake()

    def back_to_wake(self) -> None:
        if self.wake is not None:
            self._streaming = False
            self.wake.reset()


class SatelliteHandler(AsyncEventHandler):
    """A hub's connection to this satellite."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 device: SatelliteDevice) -> None:
        super().__init__(reader, writer)
        self.device = device
        self.running = False
        self._lock = asyncio.Lock()

    async def send(self, event: Event) -> None:
        async with self._lock:
            try:
                await self.write_event(event)
            except (ConnectionError, RuntimeError):
                self.running = False

    async def handle_event(self, event: Event) -> bool:
        device = self.device
        if Describe.is_type(event.type):
            await self.send(device.info().event())
        elif Ping.is_type(event.type):
            await self.send(Pong(text=Ping.from_event(event).text).event())
        elif RunSatellite.is_type(event.type):
            await device.attach(self)
        elif PauseSatellite.is_type(event.type):
            self.running = False
        elif not device.serves(self):
            return True  # an older hub connection: ignored
        elif Transcript.is_type(event.type):
            device.back_to_wake()
        elif WyomingChunk.is_type(event.type):
            chunk = WyomingChunk.from_event(event)
            await device.sink.play(AudioChunk(chunk.audio, 0.0, chunk.rate))
        return True

    async def disconnect(self) -> None:
        self.device.detach(self)


def _chunk_event(chunk: AudioChunk) -> Event:
    return WyomingChunk(rate=SAMPLE_RATE, width=BYTES_PER_SAMPLE, channels=1,
                        audio=chunk.audio).event()
