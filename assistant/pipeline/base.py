"""The pipeline's small parts: its stages, its clock, its settings, and what it asks of the
text core."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from assistant.stt import TranscriptJudge

__all__ = ["Notices", "PipelineSettings", "Stage", "StreamClock", "TranscriptCheck"]


class TranscriptCheck(TranscriptJudge, Protocol):
    """What the pipeline asks of the text core about what it heard: the recognizer's
    questions, and whether a text at a pause is a whole command nothing could follow."""

    def finished(self, text: str) -> bool: ...


class Notices(Protocol):
    def drain(self) -> list[str]: ...


class Stage(StrEnum):
    WAKE = "wake"
    LISTEN = "listen"
    STT = "stt"
    INTENT = "intent"
    TTS = "tts"


class StreamClock:
    """Milliseconds of input audio read so far: the pipeline's and the dialogue's clock."""

    def __init__(self) -> None:
        self.position_ms = 0.0

    def ms(self) -> float:
        return self.position_ms

    def seconds(self) -> float:
        return self.position_ms / 1000.0


@dataclass(frozen=True)
class PipelineSettings:
    intent_timeout_s: float = 5.0
    """Seconds understanding and dispatch may take before the turn is dropped."""
    tts_timeout_s: float = 10.0
    """Seconds one reply's synthesis may take."""
    question_timeout_ms: float = 6000.0
    """Milliseconds to wait for the answer to a question ("Which window?")."""
    paced: bool = False
    """True for a live microphone (or a file fed at its pace): input is read while turns
    are worked on and replies play, and a stop pre-empts a turn in flight."""
