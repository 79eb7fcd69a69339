"""Speech-to-text behind a small Protocol: faster-whisper by default, Vosk optional."""

from assistant.stt.base import (
    FakeJudge,
    FakeSpeechToText,
    SpeechToText,
    Transcript,
    TranscriptJudge,
    transcribe_within,
)

__all__ = ["FakeJudge", "FakeSpeechToText", "SpeechToText", "Transcript", "TranscriptJudge",
           "transcribe_within"]
