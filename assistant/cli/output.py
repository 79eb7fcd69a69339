"""How the command line shows events: JSON lines, or the replies as text."""

from __future__ import annotations

import json
from typing import Any, TextIO

from assistant.events import Event, EventSink, ReplyEvent

__all__ = ["event_printer", "json_line"]

# Characters some readers take for line ends (str.splitlines does): escaped, so one object is
# always one line whatever a transcript contains.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_line(value: Any) -> str:
    """One JSON object on one line, UTF-8 kept readable, ending in a newline."""
    return json.dumps(value, ensure_ascii=False).translate(_LINE_BREAKS) + "\n"


def event_printer(out: TextIO, *, as_json: bool) -> EventSink:
    def emit(event: Event) -> None:
        if as_json:
            out.write(json_line(event.to_json()))
        elif isinstance(event, ReplyEvent):
            out.write(f"assistant: {event.text}\n")
        out.flush()

    return emit
