"""The project's tests run on the installed harness (:mod:`assistant.testing`); what is
here is only the project's own: a third-party skill installed on the fly, and the dialogue
tests' session whose ``say`` returns the reply text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.understand import Understanding
from assistant.plugins import ENTRY_POINT_GROUP
from assistant.stt import Transcript
from assistant.testing.session import (
    AWAIT_LIMIT,
    CLASSIFIERS,
    FakeClock,
    SkillSession,
    build_session,
    resolve_skills,
)

# The plugin blocks its other name when registered, so the entry point (once installed)
# and this line load it once between them.
pytest_plugins = ["assistant.testing.plugin"]

__all__ = ["AWAIT_LIMIT", "FakeClock", "Session"]


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
    """The classifier of every installed skill, trained once (the harness's cache)."""
    return CLASSIFIERS.get(resolve_skills(None))


@pytest.fixture(scope="session")
def understanding() -> Understanding:
    return CLASSIFIERS.understanding(resolve_skills(None))


@dataclass
class Session(SkillSession):
    """A harness session whose ``say`` returns the reply, as the dialogue tests read it."""

    replies: list[str] = field(default_factory=list)

    async def say(self, text: str, heard: Transcript | None = None) -> str:  # type: ignore[override]
        reply = (await super().say(text, heard)).reply
        self.replies.append(reply)
        return reply

    @property
    def vehicle(self) -> Any:
        return self.backend("vehicle")

    @property
    def plant(self) -> Any:
        return self.backend("factory")


@pytest.fixture
def make_session(tmp_path: Path, classifier: IntentClassifier) -> Callable[..., Session]:
    """Every installed skill with ``configs`` (each skill's, by name), no simulator; with
    ``connect`` the skills speak to their buses (a test's own simulator)."""

    def make(audit_path: Path | None = None, connect: bool = False, **configs: Any) -> Session:
        built = build_session(resolve_skills(None), settings=configs, connect=connect,
                              audit_path=audit_path or tmp_path / "audit.jsonl")
        return Session(built.assistant, built.events, built.clock, built.audit_path)

    return make


@pytest.fixture
def session(make_session: Callable[..., Session]) -> Session:
    return make_session()
