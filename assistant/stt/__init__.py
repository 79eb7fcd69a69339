"""Speech-to-text behind a small Protocol: faster-whisper by default, Vosk optional."""

from assistant.stt.base import FakeSpeechToText, SpeechToText, Transcript, transcribe_within

__all__ = ["FakeSpeechToText", "SpeechToText", "Transcript", "transcribe_within"]
