"""The speech-to-text Protocol, the text core's judgement a recognizer asks for, and fakes
of both for unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Protocol, TypeVar

from assistant.errors import SpeechToTextError

__all__ = ["FakeJudge", "FakeSpeechToText", "SpeechToText", "Transcript", "TranscriptJudge",
           "transcribe_within"]


@dataclass(frozen=True)
class Transcript:
    """What was heard, and how sure the recognizer is of it.

    ``uncertain`` says why the words should not be acted on silently ("" when they can):
    the text was corrected to a sentence the skills know, or the recognizer's own
    confidence was low. ``alternatives`` are other readings of the same audio the
    recognizer found nearly as likely (best first): when they mean another call, the
    assistant asks which one was meant.
    """

    text: str
    uncertain: str = ""
    alternatives: tuple[str, ...] = ()
    confidence: float = 0.0
    """Mean log-probability per token of the chosen text (0 = certain); 0 if unknown."""
    engine: str = ""


class SpeechToText(Protocol):
    """16 kHz mono 16-bit audio of one command in, its text out."""

    name: str

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
        """``partial``: the speaker may not be done (a pause); a quick guess will do."""
        ...

    async def spot(self, audio: bytes) -> Transcript:
        """A quick guess at a short utterance heard while a turn is in flight, on a worker of
        its own: never queued behind a transcription in progress (the stop spotter's)."""
        ...

    async def aclose(self) -> None: ...


class FakeSpeechToText:
    def __init__(self, handler: Callable[[bytes], str | Transcript], name: str = "fake") -> None:
        self.name = name
        self._handler = handler

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
        heard = self._handler(audio)
        return heard if isinstance(heard, Transcript) else Transcript(heard, engine=self.name)

    async def spot(self, audio: bytes) -> Transcript:
        return await FakeSpeechToText.transcribe(self, audio, partial=True)

    async def aclose(self) -> None:
        return None


class TranscriptJudge(Protocol):
    """What the text core says of a recognizer's reading, to choose among its hypotheses
    (:class:`assistant.nlu.understand.Understanding` is one)."""

    def fully_understands(self, text: str) -> bool:
        """Understood as a whole call, or a dialogue word: a hypothesis worth taking."""
        ...

    def acts_at_once(self, text: str) -> bool:
        """A whole call of an immediate tool (a stop): never dropped, never delayed."""
        ...

    def doubt_matters(self, text: str) -> bool:
        """Whether doubt could hold this reading's call back: only then is a second
        opinion worth its time."""
        ...

    def confirms(self, text: str, other: str) -> bool:
        """Whether another recognizer's reading ``other`` of the same audio is the same
        call as ``text``."""
        ...

    def renamings(self, text: str) -> list[str]:
        """For text not understood only because a name names nothing here, the sentence
        with each known name in its place."""
        ...


class FakeJudge:
    """A judge whose answers come from functions: by default nothing is understood,
    nothing is a stop, doubt always matters, no two readings confirm each other, and no
    name is put right."""

    def __init__(
        self,
        understood: Callable[[str], bool] = lambda _text: False,
        *,
        at_once: Callable[[str], bool] = lambda _text: False,
        doubtful: Callable[[str], bool] = lambda _text: True,
        agree: Callable[[str, str], bool] = lambda _text, _other: False,
        renamings: Callable[[str], list[str]] = lambda _text: [],
    ) -> None:
        self._understood = understood
        self._at_once = at_once
        self._doubtful = doubtful
        self._agree = agree
        self._renamings = renamings

    def fully_understands(self, text: str) -> bool:
        return self._understood(text)

    def acts_at_once(self, text: str) -> bool:
        return self._at_once(text)

    def doubt_matters(self, text: str) -> bool:
        return self._doubtful(text)

    def confirms(self, text: str, other: str) -> bool:
        return self._agree(text, other)

    def renamings(self, text: str) -> list[str]:
        return self._renamings(text)


_Result = TypeVar("_Result")


async def transcribe_within(worker: Executor, run: Callable[[bytes], _Result], audio: bytes,
                            timeout_s: float, *, doing: str = "transcription",
                            lost: str = "the command was dropped") -> _Result:
    """Run a blocking recognizer on its worker thread within a time budget; engine
    failures become :class:`SpeechToTextError` with a code."""
    job = asyncio.get_running_loop().run_in_executor(worker, run, audio)
    try:
        return await asyncio.wait_for(job, timeout_s)
    except TimeoutError as err:
        raise SpeechToTextError("stt-timeout", f"{doing} took over {timeout_s} s; "
                                f"{lost}") from err
    except (RuntimeError, ValueError) as err:
        raise SpeechToTextError("stt-engine-failed", f"{doing} failed: {err}") from err
