"""Picovoice Porcupine, optional: its AccessKey is validated online, so never the default."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from assistant.audio import AudioChunk
from assistant.errors import WakeWordError
from assistant.wake.base import Detection

__all__ = ["PorcupineDetector"]


class PorcupineDetector:
    """A built-in Porcupine keyword ("jarvis", "computer", …) with the user's AccessKey."""

    def __init__(self, access_key: str, keyword: str = "jarvis", *, sensitivity: float = 0.5,
                 refractory_ms: float = 2000.0) -> None:
        if not access_key:
            raise WakeWordError("wake-porcupine-no-key", "Porcupine needs an AccessKey from "
                                "console.picovoice.ai in the configuration (wake.access_key)")
        try:
            import pvporcupine
        except ImportError as err:
            raise WakeWordError("wake-porcupine-missing", "Porcupine is not installed; "
                                "run 'pip install assistant[porcupine]'") from err
        try:
            self._engine: Any = pvporcupine.create(access_key=access_key, keywords=[keyword],
                                                   sensitivities=[sensitivity])
        except pvporcupine.PorcupineError as err:
            raise WakeWordError("wake-porcupine-failed",
                                f"Porcupine refused to start ({type(err).__name__}: {err}); its "
                                "AccessKey must be valid and checked online once") from err
        self.name = keyword
        self.refractory_ms = refractory_ms
        self._frame = int(self._engine.frame_length)
        self._pending = np.zeros(0, dtype=np.int16)
        self._quiet_until_ms = -1.0
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="porcupine")

    async def process(self, chunk: AudioChunk, *, strict: bool = False) -> Detection | None:
        loop = asyncio.get_running_loop()
        hit = await loop.run_in_executor(self._worker, self._feed, chunk.audio)
        if not hit or chunk.timestamp_ms < self._quiet_until_ms:
            return None
        self._quiet_until_ms = chunk.end_ms + self.refractory_ms
        return Detection(self.name, chunk.end_ms, 1.0)

    def _feed(self, audio: bytes) -> bool:
        samples = np.concatenate([self._pending, np.frombuffer(audio, dtype="<i2")])
        hit = False
        while len(samples) >= self._frame:
            hit |= self._engine.process(samples[: self._frame].tolist()) >= 0
            samples = samples[self._frame:]
        self._pending = samples
        return hit

    def reset(self) -> None:
        self._pending = np.zeros(0, dtype=np.int16)

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)
        self._engine.delete()
