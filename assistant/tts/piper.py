"""Piper (onnxruntime) with the packaged en_US-joe-medium voice, checked against the manifest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from assistant.audio import AudioChunk
from assistant.audio.convert import to_assistant_rate
from assistant.errors import TextToSpeechError
from assistant.manifest import ModelManifest
from assistant.tts.base import sentences

__all__ = ["PiperTextToSpeech"]

_VOICE_FILE = "en_US-joe-medium.onnx"


class PiperTextToSpeech:
    """Loaded once; each sentence is synthesized on a worker thread as it is needed."""

    def __init__(self, voice: str | Path = "piper-en_US-joe-medium", *,
                 manifest: ModelManifest | None = None) -> None:
        from piper import PiperVoice

        path = Path(voice)
        if path.suffix == ".onnx":
            model, config = path, Path(f"{path}.json")
        else:
            folder = (manifest or ModelManifest.load()).get(str(voice)).verified()
            model, config = folder / _VOICE_FILE, folder / f"{_VOICE_FILE}.json"
        try:
            self._voice: Any = PiperVoice.load(model, config_path=config)
        except (OSError, ValueError, RuntimeError) as err:
            raise TextToSpeechError("tts-model-failed",
                                    f"cannot load the Piper voice {model}: {err}") from err
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="tts")

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        loop = asyncio.get_running_loop()
        offset = 0.0
        for sentence in sentences(text):
            try:
                samples = await loop.run_in_executor(self._worker, self._run, sentence)
            except (RuntimeError, ValueError) as err:
                raise TextToSpeechError("tts-engine-failed", f"synthesis failed: {err}") from err
            chunk = AudioChunk(samples.tobytes(), offset)
            offset = chunk.end_ms
            yield chunk

    def _run(self, sentence: str) -> np.ndarray[Any, np.dtype[np.int16]]:
        pieces = list(self._voice.synthesize(sentence))
        if not pieces:
            return np.zeros(0, dtype=np.int16)
        audio = np.concatenate([p.audio_int16_array for p in pieces])
        return to_assistant_rate(audio, pieces[0].sample_rate, 1)

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)
