"""The stop spotter: while a turn is in flight or a reply is being spoken, every utterance,
wake word or not, gets quick guesses on the recognizer's spotting worker; a whole
immediate command (a stop) in one acts at once.

It listens all the time, with an endpointer of its own on the voice activity the reader
computes for every chunk. While an utterance goes on it guesses at what was said so far
(whenever its worker is free, every ``every_ms`` at most) and at each short gap, so a stop
said while the assistant is thinking acts about when it ends, not a pause later. A guess
that extends the stop it acted on ("Stop the lathe" → "Stop the lathe and the packer")
acts again; the same stop heard again does not.

It guesses at an utterance that was under way while a turn was in flight or a reply
played, at any moment of it (a stop begun just before a reply starts, or ended just after
a turn, is not lost in the gap), and that began after the audio of the command in flight:
that command is the turn's own.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

from assistant.audio import AudioChunk
from assistant.errors import AssistantError
from assistant.stt import SpeechToText, Transcript
from assistant.vad import Endpoint, Endpointer, EndpointKind, EndpointSettings

__all__ = ["StopSpotter", "spoken_words"]

_LOGGER = logging.getLogger(__name__)

StopHandler = Callable[[Endpoint, Transcript], Awaitable[None]]


class StopSpotter:
    """Fed every chunk by the reader; ``attentive`` says whether a turn is in flight or a
    reply plays (otherwise the wake word path hears everything)."""

    def __init__(self, stt: SpeechToText, is_stop: Callable[[str], bool],
                 on_stop: StopHandler, settings: EndpointSettings | None = None, *,
                 every_ms: float = 160.0) -> None:
        """``on_stop`` runs a stop; it is given the audio's endpoint (a gap, the end, or
        now for a guess while the voice goes on) and what was heard."""
        self._stt = stt
        self._is_stop = is_stop
        self._on_stop = on_stop
        self._endpointer = Endpointer(settings)
        self.every_ms = every_ms
        self._attended = False
        self._began_ms = 0.0
        self._guessed_ms = 0.0
        self._acted = ""
        """What the utterance under way was acted on as ("" if nothing yet)."""
        self._acting = False
        self._task: asyncio.Task[None] | None = None
        self._waiting: Endpoint | None = None
        self.ignore: Callable[[str], bool] = lambda _text: False
        """Text not to act on (the reply being spoken, heard back by the microphone)."""

    def feed(self, chunk: AudioChunk, probabilities: list[float], *, attentive: bool,
             since_ms: float) -> None:
        """``attentive``: a turn is in flight or a reply plays. ``since_ms``: where the audio
        of the command in flight ended (what began before is that command)."""
        if not self._endpointer.active:
            self._endpointer.start(chunk.timestamp_ms, timeout_ms=math.inf)
            self._attended = False
        self._attended = self._attended or attentive
        endpoint = self._endpointer.feed(chunk, probabilities)
        if endpoint is not None and endpoint.kind == EndpointKind.SPEECH_STARTED:
            self._attended, self._acted = attentive, ""
            self._began_ms = endpoint.timestamp_ms - self._endpointer.settings.min_speech_ms
            self._guessed_ms = endpoint.timestamp_ms
            return
        if not self._attended or self._began_ms < since_ms:
            return
        busy = self._task is not None and not self._task.done()
        if endpoint is None:  # the voice goes on: a guess at what was said so far
            if busy or not self._endpointer.in_speech \
                    or chunk.end_ms - self._guessed_ms < self.every_ms:
                return
            self._guessed_ms = chunk.end_ms
            endpoint = Endpoint(EndpointKind.PAUSE, chunk.end_ms,
                                self._endpointer.heard_so_far())
        if busy:
            self._waiting = endpoint  # the longer audio of the same or a later utterance
            return
        self._task = asyncio.get_running_loop().create_task(
            self._spot(endpoint), name="pipeline-stop-spotter")

    def restart(self, now_ms: float) -> None:
        """A wake word was heard: what follows it is the utterance."""
        self._endpointer.start(now_ms, timeout_ms=math.inf)
        self._attended, self._acted = False, ""

    async def _spot(self, endpoint: Endpoint | None) -> None:
        while endpoint is not None:
            try:
                heard = await self._stt.spot(endpoint.audio)
            except AssistantError as err:
                _LOGGER.warning("spotting a stop failed: %s", err)
                heard = Transcript("")
            text = heard.text.strip()
            if text and self._is_stop(text) and not self.ignore(text) and self._new(text):
                self._acted = spoken_words(text)
                self._acting = True
                try:
                    await self._on_stop(endpoint, heard)
                finally:
                    self._acting = False
            endpoint, self._waiting = self._waiting, None

    def _new(self, text: str) -> bool:
        """Not the stop already acted on in this utterance, nor less of it."""
        words = spoken_words(text)
        return not self._acted or (words.startswith(self._acted) and words != self._acted)

    async def aclose(self) -> None:
        """A stop being acted on is finished; a guess is dropped."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            if self._acting:
                self._waiting = None
                await asyncio.gather(task, return_exceptions=True)
            else:
                task.cancel("the pipeline closed")
                await asyncio.gather(task, return_exceptions=True)


def spoken_words(text: str) -> str:
    """Lower-case words without punctuation, to compare what was said."""
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
