"""The stop spotter: while a turn is in flight or a reply is being spoken, every utterance,
wake word or not, gets quick guesses on the recognizer's spotting worker; a whole
immediate command (a stop) in one acts at once.

It listens all the time, with an endpointer of its own on the voice activity the reader
computes for every chunk. While an utterance goes on it guesses at what was said so far
(whenever its worker is free, every ``every_ms`` at most) and at each short gap, so a stop
said while the assistant is thinking acts about when it ends, not a pause later. A guess
that extends the stop it acted on ("Stop the lathe" → "Stop the lathe and the packer")
acts again; the same stop heard again does not.

It guesses at an utterance that was under way while a turn was in flight, a reply was
synthesized or played, or a stop was being run, at any moment of it (a stop begun just
before a reply starts, or ended just after a turn, is not lost in the gap), unless it
began within the audio of the command in flight: that command is the turn's own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Awaitable, Callable

from assistant.audio import AudioChunk
from assistant.config import VoiceActivityConfig
from assistant.errors import AssistantError
from assistant.stt import SpeechToText, Transcript
from assistant.vad import Endpoint, Endpointer, EndpointKind

__all__ = ["StopSpotter", "spoken_words"]

_LOGGER = logging.getLogger(__name__)

ONSET_SLACK_MS = 500.0
"""How much earlier than the command's trimmed audio an utterance may seem to begin and
still be that command (the two endpointers find the onset differently)."""

StopHandler = Callable[[Endpoint, Transcript, float], Awaitable[None]]
"""Runs a stop: the audio's endpoint, what was heard, and where the utterance began."""


class StopSpotter:
    """Fed every chunk by the reader; ``attentive`` says whether a turn is in flight or a
    reply plays (otherwise the wake word path hears everything)."""

    def __init__(self, stt: SpeechToText, is_stop: Callable[[str], bool],
                 on_stop: StopHandler, settings: VoiceActivityConfig | None = None, *,
                 every_ms: float = 160.0) -> None:
        """``on_stop`` runs a stop; it is given the audio's endpoint (a gap, the end, or
        now for a guess while the voice goes on), what was heard, and where the utterance
        began."""
        self._stt = stt
        self.is_stop = is_stop
        self._on_stop = on_stop
        self._endpointer = Endpointer(settings)
        self.every_ms = every_ms
        self._attended = False
        self._utterance = 0
        self._began_ms = 0.0
        self._guessed_ms = 0.0
        self._voice_ms = -math.inf
        """When a frame was last voiced."""
        self._acted: dict[int, str] = {}
        """What each recent utterance was acted on as."""
        self.acting = False
        """True while a stop it heard is being run."""
        self._task: asyncio.Task[None] | None = None
        self._waiting: dict[int, tuple[Endpoint, float]] = {}
        """The latest guess still to make for each utterance, oldest utterance first."""
        self.ignore: Callable[[str], bool] = lambda _text: False
        """Text not to act on (the reply being spoken, heard back by the microphone)."""

    def feed(self, chunk: AudioChunk, probabilities: list[float], *, attentive: bool,
             command: tuple[float, float]) -> None:
        """``attentive``: a turn is in flight or a reply plays. ``command``: where the audio
        of the command in flight began and ended: an utterance begun in it is that command,
        and only what it goes on to say after the command's end is guessed at ("start the
        lathe ... no, stop!" said in one breath)."""
        if not self._endpointer.active:
            self._endpointer.start(chunk.timestamp_ms, timeout_ms=math.inf)
            self._attended = False
        self._attended = self._attended or attentive
        if any(p >= self._endpointer.settings.threshold for p in probabilities):
            self._voice_ms = chunk.end_ms
        endpoint = self._endpointer.feed(chunk, probabilities)
        if endpoint is not None and endpoint.kind == EndpointKind.SPEECH_STARTED:
            self._attended = attentive
            self._utterance += 1
            self._began_ms = endpoint.timestamp_ms - self._endpointer.settings.min_speech_ms
            self._guessed_ms = endpoint.timestamp_ms
            return
        if not self._attended:
            return
        busy = self._task is not None and not self._task.done()
        if endpoint is None:  # the voice goes on: a guess at what was said so far
            if busy or not self._endpointer.in_speech \
                    or chunk.end_ms - self._guessed_ms < self.every_ms:
                return
            self._guessed_ms = chunk.end_ms
            endpoint = Endpoint(EndpointKind.PAUSE, chunk.end_ms,
                                self._endpointer.heard_so_far())
        began_ms = self._began_ms
        if command[0] - ONSET_SLACK_MS <= began_ms < command[1]:
            if self._voice_ms - command[1] < self.every_ms:
                return  # the voice did not go on past the command
            after_ms = endpoint.timestamp_ms - command[1]
            began_ms = command[1]
            endpoint = dataclasses.replace(endpoint, audio=endpoint.audio[-int(after_ms * 32):])
        self._waiting[self._utterance] = (endpoint, began_ms)  # its latest audio
        if not busy:
            self._task = asyncio.get_running_loop().create_task(
                self._spot(), name="pipeline-stop-spotter")

    def restart(self, now_ms: float) -> None:
        """A wake word was heard: what follows ``now_ms`` is a new utterance."""
        self._endpointer.start(now_ms, timeout_ms=math.inf)
        self._attended = False

    async def _spot(self) -> None:
        while self._waiting:
            utterance = next(iter(self._waiting))
            endpoint, began_ms = self._waiting.pop(utterance)
            try:
                await self._guess(utterance, endpoint, began_ms)
            except AssistantError as err:
                _LOGGER.warning("spotting a stop failed: %s", err)
            except Exception:  # a bug here must not leave the spotter deaf
                _LOGGER.exception("spotting a stop failed")

    async def _guess(self, utterance: int, endpoint: Endpoint, began_ms: float) -> None:
        heard = await self._stt.spot(endpoint.audio)
        text = heard.text.strip()
        if not text or not self.is_stop(text) or self.ignore(text):
            return
        words, acted = spoken_words(text), self._acted.get(utterance, "")
        if acted and (words == acted or not words.startswith(acted)):
            return  # the stop already acted on in this utterance, or less of it
        self._acted = {k: v for k, v in self._acted.items() if k > utterance - 8}
        self._acted[utterance] = words
        self.acting = True
        try:
            await self._on_stop(endpoint, heard, began_ms)
        finally:
            self.acting = False

    async def aclose(self) -> None:
        """A stop being acted on is finished; a guess is dropped."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            if self.acting:
                self._waiting.clear()
                await asyncio.gather(task, return_exceptions=True)
            else:
                task.cancel("the pipeline closed")
                await asyncio.gather(task, return_exceptions=True)


def spoken_words(text: str) -> str:
    """Lower-case words without punctuation, to compare what was said."""
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
