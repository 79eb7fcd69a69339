"""Building an assistant from installed skills: understanding, dispatcher, dialogue, audit."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.audit import AuditLog
from assistant.dialogue import CONFIRM_SECONDS, Dialogue
from assistant.dispatch import Dispatcher
from assistant.events import EventSink, ReplyEvent, TurnEvents
from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.understand import Understanding
from assistant.skills import LoadedSkills, close_backends, discover_skills, load_skills

__all__ = ["Assistant", "Notices", "build_assistant", "build_understanding", "default_audit_path"]


def default_audit_path() -> Path:
    """``$ASSISTANT_AUDIT_LOG``, else the user's state directory."""
    configured = os.environ.get("ASSISTANT_AUDIT_LOG")
    if configured:
        return Path(configured)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "assistant" / "audit.jsonl"


def build_understanding(
    enabled: Collection[str] | None = None,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    notify: Callable[[str], None] = lambda _text: None,
    classifier: IntentClassifier | None = None,
) -> tuple[LoadedSkills, Understanding]:
    """Load the skills and build the tiers (a trained classifier may be reused)."""
    loaded = load_skills(discover_skills(enabled), configs, notify)
    return loaded, Understanding(loaded.catalog, loaded.sentences, classifier=classifier)


class Notices:
    """What the skills say unprompted (a timer rang), kept for the voice pipeline to speak
    between turns; each is also a ``reply`` event when it is said."""

    def __init__(self) -> None:
        self._waiting: deque[str] = deque(maxlen=16)

    def put(self, text: str) -> None:
        self._waiting.append(text)

    def drain(self) -> list[str]:
        texts = list(self._waiting)
        self._waiting.clear()
        return texts


@dataclass
class Assistant:
    skills: LoadedSkills
    understanding: Understanding
    dispatcher: Dispatcher
    dialogue: Dialogue
    audit: AuditLog
    notices: Notices = field(default_factory=Notices)

    def backend(self, skill: str) -> object:
        return self.skills.runtimes[skill].backend

    async def aclose(self) -> None:
        """Close the skills' back ends (bus connections), then the audit log."""
        try:
            await close_backends(self.skills.runtimes)
        finally:
            self.audit.close()


def build_assistant(
    emit: EventSink,
    *,
    audit_path: Path | None = None,
    enabled: Collection[str] | None = None,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    now_ms: Callable[[], float] | None = None,
    clock: Callable[[], float] = time.monotonic,
    confirm_seconds: float = CONFIRM_SECONDS,
    classifier: IntentClassifier | None = None,
    audit: AuditLog | None = None,
) -> Assistant:
    """Everything the text core needs, wired; the skills' notices become reply events.
    ``audit`` is a log of the caller's (``audit_path`` is then not used)."""
    started = clock()
    timestamp = now_ms or (lambda: (clock() - started) * 1000.0)

    notices = Notices()

    def notify(text: str) -> None:
        emit(ReplyEvent(t_ms=timestamp(), text=text))
        notices.put(text)

    loaded, understanding = build_understanding(enabled, configs, notify, classifier)
    audit = audit or AuditLog(audit_path or default_audit_path())
    events = TurnEvents(emit)
    dispatcher = Dispatcher(loaded.catalog, audit, events, timestamp)
    dialogue = Dialogue(understanding, dispatcher, events, now_ms=timestamp, clock=clock,
                        confirm_seconds=confirm_seconds)
    return Assistant(loaded, understanding, dispatcher, dialogue, audit, notices)
