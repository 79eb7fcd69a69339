"""The speech-to-text Protocol, a fake for unit tests, and the skills' vocabulary."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Protocol

from assistant.errors import SpeechToTextError

__all__ = ["FakeSpeechToText", "SpeechToText", "transcribe_within"]


class SpeechToText(Protocol):
    """16 kHz mono 16-bit audio of one command in, its text out."""

    name: str

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> str:
        """``partial``: the speaker may not be done (a pause); a quick guess will do."""
        ...

    async def aclose(self) -> None: ...


class FakeSpeechToText:
    def __init__(self, handler: Callable[[bytes], str], name: str = "fake") -> None:
        self.name = name
        self._handler = handler

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> str:
        return self._handler(audio)

    async def aclose(self) -> None:
        return None


async def transcribe_within(worker: Executor, run: Callable[[bytes], str], audio: bytes,
                            timeout_s: float) -> str:
    """Run a blocking recognizer on its worker thread within a time budget; engine
    failures become :class:`SpeechToTextError` with a code."""
    job = asyncio.get_running_loop().run_in_executor(worker, run, audio)
    try:
        return await asyncio.wait_for(job, timeout_s)
    except TimeoutError as err:
        raise SpeechToTextError("stt-timeout", f"transcription took over {timeout_s} s; "
                                "the command was dropped") from err
    except (RuntimeError, ValueError) as err:
        raise SpeechToTextError("stt-engine-failed", f"transcription failed: {err}") from err
