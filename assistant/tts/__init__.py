"""Speech output behind a small Protocol: Piper with the packaged en_US-joe-medium voice."""

from assistant.tts.base import FakeTextToSpeech, TextToSpeech, sentences

__all__ = ["FakeTextToSpeech", "TextToSpeech", "sentences"]
