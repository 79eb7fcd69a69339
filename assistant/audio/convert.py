"""Conversion of any PCM audio to the assistant's 16 kHz mono 16-bit (soxr resampling)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import soxr

from assistant.audio.base import SAMPLE_RATE

__all__ = ["pcm_to_int16", "to_assistant_rate"]


def pcm_to_int16(data: bytes, sample_width: int) -> npt.NDArray[np.int16]:
    """Interleaved PCM of 1, 2, 3 or 4 bytes per sample as int16."""
    if sample_width == 2:
        return np.frombuffer(data, dtype="<i2").copy()
    if sample_width == 1:  # WAV 8-bit is unsigned
        return ((np.frombuffer(data, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    if sample_width == 3:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3)
        wide = (raw[:, 0].astype(np.int32) | (raw[:, 1].astype(np.int32) << 8)
                | (raw[:, 2].astype(np.int32) << 16))
        wide = np.where(wide & 0x800000, wide - 0x1000000, wide)
        return (wide >> 8).astype(np.int16)
    if sample_width == 4:
        return (np.frombuffer(data, dtype="<i4") >> 16).astype(np.int16)
    raise ValueError(f"unsupported sample width {sample_width} bytes; use 8, 16, 24 or 32 bit")


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
