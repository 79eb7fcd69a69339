from __future__ import annotations

import asyncio

from skills.core.timers import TimerService, spoken_duration


def test_durations_are_spoken_plainly() -> None:
    assert spoken_duration(300) == "5 minutes"
    assert spoken_duration(5400) == "1 hour 30 minutes"
    assert spoken_duration(61) == "1 minute 1 second"


async def test_a_timer_rings_through_the_notifier() -> None:
    rung: list[str] = []
    released = asyncio.Event()
    ringing = asyncio.Event()

    async def fake_sleep(_: float) -> None:
        await released.wait()

    def notify(text: str) -> None:
        rung.append(text)
        ringing.set()

    timers = TimerService(notify=notify, sleep=fake_sleep)
    timers.start_timer(150)
    assert timers.active == 1
    released.set()
    await asyncio.wait_for(ringing.wait(), 5)
    assert rung == ["Your 2 minutes 30 seconds timer is done."]


async def test_cancel_stops_every_timer() -> None:
    rung: list[str] = []
    timers = TimerService(notify=rung.append)
    timers.start_timer(100)
    timers.start_timer(200)
    assert timers.cancel_all() == 2
    await asyncio.sleep(0)
    assert timers.active == 0
    assert rung == []

