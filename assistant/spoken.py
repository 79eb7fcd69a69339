"""How numbers, durations and lists are said in replies; the same helpers for the
assistant's own messages and for skills (re-exported by :mod:`assistant.skill_api`)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["format_number", "spoken_duration", "spoken_list"]


def format_number(value: float) -> str:
    """21.0 -> "21", 18.5 -> "18.5"."""
    return str(int(value)) if float(value).is_integer() else str(value)


def spoken_duration(seconds: int) -> str:
    """300 -> "5 minutes", 5400 -> "1 hour 30 minutes"."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}{'' if n == 1 else 's'}"
             for n, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")) if n]
    return " ".join(parts) or "0 seconds"


def spoken_list(items: Iterable[str], *, conjunction: str = "and") -> str:
    """["hall", "office", "yard"] -> "hall, office and yard"."""
    words = [str(item) for item in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"
