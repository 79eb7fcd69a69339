"""Shared fixtures: the real skills and tiers, trained once; fresh back ends per test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from assistant.events import Event
from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.understand import Understanding
from assistant.plugins import ENTRY_POINT_GROUP
from assistant.stt import Transcript
from assistant.wiring import Assistant, build_assistant, build_understanding

AWAIT_LIMIT = 5.0


@pytest.fixture
def installed_horn(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The horn skill of ``tests.third_party`` installed as a third-party package would be:
    a distribution's metadata on ``sys.path`` naming it in the skills' entry-point group."""
    site = tmp_path_factory.mktemp("site-packages")
    metadata = site / "horn_skill-1.0.dist-info"
    metadata.mkdir()
    (metadata / "METADATA").write_text("Metadata-Version: 2.1\nName: horn-skill\n"
                                       "Version: 1.0\n", encoding="utf-8")
    (metadata / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nhorn = tests.third_party:skill\n", encoding="utf-8")
    monkeypatch.syspath_prepend(site)


@pytest.fixture(scope="session")
def classifier() -> IntentClassifier:
    return build_understanding()[1].classifier


@pytest.fixture(scope="session")
def understanding(classifier: IntentClassifier) -> Understanding:
    return build_understanding(classifier=classifier)[1]


@dataclass
class FakeClock:
    """Monotonic seconds that tests advance instead of sleeping."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Session:
    """An assistant on simulated back ends, its events and its clock."""

    assistant: Assistant
    events: list[Event]
    clock: FakeClock
    audit_path: Path
    replies: list[str] = field(default_factory=list)

    async def say(self, text: str, heard: Transcript | None = None) -> str:
        """Typed, or (``heard``) as if from speech with the recognizer's doubts."""
        result = await asyncio.wait_for(self.assistant.dialogue.hear(text, heard=heard),
                                        AWAIT_LIMIT)
        self.replies.append(result.reply)
        return result.reply

    def kinds(self) -> list[str]:
        return [e.TYPE.value for e in self.events]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.events if e.TYPE.value == kind]

    @property
    def vehicle(self) -> Any:
        return self.assistant.backend("vehicle")

    @property
    def plant(self) -> Any:
        return self.assistant.backend("factory")


@pytest.fixture
def make_session(
    tmp_path: Path, classifier: IntentClassifier
) -> Callable[..., Session]:
    def make(audit_path: Path | None = None, connect: bool = False, **configs: Any) -> Session:
        events: list[Event] = []
        clock = FakeClock()
        path = audit_path or tmp_path / "audit.jsonl"
        assistant = build_assistant(events.append, audit_path=path, clock=clock,
                                    classifier=classifier, skill_configs=configs or None,
                                    connect=connect)
        return Session(assistant, events, clock, path)

    return make


@pytest.fixture
def session(make_session: Callable[..., Session]) -> Session:
    return make_session()
