"""openWakeWord through pyopen-wakeword (TFLite), models checked against the manifest.

Two stages for a faint wake word: a score over ``threshold`` wakes at once, as before; a
score between ``candidate_threshold`` and ``threshold`` is a candidate, and once its score
has peaked, the last seconds of audio go to a speech recognizer (``verify``), which must
find the wake phrase there (mean token log-probability at least ``verify_log_probability``).
Measured on twelve synthetic voices: ordinary commands never score 0.05, one accent's wake
word never scores over 0.2, and in 10 dB noise many score 0.1-0.5; the recognizer gives the
wake phrase -0.3 to -5 per token where it was said and -5.8 or less in other speech; in
noise alone it may give any phrase more, so audio it calls no speech supports none.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant.audio import MS_PER_CHUNK, AudioChunk
from assistant.errors import AssistantError, WakeWordError
from assistant.manifest import ModelManifest
from assistant.wake.base import Detection, PhraseSupport, wake_phrase

_LOGGER = logging.getLogger(__name__)

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
        candidate_threshold: float = 0.1,
        verify: PhraseSupport | None = None,
        phrase: str = "",
        verify_log_probability: float = -5.0,
        verify_window_ms: float = 2500.0,
        manifest: ModelManifest | None = None,
    ) -> None:
        """``phrase``: the words the model listens for (by default from a packaged model's
        name); a faint candidate is only checked when ``verify`` and a phrase are given."""
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
        self.phrase = phrase or ("" if model_path.suffix == ".tflite" else wake_phrase(model))
        self.verify = verify if self.phrase else None
        self.candidate_threshold = min(candidate_threshold, threshold)
        self.verify_log_probability = verify_log_probability
        self._recent: deque[bytes] = deque(maxlen=max(1, int(verify_window_ms / MS_PER_CHUNK)))
        self._candidate: float | None = None
        """The highest score of a faint candidate still rising."""
        self._checked = False
        """A candidate was checked and refused: not again until the score falls back."""
        self._quiet_until_ms = -1.0
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="wake")

    async def process(self, chunk: AudioChunk, *, strict: bool = False) -> Detection | None:
        loop = asyncio.get_running_loop()
        probability = await loop.run_in_executor(self._worker, self._best, chunk.audio)
        self._recent.append(chunk.audio)
        if chunk.timestamp_ms < self._quiet_until_ms:
            return None
        if probability >= (self.strict_threshold if strict else self.threshold):
            return self._detected(chunk, probability)
        if strict or self.verify is None:
            self._candidate = None
            return None
        if probability < self.candidate_threshold:
            self._checked = False
        elif not self._checked and probability >= (self._candidate or 0.0):
            self._candidate = probability
            return None
        peak, self._candidate = self._candidate, None
        if peak is None:
            return None
        self._checked = probability >= self.candidate_threshold
        if await self._phrase_heard(peak):
            return self._detected(chunk, peak)
        return None

    def _detected(self, chunk: AudioChunk, probability: float) -> Detection:
        self._candidate, self._checked = None, False
        self._quiet_until_ms = chunk.end_ms + self.refractory_ms
        return Detection(self.name, chunk.end_ms, probability)

    async def _phrase_heard(self, peak: float) -> bool:
        """The recognizer's opinion on a faint candidate that has just peaked."""
        assert self.verify is not None
        try:
            support = await self.verify(b"".join(self._recent), self.phrase)
        except AssistantError as err:
            _LOGGER.warning("a faint wake word (%.2f) was not checked: %s", peak, err)
            return False
        _LOGGER.debug("faint wake word %.2f: %r supported at %.2f per token", peak,
                      self.phrase, support)
        return support >= self.verify_log_probability

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
        self._candidate, self._checked = None, False
        self._recent.clear()
        self._model.reset()
        self._features.reset()

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)
        self._model.close()
        self._features.close()
