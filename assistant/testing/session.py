"""An assistant to test skills against: the chosen skills on their simulators, the real
understanding, dialogue and dispatcher, a clock the test moves and an audit log of its own.

:func:`open_session` is what the ``assistant_session`` fixture opens; :func:`build_session`
the same without simulators (nothing to close but the back ends). The classifier is
trained once per set of skills and process (:class:`ClassifierCache`): training takes
seconds, a session milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from assistant.errors import SkillLoadError
from assistant.events import ActionEvent, Event
from assistant.llm.base import LanguageModel
from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.understand import Understanding
from assistant.plugins import ENTRY_POINT_GROUP, discover_skills, skill_settings
from assistant.skill_api import Skill
from assistant.stt import Transcript
from assistant.wiring import Assistant, build_assistant, build_understanding

__all__ = [
    "AWAIT_LIMIT",
    "CLASSIFIERS",
    "ClassifierCache",
    "FakeClock",
    "SessionFactory",
    "SkillSession",
    "SkillSpec",
    "Turn",
    "build_session",
    "builtin_skill_names",
    "open_session",
    "resolve_skills",
]

AWAIT_LIMIT = 5.0
"""Seconds any one await of a test may take before it fails instead of hanging."""

SkillSpec = str | Skill
"""A skill by its installed name, or a :class:`Skill` not installed yet."""

_OWN_DISTRIBUTION = "assistant"


@dataclass
class FakeClock:
    """Monotonic seconds that tests advance instead of sleeping."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Turn:
    """What one ``say`` led to: the spoken reply and the turn's events, in order."""

    reply: str
    events: tuple[Event, ...] = ()

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """The tool calls dispatched in this turn, as ``(tool, arguments)``."""
        return [(e.tool, dict(e.to_json()["arguments"])) for e in self.events
                if isinstance(e, ActionEvent)]

    def of(self, kind: str) -> list[dict[str, Any]]:
        """This turn's events of one type ("confirm", "refused" ...), as JSON objects."""
        return [e.to_json() for e in self.events if e.TYPE.value == kind]


@dataclass
class SkillSession:
    """An assistant on simulated back ends, every event it emitted, its clock and audit log."""

    assistant: Assistant
    events: list[Event]
    clock: FakeClock
    audit_path: Path
    simulations: Mapping[str, object] = field(default_factory=dict)

    async def say(self, text: str, heard: Transcript | None = None) -> Turn:
        """One turn, typed, or (``heard``) as if from speech with the recognizer's doubts."""
        result = await asyncio.wait_for(self.assistant.dialogue.hear(text, heard=heard),
                                        AWAIT_LIMIT)
        return Turn(result.reply, result.events)

    def kinds(self) -> list[str]:
        """The type of every event so far ("intent", "action", "reply" ...)."""
        return [e.TYPE.value for e in self.events]

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Every event so far of one type, as JSON objects."""
        return [e.to_json() for e in self.events if e.TYPE.value == kind]

    def audit_records(self) -> list[dict[str, Any]]:
        """The audit log's records so far."""
        if not self.audit_path.exists():
            return []
        lines = self.audit_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def backend(self, skill: str) -> Any:
        """The back end the skill's tools act on."""
        return self.assistant.backend(skill)

    def simulated(self, skill: str) -> Any:
        """What the skill's simulator started (the simulated system), for the test to act on."""
        try:
            return self.simulations[skill]
        except KeyError:
            running = ", ".join(sorted(self.simulations)) or "none"
            raise SkillLoadError("skill-not-simulated", f"no simulator runs for skill "
                                 f"{skill!r} (running: {running}); give it settings that ask "
                                 "for one, or a simulate hook") from None


SessionFactory = Callable[..., AbstractAsyncContextManager[SkillSession]]
"""The ``assistant_session`` fixture: ``(skills, *, settings, builtins, language_model)``
to an async context manager of a :class:`SkillSession`."""


def builtin_skill_names() -> list[str]:
    """The skills the assistant itself ships (published by its own distribution)."""
    return sorted({point.name for point in entry_points(group=ENTRY_POINT_GROUP)
                   if point.dist is not None and point.dist.name == _OWN_DISTRIBUTION})


def resolve_skills(skills: Iterable[SkillSpec] | None, *, builtins: bool = False) -> list[Skill]:
    """The skills to load: ``None`` is every installed one; names are looked up among the
    installed ones, :class:`Skill` objects taken as they are; ``builtins`` adds the
    assistant's own."""
    if skills is None:
        return discover_skills()
    given = list(skills)
    names = [s for s in given if isinstance(s, str)]
    found = {skill.name: skill for skill in discover_skills(names)} if names else {}
    chosen = [found[s] if isinstance(s, str) else s for s in given]
    if builtins:
        taken = {skill.name for skill in chosen}
        extra = [name for name in builtin_skill_names() if name not in taken]
        chosen += discover_skills(extra) if extra else []
    return chosen


class ClassifierCache:
    """One trained classifier per set of skills (by name and template file), trained on
    the skills' default settings so that no test's settings change another's."""

    def __init__(self) -> None:
        self._trained: dict[tuple[tuple[str, str], ...], IntentClassifier] = {}

    def get(self, skills: Sequence[Skill]) -> IntentClassifier:
        key = tuple(sorted((skill.name, str(skill.templates)) for skill in skills))
        trained = self._trained.get(key)
        if trained is None:
            trained = build_understanding(skills=skills)[1].classifier
            self._trained[key] = trained
        return trained

    def understanding(self, skills: Sequence[Skill],
                      settings: Mapping[str, Mapping[str, Any]] | None = None) -> Understanding:
        """The tiers for ``skills`` on ``settings``, with the cached classifier."""
        return build_understanding(settings, classifier=self.get(skills), skills=skills)[1]


CLASSIFIERS = ClassifierCache()
"""The process's classifiers: fixtures, sentence tests and ``assistant skills test``."""


def build_session(
    skills: Sequence[Skill],
    *,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    audit_path: Path,
    clock: FakeClock | None = None,
    classifiers: ClassifierCache = CLASSIFIERS,
    simulations: Mapping[str, object] | None = None,
    connect: bool = False,
) -> SkillSession:
    """The assistant on ``skills`` with ``settings`` (each skill's, by name, as the
    simulators resolved them), without starting anything; ``connect``: the skills speak to
    their buses (their simulators), see :class:`assistant.skill_api.SkillContext`."""
    events: list[Event] = []
    clock = clock or FakeClock()
    assistant = build_assistant(events.append, skill_configs=settings or None,
                                audit_path=audit_path, clock=clock,
                                classifier=classifiers.get(skills), skills=skills,
                                connect=connect)
    return SkillSession(assistant, events, clock, audit_path, dict(simulations or {}))


@contextlib.asynccontextmanager
async def open_session(
    skills: Iterable[SkillSpec] | None = None,
    *,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    builtins: bool = False,
    audit_path: Path,
    clock: FakeClock | None = None,
    language_model: LanguageModel | None = None,
    classifiers: ClassifierCache = CLASSIFIERS,
) -> AsyncIterator[SkillSession]:
    """The skills (see :func:`resolve_skills`) with their simulators started, for as long
    as the context is entered; at exit the back ends, the simulators and the audit log are
    closed. The language model is the last tier only when one is given."""
    chosen = resolve_skills(skills, builtins=builtins)
    unknown = sorted(set(settings or {}) - {skill.name for skill in chosen})
    if unknown:
        raise SkillLoadError("skill-settings-unused", f"settings given for skills not in the "
                             f"session: {', '.join(unknown)}; add them to the skills loaded")
    resolved = {skill.name: skill_settings(skill, (settings or {}).get(skill.name, {}))[1]
                for skill in chosen}
    simulations: dict[str, object] = {}
    async with contextlib.AsyncExitStack() as stack:
        for skill in chosen:
            if skill.simulate is None:
                continue
            simulation = await asyncio.wait_for(
                stack.enter_async_context(skill.simulate(resolved[skill.name])), AWAIT_LIMIT)
            if simulation is not None:
                resolved[skill.name] = dict(simulation.config)
                simulations[skill.name] = simulation.simulated
        session = build_session(chosen, settings=resolved, audit_path=audit_path, clock=clock,
                                classifiers=classifiers, simulations=simulations, connect=True)
        if language_model is not None:
            session.assistant.understanding.attach_model(language_model)
        try:
            await asyncio.wait_for(session.assistant.start(), AWAIT_LIMIT)
            yield session
        finally:
            await asyncio.wait_for(session.assistant.aclose(), AWAIT_LIMIT)
