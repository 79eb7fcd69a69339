"""openWakeWord through pyopen-wakeword (TFLite), models checked against the manifest."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant.audio import AudioChunk
from assistant.errors import WakeWordError
from assistant.models import ModelManifest
from assistant.wake.base import Detection

__all__ = ["OpenWakeWordDetector"]

_MAX_CHUNK_BYTES = 16_000 * 2  # feed it at most 1 s at a time: it breaks past 10 s


class OpenWakeWordDetector:
    """Blocking inference runs on one worker thread that owns the model's state."""

    def __init__(
        self,
        model: str = "hey_jarvis",
        *,
        threshold: float = 0.5,
        strict_threshold: float = 0.9,
        refractory_ms: float = 2000.0,
        manifest: ModelManifest | None = None,
    ) -> None:
        if not 0 < threshold <= strict_threshold <= 1:
            raise ValueError("need 0 < threshold <= strict_threshold <= 1")
        from pyopen_wakeword import OpenWakeWord, OpenWakeWordFeatures

        model_path = Path(model)
        try:
            if model_path.suffix == ".tflite":
                self._model = OpenWakeWord.from_model(model_path)
                features_dir = None
            else:
                folder = (manifest or ModelManifest.load()).get(model).verified()
                self._model = OpenWakeWord.from_model(folder / f"{model}.tflite")
                features_dir = folder
            self._features = (OpenWakeWordFeatures.from_builtin(features_dir)
                              if features_dir else OpenWakeWordFeatures.from_builtin())
        except OSError as err:
            raise WakeWordError("wake-model-failed", f"cannot load wake word model {model!r}: "
                                f"{err}") from err
        self.name = model_path.stem
        self.threshold = threshold
        self.strict_threshold = strict_threshold
        self.refractory_ms = refractory_ms
        self._quiet_until_ms = -1.0
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="wake")

    async def process(self, chunk: AudioChunk, *, strict: bool = False) -> Detection | None:
        loop = asyncio.get_running_loop()
        probability = await loop.run_in_executor(self._worker, self._best, chunk.audio)
        needed = self.strict_threshold if strict else self.threshold
        if probability < needed or chunk.timestamp_ms < self._quiet_until_ms:
            return None
        self._quiet_until_ms = chunk.end_ms + self.refractory_ms
        return Detection(self.name, chunk.end_ms, probability)

    def _best(self, audio: bytes) -> float:
        best = 0.0
        for start in range(0, len(audio), _MAX_CHUNK_BYTES):
            for features in self._features.process_streaming(audio[start:start + _MAX_CHUNK_BYTES]):
                for probability in self._model.process_streaming(features):
                    best = max(best, float(probability))
        return best

    def reset(self) -> None:
        self._worker.submit(self._reset_state).result()

    def _reset_state(self) -> None:
        self._quiet_until_ms = -1.0
        self._model.reset()
        self._features.reset()

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)
        self._model.close()
        self._features.close()
