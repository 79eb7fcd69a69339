"""The vehicle skill over CAN (python-can's virtual bus, signals from the DBC file) against
the simulated body controller: every tool round-trips, state comes from status frames, and
a silent controller is reported and survived."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import pytest

from assistant.testing import AWAIT_LIMIT, SessionFactory, SkillSession
from skills.vehicle.backend import (
    DefrostTarget,
    HeadlightMode,
    Seat,
    SimulatedVehicle,
    Window,
    Zone,
)
from skills.vehicle.can_bus import BodyController, open_bus

_CHANNELS = itertools.count()


@pytest.fixture
async def controller() -> AsyncIterator[BodyController]:
    channel = f"test-vehicle-{next(_CHANNELS)}"
    body = BodyController(SimulatedVehicle(), open_bus("virtual", channel))
    body.channel = channel  # type: ignore[attr-defined]
    await body.start()
    yield body
    await body.stop()
    body.bus.shutdown()


def _on_bus(controller: BodyController,
            assistant_session: SessionFactory) -> AbstractAsyncContextManager[SkillSession]:
    channel = controller.channel  # type: ignore[attr-defined]
    return assistant_session(None, settings={"vehicle": {"can": {
        "interface": "virtual", "channel": channel, "timeout_s": 0.3,
        "simulate_body_controller": False}}})  # the test runs its own


@pytest.fixture
async def can_session(controller: BodyController,
                      assistant_session: SessionFactory) -> AsyncIterator[SkillSession]:
    async with _on_bus(controller, assistant_session) as session:
        yield session


async def test_every_vehicle_tool_round_trips(can_session: SkillSession,
                                              controller: BodyController) -> None:
    car = controller.car
    await can_session.say("set the driver side to nineteen point five")
    assert car.cabin[Zone.DRIVER] == 19.5
    await can_session.say("make it a lot warmer")
    assert car.cabin[Zone.PASSENGER] == 24.0
    await can_session.say("set the fan speed to 5")
    assert car.fan_level == 5
    await can_session.say("turn on the air conditioning")
    assert car.air_conditioning
    await can_session.say("turn on the rear defroster")
    assert car.defrost[DefrostTarget.REAR]
    await can_session.say("set the passenger seat heater to 2")
    assert car.seat_heaters[Seat.PASSENGER] == 2
    await can_session.say("open the driver window halfway")
    assert car.windows[Window.DRIVER] == 50
    await can_session.say("set the headlights to high")
    assert car.headlights == HeadlightMode.HIGH
    await can_session.say("unlock the doors")
    await can_session.say("yes")
    assert not car.locked
    await can_session.say("lock the doors")
    assert car.locked
    assert "62" in (await can_session.say("how much fuel do i have")).reply
    await can_session.say("navigate to the central station")
    await can_session.say("set the volume to 40")
    await can_session.say("play jazz radio")
    await can_session.say("pause")
    await can_session.say("find a gas station nearby")
    await can_session.say("cancel navigation")
    # the commands no assertion above looks at (navigation, media) acted too, one each
    assert [(a["tool"], a["ok"]) for a in can_session.of("action")] == [
        (tool, True) for tool in (
            "set_temperature", "change_temperature", "set_fan_speed", "set_air_conditioning",
            "set_defrost", "set_seat_heater", "set_window", "set_headlights", "unlock_doors",
            "lock_doors", "get_vehicle_status", "navigate_to", "set_volume", "play_media",
            "pause_media", "find_nearby", "cancel_navigation")], can_session.of("action")


async def test_unlocking_reads_the_speed_from_the_bus(assistant_session: SessionFactory,
                                                      controller: BodyController) -> None:
    async with _on_bus(controller, assistant_session) as can_session:
        controller.car.speed = 42.0
        # A moving car has broadcast its speed: the head unit reads the newest status, and
        # until the next broadcast that is still the one from before (speed 0).
        head_unit = can_session.backend("vehicle")

        async def moving() -> None:
            while await head_unit.speed_kmh() != 42.0:  # type: ignore[attr-defined]  # noqa: ASYNC110
                await asyncio.sleep(0)  # the frame arrives from the bus's thread

        await asyncio.wait_for(moving(), AWAIT_LIMIT)
        await can_session.say("unlock the doors")
        await can_session.say("yes")
        assert controller.car.locked
        assert can_session.of("refused")


async def test_a_silent_body_controller_is_reported_and_survived(
    can_session: SkillSession, controller: BodyController
) -> None:
    await can_session.say("set the fan speed to 3")
    await controller.stop()
    reply = (await can_session.say("set the fan speed to 6")).reply
    assert "did not confirm" in reply and "whether it happened" in reply
    assert "didn't work" not in reply
    assert controller.car.fan_level == 3
    assert [a["ok"] for a in can_session.of("action")] == [True, False]
    assert can_session.of("action")[-1]["outcome"] == "unconfirmed"
    assert "did not confirm" in can_session.audit_path.read_text(encoding="utf-8")
    assert "navigat" in (await can_session.say("navigate to the airport")).reply.lower()
