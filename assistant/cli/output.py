"""How the command line shows events: JSON lines, or the replies as text."""

from __future__ import annotations

import json
from typing import TextIO

from assistant.events import Event, EventSink, ReplyEvent

__all__ = ["event_printer"]


def event_printer(out: TextIO, *, as_json: bool) -> EventSink:
    def emit(event: Event) -> None:
        if as_json:
            out.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
        elif isinstance(event, ReplyEvent):
            out.write(f"assistant: {event.text}\n")
        out.flush()

    return emit
