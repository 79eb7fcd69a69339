"""Speech-to-text behind a small Protocol: faster-whisper by default, Vosk optional."""

from assistant.stt.base import FakeSpeechToText, SpeechToText, vocabulary_prompt

__all__ = ["FakeSpeechToText", "SpeechToText", "vocabulary_prompt"]
