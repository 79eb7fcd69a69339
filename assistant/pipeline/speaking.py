"""Speech output: replies spoken one after the other on a task of their own, cut at once
by a barge-in or a stop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from assistant.audio import AudioSink
from assistant.pipeline.spotter import spoken_words
from assistant.tts import TextToSpeech

__all__ = ["Speaker"]


class Speaker:
    """Speaks replies through ``tts`` into ``sink``. ``guard`` runs a synthesis within its
    time limit and reports its errors (the pipeline's stage guard)."""

    def __init__(self, tts: TextToSpeech, sink: AudioSink, *, timeout_s: float,
                 guard: Callable[[Awaitable[None]], Awaitable[None]],
                 wait: bool) -> None:
        """``wait``: each reply is awaited (a file as fast as the engines allow); else it
        plays while input keeps being read."""
        self.tts, self.sink = tts, sink
        self.timeout_s = timeout_s
        self._guard = guard
        self._wait = wait
        self._task: asyncio.Task[None] | None = None
        self._text = ""

    @property
    def busy(self) -> bool:
        """A reply is being synthesized or played."""
        return (self._task is not None and not self._task.done()) or self.sink.playing

    async def speak(self, replies: list[str]) -> None:
        text = " ".join(r for r in replies if r)
        if not text:
            return
        if self._task is not None and not self._task.done():
            # one reply after the other; one cut short (a barge-in) is no error of this one
            await asyncio.wait({self._task})
        self._text = text
        self._task = asyncio.get_running_loop().create_task(
            self._say(text), name="pipeline-speech-output")
        if self._wait:
            await self._task

    async def _say(self, text: str) -> None:
        async def synthesize_and_play() -> None:
            async for chunk in self.tts.synthesize(text):
                await self.sink.play(chunk)

        await self._guard(asyncio.wait_for(synthesize_and_play(), self.timeout_s))

    def said(self, text: str) -> bool:
        """Whether ``text`` is words of the latest reply, word for word: the microphone
        hearing the assistant (a nearer test would take "stop press one" said over "Start
        press one. Are you sure?")."""
        reply = spoken_words(self._text)
        return bool(reply) and f" {spoken_words(text)} " in f" {reply} "

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel("barge-in: playback stopped")
            await asyncio.gather(task, return_exceptions=True)
        await self.sink.stop()

    async def finish(self) -> None:
        """Let the reply playing end."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
