"""pymicro-vad behind the voice activity Protocol, on a worker thread."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from assistant.audio import AudioChunk
from assistant.vad.base import FRAME_BYTES

__all__ = ["MicroVadActivity"]

PRIME_FRAMES = 100
"""Quiet 10 ms frames fed after a reset. The model scores a window of recent audio, and
fresh it says "speech" to nothing for ~0.75 s: a "stop" or "yes" said right after a wake
word was over before it could be heard. Measured here: first "speech" at frame 76 whatever
was said, fresh; at 35-46 (the voice began at 10-16) once primed with 0.75-1 s of quiet."""


class MicroVadActivity:
    def __init__(self) -> None:
        from pymicro_vad import MicroVad

        self._vad = MicroVad()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="vad")
        self._prime()

    async def frames(self, chunk: AudioChunk) -> list[float]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._score, chunk.audio)

    def _score(self, audio: bytes) -> list[float]:
        return [float(self._vad.process_10ms(audio[i:i + FRAME_BYTES]))
                for i in range(0, len(audio) - FRAME_BYTES + 1, FRAME_BYTES)]

    def reset(self) -> None:
        """Forget what was heard (the wake word's tail is not the command), and be ready
        for the next voice at once; on the worker, before the next frames are scored."""
        self._worker.submit(self._restart)

    def _restart(self) -> None:
        self._vad.reset()
        self._prime()

    def _prime(self) -> None:
        quiet = bytes(FRAME_BYTES)
        for _ in range(PRIME_FRAMES):
            self._vad.process_10ms(quiet)

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)
