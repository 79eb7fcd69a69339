"""The voice pipeline: the reader and turns tasks (``loop``), the stop spotter that
listens while the assistant thinks or speaks, and speech output."""

from assistant.pipeline.base import PipelineSettings, Stage, StreamClock
from assistant.pipeline.loop import VoicePipeline

__all__ = ["PipelineSettings", "Stage", "StreamClock", "VoicePipeline"]
