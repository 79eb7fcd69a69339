"""Conversion to the assistant's 16 kHz mono 16-bit (soxr resampling)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import soxr

from assistant.audio.base import SAMPLE_RATE

__all__ = ["StreamResampler", "to_assistant_rate"]


def to_assistant_rate(
    samples: npt.NDArray[np.int16], rate: int, channels: int
) -> npt.NDArray[np.int16]:
    """Mix down to mono and resample to 16 kHz."""
    if channels < 1:
        raise ValueError("audio needs at least one channel")
    mono = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples
    if rate == SAMPLE_RATE:
        return np.asarray(mono, dtype=np.int16)
    resampled: npt.NDArray[np.float32] = soxr.resample(
        np.asarray(mono, dtype=np.float32), rate, SAMPLE_RATE)
    return np.clip(np.round(resampled), -32768, 32767).astype(np.int16)


class StreamResampler:
    """Resamples a live stream chunk by chunk; its filter state carries across chunks, so
    chunk edges do not click the way separately resampled pieces do."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._stream = None if rate == SAMPLE_RATE else \
            soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="int16")

    def __call__(self, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        if self._stream is None:
            return np.asarray(samples, dtype=np.int16)
        resampled: npt.NDArray[np.int16] = self._stream.resample_chunk(
            np.asarray(samples, dtype=np.int16))
        return resampled
