"""Logs for journald: one line per record on standard output, with its fields.

Under systemd, standard output goes to the journal; a ``<N>`` prefix (syslog priority, the
sd-daemon convention) sets the entry's priority, and ``key=value`` fields keep the line
greppable: ``journalctl -u assistant | grep event=refused``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from assistant.events import Event, EventSink

__all__ = ["JournalFormatter", "configure_logging", "event_logger", "fields"]

_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
             logging.DEBUG: 7}
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def fields(values: dict[str, Any]) -> str:
    """``key=value`` pairs; values with spaces, quotes or line breaks are JSON-quoted, so a
    record is always one line."""
    parts = []
    for key, value in values.items():
        if isinstance(value, str) and value and not any(c in value for c in ' "=\\\n\r\t'):
            text = value
        else:
            text = json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}={text}")
    return " ".join(parts)


class JournalFormatter(logging.Formatter):
    """``<priority>logger: message key=value ...``, one line (tracebacks folded in)."""

    def __init__(self, *, priority_prefix: bool = True) -> None:
        super().__init__()
        self.priority_prefix = priority_prefix

    def format(self, record: logging.LogRecord) -> str:
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if record.exc_info:
            extra["exception"] = self.formatException(record.exc_info)
        line = f"{record.name}: {record.getMessage()}"
        if extra:
            line += " " + fields(extra)
        line = line.replace("\n", "\\n")
        if self.priority_prefix:
            return f"<{_PRIORITY.get(record.levelno, 6)}>{line}"
        return f"{record.levelname} {line}"


def configure_logging(*, journald: bool, verbose: bool = False,
                      stream: TextIO | None = None) -> None:
    """Every log record to ``stream`` (standard output) in the journal's form."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JournalFormatter(priority_prefix=journald))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("pymodbus", "can", "numba", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def event_logger(logger: logging.Logger | None = None, *,
                 context: Mapping[str, str] | None = None) -> EventSink:
    """Each conversation event as one log record: ``event=action tool=... ok=true``;
    ``context`` fields are on every record (``satellite=rear``)."""
    log = logger or logging.getLogger("assistant.events")
    fixed = dict(context or {})

    def emit(event: Event) -> None:
        data = event.to_json()
        name = data.pop("event")
        failed = name in {"error"} or (name == "action" and not data.get("ok", True))
        level = logging.WARNING if failed or name == "refused" else logging.INFO
        # Fields named like LogRecord attributes (message, name) would be refused: renamed.
        extra = {(f"{name}_{k}" if k in _STANDARD else k): v for k, v in data.items()}
        log.log(level, name, extra={"event": name, **fixed, **extra})

    return emit
