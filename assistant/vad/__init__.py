"""Voice activity (pymicro-vad, per 10 ms frame) and endpointing (when a command starts,
when it ended, when nobody spoke)."""

from assistant.vad.base import FRAME_BYTES, FakeVoiceActivity, VoiceActivity
from assistant.vad.endpoint import Endpoint, Endpointer, EndpointKind
from assistant.vad.micro import MicroVadActivity

__all__ = ["FRAME_BYTES", "Endpoint", "EndpointKind", "Endpointer",
           "FakeVoiceActivity", "MicroVadActivity", "VoiceActivity"]
