"""Timers that ring through the assistant's notifier; time is injectable for tests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from assistant.skill_api import spoken_duration

__all__ = ["TimerService", "spoken_duration"]

_LOGGER = logging.getLogger(__name__)


@dataclass
class TimerService:
    """Running timers; each is a named task the service keeps a reference to."""

    notify: Callable[[str], None]
    now: Callable[[], datetime] = datetime.now
    sleep: Callable[[float], object] = asyncio.sleep
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def active(self) -> int:
        return sum(1 for t in self._tasks if not t.done())

    def start_timer(self, seconds: int) -> datetime:
        """Start a timer; returns when it rings."""
        rings_at = self.now() + timedelta(seconds=seconds)
        task = asyncio.get_running_loop().create_task(
            self._ring(seconds), name=f"timer-{seconds}s-{rings_at:%H%M%S}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return rings_at

    async def _ring(self, seconds: int) -> None:
        await self.sleep(seconds)  # type: ignore[misc]
        _LOGGER.info("timer rang", extra={"seconds": seconds})
        self.notify(f"Your {spoken_duration(seconds)} timer is done.")

    async def aclose(self) -> None:
        """Timers do not outlive the assistant (nor a reload of its skills)."""
        self.cancel_all()

    def cancel_all(self) -> int:
        running = [t for t in self._tasks if not t.done()]
        for task in running:
            task.cancel("timer cancelled by the user")
        return len(running)
