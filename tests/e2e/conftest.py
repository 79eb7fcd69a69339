"""Real engines on packaged models, loaded once for the module's tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.audio.wavfile import WavFileSink, WavFileSource
from assistant.config import AssistantConfig
from assistant.events import Event
from assistant.nlu.classifier import IntentClassifier
from assistant.wiring import (
    Engines,
    build_assistant,
    build_engines,
    build_voice_pipeline,
)
from tests.speech import Samples, save

RUN_LIMIT = 120.0


@pytest.fixture(scope="session")
def engines() -> Iterator[Engines]:
    loaded = build_engines(AssistantConfig(), build_assistant(lambda _e: None))
    yield loaded
    asyncio.run(loaded.aclose())


class Run:
    def __init__(self, events: list[Event], sink: WavFileSink, session: Any) -> None:
        self.events = events
        self.sink = sink
        self.session = session

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.events if e.TYPE.value == kind]

    def kinds(self) -> list[str]:
        return [e.TYPE.value for e in self.events]

    def summary(self) -> str:
        """What was heard and done, for an assertion's message."""
        return "; ".join(f"{e.TYPE.value} {e.to_json().get('text') or e.to_json().get('tool')}"
                         for e in self.events if e.TYPE.value != "reply")


@pytest.fixture
def run_audio(engines: Engines, classifier: IntentClassifier,
              tmp_path: Path) -> Callable[..., Run]:
    def run(audio: Samples, **configs: Any) -> Run:
        path = save(audio, tmp_path / "input.wav")
        events: list[Event] = []
        sink = WavFileSink(tmp_path / "replies.wav")
        engines.wake.reset()
        session = build_voice_pipeline(source=WavFileSource(path), sink=sink,
                                       emit=events.append, engines=engines,
                                       classifier=classifier,
                                       audit_path=tmp_path / "audit.jsonl",
                                       skill_configs=configs or None)

        async def go() -> None:
            await asyncio.wait_for(session.pipeline.run(), RUN_LIMIT)
            await sink.aclose()

        asyncio.run(go())
        return Run(events, sink, session)

    return run
