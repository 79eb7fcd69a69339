"""The language-model Protocol and a scripted fake for unit tests.

A model is loaded once with a fixed prompt prefix (instructions and the tool list) kept in
its cache; every call gives the text that follows that prefix. Two kinds of call serve the
two decoding phases: ``choose`` scores a closed set of continuations (the tool names and
"none"), ``complete`` decodes under a grammar (the arguments, from a JSON schema). Both take
a deadline on the monotonic clock; past it they raise :class:`ModelTimeout`, and the caller
answers "no tool".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from assistant.errors import LanguageModelError

__all__ = ["FakeLanguageModel", "LanguageModel", "ModelTimeout"]


class ModelTimeout(LanguageModelError):
    """The model did not answer within its budget."""

    def __init__(self, budget_ms: float) -> None:
        super().__init__("slm-timeout", f"the language model took over {budget_ms:.0f} ms; "
                         "the request was treated as no tool")


class LanguageModel(Protocol):
    """A small local language model behind a fixed prompt prefix."""

    name: str

    async def choose(self, prompt: str, options: Sequence[str], *,
                     deadline: float) -> list[float]:
        """The log-probability of each option as the continuation of prefix + ``prompt``."""
        ...

    async def complete(self, prompt: str, *, schema: Mapping[str, Any], max_tokens: int,
                       deadline: float) -> str:
        """Text decoded after prefix + ``prompt`` under a grammar for JSON ``schema``."""
        ...

    async def aclose(self) -> None: ...


class FakeLanguageModel:
    """Answers from handlers; ``delay_s`` makes it slow (budget tests).

    ``chooser(prompt, options)`` returns the option to favour, or None for no preference;
    ``completer(prompt, schema)`` returns the JSON text.
    """

    def __init__(
        self,
        chooser: Callable[[str, Sequence[str]], str | None],
        completer: Callable[[str, Mapping[str, Any]], str] = lambda _p, _s: "{}",
        *,
        delay_s: float = 0.0,
        name: str = "fake",
    ) -> None:
        self.name = name
        self.prompts: list[str] = []
        self._chooser = chooser
        self._completer = completer
        self._delay_s = delay_s

    async def _wait(self, deadline: float) -> None:
        if self._delay_s:
            remaining = deadline - time.monotonic()
            await asyncio.sleep(min(self._delay_s, max(remaining, 0.0)))
            if self._delay_s > remaining:
                raise ModelTimeout(max(remaining, 0.0) * 1000)

    async def choose(self, prompt: str, options: Sequence[str], *,
                     deadline: float) -> list[float]:
        self.prompts.append(prompt)
        await self._wait(deadline)
        favoured = self._chooser(prompt, options)
        return [0.0 if favoured in (None, option) else -10.0 for option in options]

    async def complete(self, prompt: str, *, schema: Mapping[str, Any], max_tokens: int,
                       deadline: float) -> str:
        self.prompts.append(prompt)
        await self._wait(deadline)
        return self._completer(prompt, schema)

    async def aclose(self) -> None:
        return None
