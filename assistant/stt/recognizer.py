"""One Whisper model (faster-whisper, CTranslate2) with its tokenizer and the prompt encoded
for it: beam decoding with scores and the no-speech probability, and forced alignment
(how well the audio supports a given text)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.errors import SpeechToTextError
from assistant.manifest import ModelManifest

__all__ = ["Decoded", "Recognizer"]


class Recognizer:
    """One Whisper model with its tokenizer and the prompt encoded for it."""

    def __init__(self, model: str | Path, prompt: str, threads: int,
                 manifest: ModelManifest, *, workers: int = 1) -> None:
        """``workers``: calls that may run at once from different threads (CTranslate2
        replicas on one device share the weights)."""
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        path = Path(model)
        folder = path if path.is_dir() else manifest.get(str(model)).verified()
        try:
            self.model: Any = WhisperModel(str(folder), device="cpu", compute_type="int8",
                                           cpu_threads=threads, num_workers=workers)
        except (RuntimeError, ValueError, OSError) as err:
            raise SpeechToTextError("stt-model-failed",
                                    f"cannot load the Whisper model in {folder}: {err}") from err
        self.name = path.name
        self.tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual,
                                   task="transcribe", language="en")
        self.prompt: list[int] = []
        self.reprompt(prompt)
        self.bare = self.model.get_prompt(self.tokenizer, [], without_timestamps=True)

    def reprompt(self, prompt: str) -> None:
        """Decode under ``prompt`` from now on (cheap: only the prompt is encoded again)."""
        tokens = self.tokenizer.encode(" " + prompt.strip()) if prompt.strip() else []
        self.prompt = self.model.get_prompt(self.tokenizer, tokens, without_timestamps=True)

    def decode(self, samples: npt.NDArray[np.float32], window_frames: int, width: int, *,
               max_tokens: int, prompted: bool = True) -> Decoded:
        encoded, frames = self.encode(samples, window_frames)
        prompt = self.prompt if prompted else self.bare
        result = self.model.model.generate(
            encoded, [prompt], beam_size=width, num_hypotheses=width,
            max_length=len(prompt) + min(64, max_tokens), suppress_blank=True,
            suppress_tokens=[-1], return_scores=True, return_no_speech_prob=True)[0]
        hypotheses = []
        for ids, score in zip(result.sequences_ids, result.scores, strict=True):
            text = self.tokenizer.decode(ids).strip()
            if text:  # scores are per token (length penalty 1); count the end token too
                hypotheses.append((text, float(score) * len(ids) / (len(ids) + 1)))
        return Decoded(hypotheses, float(result.no_speech_prob), encoded, frames, self)

    def no_speech(self, encoded: Any) -> float:
        """The model's probability that the audio holds no speech (one decoding step)."""
        result = self.model.model.generate(encoded, [self.bare], max_length=len(self.bare) + 1,
                                           return_no_speech_prob=True)[0]
        return float(result.no_speech_prob)

    def encode(self, samples: npt.NDArray[np.float32], window_frames: int) -> tuple[Any, int]:
        """The encoder's output, and the feature frames (10 ms) that hold audio."""
        from faster_whisper.audio import pad_or_trim

        features = pad_or_trim(self.model.feature_extractor(samples), window_frames)
        return self.model.encode(features), min(window_frames, len(samples) // 160)

    def log_probabilities(self, decoded: Decoded, texts: list[str]) -> list[float]:
        """How well the audio supports each text: the sum of its tokens' log-probabilities
        under the same prompt (forced decoding)."""
        return [self.support(decoded.encoded, decoded.frames, text)[0] for text in texts]

    def support(self, encoded: Any, frames: int, text: str, *, prompted: bool = True
                ) -> tuple[float, int]:
        """The sum of ``text``'s token log-probabilities given the audio, and its tokens."""
        tokens = self.tokenizer.encode(" " + text)
        result = self.model.model.align(encoded, self.prompt if prompted else self.bare,
                                        [tokens], frames)[0]
        probabilities = np.maximum(np.asarray(result.text_token_probs), 1e-9)
        return float(np.sum(np.log(probabilities))), len(tokens)


@dataclass
class Decoded:
    hypotheses: list[tuple[str, float]]
    """Text and mean log-probability per token, best first."""
    no_speech: float
    encoded: Any
    frames: int
    """Feature frames (10 ms) that hold audio, not padding."""
    recognizer: Recognizer
