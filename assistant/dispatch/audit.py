"""The audit log: one JSON line per decided call, confirmation, refusal and result.

Each record is written with ``O_APPEND`` and fsync'ed before the caller may reply, so a
record survives the process being killed right after the reply. A record is whole or absent:
if a write fails part-way (the disk fills mid-record), the file is cut back to where the
record began; if even that fails, the next record starts on a fresh line, so the fragment
is a line of its own that no reader takes for a record. :func:`read_records` reads a log
and skips (and counts) what is not a whole record. The file rotates by size
(``audit.jsonl.1`` ...). If a record cannot be written, :class:`AuditError` is raised and
nothing may be actuated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.errors import AuditError

__all__ = ["DEFAULT_MAX_BYTES", "AuditLog", "AuditRecords", "read_records"]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
"""Size in bytes at which the log rotates."""

Writer = Callable[[int, bytes], int]
"""``os.write``'s shape: writes some of the bytes to a file descriptor, returns how many."""


class AuditLog:
    """Append-only JSON lines with fsync; ``record`` runs the disk work in a worker thread.

    ``write`` is ``os.write`` unless a test gives a failing one (a full disk, a torn write).
    """

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = 5,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        write: Writer = os.write,
    ) -> None:
        if max_bytes <= 0 or backups < 1:
            raise ValueError("max_bytes must be positive and backups at least 1")
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._now = now
        self._write = write
        self._fd: int | None = None
        self._torn = False
        self._lock = threading.Lock()

    async def record(self, kind: str, **fields: Any) -> None:
        """Append one record durably; raises :class:`AuditError` if it was not written."""
        await asyncio.to_thread(self.append, kind, **fields)

    def append(self, kind: str, **fields: Any) -> None:
        line = json.dumps({"ts": self._now().isoformat(), "kind": kind, **fields},
                          default=str, ensure_ascii=False) + "\n"
        data = line.encode("utf-8")
        with self._lock:
            try:
                fd = self._open()
                end = os.fstat(fd).st_size
                if end > 0 and end + len(data) > self.max_bytes:
                    self._rotate()
                    fd = self._open()
                    end = 0
                if self._torn:
                    # A fragment may end the file: begin on a line of our own.
                    data = b"\n" + data
                self._append(fd, end, data)
                self._torn = False
            except OSError as err:
                self._close()
                raise AuditError(
                    "audit-write-failed",
                    f"cannot write the audit log {self.path}: {err.strerror or err}; "
                    "free disk space or fix its permissions") from err

    def close(self) -> None:
        with self._lock:
            self._close()

    def _append(self, fd: int, end: int, data: bytes) -> None:
        """All of ``data`` after ``end`` and on disk, or none of it."""
        written = 0
        try:
            while written < len(data):
                written += self._write(fd, data[written:])
            os.fsync(fd)
        except OSError:
            try:
                if written or os.fstat(fd).st_size > end:
                    os.ftruncate(fd, end)
            except OSError:
                self._torn = True  # cut it off next time instead
            raise

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
            size = os.fstat(self._fd).st_size
            # A process killed mid-record may have left a fragment at the end.
            self._torn = self._torn or (size > 0 and os.pread(self._fd, 1, size - 1) != b"\n")
        return self._fd

    def _close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def _rotate(self) -> None:
        self._close()
        for index in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{index + 1}"))
        self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        self._torn = False
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


@dataclass
class AuditRecords:
    """The whole records of a log, in order, and how many lines were not records."""

    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0


def read_records(path: Path) -> AuditRecords:
    """Every whole record of one log file; a torn or foreign line is counted, not fatal."""
    result = AuditRecords()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return result
    for line in _lines(raw):
        try:
            record = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError):
            result.skipped += 1
            continue
        if isinstance(record, dict) and "kind" in record and "ts" in record:
            result.records.append(record)
        else:
            result.skipped += 1
    return result


def _lines(raw: bytes) -> Iterator[bytes]:
    for line in raw.split(b"\n"):
        if line.strip():
            yield line
