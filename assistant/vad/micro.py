"""pymicro-vad behind the voice activity Protocol, on a worker thread."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from assistant.audio import AudioChunk
from assistant.vad.base import FRAME_BYTES

__all__ = ["MicroVadActivity"]


class MicroVadActivity:
    def __init__(self) -> None:
        from pymicro_vad import MicroVad

        self._vad = MicroVad()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="vad")

    async def frames(self, chunk: AudioChunk) -> list[float]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._score, chunk.audio)

    def _score(self, audio: bytes) -> list[float]:
        return [float(self._vad.process_10ms(audio[i:i + FRAME_BYTES]))
                for i in range(0, len(audio) - FRAME_BYTES + 1, FRAME_BYTES)]

    def reset(self) -> None:
        self._vad.reset()

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)
