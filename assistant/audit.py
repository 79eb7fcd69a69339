"""The audit log: one JSON line per decided call, confirmation, refusal and result.

Each record is flushed and fsync'ed before the caller may reply, so a record survives the
process being killed right after the reply. The file rotates by size (``audit.jsonl.1`` …).
If a record cannot be written, :class:`AuditError` is raised and nothing may be actuated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from assistant.errors import AuditError

__all__ = ["DEFAULT_MAX_BYTES", "AuditLog"]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
"""Size in bytes at which the log rotates."""


class AuditLog:
    """Append-only JSON lines with fsync; ``record`` runs the disk work in a worker thread."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = 5,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if max_bytes <= 0 or backups < 1:
            raise ValueError("max_bytes must be positive and backups at least 1")
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._now = now
        self._file: IO[bytes] | None = None
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
                handle = self._open()
                if handle.tell() > 0 and handle.tell() + len(data) > self.max_bytes:
                    self._rotate()
                    handle = self._open()
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as err:
                self._close()
                raise AuditError(
                    "audit-write-failed",
                    f"cannot write the audit log {self.path}: {err.strerror or err}; "
                    "free disk space or fix its permissions") from err

    def close(self) -> None:
        with self._lock:
            self._close()

    def _open(self) -> IO[bytes]:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 - kept open between records
        return self._file

    def _close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def _rotate(self) -> None:
        self._close()
        for index in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{index + 1}"))
        self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
