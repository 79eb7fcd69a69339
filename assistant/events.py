"""Typed events of a conversation; ``to_json`` gives the contract's ``--json`` lines.

Each event is a frozen dataclass with a stable type and a time ``t_ms`` (milliseconds since
the session started, or of input audio for ``run --input``), emitted through one callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

__all__ = [
    "ActionEvent",
    "ActionOutcome",
    "CancelledEvent",
    "ClarifyEvent",
    "ConfirmEvent",
    "ErrorEvent",
    "Event",
    "EventSink",
    "EventType",
    "IntentEvent",
    "InterruptedEvent",
    "NoticeEvent",
    "RefusedEvent",
    "ReplyEvent",
    "SpeechEndEvent",
    "TranscriptEvent",
    "TurnEvents",
    "WakeEvent",
]


class EventType(StrEnum):
    WAKE = "wake"
    SPEECH_END = "speech_end"
    TRANSCRIPT = "transcript"
    INTENT = "intent"
    CONFIRM = "confirm"
    CLARIFY = "clarify"
    ACTION = "action"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    REPLY = "reply"
    ERROR = "error"
    NOTICE = "notice"


def _numbers(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v
            for k, v in arguments.items()}


@dataclass(frozen=True, kw_only=True)
class Event:
    TYPE: ClassVar[EventType]
    t_ms: float

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        t_ms = data.pop("t_ms")
        if isinstance(data.get("arguments"), dict):
            data["arguments"] = _numbers(data["arguments"])
        return {"event": self.TYPE.value, "t_ms": round(t_ms, 1), **data}


@dataclass(frozen=True, kw_only=True)
class WakeEvent(Event):
    TYPE: ClassVar[EventType] = EventType.WAKE
    name: str


@dataclass(frozen=True, kw_only=True)
class SpeechEndEvent(Event):
    """The end of a command was detected; ``speech_ms`` is how long the command was."""

    TYPE: ClassVar[EventType] = EventType.SPEECH_END
    speech_ms: float


@dataclass(frozen=True, kw_only=True)
class TranscriptEvent(Event):
    TYPE: ClassVar[EventType] = EventType.TRANSCRIPT
    text: str


@dataclass(frozen=True, kw_only=True)
class IntentEvent(Event):
    TYPE: ClassVar[EventType] = EventType.INTENT
    tool: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    route: str = "none"


@dataclass(frozen=True, kw_only=True)
class ConfirmEvent(Event):
    TYPE: ClassVar[EventType] = EventType.CONFIRM
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ClarifyEvent(Event):
    """What was heard is not acted on until the speaker says which call was meant:
    ``kind`` "read_back" (the words were uncertain: "Open the passenger window fully?") or
    "choose" (two readings mean different calls: "Lock the doors, or unlock the doors?").
    ``tool``/``arguments`` are the call read back, or the likeliest reading; ``options``
    every reading asked about."""

    TYPE: ClassVar[EventType] = EventType.CLARIFY
    kind: str
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)


class ActionOutcome(StrEnum):
    """What became of an action: done, not done, or sent and never confirmed (it may or may
    not have happened; nobody may say either)."""

    DONE = "done"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True, kw_only=True)
class ActionEvent(Event):
    """``ok`` is true only when the action is known to be done; ``outcome`` tells a failure
    from a command that was sent and never confirmed."""

    TYPE: ClassVar[EventType] = EventType.ACTION
    tool: str
    arguments: dict[str, Any]
    ok: bool
    message: str
    outcome: ActionOutcome = ActionOutcome.DONE


@dataclass(frozen=True, kw_only=True)
class RefusedEvent(Event):
    TYPE: ClassVar[EventType] = EventType.REFUSED
    tool: str | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class CancelledEvent(Event):
    TYPE: ClassVar[EventType] = EventType.CANCELLED
    tool: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class InterruptedEvent(Event):
    """A turn still being transcribed or understood was dropped, because a stop came."""

    TYPE: ClassVar[EventType] = EventType.INTERRUPTED
    text: str
    """What the dropped turn had heard so far ("" if it was still transcribing)."""
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReplyEvent(Event):
    TYPE: ClassVar[EventType] = EventType.REPLY
    text: str


@dataclass(frozen=True, kw_only=True)
class ErrorEvent(Event):
    TYPE: ClassVar[EventType] = EventType.ERROR
    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class NoticeEvent(Event):
    """Something the service did or refused between turns, not in answer to anyone (skills
    reloaded, or a reload refused and why); ``code`` is stable, like an error's."""

    TYPE: ClassVar[EventType] = EventType.NOTICE
    code: str
    message: str


EventSink = Callable[[Event], None]


class TurnEvents:
    """The event sink of the dialogue and the dispatcher: passes every event on, and keeps
    those emitted while a turn is in progress (:meth:`turn`) for its result."""

    def __init__(self, emit: EventSink) -> None:
        self._emit = emit
        self._turn: list[Event] | None = None

    def __call__(self, event: Event) -> None:
        if self._turn is not None:
            self._turn.append(event)
        self._emit(event)

    @contextmanager
    def turn(self) -> Iterator[list[Event]]:
        outer, self._turn = self._turn, []
        try:
            yield self._turn
        finally:
            if outer is not None:
                outer.extend(self._turn)
            self._turn = outer
