"""Audio in and out: 16 kHz mono 16-bit chunks, sources and sinks behind small Protocols."""

from assistant.audio.base import (
    BYTES_PER_CHUNK,
    BYTES_PER_SAMPLE,
    MS_PER_CHUNK,
    SAMPLE_RATE,
    SAMPLES_PER_CHUNK,
    AudioChunk,
    AudioSink,
    AudioSource,
    NullSink,
    samples_to_ms,
)

__all__ = [
    "BYTES_PER_CHUNK",
    "BYTES_PER_SAMPLE",
    "MS_PER_CHUNK",
    "SAMPLES_PER_CHUNK",
    "SAMPLE_RATE",
    "AudioChunk",
    "AudioSink",
    "AudioSource",
    "NullSink",
    "samples_to_ms",
]
