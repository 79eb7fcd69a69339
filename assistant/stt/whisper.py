"""faster-whisper (CTranslate2, int8): tiny.en first, Whisper base when tiny.en's text is
not understood, or as a second opinion on text tiny.en is unsure of.

Biased toward the skills' language: the decoder is prompted with sentences made from the
skills' templates, and it returns several hypotheses (beam search) of which the first one
the text core (the ``judge``) fully understands is taken; else the best one. The encoder looks
at ``window_s`` seconds (10-30; commands are at most 8 s): Whisper was trained on 30 s, but
with the prompt a short window is both faster and, measured on held-out voices, no worse.

A name misheard ("Power down the lane." for "lathe") is put right before anything else:
the skills' names are tried in its place and the audio decides (the judge's
``renamings``); such text is marked uncertain.

A second opinion: text the first model is unsure of (low confidence, a less likely
reading, a name put right) is certain after all when the fallback model, on its own,
hears the same call (the judge ``confirms`` it; it leaves out calls with free words, which
both models make up alike). Measured on 119 tuning clips: the two agreed on 40 calls, all right,
and on 4 of the 9 right calls that the first model's confidence alone held back.

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
prompt sentence heard word for word or nearly (once or more), or a prompt list's names in a
row, is checked against the model without the prompt, and not taken if that hears
something else.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from assistant.manifest import ModelManifest
from assistant.stt.base import Transcript, TranscriptJudge, transcribe_within
from assistant.stt.echo import PromptEcho, plain
from assistant.stt.recognizer import Decoded, Recognizer
from assistant.workers import thinking, thinking_worker

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
SPOT_WINDOW_FRAMES = 500
"""The stop spotter's encoder window (5 s): half the encoder's work of the command path's,
and one hypothesis (greedy). Measured on 34 stops by six voices: right as often as at 10 s
(25), in a median 165 ms instead of 235."""
SPOT_TOKENS_PER_VOICED_SECOND = 5.0
"""The spotter's length budget: a stop is a few words, and a loop is cut short."""
MUMBLE = (0.8, -1.0)
"""Under this many voiced seconds, text below this confidence is a filler ("um" heard as
"Time.") and dropped: a real short command ("stop") is heard far more surely."""


class WhisperSpeechToText:
    """Loaded once; each transcription runs on a worker thread within a time budget.

    One CTranslate2 thread by default: the decoder's small steps lose more to keeping two
    threads in step than they gain (measured here, the full prompt, beam 5: tiny.en 333 ms
    a command on one thread, 416 ms on two; base 659 and 704 ms), and the other core stays
    free for the wake word and voice activity."""

    def __init__(
        self,
        model: str | Path = "whisper-tiny.en",
        *,
        fallback: str | Path | None = None,
        prompt: str = "",
        hypotheses: int = 5,
        judge: TranscriptJudge | None = None,
        spotting: bool = True,
        window_s: float = 10.0,
        nearest: Callable[[str], list[str]] | None = None,
        nearest_margin: float = 8.0,
        low_confidence: float = -0.45,
        alternative_margin: float = 0.12,
        threads: int = 1,
        timeout_s: float = 10.0,
        manifest: ModelManifest | None = None,
        parallel: int = 1,
    ) -> None:
        """``judge``: the text core, asked which hypotheses it understands; without one the
        likeliest is taken, with no fallback model, no name put right and no second
        opinion. ``parallel``: transcriptions that may run at once (a hub serving several
        satellites: one per core, each on one thread, outdoes one on two threads)."""
        manifest = manifest or ModelManifest.load()
        self.name = f"whisper:{Path(model).name}"
        # spotting: a second worker on the first model's shared weights for the stop
        # spotter, which must not wait for a command's decode (~18 MB more)
        self._first = Recognizer(model, prompt, threads, manifest,
                                 workers=parallel + (1 if spotting else 0))
        self._echo = PromptEcho(prompt)
        self._second = thinking(lambda: Recognizer(fallback, prompt, threads, manifest,
                                                   workers=parallel)) if fallback else None
        if self._second is not None:
            self.name += f"+{Path(str(fallback)).name}"
        self.hypotheses = hypotheses
        self.window_frames = int(min(30.0, max(10.0, window_s)) * FRAMES_PER_SECOND)
        self.nearest = nearest
        self.nearest_margin = nearest_margin
        self.low_confidence = low_confidence
        self.alternative_margin = alternative_margin
        self.judge = judge
        self.timeout_s = timeout_s
        self.parallel = parallel
        # the spotter's worker is not a thinking one: it listens
        self._worker = thinking_worker("stt", parallel)
        self._spotter = ThreadPoolExecutor(1, thread_name_prefix="stt-spot")
        self._recent: tuple[Recognizer, bytes, Decoded] | None = None

    def reprompt(self, prompt: str) -> None:
        """Bias decoding toward other sentences (the skills were reloaded); cheap: the
        prompt is encoded again, the models stay loaded. A decode under way finishes under
        the prompt it began with."""
        for recognizer in (self._first, self._second):
            if recognizer is not None:
                recognizer.reprompt(prompt)
        self._echo = PromptEcho(prompt)
        self._recent = None

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
        run = self._quick if partial else self._run
        return await transcribe_within(self._worker, run, audio, self.timeout_s)

    async def spot(self, audio: bytes) -> Transcript:
        return await transcribe_within(self._spotter, self._spot, audio, self.timeout_s,
                                       doing="spotting a stop", lost="it was not acted on")

    def _spot(self, audio: bytes) -> Transcript:
        """One greedy guess on a short window, its length held to what the voice can say;
        a short window can loop ("Emergency stop. Emergency stop. Emerg"), and a loop is
        its first sentence, said once."""
        samples = _samples(audio)
        if len(samples) < 1600:
            return Transcript("", engine=self.name)
        voiced_s = voiced_seconds(samples)
        decoded = self._first.decode(samples, SPOT_WINDOW_FRAMES, 1,
                                     max_tokens=int(3 + SPOT_TOKENS_PER_VOICED_SECOND * voiced_s))
        if not decoded.hypotheses:
            return Transcript("", engine=self.name)
        text, score = decoded.hypotheses[0]
        if (decoded.no_speech > NO_SPEECH and score < self.low_confidence) or \
                (voiced_s < MUMBLE[0] and score < MUMBLE[1]):
            return Transcript("", engine=self.name)
        return Transcript(_loop_once(text), confidence=score, engine=self._first.name)

    def _decode(self, audio: bytes, recognizer: Recognizer | None = None) -> Decoded | None:
        """The beam's plausible hypotheses, best first (blocking: worker thread); None for
        too little audio."""
        recognizer = recognizer or self._first
        if self._recent is not None and self._recent[0] is recognizer \
                and self._recent[1] == audio:
            return self._recent[2]  # the quick guess at a pause, now asked for in full
        samples = _samples(audio)
        if len(samples) < 1600:
            return None
        decoded = self._plausible(samples, recognizer.decode(
            samples, self.window_frames, max(1, self.hypotheses),
            max_tokens=_most_tokens(samples)))
        self._recent = (recognizer, audio, decoded)
        return decoded

    def _plausible(self, samples: npt.NDArray[np.float32], decoded: Decoded) -> Decoded:
        """Without the hypotheses the audio can't hold: more words than its voice, no speech
        at low confidence, a short mumble."""
        voiced_s = voiced_seconds(samples)
        most_words = 2 + WORDS_PER_VOICED_SECOND * voiced_s
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
        if chosen is None and self.judge is not None:
            renamed = self._renamed(first)
            if renamed is not None:
                heard = Transcript(renamed, uncertain="a name corrected to the one it sounds "
                                   "like", engine=first.recognizer.name)
                return self._second_opinion(heard, audio)
        if chosen is None and self._second is not None and self.judge is not None:
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
        heard = self._transcript(last, chosen)
        return self._second_opinion(heard, audio) if last is first else heard

    def _second_opinion(self, heard: Transcript, audio: bytes) -> Transcript:
        """Uncertain words from the first model are certain after all when the second model,
        on its own, hears the same call as its likeliest reading (the judge ``confirms`` it):
        the two fail on different voices. Only sought where doubt could hold the call back
        (``doubt_matters``): a stop never waits for it. The second model's other readings
        still count."""
        judge = self.judge
        if not heard.uncertain or self._second is None or judge is None \
                or not judge.doubt_matters(heard.text):
            return heard
        second = self._decode(audio, self._second)
        chosen = None if second is None or not second.hypotheses \
            else self._understood(second, audio)
        if chosen is None:
            return heard
        assert second is not None
        text, score = second.hypotheses[chosen]
        if second.hypotheses[0][1] - score > self.alternative_margin \
                or not judge.confirms(heard.text, text):
            return heard
        _LOGGER.debug("%r (%s) confirmed by %s", heard.text, heard.uncertain,
                      self._second.name)
        others = self._transcript(second, chosen).alternatives
        alternatives = tuple(dict.fromkeys((*heard.alternatives, *others)))[:4]
        return dataclasses.replace(heard, uncertain="", alternatives=alternatives,
                                   engine=f"{heard.engine}+{self._second.name}")

    @functools.lru_cache(maxsize=4)  # noqa: B019 - a few recent clips, checked per sentence
    def _unprompted(self, audio: bytes) -> str:
        samples = _samples(audio)
        decoded = self._first.decode(samples, self.window_frames, 1,
                                     max_tokens=_most_tokens(samples),
                                     prompted=False)
        return decoded.hypotheses[0][0] if decoded.hypotheses else ""

    def _unprompted_agrees(self, audio: bytes, text: str) -> bool:
        """Whether the first model, not prompted, hears about the same words: a prompted
        decoder can put a prompt sentence on noise or other people talking."""
        return bool(fuzz.ratio(plain(self._unprompted(audio)), plain(text)) >= ECHO_AGREEMENT)

    def _echoes_prompt(self, text: str) -> bool:
        return self._echo.echoes(text)

    def _understood(self, decoded: Decoded, audio: bytes) -> int | None:
        """Index of the first hypothesis the text core understands. A prompt sentence heard
        (nearly) word for word is dropped from the hypotheses unless the model hears it
        without the prompt too; a stop (``acts_at_once``) is never dropped or delayed so: a
        wrong stop costs less than a missed one."""
        judge = self.judge
        if judge is None:
            return 0
        decoded.hypotheses = [
            (text, score) for text, score in decoded.hypotheses
            if not self._echoes_prompt(text) or not judge.fully_understands(text)
            or judge.acts_at_once(text) or self._unprompted_agrees(audio, text)]
        return next((i for i, (text, _) in enumerate(decoded.hypotheses)
                     if judge.fully_understands(text)), None)

    def _transcript(self, decoded: Decoded, chosen: int | None) -> Transcript:
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

    def _renamed(self, decoded: Decoded) -> str | None:
        """What was heard with one name put right ("Power down the lane." -> "... the
        lathe."), if the audio supports it nearly as well and no other name nearly as well."""
        judge = self.judge
        if judge is None:
            return None
        texts = [text for text, _ in decoded.hypotheses[:2]]
        candidates = [c for c in dict.fromkeys(_written(sentence) for text in texts
                                               for sentence in judge.renamings(text))
                      if judge.fully_understands(c)][:12]
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

    def _nearest_supported(self, decoded: Decoded) -> str | None:
        """The skills' sentence nearest to what was heard, if the audio supports it nearly
        as well as the recognizer's own best text (log-probability within the margin)."""
        assert self.nearest is not None
        texts = [text for text, _ in decoded.hypotheses]
        candidates = list(dict.fromkeys(
            _written(sentence) for text in texts[:2] for sentence in self.nearest(text)))
        # A sum of log-probabilities favours fewer words: a sentence that only leaves out
        # words heard ("Stop." for "Stop this machine.") would win, and act on less.
        candidates = [c for c in candidates
                      if (self.judge is None or self.judge.fully_understands(c))
                      and not _leaves_out_words(c, texts[0])][:5]
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
        a faint wake word. On the spotter's worker: the wake word is listened for while
        a command is being transcribed, and must not wait for it."""
        return await transcribe_within(
            self._spotter, functools.partial(self._phrase_support, phrase=phrase), audio,
            self.timeout_s, doing="checking a wake word", lost="it was not taken")

    def _phrase_support(self, audio: bytes, phrase: str) -> float:
        samples = _samples(audio)
        encoded, frames = self._first.encode(samples, self.window_frames)
        # In noise alone the decoder's own guesses are near any phrase: measured on faint
        # wake scores, noise was no speech at 0.53-0.88, wake words said at 0.09-0.52.
        if self._first.no_speech(encoded) > NO_SPEECH:
            return float("-inf")
        total, tokens = self._first.support(encoded, frames, phrase, prompted=False)
        return total / max(tokens, 1)

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)
        self._spotter.shutdown(wait=True)


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


def _samples(audio: bytes) -> npt.NDArray[np.float32]:
    """16-bit PCM as the models take it."""
    return np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0


def _most_tokens(samples: npt.NDArray[np.float32]) -> int:
    """A decoding's length budget: a command says at most ~8 tokens a second."""
    return int(8 + 8 * len(samples) / 16000)


def _loop_once(text: str) -> str:
    """A sentence the decoder looped on until its length budget cut it ("Stop press one.
    Stop press one. Stop"), once; a repeat said whole ("Stop. Stop. Stop.") is kept."""
    sentences = [part.strip() for part in re.split(r"(?<=[.!?])\s+", text) if part.strip()]
    cut = not text.rstrip().endswith((".", "!", "?"))
    if cut and len(sentences) > 1 and (plain(sentences[1]) == plain(sentences[0]) or all(
            plain(sentences[0]).startswith(plain(p)) for p in sentences[1:])):
        return sentences[0]
    return text


def _written(sentence: str) -> str:
    """How Whisper writes a sentence: capital first letter, a full stop."""
    return sentence[:1].upper() + sentence[1:] + "."


def _leaves_out_words(sentence: str, heard: str) -> bool:
    """Whether ``sentence`` is ``heard`` with some of its words left out, nothing else."""
    said, kept = plain(heard).split(), plain(sentence).split()
    words = iter(said)
    return len(kept) < len(said) and all(word in words for word in kept)
