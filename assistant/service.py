"""Running as a systemd service: readiness, status and a watchdog petted by progress.

The notify protocol is sdnotify's (a datagram to ``$NOTIFY_SOCKET``). The watchdog is not a
timer: each tick it looks at the audio loop's progress counter (chunks processed) and pets
systemd only if that counter moved within ``stall_s``. A loop that is stuck, blocked or
deadlocked stops the petting, and systemd restarts the service after ``WatchdogSec=``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Protocol

__all__ = [
    "FakeNotifier",
    "Notifier",
    "SystemdNotifier",
    "Watchdog",
    "watchdog_interval_s",
]

_LOG = logging.getLogger("assistant.service")


class Notifier(Protocol):
    """Where service state goes: systemd's notify socket, or a test's list."""

    def notify(self, state: str) -> None: ...


class SystemdNotifier:
    """sdnotify's notifier; does nothing when not started by systemd (no NOTIFY_SOCKET)."""

    def __init__(self) -> None:
        import sdnotify

        self._notifier = sdnotify.SystemdNotifier()
        if self._notifier.socket is not None:
            # A full notify queue must never block the audio loop: a lost datagram is
            # better than a frozen assistant (systemd reads promptly; the queue is short).
            self._notifier.socket.setblocking(False)

    def notify(self, state: str) -> None:
        self._notifier.notify(state)


class FakeNotifier:
    """Records every state sent, with the time it was sent."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.sent: list[tuple[float, str]] = []
        self._clock = clock

    def notify(self, state: str) -> None:
        self.sent.append((self._clock(), state))

    def count(self, state: str) -> int:
        return sum(1 for _, sent in self.sent if sent == state)


def watchdog_interval_s(environ: dict[str, str] | None = None) -> float | None:
    """Half of systemd's ``WatchdogSec=`` when it watches this process, else ``None``
    (the same rule as sd_watchdog_enabled: WATCHDOG_USEC set, WATCHDOG_PID ours or unset)."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 2_000_000
    except ValueError:
        return None


class Watchdog:
    """Pets the watchdog while ``progress()`` keeps moving."""

    def __init__(self, progress: Callable[[], int], notifier: Notifier, *,
                 interval_s: float, stall_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._progress = progress
        self._notifier = notifier
        self.interval_s = interval_s
        self.stall_s = stall_s
        self._clock = clock
        self._last = progress()
        self._moved_at = clock()
        self.stalled = False

    def tick(self) -> bool:
        """One look at the audio loop; pets systemd and returns True if it moved lately."""
        now, current = self._clock(), self._progress()
        if current != self._last:
            self._last, self._moved_at = current, now
        if now - self._moved_at <= self.stall_s:
            if self.stalled:
                _LOG.warning("audio loop moving again", extra={"progress": current})
                self._notifier.notify("STATUS=listening")
            self.stalled = False
            self._notifier.notify("WATCHDOG=1")
            return True
        if not self.stalled:
            self.stalled = True
            stalled_s = round(now - self._moved_at, 1)
            _LOG.error("audio loop stalled: watchdog no longer petted, systemd will restart "
                       "the service", extra={"code": "audio-loop-stalled",
                                             "stalled_s": stalled_s, "progress": current})
            self._notifier.notify(f"STATUS=audio loop stalled for {stalled_s} s")
        return False

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            self.tick()
