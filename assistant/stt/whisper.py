"""faster-whisper (CTranslate2, int8): tiny.en first, Whisper base when tiny.en's text is
not understood.

Biased toward the skills' language: the decoder is prompted with sentences made from the
skills' templates, and it returns several hypotheses (beam search) of which the first one
the text core fully understands is taken (``accept``); else the best one. The encoder looks
at ``window_s`` seconds (10-30; commands are at most 8 s): Whisper was trained on 30 s, but
with the prompt a short window is both faster and, measured on held-out voices, no worse.

A name misheard ("Power down the lane." for "lathe") is put right before anything else:
the skills' names are tried in its place and the audio decides (``renamings``); such text
is marked uncertain.

A cascade, because the two models fail on different voices: when no hypothesis of the
first model is understood, the ``fallback`` model (Whisper base, multilingual) tries the
same audio. If still nothing is understood, the skills' sentences nearest to what was heard
(``nearest``) are scored against the audio, and the best is taken if the audio supports it
within ``nearest_margin`` (natural log) of the recognizer's own best text: right sentences
came within -1.6 to 7.5, wrong ones from 8.7, ordinary talk never nearer than 20. Such a
correction is marked uncertain, so it is read back, never acted on silently.

Guards: a prompted decoder can "hear" a prompt sentence in a filler, near silence or other
people talking, and a short window can loop. Output is capped by the audio's voiced length
(words per voiced second), not by collapsing repeats: "stop, stop, stop" is real; audio the
model itself calls no speech, at low confidence, is no text, and so is a short mumble; a
prompt sentence heard word for word is checked against the model without the prompt, and
not taken if that hears something else.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from assistant.errors import SpeechToTextError
from assistant.models import ModelManifest
from assistant.stt.base import Transcript, transcribe_within

__all__ = ["WhisperSpeechToText"]

_LOGGER = logging.getLogger(__name__)
FRAMES_PER_SECOND = 100
WORDS_PER_VOICED_SECOND = 4.5
"""Fast speech is about 3 words a second; more than this from so little voice is made up."""
NO_SPEECH = 0.6
"""The model's no-speech probability above which low-confidence text is dropped."""
RENAME_MARGIN = 9.5
"""How much less (natural log, without the prompt) the audio may support a sentence with
one name put right than the recognizer's own text; the right name must also lead every
other name by ``RENAME_LEAD``. Measured on misheard names: gap -0.1 to 9.3, lead 5.8 to
13.5 where taken; on names of things no skill has ("switch the kettle off", "start the
dishwasher"): gap 9.2 and over, and at gaps under 11.4 a lead of 4.1 at most."""
RENAME_LEAD = 5.0
ECHO_AGREEMENT = 60.0
"""How alike (rapidfuzz ratio) the unprompted text must be for a prompt sentence to stand."""
MUMBLE = (0.8, -1.0)
"""Under this many voiced seconds, text below this confidence is a filler ("um" heard as
"Time.") and dropped: a real short command ("stop") is heard far more surely."""


class WhisperSpeechToText:
    """Loaded once; each transcription runs on a worker thread within a time budget."""

    def __init__(
        self,
        model: str | Path = "whisper-tiny.en",
        *,
        fallback: str | Path | None = None,
        prompt: str = "",
        hypotheses: int = 5,
        accept: Callable[[str], bool] | None = None,
        window_s: float = 10.0,
        nearest: Callable[[str], list[str]] | None = None,
        nearest_margin: float = 8.0,
        renamings: Callable[[str], list[str]] | None = None,
        low_confidence: float = -0.45,
        alternative_margin: float = 0.12,
        threads: int = 2,
        timeout_s: float = 10.0,
        manifest: ModelManifest | None = None,
    ) -> None:
        manifest = manifest or ModelManifest.load()
        self.name = f"whisper:{Path(model).name}"
        self._first = _Recognizer(model, prompt, threads, manifest)
        self._prompt_sentences = {_plain(sentence) for sentence in prompt.split(".")
                                  if sentence.strip()}
        self._second = _Recognizer(fallback, prompt, threads, manifest) if fallback else None
        if self._second is not None:
            self.name += f"+{Path(str(fallback)).name}"
        self.hypotheses = hypotheses
        self.window_frames = int(min(30.0, max(10.0, window_s)) * FRAMES_PER_SECOND)
        self.nearest = nearest
        self.nearest_margin = nearest_margin
        self.renamings = renamings
        self.low_confidence = low_confidence
        self.alternative_margin = alternative_margin
        self.accept = accept
        self.timeout_s = timeout_s
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="stt")

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
        run = self._quick if partial else self._run
        return await transcribe_within(self._worker, run, audio, self.timeout_s)

    def _decode(self, audio: bytes, recognizer: _Recognizer | None = None) -> _Decoded | None:
        """The beam's plausible hypotheses, best first (blocking: worker thread); None for
        too little audio."""
        samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
        if len(samples) < 1600:
            return None
        voiced_s = voiced_seconds(samples)
        most_words = 2 + WORDS_PER_VOICED_SECOND * voiced_s
        decoded = (recognizer or self._first).decode(
            samples, self.window_frames, max(1, self.hypotheses),
            max_tokens=int(8 + 8 * len(samples) / 16000))
        kept = [(text, score) for text, score in decoded.hypotheses
                if len(text.split()) <= most_words]
        if decoded.hypotheses and not kept:
            _LOGGER.debug("dropped %r: more words than %.1f s of voice holds",
                          decoded.hypotheses[0][0], voiced_s)
        if kept and decoded.no_speech > NO_SPEECH and kept[0][1] < self.low_confidence:
            _LOGGER.debug("dropped %r: no speech (%.2f)", kept[0][0], decoded.no_speech)
            kept = []
        if kept and voiced_s < MUMBLE[0] and kept[0][1] < MUMBLE[1]:
            _LOGGER.debug("dropped %r: a mumble (%.2f)", kept[0][0], kept[0][1])
            kept = []
        decoded.hypotheses = kept
        return decoded

    def _quick(self, audio: bytes) -> Transcript:
        decoded = self._decode(audio)
        chosen = None if decoded is None else self._understood(decoded, audio)
        if decoded is None or not decoded.hypotheses:
            return Transcript("", engine=self.name)
        return self._transcript(decoded, chosen)

    def _run(self, audio: bytes) -> Transcript:
        first = self._decode(audio)
        if first is None or not first.hypotheses:
            return Transcript("", engine=self.name)
        last, chosen = first, self._understood(first, audio)
        if chosen is None and self.renamings is not None:
            renamed = self._renamed(first)
            if renamed is not None:
                return Transcript(renamed, uncertain="a name corrected to the one it sounds like",
                                  engine=first.recognizer.name)
        if chosen is None and self._second is not None and self.accept is not None:
            second = self._decode(audio, self._second)
            if second is not None and second.hypotheses:
                last, chosen = second, self._understood(second, audio)
        if chosen is None and self.nearest is not None:
            corrected = self._nearest_supported(last)
            if corrected is not None:
                return Transcript(corrected, uncertain="corrected to a known sentence",
                                  engine=last.recognizer.name)
        if chosen is None:
            return self._transcript(first, None) if first.hypotheses \
                else Transcript("", engine=self.name)
        return self._transcript(last, chosen)

    @functools.lru_cache(maxsize=4)  # noqa: B019 - a few recent clips, checked per sentence
    def _unprompted(self, audio: bytes) -> str:
        samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
        decoded = self._first.decode(samples, self.window_frames, 1,
                                     max_tokens=int(8 + 8 * len(samples) / 16000),
                                     prompted=False)
        return decoded.hypotheses[0][0] if decoded.hypotheses else ""

    def _unprompted_agrees(self, audio: bytes, text: str) -> bool:
        """Whether the first model, not prompted, hears about the same words: a prompted
        decoder can put a prompt sentence on noise or other people talking."""
        return bool(fuzz.ratio(_plain(self._unprompted(audio)), _plain(text)) >= ECHO_AGREEMENT)

    def _understood(self, decoded: _Decoded, audio: bytes) -> int | None:
        """Index of the first hypothesis the text core understands. A prompt sentence heard
        word for word is dropped from the hypotheses unless the model hears it without the
        prompt too."""
        if self.accept is None:
            return 0
        decoded.hypotheses = [
            (text, score) for text, score in decoded.hypotheses
            if _plain(text) not in self._prompt_sentences or not self.accept(text)
            or self._unprompted_agrees(audio, text)]
        return next((i for i, (text, _) in enumerate(decoded.hypotheses) if self.accept(text)),
                    None)

    def _transcript(self, decoded: _Decoded, chosen: int | None) -> Transcript:
        index = chosen or 0
        text, score = decoded.hypotheses[index]
        best = decoded.hypotheses[0][1]
        uncertain = ""
        if score < self.low_confidence:
            uncertain = f"low confidence ({score:.2f})"
        elif best - score > self.alternative_margin:
            uncertain = "only a less likely reading is understood"
        alternatives = tuple(
            other for i, (other, other_score) in enumerate(decoded.hypotheses)
            if i != index and other_score >= score - self.alternative_margin)
        return Transcript(text, uncertain=uncertain, alternatives=alternatives[:4],
                          confidence=score, engine=decoded.recognizer.name)

    def _renamed(self, decoded: _Decoded) -> str | None:
        """What was heard with one name put right ("Power down the lane." -> "... the
        lathe."), if the audio supports it nearly as well and no other name nearly as well."""
        assert self.renamings is not None
        texts = [text for text, _ in decoded.hypotheses[:2]]
        candidates = [c for c in dict.fromkeys(_written(sentence) for text in texts
                                               for sentence in self.renamings(text))
                      if self.accept is None or self.accept(c)][:12]
        if not candidates:
            return None
        # without the prompt: eight times faster to score, and the margins were measured so
        heard, *scores = (decoded.recognizer.support(decoded.encoded, decoded.frames, text,
                                                     prompted=False)[0]
                          for text in [texts[0], *candidates])
        ranked = sorted(zip(scores, candidates, strict=True), reverse=True)
        gap = heard - ranked[0][0]
        lead = ranked[0][0] - ranked[1][0] if len(ranked) > 1 else RENAME_LEAD
        _LOGGER.debug("heard %r, renamed %r: gap %.1f, lead %.1f", texts[0], ranked[0][1],
                      gap, lead)
        return ranked[0][1] if gap <= RENAME_MARGIN and lead >= RENAME_LEAD else None

    def _nearest_supported(self, decoded: _Decoded) -> str | None:
        """The skills' sentence nearest to what was heard, if the audio supports it nearly
        as well as the recognizer's own best text (log-probability within the margin)."""
        assert self.nearest is not None
        texts = [text for text, _ in decoded.hypotheses]
        candidates = list(dict.fromkeys(
            _written(sentence) for text in texts[:2] for sentence in self.nearest(text)))
        candidates = [c for c in candidates if self.accept is None or self.accept(c)][:5]
        if not candidates:
            return None
        heard, *scores = decoded.recognizer.log_probabilities(decoded, [texts[0], *candidates])
        best = max(range(len(candidates)), key=scores.__getitem__)
        _LOGGER.debug("heard %r, nearest %r, log-probability gap %.2f",
                      texts[0], candidates[best], heard - scores[best])
        return candidates[best] if heard - scores[best] <= self.nearest_margin else None

    async def phrase_support(self, audio: bytes, phrase: str) -> float:
        """How well the audio supports ``phrase`` (mean log-probability per token, without
        the command prompt; -inf for audio the model calls no speech): a second opinion on
        a faint wake word."""
        return await transcribe_within(
            self._worker, functools.partial(self._phrase_support, phrase=phrase), audio,
            self.timeout_s, doing="checking a wake word", lost="it was not taken")

    def _phrase_support(self, audio: bytes, phrase: str) -> float:
        samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
        encoded, frames = self._first.encode(samples, self.window_frames)
        # In noise alone the decoder's own guesses are near any phrase: measured on faint
        # wake scores, noise was no speech at 0.53-0.88, wake words said at 0.09-0.52.
        if self._first.no_speech(encoded) > NO_SPEECH:
            return float("-inf")
        total, tokens = self._first.support(encoded, frames, phrase, prompted=False)
        return total / max(tokens, 1)

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)


class _Recognizer:
    """One Whisper model with its tokenizer and the prompt encoded for it."""

    def __init__(self, model: str | Path, prompt: str, threads: int,
                 manifest: ModelManifest) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        path = Path(model)
        folder = path if path.is_dir() else manifest.get(str(model)).verified()
        try:
            self.model: Any = WhisperModel(str(folder), device="cpu", compute_type="int8",
                                           cpu_threads=threads, num_workers=1)
        except (RuntimeError, ValueError, OSError) as err:
            raise SpeechToTextError("stt-model-failed",
                                    f"cannot load the Whisper model in {folder}: {err}") from err
        self.name = path.name
        self.tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual,
                                   task="transcribe", language="en")
        tokens = self.tokenizer.encode(" " + prompt.strip()) if prompt.strip() else []
        self.prompt = self.model.get_prompt(self.tokenizer, tokens, without_timestamps=True)
        self.bare = self.model.get_prompt(self.tokenizer, [], without_timestamps=True)

    def decode(self, samples: npt.NDArray[np.float32], window_frames: int, width: int, *,
               max_tokens: int, prompted: bool = True) -> _Decoded:
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
        return _Decoded(hypotheses, float(result.no_speech_prob), encoded, frames, self)

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

    def log_probabilities(self, decoded: _Decoded, texts: list[str]) -> list[float]:
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
class _Decoded:
    hypotheses: list[tuple[str, float]]
    """Text and mean log-probability per token, best first."""
    no_speech: float
    encoded: Any
    frames: int
    """Feature frames (10 ms) that hold audio, not padding."""
    recognizer: _Recognizer


def voiced_seconds(samples: npt.NDArray[np.float32]) -> float:
    """Seconds of 10 ms frames clearly above the recording's own floor."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160).astype(np.float64)
    if not len(frames):
        return 0.0
    levels = np.sqrt(np.mean(frames ** 2, axis=1))
    # 4 dB over the floor: at 10 dB SNR a voice is only ~3x the noise; generous in noise
    # (the cap is a guard against text made up from fillers and silence, not a measure)
    floor = float(np.percentile(levels, 10))
    threshold = max(1.6 * floor, float(levels.max()) / 30, 1e-4)
    return float(np.count_nonzero(levels > threshold)) / FRAMES_PER_SECOND


def _plain(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c == " ").split())


def _written(sentence: str) -> str:
    """How Whisper writes a sentence: capital first letter, a full stop."""
    return sentence[:1].upper() + sentence[1:] + "."
