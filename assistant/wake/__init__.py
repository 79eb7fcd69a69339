"""Wake word detection behind a small Protocol; openWakeWord by default, Porcupine optional."""

from assistant.wake.base import Detection, PhraseSupport, WakeWordDetector, wake_phrase
from assistant.wake.fake import FakeWakeWord

__all__ = ["Detection", "FakeWakeWord", "PhraseSupport", "WakeWordDetector", "wake_phrase"]
