"""The vehicle skill over CAN (python-can's virtual bus, signals from the DBC file) against
the simulated body controller: every tool round-trips, state comes from status frames, and
a silent controller is reported and survived."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable

import pytest

from skills.vehicle.backend import (
    DefrostTarget,
    HeadlightMode,
    Seat,
    SimulatedVehicle,
    Window,
    Zone,
)
from skills.vehicle.can_bus import BodyController, open_bus
from tests.conftest import Session

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


@pytest.fixture
def can_session(controller: BodyController, make_session: Callable[..., Session]) -> Session:
    channel = controller.channel  # type: ignore[attr-defined]
    return make_session(connect=True, vehicle={"can": {"interface": "virtual", "channel": channel,
                                         "timeout_s": 0.3}})


async def test_every_vehicle_tool_round_trips(can_session: Session,
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
    assert "62" in await can_session.say("how much fuel do i have")
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


async def test_unlocking_reads_the_speed_from_the_bus(can_session: Session,
                                                      controller: BodyController) -> None:
    controller.car.speed = 42.0
    await can_session.say("unlock the doors")
    await can_session.say("yes")
    assert controller.car.locked
    assert can_session.of("refused")


async def test_a_silent_body_controller_is_reported_and_survived(
    can_session: Session, controller: BodyController
) -> None:
    await can_session.say("set the fan speed to 3")
    await controller.stop()
    reply = await can_session.say("set the fan speed to 6")
    assert "did not confirm" in reply and "whether it happened" in reply
    assert "didn't work" not in reply
    assert controller.car.fan_level == 3
    assert [a["ok"] for a in can_session.of("action")] == [True, False]
    assert can_session.of("action")[-1]["outcome"] == "unconfirmed"
    assert "did not confirm" in can_session.audit_path.read_text(encoding="utf-8")
    assert "navigat" in (await can_session.say("navigate to the airport")).lower()
