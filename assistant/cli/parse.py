"""``assistant parse``: one utterance per line in, one JSON decision per line out."""

from __future__ import annotations

from typing import BinaryIO, TextIO

from assistant.cli.output import json_line
from assistant.nlu.understand import Route, Understanding

__all__ = ["parse_lines"]


def _unreadable(raw: bytes, reason: str) -> dict[str, object]:
    return {"text": raw.decode("utf-8", errors="replace"), "tool": None, "arguments": {},
            "route": str(Route.NONE), "ms": 0.0, "error": reason}


async def parse_lines(understanding: Understanding, source: BinaryIO, out: TextIO) -> int:
    """Decide every line of ``source``; nothing is executed. Returns the lines written."""
    written = 0
    for raw in source:
        line = raw.rstrip(b"\n").rstrip(b"\r")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            result = _unreadable(line, "line is not valid UTF-8")
        else:
            result = (await understanding.understand(text)).to_json()
        out.write(json_line(result))
        out.flush()
        written += 1
    return written
