"""``assistant chat``: a typed conversation with the real dialogue, dispatcher and back ends.

Each input line is one utterance. Replies are printed, or with ``--json`` the events.
A confirmation left unanswered is cancelled when its time is up, or when input ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from assistant.cli.output import event_printer
from assistant.config import AssistantConfig
from assistant.events import ErrorEvent
from assistant.llm.setup import attach_language_model
from assistant.wiring import build_assistant

__all__ = ["run_chat"]

_END = None


def _read_lines(lines: Iterable[str], loop: asyncio.AbstractEventLoop,
                queue: asyncio.Queue[str | None]) -> None:
    try:
        for line in lines:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
    except (OSError, UnicodeDecodeError, ValueError):
        pass
    finally:
        loop.call_soon_threadsafe(queue.put_nowait, _END)


async def run_chat(lines: Iterable[str], out: TextIO, *, as_json: bool, echo: bool = False,
                   config: AssistantConfig | None = None,
                   skill_configs: Mapping[str, Mapping[str, Any]] | None = None) -> int:
    """Run a conversation over ``lines``; returns the number of utterances heard."""
    config = config or AssistantConfig()
    emit = event_printer(out, as_json=as_json)
    assistant = build_assistant(emit, config, skill_configs=skill_configs, connect=True)
    last_tier = await asyncio.to_thread(attach_language_model, assistant.understanding,
                                        config.language_model)
    if last_tier.notice:
        emit(ErrorEvent(t_ms=0.0, code="slm-unavailable", message=last_tier.notice))
    dialogue = assistant.dialogue
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    reader = threading.Thread(target=_read_lines, args=(lines, loop, queue),
                              name="chat-stdin-reader", daemon=True)
    reader.start()
    heard = 0
    try:
        await assistant.start()
        while True:
            deadline = dialogue.deadline
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                line = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                await dialogue.expire()
                continue
            if line is _END:
                await dialogue.end()
                break
            if echo and not as_json:
                out.write(f"you: {line}\n")
            heard += 1
            await dialogue.hear(line)
    finally:
        await assistant.aclose()
        await last_tier.aclose()
    return heard
