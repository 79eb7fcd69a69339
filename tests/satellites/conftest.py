"""A hub on real engines and satellites on loopback: this project's own (in this process,
its microphone a script of speech and silence at real-time pace) and the real
wyoming-satellite program (a process of its own)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from wyoming.server import AsyncTcpServer

from assistant.audio import BYTES_PER_CHUNK, MS_PER_CHUNK, AudioChunk, NullSink
from assistant.config import AssistantConfig
from assistant.events import Event
from assistant.satellites.device import SatelliteDevice
from assistant.satellites.hub import Hub
from assistant.wiring import Assistant, Engines, build_assistant, build_engines
from tests.speech import Samples

WAIT_LIMIT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def hub_engines() -> Iterator[Engines]:
    config = AssistantConfig.model_validate({"language_model": {"name": "none"}})
    engines = build_engines(config, build_assistant(lambda _e: None, config), paced=True)
    yield engines
    asyncio.run(engines.aclose())


class ScriptedMicrophone:
    """Silence at real-time pace, with speech when :meth:`say` queues it."""

    def __init__(self) -> None:
        self._queued = bytearray()
        self.closed = False

    def say(self, samples: Samples) -> None:
        self._queued += samples.astype(np.int16).tobytes()

    @property
    def speaking(self) -> bool:
        return bool(self._queued)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        started, n = time.monotonic(), 0
        while not self.closed:
            piece = bytes(self._queued[:BYTES_PER_CHUNK]).ljust(BYTES_PER_CHUNK, b"\0")
            del self._queued[:BYTES_PER_CHUNK]
            yield AudioChunk(piece, n * MS_PER_CHUNK)
            n += 1
            await asyncio.sleep(max(0.0, started + n * MS_PER_CHUNK / 1000 - time.monotonic()))

    async def aclose(self) -> None:
        self.closed = True


class RecordingSink(NullSink):
    """A speaker that notes when it was given audio (monotonic seconds)."""

    def __init__(self) -> None:
        self.played: list[float] = []

    async def play(self, chunk: AudioChunk) -> None:
        self.played.append(time.monotonic())


class OwnSatellite:
    """This project's satellite on a free port, stoppable and restartable."""

    def __init__(self, name: str, engines: Engines) -> None:
        assert engines.new_wake is not None
        self.name, self.port = name, free_port()
        self.microphone = ScriptedMicrophone()
        self.speaker = RecordingSink()
        self.device = SatelliteDevice(self.microphone, self.speaker, engines.new_wake(),
                                      name=name, area="car")
        self._server: AsyncTcpServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = AsyncTcpServer("127.0.0.1", self.port)
        await self._server.start(self.device.handler)
        self._task = asyncio.get_running_loop().create_task(self.device.run(),
                                                            name=f"own-satellite-{self.name}")

    async def kill(self) -> None:
        """Gone at once, mid-stream: its connections closed, its microphone stopped."""
        if self._server is not None:
            await self._server.stop()
            assert self._server._server is not None
            self._server._server.close()
            await self._server._server.wait_closed()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def say(self, samples: Samples) -> None:
        """Speak, and return once the audio has been heard."""
        self.microphone.say(samples)
        await asyncio.wait_for(_until(lambda: not self.microphone.speaking), WAIT_LIMIT)


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110 (polls what another task changes)
        await asyncio.sleep(0.05)


async def until(condition: Callable[[], bool], limit: float = WAIT_LIMIT) -> None:
    await asyncio.wait_for(_until(condition), limit)


class HubRun:
    def __init__(self, hub: Hub, assistant: Assistant, audit_path: Path,
                 events: list[Event]) -> None:
        self.hub, self.assistant, self.audit_path = hub, assistant, audit_path
        self.events = events

    def said(self) -> str:
        """What the hub heard and did, for an assertion's message."""
        return "; ".join(f"{e.TYPE.value} {e.to_json().get('text') or e.to_json().get('tool')}"
                         for e in self.events)

    def of(self, kind: str) -> list[dict[str, Any]]:
        """The events of a kind, as their JSON."""
        return [e.to_json() for e in self.events if e.TYPE.value == kind]

    def audit(self, kind: str | None = None) -> list[dict[str, Any]]:
        if not self.audit_path.exists():
            return []
        records = [json.loads(line) for line in
                   self.audit_path.read_text(encoding="utf-8").splitlines()]
        return [r for r in records if kind is None or r["kind"] == kind]

    @property
    def vehicle(self) -> Any:
        return self.assistant.backend("vehicle")


@pytest.fixture
def hub_with(hub_engines: Engines, tmp_path: Path
             ) -> Callable[[dict[str, dict[str, str]]], Any]:
    @asynccontextmanager
    async def run(satellites: dict[str, dict[str, str]], **sections: Any
                  ) -> AsyncIterator[HubRun]:
        config = AssistantConfig.model_validate({
            "language_model": {"name": "none"}, "satellites": satellites, **sections})
        audit_path = tmp_path / "audit.jsonl"
        assistant = build_assistant(lambda _e: None, config, audit_path=audit_path)
        events: list[Event] = []
        hub = Hub.of(config, assistant, hub_engines, lambda _name: events.append)
        task = asyncio.get_running_loop().create_task(hub.run(), name="hub")
        try:
            yield HubRun(hub, assistant, audit_path, events)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await assistant.aclose()

    return run
