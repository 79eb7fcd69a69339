"""Wake word detection behind a small Protocol; openWakeWord by default, Porcupine optional."""

from assistant.wake.base import Detection, WakeWordDetector
from assistant.wake.fake import FakeWakeWord

__all__ = ["Detection", "FakeWakeWord", "WakeWordDetector"]
