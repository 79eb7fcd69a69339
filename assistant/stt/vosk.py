"""Vosk (Kaldi) on a user's model directory, optionally restricted to the skills' phrases."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assistant.audio import SAMPLE_RATE, AudioChunk
from assistant.errors import SpeechToTextError
from assistant.stt.base import Transcript, transcribe_within

__all__ = ["VoskSpeechToText"]


class VoskSpeechToText:
    """``phrases`` (words or phrases) restricts recognition to them, plus "[unk]"."""

    def __init__(self, model_dir: Path, *, phrases: Iterable[str] | None = None,
                 timeout_s: float = 10.0) -> None:
        try:
            import vosk
        except ImportError as err:
            raise SpeechToTextError("stt-vosk-missing",
                                    "Vosk is not installed; run 'pip install vosk'") from err
        if not (model_dir / "am").is_dir() and not (model_dir / "conf").is_dir():
            raise SpeechToTextError("stt-model-missing",
                                    f"{model_dir} is not a Vosk model directory (no am/ or conf/); "
                                    "unpack e.g. vosk-model-small-en-us-0.15 there")
        vosk.SetLogLevel(-1)
        try:
            self._model: Any = vosk.Model(str(model_dir))
        except Exception as err:  # vosk raises a bare Exception on a bad model
            raise SpeechToTextError("stt-model-failed",
                                    f"Vosk cannot load {model_dir}: {err}") from err
        self._vosk = vosk
        self.grammar = json.dumps([*dict.fromkeys(phrases), "[unk]"], ensure_ascii=False) \
            if phrases else None
        self.name = f"vosk:{model_dir.name}"
        self.timeout_s = timeout_s
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="vosk")
        self._spotter = ThreadPoolExecutor(1, thread_name_prefix="vosk-spot")

    def _recognizer(self) -> Any:
        if self.grammar is None:
            return self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
        return self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE, self.grammar)

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
        return await transcribe_within(self._worker, self._run, audio, self.timeout_s)

    async def spot(self, audio: bytes) -> Transcript:
        return await transcribe_within(self._spotter, self._run, audio, self.timeout_s,
                                       doing="spotting a stop", lost="it was not acted on")

    def _run(self, audio: bytes) -> Transcript:
        recognizer = self._recognizer()
        recognizer.AcceptWaveform(audio)
        text = _clean(json.loads(recognizer.FinalResult()).get("text", ""))
        return Transcript(text, engine=self.name)

    async def partials(self, chunks: AsyncIterator[AudioChunk]) -> AsyncIterator[str]:
        """Streams partial transcripts as audio arrives; the last one is the final text."""
        loop = asyncio.get_running_loop()
        recognizer = self._recognizer()
        async for chunk in chunks:
            done = await loop.run_in_executor(self._worker, recognizer.AcceptWaveform,
                                              chunk.audio)
            raw = recognizer.Result() if done else recognizer.PartialResult()
            text = _clean(json.loads(raw).get("text" if done else "partial", ""))
            if text:
                yield text
        final = _clean(json.loads(recognizer.FinalResult()).get("text", ""))
        if final:
            yield final

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)
        self._spotter.shutdown(wait=True)


def _clean(text: str) -> str:
    return " ".join(w for w in text.split() if w != "[unk]")
